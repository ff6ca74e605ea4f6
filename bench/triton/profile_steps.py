"""Where the samples of our Execute's compute_input fall, step by step, in async-profiler's
collapsed stacks of a real tritonserver (bench/gpu/triton_run.sh or bench/triton/cpu.py with
PROFILE=1; cpu event, Java and native frames).

compute_input is everything of an Execute before its first ORT run (or graph replay): the take
step (the request array, the capture gate, the requests taken), read, resolve, batch and bind.
Each row counts the samples whose stack passes through its frames (inclusive), as a share of
those five steps together. The replay rows (a CUDA graph's run, which is compute_infer) are
shown as a share of every sample of the Execute, for scale.

  bench/triton/profile_steps.py PROFILE.collapsed...
"""

import argparse


def passes(*names):
    """A stack that passes through every one of NAMES (frame names' endings)."""
    return lambda frames: all(any(f.endswith(n) for f in frames) for n in names)


def passes_any(*names):
    return lambda frames: any(f.endswith(n) for f in frames for n in names)


def take(frames):
    """The Execute's own frames outside serve (the request path) and settle (its end)."""
    return passes("Executor.execute")(frames) and not passes_any(
        "Executor.serve", "Executor.settle")(frames)


STEPS = [
    ("take: the request array, CaptureGate.enter, OwnedRequests.take", take, True),
    ("  of it CaptureGate.enter", passes("CaptureGate.enter"), False),
    ("read: RequestReader.readAll", passes("RequestReader.readAll"), True),
    ("  RequestCalls.read: one JNI crossing, Triton's calls in C",
     passes("RequestReader.fill"), False),
    ("  RequestParameters.read", passes("RequestParameters.read"), False),
    ("    of it HashMap.put (the request's key map)",
     passes("RequestParameters.read", "HashMap.put"), False),
    ("  RequestChecker.check", passes("RequestChecker.check"), False),
    ("resolve: InputStager.resolveAll", passes("InputStager.resolveAll"), True),
    ("  CacheLookup.find", passes("CacheLookup.find"), False),
    ("    of it InputCache.lookup", passes("CacheLookup.find", "InputCache.lookup"), False),
    ("batch: Batcher.group", passes("Batcher.group"), True),
    ("bind: GraphPath.decide, GraphPath.fill, BatchRunner.shapeKey",
     passes_any("GraphPath.decide", "GraphPath.fill", "BatchRunner.shapeKey"), True),
]
REPLAY = [
    ("a graph's replay: GraphPath.run (compute_infer)", passes("GraphPath.run")),
    ("  of it cudaGraphLaunch", passes("CUDAGraphManager::Replay", "cudaGraphLaunch")),
    ("  of it cudaStreamSynchronize in ORT's Replay",
     passes("CUDAGraphManager::Replay", "cudaStreamSynchronize")),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("profiles", nargs="+")
    args = ap.parse_args()
    stacks = []
    for path in args.profiles:
        with open(path, errors="replace") as f:
            for line in f:
                stack, _, count = line.rstrip().rpartition(" ")
                frames = stack.split(";")
                if passes("Executor.execute")(frames):
                    stacks.append((frames, int(count)))

    def samples(pred):
        return sum(n for frames, n in stacks if pred(frames))

    counts = [(name, samples(pred), top) for name, pred, top in STEPS]
    base = sum(n for _, n, top in counts if top)
    print("| compute_input's frames (inclusive) | samples | share |")
    print("|---|---|---|")
    for name, n, _ in counts:
        print("| %s | %d | %.1f%% |" % (name, n, 100.0 * n / base if base else 0.0))
    every = sum(n for _, n in stacks)
    print()
    print("| the replay | samples | share of the Execute's |")
    print("|---|---|---|")
    for name, pred in REPLAY:
        n = samples(pred)
        print("| %s | %d | %.1f%% |" % (name, n, 100.0 * n / every if every else 0.0))
    print()
    print("Executor.execute: %d samples; compute_input's steps: %d" % (every, base))


if __name__ == "__main__":
    main()
