#!/usr/bin/env python3
"""`make stress`: the backend under load, bad input and constant eviction, through the host.

Per model (text_encoder, two_input with its input split into 7 buffers, dtypes): 2 instances, the
input cache keyed by content under a budget far smaller than the working set (constant
eviction), 8 client threads, and 5% of requests malformed in rotating ways. Every good response
must equal the one a clean run (cache off, one client) gives, byte for byte; every request must
be answered; the host must see no contract breach and not crash; native memory must not grow
over the second half of the run. The last line reads exactly
`sent S, answered A, identical I of G good, crashes C, growth X%`.
"""
import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stress_common import growth_of, rss_kib, verdict  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = os.path.join(ROOT, "triton-host")
TESTDATA = os.path.join(ROOT, "build", "testdata")
SAME_SIZE = {"FP32": ("f", "INT32"), "INT64": ("q", "FP64"), "INT32": ("i", "FP32")}
BAD_KINDS = ["wrong_dtype", "wrong_shape", "byte_size", "missing_input", "unknown_key",
             "oversized_key", "non_utf8_key", "wrong_param_type"]
# What each malformed request must be answered with (code as Triton names it, and a phrase).
EXPECTED = {
    "wrong_dtype": ("INVALID_ARG", "data-type is"),
    "wrong_shape": ("INVALID_ARG", "unexpected shape"),
    "byte_size": ("INVALID_ARG", "bytes, but shape"),
    "missing_input": ("INVALID_ARG", "is missing input"),
    "unknown_key": ("NOT_FOUND", "no cached tensor under key"),
    "oversized_key": ("INVALID_ARG", "must be 1 to 256 bytes"),
    "non_utf8_key": ("INVALID_ARG", "not valid UTF-8"),
    "wrong_param_type": ("INVALID_ARG", "must be a string"),
}
MODELS = {  # model: (input to corrupt, --input-chunks, share of the requests)
    "text_encoder": ("input_ids", 1, 0.4),
    "two_input": ("image", 7, 0.4),
    "dtypes": ("in_fp32", 1, 0.2),
}


def load(path):
    with open(path) as f:
        return json.load(f)


def bad_request(kind, good, name):
    r = json.loads(json.dumps(good))
    inp = next(i for i in r["inputs"] if i["name"] == name)
    params = r.setdefault("parameters", {})
    if kind == "wrong_dtype":
        # The same bytes, labelled with another type of the same element size (as a binary
        # HTTP request can), so only the backend's own check can catch it.
        fmt, other = SAME_SIZE[inp["datatype"]]
        inp["raw_data_b64"] = base64.b64encode(struct.pack("<%d%s" % (len(inp["data"]), fmt),
                                                            *inp.pop("data"))).decode()
        inp["datatype"] = other
    elif kind == "wrong_shape":
        inp["shape"] = inp["shape"][:-1] + [inp["shape"][-1] - 1]
        n = 1
        for d in inp["shape"]:
            n *= d
        inp["data"] = inp["data"][:n] if "data" in inp else inp.pop("raw_data_b64") and [0] * n
    elif kind == "byte_size":
        inp.pop("data", None)
        inp["raw_data_b64"] = base64.b64encode(bytes(37)).decode()
    elif kind == "missing_input":
        r["inputs"] = [i for i in r["inputs"] if i["name"] != name]
    elif kind == "unknown_key":
        r["inputs"] = [i for i in r["inputs"] if i["name"] != name]
        params["input_cache_key." + name] = "never-stored-key"
    elif kind == "oversized_key":
        params["input_cache_key." + name] = "k" * 300
    elif kind == "non_utf8_key":
        params["input_cache_key." + name] = "\udcff-not-utf8"  # written as a raw 0xFF byte below
    elif kind == "wrong_param_type":
        params["input_cache_key." + name] = 42
    return r


def write_request(path, request):
    text = json.dumps(request, ensure_ascii=False)
    data = text.encode("utf-8", "surrogateescape")  # lone \udcff becomes the invalid byte 0xFF
    with open(path, "wb") as f:
        f.write(data)


def make_repo(work, model, cache_mode):
    repo = os.path.join(work, "repo-" + cache_mode)
    os.makedirs(os.path.join(repo, model, "1"), exist_ok=True)
    link = os.path.join(repo, model, "1", "model.onnx")
    if not os.path.exists(link):
        os.symlink(os.path.join(ROOT, "model_repository", model, "1", "model.onnx"), link)
    with open(os.path.join(ROOT, "model_repository", model, "config.pbtxt")) as f:
        config = f.read()
    # No dynamic batcher: ORT may round a merged batch differently in the last bit (other GEMM
    # shapes), and every good response here must equal its reference byte for byte.
    config = re.sub(r"dynamic_batching \{[^}]*\}\n", "", config)
    config += 'parameters { key: "input_cache" value: { string_value: "%s" } }\n' % cache_mode
    config += 'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }\n'
    with open(os.path.join(repo, model, "config.pbtxt"), "w") as f:
        f.write(config)
    return repo


def run_host(args, log_path, sample_metrics=None):
    """Runs the host; samples its RSS (and the metrics file) while it runs."""
    samples = []
    with open(log_path, "w") as log:
        # The host keeps released requests poisoned for a while (use-after-release shows as
        # garbage); bound that quarantine so the host's own footprint is flat early on.
        env = dict(os.environ, TRITON_HOST_QUARANTINE_BYTES=str(32 << 20),
                   TRITON_HOST_QUARANTINE_COUNT="1000")
        p = subprocess.Popen([HOST] + args, env=env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
        out_lines = []
        reader = threading.Thread(target=lambda: out_lines.extend(p.stdout))
        reader.start()
        while p.poll() is None:
            rss = rss_kib(p.pid)
            gauges = read_gauges(sample_metrics) if sample_metrics else {}
            # Count from the moment clients run (the host starts writing metrics then): the
            # load (JVM, ONNX Runtime, sessions) is not part of the serving footprint.
            if rss and (sample_metrics is None or gauges):
                samples.append((time.time(), rss, gauges))
            time.sleep(0.1)
        reader.join()
    return p.returncode, [json.loads(l) for l in out_lines if l.strip()], samples


def read_gauges(path):
    g = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r'^(java_onnxruntime_(?:javacpp_bytes|input_cache_resident_bytes|jvm_heap_used_bytes))(\{[^}]*\})?\s+(\S+)', line)
                if m:
                    g[m.group(1)] = g.get(m.group(1), 0) + float(m.group(3))
    except OSError:
        pass
    return g


def growth(samples, key):
    """Growth over the second half: the last tenth against the middle tenth of the run."""
    return growth_of([s[1] if key == "rss" else s[2].get(key, 0) for s in samples])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=80000,
                    help="requests over all models (8 clients x 10,000)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--cache-bytes", type=int, default=2 * 1024 * 1024)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "stress"))
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    total = dict(sent=0, answered=0, identical=0, good=0, crashes=0)
    growth_max = 0.0
    errors_by_code = {}
    for model, (name, chunks, share) in MODELS.items():
        goods = [os.path.join(TESTDATA, model, "request_b%d.json" % b) for b in (1, 2, 3)]
        # 152 good + 8 malformed (one of each kind) = 5% malformed, interleaved.
        files, kinds = [], []
        bad_at = {int(i * 20 + 10): k for i, k in enumerate(BAD_KINDS)}
        for i in range(160):
            if i in bad_at:
                path = os.path.join(a.work, "%s-bad-%s.json" % (model, bad_at[i]))
                write_request(path, bad_request(bad_at[i], load(goods[0]), name))
                files.append(path)
                kinds.append(bad_at[i])
            else:
                files.append(goods[i % 3])
                kinds.append(None)
        repeat = max(1, round(a.requests * share / len(files)))
        common = ["--model", model, "--no-frontend-checks", "--input-chunks", str(chunks)]

        rc, base_lines, _ = run_host(["infer", "--model-repository", make_repo(a.work, model, "off")]
                                     + common + sum((["--request", g] for g in goods), []),
                                     os.path.join(a.work, model + "-baseline.log"))
        if rc != 0:
            sys.exit("baseline run of %s failed (exit %d); see %s-baseline.log" % (model, rc, model))
        reference = {g: json.dumps(l, sort_keys=True) for g, l in zip(goods, base_lines)}

        metrics = os.path.join(a.work, model + "-metrics.txt")
        args = ["infer", "--model-repository", make_repo(a.work, model, "content")] + common + [
            "--backend-config", "java_onnxruntime,input-cache-bytes=%d" % a.cache_bytes,
            # A fixed heap, as in production: heap growth is not native growth.
            "--backend-config", "java_onnxruntime,jvm-options=-Xms256m -Xmx256m -XX:+AlwaysPreTouch",
            "--concurrency", str(a.clients), "--repeat", str(repeat), "--interleave",
            "--verify-repeats", "--metrics", metrics, "--metrics-interval", "200",
            "--stats", os.path.join(a.work, model + "-stats.json")]
        args += sum((["--request", f] for f in files), [])
        started = time.time()
        rc, lines, samples = run_host(args, os.path.join(a.work, model + ".log"), metrics)
        elapsed = time.time() - started
        log = open(os.path.join(a.work, model + ".log"), errors="replace").read()
        m = re.search(r"infer: sent (\d+), answered (\d+), errors (\d+), repeats differing from "
                      r"the first answer (\d+)", log)
        sent = len(files) * repeat
        answered = int(m.group(2)) if m else 0
        differing = int(m.group(4)) if m else sent
        crashed = rc not in (0, 1)
        good = sum(1 for k in kinds if k is None) * repeat
        wrong_first = 0
        for f, k, line in zip(files, kinds, lines):
            if k is None and json.dumps(line, sort_keys=True) != reference[f]:
                wrong_first += 1
            elif k is not None:
                code, phrase = EXPECTED[k]
                ok = phrase in line.get("error", "") and line.get("code", code) == code
                errors_by_code.setdefault(code, [0, 0])
                errors_by_code[code][0 if ok else 1] += 1
                if not ok:
                    print("  %s %s: expected %s with '%s', got %s" % (model, k, code, phrase, line))
        identical = max(0, good - differing - wrong_first * repeat) if not crashed else 0
        with open(os.path.join(a.work, model + "-samples.json"), "w") as f:
            json.dump([[t, rss, g] for t, rss, g in samples], f)
        g_rss = growth(samples, "rss")
        # JavaCPP tracks only a few KiB here (run temporaries live in PointerScopes), so its
        # percentages are noise; its bytes are printed, and the verdict is the process RSS.
        native = [s[2].get("java_onnxruntime_javacpp_bytes", 0) for s in samples] or [0]
        growth_max = max([growth_max] + [g for g in (g_rss,) if g == g])
        peak = max((s[1] for s in samples), default=0)
        cache = max((s[2].get("java_onnxruntime_input_cache_resident_bytes", 0) for s in samples), default=0)
        print("%-13s sent %6d answered %6d identical %6d of %6d good  exit %d  %.1f s  "
              "RSS peak %d MiB, growth %.1f%%  JavaCPP %d B (peak %d B)  cache peak %d KiB"
              % (model, sent, answered, identical, good, rc, elapsed, peak // 1024, g_rss,
                 native[-1], max(native), cache // 1024))
        if rc == 2 or "contract breach" in log:
            print("  contract breach reported by the host: see %s.log" % model)
        total["sent"] += sent
        total["answered"] += answered
        total["identical"] += identical
        total["good"] += good
        total["crashes"] += 1 if crashed else 0
    for code, (ok, bad) in sorted(errors_by_code.items()):
        print("errors %-12s as expected %d, otherwise %d (per distinct malformed request)" % (code, ok, bad))
    print(verdict(total["sent"], total["answered"], total["identical"], total["good"], total["crashes"],
                  growth_max))


if __name__ == "__main__":
    main()
