"""Where ONNX Runtime's Run spends its samples in each backend of one tritonserver: the stock
onnxruntime backend's instance threads against ours, from async-profiler's collapsed stacks
(bench/triton/cpu.py PROFILE=1). Both backends run the same ORT build, so the same frames appear
under both; a stack is the stock backend's when it passes through its ModelInstanceState.

Each sample under InferenceSession::Run is counted as the kernels' own work (under an OpKernel's
Compute) or as ORT's per-run bookkeeping (the rest: the execution frame, the allocation plan,
the inputs' validation, the stream context), and the frames whose inclusive counts differ most
between the two backends are listed.

  bench/triton/profile_split.py [--top N] PROFILE.collapsed...
"""

import argparse
import collections

RUN = "onnxruntime::InferenceSession::Run"


def side_of(frames):
    return "stock" if any("triton::backend::onnxruntime" in f for f in frames) else "ours"


def is_kernel(frames):
    return any((f.endswith("::Compute") or "::Compute(" in f or "Compute<" in f)
               and not f.startswith("onnxruntime::OpKernelContext") for f in frames)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("profiles", nargs="+")
    args = ap.parse_args()
    parts = collections.Counter()
    inclusive = {"stock": collections.Counter(), "ours": collections.Counter()}
    for path in args.profiles:
        with open(path) as f:
            for line in f:
                stack, _, count = line.rstrip().rpartition(" ")
                frames = stack.split(";")
                if RUN not in frames:
                    continue
                side = side_of(frames)
                below = frames[frames.index(RUN):]
                n = int(count)
                parts[side, "kernels" if is_kernel(below) else "bookkeeping"] += n
                for frame in set(below):
                    inclusive[side][frame[:100]] += n
    print("| samples in Run | stock | ours | ours / stock |")
    print("|---|---|---|---|")
    for part in ("kernels", "bookkeeping", None):
        s = sum(v for (sd, p), v in parts.items() if sd == "stock" and part in (None, p))
        o = sum(v for (sd, p), v in parts.items() if sd == "ours" and part in (None, p))
        print("| %s | %d | %d | %.3f |" % (part or "all", s, o, o / s if s else float("nan")))
    print()
    print("| frame (inclusive) | stock | ours | ours - stock |")
    print("|---|---|---|---|")
    frames = set(inclusive["stock"]) & set(inclusive["ours"])
    for fr in sorted(frames, key=lambda k: -abs(inclusive["ours"][k] - inclusive["stock"][k]))[
            :args.top]:
        s, o = inclusive["stock"][fr], inclusive["ours"][fr]
        print("| `%s` | %d | %d | %+d |" % (fr, s, o, o - s))


if __name__ == "__main__":
    main()
