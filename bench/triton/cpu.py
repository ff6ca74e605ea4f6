"""Our backend beside Triton's stock ONNX Runtime backend in one real tritonserver (CPU build), on
the same ONNX files, requests and settings: Triton's own per-request statistics side by side.

Each example model (conv_net, vit_patch, text_encoder) is served twice: by java_onnxruntime and,
as <model>_stock, by the stock onnxruntime backend; one instance each, no dynamic batching, ONNX
Runtime's default threading on both. One client sends binary-tensor requests over one keep-alive
connection, alternating between all the models (WARMUP cycles, then CYCLES measured), every
request carrying its input; a model's two servings run back to back, ours first in even cycles and
stock's first in odd ones (ORDER=ours|stock|alternate, default alternate: the second runs with the
CPU's caches warm for that model and input, up to 7 us of compute_infer in one check). Triton's
/v2/models/<m>/stats over the measured cycles give queue, compute_input, compute_infer and
compute_output per request.

  bench/triton/cpu.py [OUTDIR]        (CYCLES=1000 WARMUP=200 CACHE=off; CACHE=content|auto|key|off)
                                      key: ours gets the input once with input_cache_key.<input>
                                      before the warm-up, then the key alone (the input declared
                                      optional for ours); stock gets the bytes every time
  JVM_OPTIONS='-X...' ...             extra options for our backend's JVM (jvm-options)
  BACKEND_CONFIG='NAME=VALUE ...'     more backend settings of ours (--backend-config=
                                      java_onnxruntime,NAME=VALUE), e.g.
                                      input-cache-hash-threads=2
  THREADS=N ...                       intra_op_thread_count N for both backends (default: ORT's)
  PROFILE=1 ...                       also records async-profiler (Maven Central
                                      tools.profiler:async-profiler:4.1) in the server, Java and
                                      native frames, and prints the hottest frames of ours
                                      (PROFILE_EVENT=cpu PROFILE_INTERVAL=100us PROFILE_SECONDS=60;
                                      PROFILE_LOOP=20s: a file every 20 s, of which the first
                                      PROFILE_SKIP=2 (warm-up, JIT) are left out of the table)
  ONLY=conv_net,... ...               only these models (default: all three)
  FILL=vit_patch,... ...              with ONLY: these models too, stock's serving alone, not
                                      measured (the others' work between two runs, none of it ours)
  MEMORY=1 ...                        also samples the server's RSS, the JVM heap and JavaCPP's
                                      native bytes (the backend's gauges on /metrics) 40 times
                                      over the measured cycles and logs every GC pause
                                      (-Xlog:gc, OUTDIR/gc.log): growth over the second half,
                                      GC count and pauses, in memory.md (issue 15 item 5)

Prints the table (also OUTDIR/table.md) with ours/stock ratios; OUTDIR/summary.json holds the
figures, OUTDIR/server.log the server's log.
"""

import collections
import glob
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import local_server  # noqa: E402
from stress_common import growth_of, rss_kib  # noqa: E402
import v2_binary  # noqa: E402

MODELS = {"conv_net": ("input", "FP32", [1, 3, 224, 224], "logits"),
          "vit_patch": ("input", "FP32", [1, 3, 224, 224], "tokens"),
          "text_encoder": ("input_ids", "INT64", [1, 128], "pooled")}
# ONLY=conv_net,...: serve and measure these models alone (a cycle then leaves the others out).
# FILL=vit_patch,...: these models (those not measured) are served by the stock backend alone and
# sent every cycle, after the measured ones, with their bytes, and left out of the results: the same
# work between two runs of a measured model as without ONLY, but none of it by our backend.
EVERY_MODEL = MODELS
if os.environ.get("ONLY"):
    MODELS = {m: EVERY_MODEL[m] for m in os.environ["ONLY"].split(",")}
FILL = {m: EVERY_MODEL[m] for m in os.environ.get("FILL", "").split(",") if m and m not in MODELS}
PHASES = ("queue", "compute_input", "compute_infer", "compute_output")
# In each cycle a model's two servings run back to back; which goes first (ORDER): "ours", "stock",
# or "alternate" (the default: ours first in even cycles, stock first in odd ones), since the one
# that runs second finds the CPU's caches warm for that model and input.
ORDER = os.environ.get("ORDER", "alternate")


def config_for(source, name, backend, cache):
    """The example model's config.pbtxt for one backend: one instance, no dynamic batching."""
    lines = []
    with open(os.path.join(ROOT, "model_repository", source, "config.pbtxt")) as f:
        for line in f:
            if line.startswith("dynamic_batching") or line.startswith("instance_group"):
                continue
            line = line.replace('name: "%s"' % source, 'name: "%s"' % name)
            line = line.replace('backend: "java_onnxruntime"', 'backend: "%s"' % backend)
            lines.append(line)
            if cache == "key" and backend == "java_onnxruntime" and line.strip().startswith("dims:") \
                    and sum(1 for l in lines if l.strip().startswith("dims:")) == 1:
                lines.append("    optional: true\n")  # the first dims line is the input's
    lines.append("instance_group [ { kind: KIND_CPU count: 1 } ]\n")
    if backend == "java_onnxruntime":
        lines.append('parameters { key: "input_cache" value: { string_value: "%s" } }\n' % cache)
    if os.environ.get("THREADS"):  # both backends read the same parameter
        lines.append('parameters { key: "intra_op_thread_count" value: { string_value: "%s" } }\n'
                     % os.environ["THREADS"])
    return "".join(lines)


def build_repository(out, cache):
    repo = os.path.join(out, "repo")
    shutil.rmtree(repo, ignore_errors=True)
    servings = [(model, name, backend) for model in MODELS
                for name, backend in ((model, "java_onnxruntime"), (model + "_stock", "onnxruntime"))]
    servings += [(model, model + "_stock", "onnxruntime") for model in FILL]
    for model, name, backend in servings:
        os.makedirs(os.path.join(repo, name, "1"))
        shutil.copy(os.path.join(ROOT, "model_repository", model, "1", "model.onnx"),
                    os.path.join(repo, name, "1", "model.onnx"))
        with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
            f.write(config_for(model, name, backend, cache))
    return repo


def profiler_library(out):
    """libasyncProfiler.so from the Maven Central jar (fetched into ~/.m2 once)."""
    version = "4.1"
    jar = os.path.expanduser("~/.m2/repository/tools/profiler/async-profiler/%s/async-profiler-%s.jar"
                             % (version, version))
    if not os.path.exists(jar):
        subprocess.run(["mvn", "-B", "-q", "dependency:get",
                        "-Dartifact=tools.profiler:async-profiler:%s" % version], check=True)
    path = os.path.join(out, "libasyncProfiler.so")
    with zipfile.ZipFile(jar) as z, open(path, "wb") as f:
        f.write(z.read("linux-x64/libasyncProfiler.so"))
    return path


def stats(url, model):
    with urllib.request.urlopen("http://%s/v2/models/%s/stats" % (url, model)) as r:
        s = json.load(r)["model_stats"][0]["inference_stats"]
    return {p: (s[p]["count"], s[p]["ns"]) for p in PHASES + ("success",)}


def gauges(metrics_url):
    """The backend's JVM heap and JavaCPP byte gauges from Triton's /metrics (sums over labels)."""
    with urllib.request.urlopen("http://%s/metrics" % metrics_url) as r:
        text = r.read().decode()
    out = {"heap": 0.0, "javacpp": 0.0}
    for line in text.splitlines():
        for key, name in (("heap", "java_onnxruntime_jvm_heap_used_bytes"),
                          ("javacpp", "java_onnxruntime_javacpp_bytes")):
            if line.startswith(name + " ") or line.startswith(name + "{"):
                out[key] += float(line.rsplit(" ", 1)[1])
    return out


def gc_pauses(path):
    """(count, total ms, max ms, heap MiB after each pause) of the pauses -Xlog:gc wrote to path."""
    pauses, after = [], []
    if os.path.exists(path):
        for line in open(path):
            if "Pause" in line and line.rstrip().endswith("ms"):
                pauses.append(float(line.rstrip()[:-2].rsplit(" ", 1)[1]))
                m = re.search(r"->(\d+)M\(", line)
                if m:
                    after.append(int(m.group(1)))
    return len(pauses), sum(pauses), max(pauses, default=0.0), after


def memory_report(samples, gc_log, requests):
    count, total, worst, after = gc_pauses(gc_log)
    rss = [s["rss_kib"] for s in samples]
    heap = [s["heap"] for s in samples]
    native = [s["javacpp"] for s in samples]
    lines = ["| over %d requests of ours (%d samples) | first | middle | last | growth over the second half |"
             % (requests, len(samples)), "|---|---|---|---|---|"]
    # The heap gauge rises until a GC: its growth says nothing unless GCs fall inside the run, so
    # the heap's verdict is the live heap after each GC (the last line).
    for name, values, floor, unit in (("server RSS", rss, False, 1024),
                                      ("JVM heap in use (rises until a GC)", heap, True, 1 << 20),
                                      ("JavaCPP native bytes", native, False, 1 << 20)):
        unit_name = "MiB"
        scale = 1024.0 if unit == 1024 else float(unit)
        lines.append("| %s | %.1f %s | %.1f %s | %.1f %s | %+.2f%% |" % (
            name, values[0] / scale, unit_name, values[len(values) // 2] / scale, unit_name,
            values[-1] / scale, unit_name, growth_of(values, floor=floor)))
    grown = sum(max(0.0, b - a) for a, b in zip(heap, heap[1:]))
    lines.append("")
    lines.append("JVM heap allocated per request of ours (the heap gauge's rises between samples): %.2f KiB; "
                 "GC pauses during the measured requests: %d" % (grown / max(requests, 1) / 1024,
                                                                   samples[-1]["gcs"] - samples[0]["gcs"]))
    lines.append("GC (-Xlog:gc, the whole server life): %d pauses, %.1f ms in all, longest %.2f ms; heap after "
                 "each pause, MiB: %s" % (count, total, worst, " ".join(map(str, after[-12:])) or "-"))
    return "\n".join(lines)


def measure(url, cycles, warmup, sample=None, cache="off"):
    requests, seeds = {}, {}
    for model, (name, dtype, shape, output) in MODELS.items():
        data = v2_binary.tensor(dtype, shape, 1)
        body = v2_binary.request({name: (dtype, shape, data)}, [output])
        requests[model] = requests[model + "_stock"] = body
        if cache == "key":  # stored once under the key, then named by it alone
            key = {"input_cache_key." + name: model}
            seeds[model] = v2_binary.request({name: (dtype, shape, data)}, [output], key)
            requests[model] = v2_binary.request({}, [output], key)  # no input at all
    fill = {}
    for model, (name, dtype, shape, output) in FILL.items():
        data = v2_binary.tensor(dtype, shape, 1)
        fill[model + "_stock"] = v2_binary.request({name: (dtype, shape, data)}, [output])
    host, port = url.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    for model, (body, headers) in seeds.items():
        conn.request("POST", "/v2/models/%s/infer" % model, body, headers)
        r = conn.getresponse()
        if r.status != 200:
            raise RuntimeError("%s: HTTP %d %s" % (model, r.status, r.read()[:300]))
        r.read()
    latencies = collections.defaultdict(list)
    answers = {}
    before = None
    every = max(1, cycles // 40)
    ours_first = list(requests) + list(fill)
    stock_first = [m for model in MODELS for m in (model + "_stock", model)] + list(fill)
    for cycle in range(warmup + cycles):
        if cycle == warmup:
            before = {m: stats(url, m) for m in requests}
        if sample is not None and cycle >= warmup and (cycle - warmup) % every == 0:
            sample()
        first_stock = ORDER == "stock" or (ORDER == "alternate" and cycle % 2 == 1)
        for model in stock_first if first_stock else ours_first:
            body, headers = requests[model] if model in requests else fill[model]
            t0 = time.perf_counter()
            conn.request("POST", "/v2/models/%s/infer" % model, body, headers)
            r = conn.getresponse()
            answer = r.read()
            if r.status != 200:
                raise RuntimeError("%s: HTTP %d %s" % (model, r.status, answer[:300]))
            if cycle >= warmup and model in requests:
                latencies[model].append(time.perf_counter() - t0)
            answers[model] = v2_binary.response(answer, r.getheader(v2_binary.HEADER_LENGTH))
    conn.close()
    result = {}
    for model in requests:
        after = stats(url, model)
        n = after["success"][0] - before[model]["success"][0]
        per = {p: (after[p][1] - before[model][p][1]) / max(n, 1) / 1000.0 for p in PHASES}
        lat = sorted(latencies[model])
        result[model] = {"requests": n, "us": per,
                         "p50_ms": statistics.median(lat) * 1e3,
                         "p99_ms": lat[int(len(lat) * 0.99) - 1] * 1e3}
    identical = {m: answers[m] == answers[m + "_stock"] for m in MODELS}
    return result, identical


def table(result, identical):
    rows = ["| model | backend | queue | compute_input | compute_infer | compute_output | p50 ms | p99 ms |",
            "|---|---|---|---|---|---|---|---|"]
    for model in MODELS:
        ours, stock = result[model], result[model + "_stock"]
        for label, r in (("stock", stock), ("ours", ours)):
            rows.append("| %s | %s | %s | %.2f | %.2f |" % (
                model, label, " | ".join("%.1f us" % r["us"][p] for p in PHASES), r["p50_ms"], r["p99_ms"]))
        ratio = lambda p: ours["us"][p] / stock["us"][p] if stock["us"][p] else float("nan")  # noqa: E731
        rows.append("| %s | ours/stock | %s | %.2fx | %.2fx |" % (
            model, " | ".join("%.2fx" % ratio(p) for p in PHASES),
            ours["p50_ms"] / stock["p50_ms"], ours["p99_ms"] / stock["p99_ms"]))
        rows.append("| %s | ours-stock | %s | | |" % (
            model, " | ".join("%+.1f us" % (ours["us"][p] - stock["us"][p]) for p in PHASES)))
    rows.append("")
    rows.append("outputs identical to stock's, bit for bit: " + ", ".join(
        "%s %s" % (m, "yes" if ok else "NO") for m, ok in identical.items()))
    return "\n".join(rows)


def hottest(collapsed, top=25, skip=0):
    """Self and total sample shares of the frames in our backend's execute threads (leaving out
    the first {@code skip} files of a looped profile), and our methods by total share."""
    self_count, total_count, samples = collections.Counter(), collections.Counter(), 0
    paths = sorted(glob.glob(collapsed))[skip:]
    for path in paths:
        with open(path) as f:
            for line in f:
                stack, _, n = line.rstrip().rpartition(" ")
                frames = stack.split(";")
                if not any("instanceExecute" in fr for fr in frames):
                    continue
                n = int(n)
                samples += n
                self_count[frames[-1]] += n
                for fr in set(frames):
                    total_count[fr] += n
    samples = max(samples, 1)
    lines = ["%d samples in java_onnxruntime's Execute (%d files)" % (samples, len(paths)), "",
             "| self | total | frame |", "|---|---|---|"]
    for frame, n in self_count.most_common(top):
        lines.append("| %.1f%% | %.1f%% | `%s` |" % (100.0 * n / samples, 100.0 * total_count[frame] / samples,
                                                    frame[:160]))
    ours = [(f, n) for f, n in total_count.most_common() if f.startswith("dev/javaonnxruntime/")]
    lines += ["", "| total | our method |", "|---|---|"]
    lines += ["| %.1f%% | `%s` |" % (100.0 * n / samples, f[:160]) for f, n in ours[:2 * top]]
    return "\n".join(lines)


def stale_sources():
    """The backend's sources changed since the backend directory was assembled (make build): the
    results would carry the tree's commit while measuring an older build."""
    jars = glob.glob(os.path.join(ROOT, "build", "backends", "java_onnxruntime",
                                  "java-backend-*.jar"))
    if not jars:
        return []
    built = os.path.getmtime(jars[0])
    newer = []
    for top in ("java-backend/src/main", "native/src", "native/include"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            newer += [os.path.join(d, f) for f in files
                      if os.path.getmtime(os.path.join(d, f)) > built]
    return newer


def main(argv):
    out = os.path.abspath(argv[0] if argv else os.path.join(ROOT, "build", "bench-triton-cpu"))
    os.makedirs(out, exist_ok=True)
    binary = local_server.find_server(ROOT)
    if binary is None:
        print("bench/triton/cpu.py: no tritonserver at %s" % local_server.shared_dir(ROOT))
        return 1
    newer = stale_sources()
    if newer:
        print("bench/triton/cpu.py: %d source file(s) changed since build/backends was assembled "
              "(%s, ...): run make build first" % (len(newer), os.path.relpath(newer[0], ROOT)))
        return 1
    cycles = int(os.environ.get("CYCLES", "1000"))
    warmup = int(os.environ.get("WARMUP", "200"))
    cache = os.environ.get("CACHE", "off")
    repo = build_repository(out, cache)
    backends = local_server.assemble_backends(ROOT, os.path.join(ROOT, "build", "triton-backends"))
    backend_config = ["java_onnxruntime," + setting
                      for setting in os.environ.get("BACKEND_CONFIG", "").split()]
    jvm_options = os.environ.get("JVM_OPTIONS", "").split()
    loop = os.environ.get("PROFILE_LOOP", "")
    collapsed = os.path.join(out, "profile-%p-%t.collapsed" if loop else "profile-%p.collapsed")
    if os.environ.get("PROFILE") == "1":
        for old in glob.glob(os.path.join(out, "profile-*.collapsed")):
            os.remove(old)
        agent = "-agentpath:%s=start,event=%s,interval=%s,cstack=vm,%s,collapsed,file=%s" % (
            profiler_library(out), os.environ.get("PROFILE_EVENT", "cpu"),
            os.environ.get("PROFILE_INTERVAL", "100us"),
            "loop=" + loop if loop else "timeout=" + os.environ.get("PROFILE_SECONDS", "60"), collapsed)
        jvm_options.append(agent)
    memory = os.environ.get("MEMORY") == "1"
    gc_log = os.path.join(out, "gc.log")
    if memory:
        if os.path.exists(gc_log):
            os.remove(gc_log)
        jvm_options.append("-Xlog:gc:file=%s" % gc_log)
    if jvm_options:
        backend_config.append("java_onnxruntime,jvm-options=" + " ".join(jvm_options))
    server = local_server.TritonServer(binary, repo, backends, log_path=os.path.join(out, "server.log"),
                                       backend_config=backend_config)
    samples = []

    def sample():
        samples.append(dict(gauges(server.metrics_url), rss_kib=rss_kib(server.proc.pid) or 0,
                            gcs=gc_pauses(gc_log)[0]))

    with server:
        result, identical = measure(server.http_url, cycles, warmup, sample if memory else None, cache)
        if memory:
            sample()
        if os.environ.get("PROFILE") == "1":
            deadline = time.monotonic() + 120
            while not glob.glob(collapsed.replace("%p", "*").replace("%t", "*")) and time.monotonic() < deadline:
                time.sleep(1)
    version = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
    text = "tritonserver 2.70.0 CPU build, java_onnxruntime %s, input_cache %s, %d cycles (%d warm-up), " \
           "us per request from Triton's statistics\n\n%s\n" % (version, cache, cycles, warmup,
                                                                table(result, identical))
    if memory:
        report = memory_report(samples, gc_log, cycles * len(MODELS))
        text += "\n" + report + "\n"
        with open(os.path.join(out, "memory.md"), "w") as f:
            f.write(report + "\n")
    if os.environ.get("PROFILE") == "1":
        text += "\n" + hottest(collapsed.replace("%p", "*").replace("%t", "*"),
                                skip=int(os.environ.get("PROFILE_SKIP", "2")) if loop else 0) + "\n"
    print(text)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"version": version, "cache": cache, "cycles": cycles, "results": result,
                   "identical": identical}, f, indent=1)
    return 0 if all(identical.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
