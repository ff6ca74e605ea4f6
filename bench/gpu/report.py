"""The GPU benchmark's figures.

  report.py --cut CUPTI_BASE REPLAY.jsonl   copies and kernels of the measured phase (JSON on stdout)
  report.py --table OUTDIR                  OUTDIR/summary.json and the markdown table (stdout)
  report.py --head-request ENC.jsonl OUT.json   vit_head request carrying the features that
                                            `triton-host infer` printed for vit_encoder
  report.py --identity KEY.jsonl DATA.jsonl [LOG...]   vit_head's logits of both infer runs, bit
                                            for bit (JSON; the logs give the reason when there are none)

Every figure here is the in-process host's (`triton-host replay`, no HTTP, not the real server):
never set against Triton's stock backend; bench/gpu/triton_run.sh and triton_report.py make that
side by side in the real tritonserver.

CUPTI records (cupti_count.c: CLOCK_REALTIME ns) are cut to the windows the host's replay totals
line gives: `measured` (after warm-up) and `requests` (from the first request sent, warm-up and
--first-request included; model loading excluded).
"""
import base64
import csv
import gzip
import json
import math
import os
import re
import sys
from array import array
from collections import defaultdict

GOALS = {
    "hit_htod": "a hit makes 0 HtoD copies of that input",
    "key_cpu": "named-key hit <= 2 us CPU per input",
    "content_cpu": "content hit <= 14 us at 602,112 B",
    "seed_bytes": "seed scenario: HtoD bytes divided by ~300",
    "tput_small": "throughput >= 1.3x copy-per-request on the small conv model (602,112 B)",
    "tput_large": "throughput >= 2x copy-per-request at 12.6 MiB",
    "streams": "kernels of the 3 models overlap on >= 3 non-default streams",
    "seed_graph": "seed replay in the in-process host with CUDA graphs (no stock comparison here: triton_run.sh)",
    "chain_copies": "chain: the intermediate tensor never crosses PCIe (0 HtoD and 0 DtoH of it)",
    "chain_identity": "chain: outputs identical to the unchained path",
}

# The request inputs: image 224/591/1024, BERT ids, and batch 8 of image 224 and of the ids.
INPUT_SIZES = {602112, 1024, 4191372, 12582912, 8 * 602112, 8 * 1024}
FEATURES_BYTES = 197 * 768 * 4  # vit_encoder's `features`, vit_head's input: 605,184 B

# A launch-free reference (../shared/research/peer-h100.md, the lent H100 80GB HBM3, 2026-11-25):
# torch, fp32 with TF32, batch 1, CUDA-graph replay. The stock backend's figures are not kept here:
# they come from the real server only (triton_run.sh).
PEER = {
    "device": "NVIDIA H100 80GB HBM3",
    "torch_graph_ms": {"vit": 1.33, "bert": 1.14, "resnet50": 0.90},
    "torch_graph_seed_wall_s": 0.20,
}


def totals(jsonl):
    rows = [json.loads(l) for l in open(jsonl) if l.strip().startswith("{")]
    return [r for r in rows if "model" in r], next((r for r in rows if "total_requests" in r), None)


def cut(base, jsonl):
    _, tot = totals(jsonl)
    if tot is None or "start_unix_ns" not in tot:
        return {"error": "no replay totals"}
    windows = {"measured": (tot["start_unix_ns"], tot["end_unix_ns"]),
               "requests": (tot["first_send_unix_ns"], tot["end_unix_ns"])}
    out = {}
    out["measured_requests"] = tot.get("total_requests")
    copies = list(csv.DictReader(open(base + ".memcpy.csv")))
    # (start, end, stream, correlation id): kernels of one graph launch share the launch's id
    kernels = [(int(r["start"]), int(r["end"]), int(r["stream"]), int(r.get("corr") or 0))
               for r in csv.DictReader(open(base + ".kernel.csv"))]
    for w, (a, b) in windows.items():
        agg = defaultdict(lambda: {"count": 0, "bytes": 0, "dur_ns": 0})
        sizes = defaultdict(int)
        by_kind = defaultdict(lambda: defaultdict(int))
        for r in copies:
            s = int(r["start"])
            if a <= s <= b:
                k = f'{r["kind"]}:{r["src"]}->{r["dst"]}'
                agg[k]["count"] += 1
                agg[k]["bytes"] += int(r["bytes"])
                agg[k]["dur_ns"] += int(r["end"]) - s
                by_kind[r["kind"]][int(r["bytes"])] += 1
                if r["kind"] == "HtoD":
                    sizes[int(r["bytes"])] += 1
        ks = [k for k in kernels if a <= k[0] <= b]
        launches = len({k[3] for k in ks})
        per = defaultdict(lambda: [0, 0])
        ev = []
        for s, e, st, _ in ks:
            per[st][0] += 1
            per[st][1] += e - s
            ev.append((s, 1, st))
            ev.append((e, -1, st))
        ev.sort()
        active = defaultdict(int)
        busy1 = busy2 = 0
        last = None
        for t, d, st in ev:
            if last is not None:
                n = sum(1 for v in active.values() if v > 0)
                if n >= 1:
                    busy1 += t - last
                if n >= 2:
                    busy2 += t - last
            active[st] += d
            last = t
        out[w] = {"window_ns": b - a, "copies": dict(agg), "htod_sizes": {str(k): v for k, v in sorted(sizes.items())},
                  "sizes": {kind: {str(k): v for k, v in sorted(d.items())} for kind, d in by_kind.items()},
                  "kernels": len(ks), "launches": launches, "streams": {str(k): {"kernels": v[0], "busy_ns": v[1]} for k, v in per.items()},
                  "kernel_busy_ns": busy1, "overlap2_ns": busy2,
                  "overlap_fraction": busy2 / busy1 if busy1 else 0.0}
    return out


def metrics(path):
    """Custom metrics at the end minus those at the end of the warm-up (PATH.warmup)."""
    m = defaultdict(float)
    if not os.path.exists(path):
        return m
    if os.path.exists(path + ".warmup"):
        for k, v in metrics_at(path + ".warmup").items():
            m[k] -= v
    for k, v in metrics_at(path).items():
        m[k] += v
    return m


def metrics_at(path):
    m = defaultdict(float)
    pat = re.compile(r'^(\w+)\{([^}]*)\}\s+(\S+)$')
    for line in open(path):
        g = pat.match(line.strip())
        if g:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', g.group(2)))
            m[(g.group(1), labels.get("model", ""))] += float(g.group(3))
    return m


def copy_sum(win, kind, src=None):
    c = b = 0
    for k, v in (win or {}).get("copies", {}).items():
        ck, rest = k.split(":")
        s, _ = rest.split("->")
        if ck == kind and (src is None or s == src):
            c += v["count"]
            b += v["bytes"]
    return c, b


def case_summary(outdir, name, mode, streams):
    raw = os.path.join(outdir, "raw")
    d = {"case": name, "scenario": name.split("-")[0], "mode": mode, "streams": streams}
    p = os.path.join(raw, name + ".plain.jsonl")
    if os.path.exists(p):
        models, tot = totals(p)
        d["models"] = {r["model"]: {k: r[k] for k in ("requests", "errors", "p50_us", "p99_us", "mean_us")} for r in models}
        if tot:
            d["throughput_rps"] = tot["throughput_rps"]
            d["wall_s"] = tot["wall_s"]
            d["total_requests"] = tot["total_requests"]
        met = metrics(os.path.join(raw, name + ".plain.metrics"))
        cache = {}
        for mname in d["models"]:
            h = met[("java_onnxruntime_input_cache_hits_total", mname)]
            mi = met[("java_onnxruntime_input_cache_misses_total", mname)]
            hu = met[("java_onnxruntime_input_cache_hash_duration_us_total", mname)]
            cache[mname] = {"hits": h, "misses": mi, "bytes_saved": met[("java_onnxruntime_input_cache_bytes_saved_total", mname)],
                            "hash_us_per_lookup": hu / (h + mi) if h + mi else None}
        d["cache"] = cache
        st = os.path.join(raw, name + ".plain.stats.json")
        if os.path.exists(st):
            # Triton's statistics of the measured phase: at the end minus at the end of the warm-up.
            s = json.load(open(st))
            w0 = json.load(open(st + ".warmup")) if os.path.exists(st + ".warmup") else {}

            def per(m, k):
                r, r0 = s[m]["reported"], w0.get(m, {}).get("reported", {})
                n = r["success_count"] - r0.get("success_count", 0)
                return round((r[f"compute_{k}_ns"] - r0.get(f"compute_{k}_ns", 0)) / max(1, n) / 1e3, 1)
            d["server_us_per_request"] = {m: {k: per(m, k) for k in ("input", "infer", "output")} for m in s}
    w = os.path.join(raw, name + ".cupti.window.json")
    if os.path.exists(w):
        try:
            d["cupti"] = json.load(open(w))
        except ValueError:
            pass
    d["cuda_graph"] = graph_lines(os.path.join(raw, name + ".plain.log"))
    return d


# The backend's lines (GraphPath): "captured batch size N (shape [..]) as graph G in X ms" and
# "batch size N (shape [..]) runs eagerly: REASON"; a session-wide fallback says "every batch
# runs eagerly: REASON" and lands in "other".
GRAPH_CAPTURED = re.compile(r"cuda_graph: model '([^']*)' instance '([^']*)': captured batch size (\d+)"
                            r"(?: \(shape [^)]*\))?(?: as graph \d+)? in ([\d.]+) ms")
GRAPH_EAGER = re.compile(r"cuda_graph: model '([^']*)' instance '([^']*)': batch size (\d+)"
                         r"(?: \(shape [^)]*\))? runs eagerly: (.*)$")


def graph_lines(log):
    """The backend's CUDA graph lines in a host log: captures, eager fallbacks, anything else."""
    g = {"captured": [], "eager": [], "other": []}
    if not os.path.exists(log):
        return g
    for line in open(log, errors="replace"):
        if "cuda_graph" not in line:
            continue
        m = GRAPH_CAPTURED.search(line)
        e = GRAPH_EAGER.search(line)
        if m:
            g["captured"].append({"model": m.group(1), "instance": m.group(2), "batch": int(m.group(3)),
                                  "ms": float(m.group(4))})
        elif e:
            g["eager"].append({"model": e.group(1), "instance": e.group(2), "batch": int(e.group(3)),
                               "reason": e.group(4).strip()})
        elif len(g["other"]) < 3:
            g["other"].append(line.strip()[-300:])
    return g


def per_request(c, key):
    """A CUPTI figure of the measured phase divided by the requests (or chains) it served."""
    cu = c.get("cupti") or {}
    win, n = cu.get("measured"), cu.get("measured_requests")
    if not win or not n or win.get(key) is None:
        return None
    return win[key] / n


def sized(win, kind, size):
    return (win or {}).get("sizes", {}).get(kind, {}).get(str(size), 0)


def fmt_bytes(b):
    return f"{b / 1e6:.2f} MB" if b >= 1e5 else f"{b:.0f} B"


def table(outdir):
    cases = []
    for line in open(os.path.join(outdir, "raw", "cases.txt")):
        if line.strip():
            cases.append(case_summary(outdir, *line.split()))
    by = {c["case"]: c for c in cases}
    versions = open(os.path.join(outdir, "versions.txt")).read() if os.path.exists(os.path.join(outdir, "versions.txt")) else ""
    out = ["# GPU benchmark: java_onnxruntime through the in-process Triton host", "", "```", versions.strip(), "```", ""]
    out += ["Latency and throughput from runs without CUPTI; copies and kernels from a second run under CUPTI, "
            "cut to the measured phase (after warm-up). `req. HtoD` counts HtoD copies from the first request on "
            "(warm-up and the key's first request included; model loading excluded).", ""]
    out += ["| case | mode | streams | req/s | p50 / p99 us (per model) | HtoD pageable n / bytes | HtoD pinned n / bytes | "
            "DtoD n | DtoH n | req. HtoD bytes | kernel streams | overlap | hits / misses | hash us/lookup | compute_input us/req |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        win = (c.get("cupti") or {}).get("measured")
        req = (c.get("cupti") or {}).get("requests")
        lat = "; ".join(f'{m} {v["p50_us"]:.0f}/{v["p99_us"]:.0f}' + (f' ({v["errors"]} err)' if v["errors"] else "")
                        for m, v in c.get("models", {}).items())
        hp = copy_sum(win, "HtoD", "pageable")
        hq = copy_sum(win, "HtoD", "pinned")
        dd = copy_sum(win, "DtoD")
        dh = copy_sum(win, "DtoH")
        rq = copy_sum(req, "HtoD")
        streams = ",".join(f'{k}:{v["kernels"]}' for k, v in sorted((win or {}).get("streams", {}).items())) if win else "-"
        ca = c.get("cache", {})
        hits = sum(v["hits"] for v in ca.values())
        miss = sum(v["misses"] for v in ca.values())
        hus = [v["hash_us_per_lookup"] for v in ca.values() if v["hash_us_per_lookup"] is not None]
        ci = c.get("server_us_per_request", {})
        out.append(
            f'| {c["case"]} | {c["mode"]} | {c["streams"]} | {c.get("throughput_rps", 0):.0f} | {lat} | '
            + (f"{hp[0]} / {fmt_bytes(hp[1])} | {hq[0]} / {fmt_bytes(hq[1])} | {dd[0]} | {dh[0]} | {fmt_bytes(rq[1])} | {streams} | "
               f'{100 * win["overlap_fraction"]:.0f}% |' if win else "- | - | - | - | - | - | - |")
            + f" {hits:.0f} / {miss:.0f} | " + (", ".join(f"{h:.1f}" for h in hus) or "-") + " | "
            + ", ".join(f'{v["input"]:.0f}' for v in ci.values()) + " |")
    out += ["", "## Goals (printed beside the figures; no assertions)", ""]

    def tput(a, b):
        x, y = by.get(a, {}).get("throughput_rps"), by.get(b, {}).get("throughput_rps")
        return (x / y, x, y) if x and y else None

    lines = []
    # hit: 0 HtoD of that input in the measured phase
    for name in [c["case"] for c in cases if c["mode"] in ("content", "key", "auto", "keyeager", "keygraph")
                 and c["scenario"] in ("seed", "sweep224", "sweep591", "sweep1024", "partial", "g1", "g8")]:
        win = (by[name].get("cupti") or {}).get("measured")
        if win:
            big = sum(n for s, n in win["htod_sizes"].items() if int(s) in INPUT_SIZES)
            lines.append(f"- {GOALS['hit_htod']}: {name}: {big} HtoD copies of a request input's size in the measured phase")
    for name in [c["case"] for c in cases if c["mode"] == "key"]:
        ci = by[name].get("server_us_per_request", {})
        lines.append(f"- {GOALS['key_cpu']}: {name}: compute_input (all of the backend's input work for the request, "
                     f"an upper bound) " + ", ".join("%s %.1f us" % (m, v["input"]) for m, v in ci.items()))
    for name in ("sweep224-content", "sweep591-content", "sweep1024-content", "seed-content"):
        ca = by.get(name, {}).get("cache", {})
        for m, v in ca.items():
            if v["hash_us_per_lookup"] is not None:
                ci = by[name].get("server_us_per_request", {}).get(m, {}).get("input", float("nan"))
                lines.append(f"- {GOALS['content_cpu']}: {name} {m}: hashing {v['hash_us_per_lookup']:.1f} us per lookup; "
                             f"compute_input {ci:.1f} us/request")
    for mode in ("content", "key", "auto"):
        ca, cb = (by.get("seed-ort", {}).get("cupti") or {}), (by.get(f"seed-{mode}", {}).get("cupti") or {})
        if ca.get("requests") and cb.get("requests"):
            def inp(w):
                return sum(int(k) * v for k, v in w["htod_sizes"].items() if int(k) in INPUT_SIZES)
            xr, yr = inp(ca["requests"]), inp(cb["requests"])
            xa, ya = copy_sum(ca["requests"], "HtoD")[1], copy_sum(cb["requests"], "HtoD")[1]
            xm, ym = inp(ca["measured"]), inp(cb["measured"])
            lines.append(f"- {GOALS['seed_bytes']}: seed-{mode} vs seed-ort, request-input HtoD bytes from the first request on "
                         f"(warm-up included): {xr} -> {yr} B (divided by {xr / yr:.0f})" if yr else "")
            lines.append(f"  all HtoD bytes from the first request on (ORT's own small per-request copies included): "
                         f"{xa} -> {ya} B (divided by {xa / max(1, ya):.0f}); measured phase, request inputs: {xm} -> {ym} B")
    for size, goal in (("224", "tput_small"), ("591", None), ("1024", "tput_large")):
        for mode in ("content", "key", "auto"):
            r = tput(f"sweep{size}-{mode}", f"sweep{size}-ort")
            r2 = tput(f"sweep{size}-{mode}", f"sweep{size}-pinned")
            if r:
                lines.append(f"- {GOALS[goal] if goal else 'throughput at ~4 MiB'}: sweep{size} {mode} {r[1]:.0f} req/s vs ort "
                             f"{r[2]:.0f}: {r[0]:.2f}x" + (f" (vs pinned copy {r2[0]:.2f}x)" if r2 else ""))
    for name in ("seed-content", "seed-key", "seed-graph", "seed-ort", "seed-content-1stream"):
        win = (by.get(name, {}).get("cupti") or {}).get("measured")
        if win:
            ids = ", ".join(sorted(win["streams"]))
            lines.append(f"- {GOALS['streams']}: {name}: {len(win['streams'])} streams with kernels "
                         f"({ids}), kernels of >= 2 streams overlap during "
                         f"{100 * win['overlap_fraction']:.0f}% of kernel-busy time")
    out += lines
    dev = device_name(versions)
    identity = load_json(os.path.join(outdir, "raw", "chain-identity.json"))
    skipped = read_pairs(os.path.join(outdir, "raw", "skipped.txt"))
    elapsed = read_pairs(os.path.join(outdir, "raw", "elapsed.txt"))
    for c in cases:
        if c["case"] in elapsed:
            c["elapsed_s"] = float(elapsed[c["case"]]) / 1e3
    out += graph_section(by, dev)
    out += seed_section(by, dev)
    out += chain_section(by, identity, skipped)
    if skipped:
        out += ["", "## Skipped", ""] + [f"- {k}: {v}" for k, v in skipped.items()]
    abnormal = abnormal_exits(os.path.join(outdir, "run.log"))
    out += ["", "## Host processes that did not exit normally", ""]
    if abnormal["runs"] == 0:
        out += ["- run.log lists no host run."]
    else:
        bad = abnormal["abnormal"]
        out += [f"- {len(bad)} of {abnormal['runs']} host runs exited with a status other than 0 or 1"
                + (" (134: aborted, e.g. the ONNX Runtime abort at unload, docs/triton-guide.md)" if bad else "")
                + ("" if not bad else ": " + ", ".join(f"{n} [{p}] rc {rc}" for n, p, rc in bad))]
    if elapsed:
        out += ["", "## Run time", "",
                "Per case, plain and CUPTI passes together (s): "
                + ", ".join(f"{k} {float(v) / 1e3:.1f}" for k, v in elapsed.items())
                + f"; sum {sum(float(v) for v in elapsed.values()) / 1e3:.0f} s (run.log has the whole run's)."]
    json.dump({"cases": cases, "goals": GOALS, "device": dev, "reference": PEER,
               "chain_identity": identity, "skipped": skipped, "abnormal_exits": abnormal},
              open(os.path.join(outdir, "summary.json"), "w"), indent=1)
    print("\n".join(out))


def abnormal_exits(run_log):
    """Host runs in run.log ('NAME [MODE, ..., PASS]: rc=N') whose status is neither 0 nor 1."""
    runs, bad = 0, []
    try:
        lines = open(run_log).read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        m = re.match(r"\[[0-9:]+\] (\S+) \[([^\]]*)\]: rc=(\d+)", line)
        if m:
            runs += 1
            if int(m.group(3)) not in (0, 1):
                bad.append((m.group(1), m.group(2).split(", ")[-1], int(m.group(3))))
    return {"runs": runs, "abnormal": bad}


def load_json(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


def read_pairs(path):
    """NAME REST lines (skipped.txt: reason; elapsed.txt: milliseconds), in file order."""
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if line.strip():
                k, _, v = line.strip().partition(" ")
                d[k] = v
    return d


def device_name(versions):
    """The GPU's name: run.sh's `gpu:` line, else the first field of nvidia-smi's CSV line (older runs)."""
    m = re.search(r"^gpu: *(.*)$", versions, re.M)
    if m and m.group(1).strip():
        return m.group(1).strip()
    m = re.search(r"^((?:NVIDIA|Tesla|Quadro)[^,]*),", versions, re.M)
    return m.group(1).strip() if m else None


def device_caveat(dev):
    return (f"Device: **{dev or 'unknown (no nvidia-smi)'}**. In-process host figures (`triton-host replay`, no HTTP): "
            "comparable with each other, never with the stock backend's; the side by side with stock is "
            "bench/gpu/triton_run.sh's, in the real tritonserver.")


def ms(us):
    return "-" if us is None else f"{us / 1e3:.2f}"


def lat_ms(c, m):
    v = (c or {}).get("models", {}).get(m)
    if not v:
        return "-"
    return f'{v["p50_us"] / 1e3:.2f} / {v["p99_us"] / 1e3:.2f}' + (f' ({v["errors"]} err)' if v.get("errors") else "")


def server(c, m):
    v = (c or {}).get("server_us_per_request", {}).get(m)
    return f'{v["input"]:.0f} / {v["infer"]:.0f} / {v["output"]:.0f}' if v else "-"


def graph_note(c, batch=None):
    """The backend's captures and eager fallbacks in a case's host log (of one batch size, if given)."""
    if not c:
        return "-"
    g = c.get("cuda_graph") or {}
    mine = lambda x: batch is None or x["batch"] == batch  # noqa: E731
    parts = [f'b{x["batch"]} captured in {x["ms"]:.0f} ms' for x in g.get("captured", []) if mine(x)]
    parts += [f'b{x["batch"]} eager: {x["reason"]}' for x in g.get("eager", []) if mine(x)]
    parts += [f"other: {x}" for x in g.get("other", [])]
    if not parts and c["mode"] == "keygraph":
        return "no cuda_graph line in the host log (a backend without CUDA graphs ignores the parameter)"
    return "; ".join(parts) or "-"


def graph_section(by, dev):
    names = [n for n in by if re.match(r"^g[18]-.+-(eager|graph)$", n)]
    if not names:
        return []
    models = []
    for n in names:
        m = n.split("-", 1)[1].rsplit("-", 1)[0]
        if m not in models:
            models.append(m)
    out = ["", "## CUDA graphs: one model alone, eager vs graph (key mode: the input stays on the GPU)", "",
           device_caveat(dev), "",
           "Client latency p50 / p99 from the plain run (one request in flight, after warm-up); kernels, "
           "launches (distinct CUPTI correlation ids: a graph launch is one, whatever it runs) and GPU kernel time "
           "per request from the CUPTI run, batch 1 only (CUPTI adds ~1 ms per request to latency, not to kernel "
           "time). Server us/request: Triton's compute_input / compute_infer / compute_output. Graph lines: the "
           "backend's log (`cuda_graph: ... captured batch size N` / `runs eagerly: REASON`).", "",
           "| model | batch | eager p50 / p99 ms | graph p50 / p99 ms | p50 eager/graph | req/s eager / graph | "
           "kernels / launches per req. eager | kernels / launches per req. graph | GPU kernel ms per req. eager / graph | "
           "server us/req eager | server us/req graph | graph captures, fallbacks |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        for b in (1, 8):
            e, g = by.get(f"g{b}-{m}-eager"), by.get(f"g{b}-{m}-graph")
            if not e and not g:
                continue
            pe = (e or {}).get("models", {}).get(m, {}).get("p50_us")
            pg = (g or {}).get("models", {}).get(m, {}).get("p50_us")

            def kl(c):
                k, l = per_request(c or {}, "kernels"), per_request(c or {}, "launches")
                return "-" if k is None else f"{k:.0f} / {l:.0f}"

            def busy(c):
                v = per_request(c or {}, "kernel_busy_ns")
                return "-" if v is None else f"{v / 1e6:.2f}"

            def tp(c):
                t = (c or {}).get("throughput_rps")
                return "-" if not t else (f"{t:.0f}" + (f" ({t * b:.0f} samples/s)" if b > 1 else ""))
            out.append(f"| {m} | {b} | {lat_ms(e, m)} | {lat_ms(g, m)} | "
                       + (f"{pe / pg:.2f}x" if pe and pg else "-")
                       + f" | {tp(e)} / {tp(g)} | {kl(e)} | {kl(g)} | {busy(e)} / {busy(g)} | {server(e, m)} | "
                       f"{server(g, m)} | {graph_note(g, b)} |")
    return out


def seed_section(by, dev):
    cases = [n for n in ("seed-ort", "seed-key", "seed-graph") if n in by]
    if not cases:
        return []
    models = list(by[cases[-1]].get("models", {}))
    out = ["", "## Seed replay in the in-process host: CUDA graphs vs eager", "", device_caveat(dev), "",
           "Three models at once, one request per model in flight, the measured requests after warm-up (key cases: "
           "plus one first request that stores the input). Latency p50 / p99 ms from the plain run; `300 requests "
           "in` = 300 / req/s (the wall time of the measured phase when each model has 100).", "",
           "| case | 300 requests in s | req/s | " + " | ".join(f"{m} p50 / p99 ms" for m in models)
           + " | server us/req (in / infer / out) | GPU kernels busy (CUPTI) |",
           "|---|---|---|" + "---|" * len(models) + "---|---|"]
    for n in cases:
        c = by[n]
        t = c.get("throughput_rps")
        win = (c.get("cupti") or {}).get("measured")
        gpu = (f'{100 * win["kernel_busy_ns"] / win["window_ns"]:.0f}% of the window' if win and win.get("window_ns") else "-")
        out.append(f"| {n} ({c['mode']}) | " + (f"{300 / t:.3f}" if t else "-") + f" | {t or 0:.0f} | "
                   + " | ".join(lat_ms(c, m) for m in models) + " | "
                   + "; ".join(f"{m} {server(c, m)}" for m in models) + f" | {gpu} |")
    g = by.get("seed-graph")
    t = (g or {}).get("throughput_rps")
    if not t:
        out += ["", "- no seed-graph figure" + (" (skipped)" if not g else " (no throughput)")]
        return out
    out += ["", f"- seed-graph: 300 requests in **{300 / t:.3f} s** ({t:.0f} req/s) in the in-process host. "
            "Host figures are never set against the stock backend: bench/gpu/triton_run.sh measures both in "
            "the real tritonserver."]
    # Where the time goes: the wall is set by the slowest model (they run at once, one request each in flight).
    out += ["", "### Where the time goes (seed-graph)", ""]
    slow = max(models, key=lambda m: g["models"][m]["mean_us"] * g["models"][m]["requests"])
    for m in models:
        v = g["models"][m]
        sv = g.get("server_us_per_request", {}).get(m)
        srv = sum(sv.values()) if sv else None
        alone = by.get(f"g1-{m}-graph")
        ap = (alone or {}).get("models", {}).get(m, {}).get("p50_us")
        ab = per_request(alone or {}, "kernel_busy_ns")
        line = (f"- {m}: client mean {v['mean_us'] / 1e3:.2f} ms x {v['requests']} requests = "
                f"{v['mean_us'] * v['requests'] / 1e6:.3f} s" + (" (the slowest: it sets the wall)" if m == slow else ""))
        if sv:
            line += (f"; in the backend {srv / 1e3:.2f} ms/request (input {sv['input'] / 1e3:.2f}, infer "
                     f"{sv['infer'] / 1e3:.2f}, output {sv['output'] / 1e3:.2f}), outside it (host queue, response, "
                     f"client thread) {(v['mean_us'] - srv) / 1e3:.2f} ms")
        if ap:
            line += f"; alone (g1-{m}-graph) p50 {ap / 1e3:.2f} ms"
        if ab is not None:
            line += f", GPU kernels {ab / 1e6:.2f} ms per request"
        if m in PEER["torch_graph_ms"]:
            line += f"; torch graph replay on the H100: {PEER['torch_graph_ms'][m]} ms"
        out.append(line)
    win = (g.get("cupti") or {}).get("measured")
    if win and win.get("window_ns"):
        def n(c, key):
            v = per_request(c or {}, key)
            return "-" if v is None else f"{v:.0f}"
        out.append(f"- GPU (CUPTI run, which adds ~1 ms per request): kernels busy {100 * win['kernel_busy_ns'] / win['window_ns']:.0f}% "
                   f"of the measured window, {100 * win['overlap_fraction']:.0f}% of that with kernels of >= 2 streams; "
                   f"{n(g, 'launches')} launches and {n(g, 'kernels')} kernels per request (seed-key, eager: "
                   f"{n(by.get('seed-key'), 'launches')} launches, {n(by.get('seed-key'), 'kernels')} kernels)")
    out.append(f"- reference: the seed with torch CUDA-graph replay on 3 streams ran 300 requests in "
               f"{PEER['torch_graph_seed_wall_s']} s on the H100 (the launch-free floor).")
    return out


def chain_section(by, identity, skipped):
    names = [n for n in ("chain-device", "chain-client") if n in by]
    if not names and not identity:
        if "chain-device" in skipped:
            return ["", "## Two-model chain: vit_encoder -> vit_head", "",
                    f"- {GOALS['chain_copies']}: not measured (chain-device skipped: {skipped['chain-device']})",
                    f"- {GOALS['chain_identity']}: not compared (skipped)"]
        return []
    fb = FEATURES_BYTES
    out = ["", f"## Two-model chain: vit_encoder -> vit_head, the intermediate `features` ({fb:,} B)", "",
           "One chain in flight (encoder request, then after its answer the head request, in one client thread; one "
           "latency sample per chain). chain-device: the encoder keeps `features` resident under "
           "`output_cache_key.features` and returns only `pooled`; the head names the key with "
           "`input_cache_key.features`. chain-client: the encoder returns `features`, the head request carries them. "
           f"Copies of {fb:,} B in the measured phase, CUPTI run (the encoder's 602,112 B image is sent every chain in both).", "",
           "| case | chains/s | p50 / p99 ms per chain | features HtoD n | features DtoH n | features DtoD n | "
           "all HtoD n / bytes | all DtoH n / bytes | server us/req (in / infer / out) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        c = by[n]
        win = (c.get("cupti") or {}).get("measured")
        lat = "; ".join(f'{m} {v["p50_us"] / 1e3:.2f} / {v["p99_us"] / 1e3:.2f}' + (f' ({v["errors"]} err)' if v["errors"] else "")
                        for m, v in c.get("models", {}).items()) or "-"
        h, d = copy_sum(win, "HtoD"), copy_sum(win, "DtoH")
        cp = (f"{sized(win, 'HtoD', fb)} | {sized(win, 'DtoH', fb)} | {sized(win, 'DtoD', fb)} | "
              f"{h[0]} / {fmt_bytes(h[1])} | {d[0]} / {fmt_bytes(d[1])}") if win else "- | - | - | - | -"
        srv = "; ".join(f"{m} {server(c, m)}" for m in c.get("server_us_per_request", {})) or "-"
        out.append(f"| {n} ({c['mode']}) | {c.get('throughput_rps', 0):.0f} | {lat} | {cp} | {srv} |")
    out += [""]
    c = by.get("chain-device")
    win = ((c or {}).get("cupti") or {}).get("measured")
    if not c:
        out.append(f"- {GOALS['chain_copies']}: not measured (no chain-device run)")
    elif not win:
        out.append(f"- {GOALS['chain_copies']}: not measured (chain-device had no CUPTI run)")
    else:
        h, d = sized(win, "HtoD", fb), sized(win, "DtoH", fb)
        n = (c.get("cupti") or {}).get("measured_requests")
        errors = sum(v.get("errors", 0) for v in c.get("models", {}).values())
        ok = h == 0 and d == 0 and errors == 0
        cl = ((by.get("chain-client") or {}).get("cupti") or {}).get("measured")
        out.append(f"- {GOALS['chain_copies']}: chain-device, {n} chains: {h} HtoD and {d} DtoH of {fb:,} B: "
                   + ("**met**" if ok else "**missed**")
                   + (f" (but {errors} requests failed in the plain run, so the count proves nothing)" if errors else "")
                   + (f"; chain-client for contrast: {sized(cl, 'HtoD', fb)} HtoD and {sized(cl, 'DtoH', fb)} DtoH" if cl else ""))
    iv = identity or {}
    if not identity:
        out.append(f"- {GOALS['chain_identity']}: not compared (no identity run)")
    elif iv.get("verdict") == "identical":
        out.append(f"- {GOALS['chain_identity']}: vit_head's logits by the key path and from the features sent as data "
                   f"are **identical bit for bit** ({iv['values']} of {iv['values']} values): **met**")
    elif iv.get("verdict") == "different":
        out.append(f"- {GOALS['chain_identity']}: **DIFFERENT**: {iv['differing']} of {iv['values']} logits differ "
                   f"(max |diff| {iv['max_abs_diff']:.3g}; shapes {iv.get('shapes')}): **missed**")
    else:
        out.append(f"- {GOALS['chain_identity']}: not compared: {iv.get('reason', '?')}")
    return out


def infer_lines(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    rows.append({"error": "unparsable line"})
    return rows


def output_of(rows, model, name):
    for r in rows:
        if r.get("model_name") == model:
            for o in r.get("outputs", []):
                if o.get("name") == name and "data" in o:
                    return o
    return None


def flat(x):
    if isinstance(x, list):
        for v in x:
            yield from flat(v)
    else:
        yield x


def errors_of(*paths):
    return "; ".join(str(r["error"])[:200] for p in paths for r in infer_lines(p) if "error" in r)


def head_request(enc_jsonl, out_path):
    """vit_head's request with the features vit_encoder's answer printed (9 significant digits: exact
    for FP32), as raw FP32 bytes."""
    o = output_of(infer_lines(enc_jsonl), "vit_encoder", "features")
    if o is None:
        print(f"no vit_encoder features in {enc_jsonl}: {errors_of(enc_jsonl) or 'no answer'}", file=sys.stderr)
        return 1
    raw = array("f", [float(v) for v in flat(o["data"])]).tobytes()
    if len(raw) != 4 * math.prod(o["shape"]):
        print(f"features: {len(raw)} bytes for shape {o['shape']}", file=sys.stderr)
        return 1
    body = {"inputs": [{"name": "features", "shape": o["shape"], "datatype": "FP32",
                        "raw_data_b64": base64.b64encode(raw).decode()}], "outputs": [{"name": "logits"}]}
    json.dump(body, open(out_path, "w"))
    return 0


def first_host_error(paths):
    for p in paths:
        if os.path.exists(p):
            for line in open(p, errors="replace"):
                if line.startswith("triton-host:") or " error" in line.lower():
                    return line.strip()[:300]
    return ""


def identity(key_jsonl, data_jsonl, logs=()):
    a = output_of(infer_lines(key_jsonl), "vit_head", "logits")
    b = output_of(infer_lines(data_jsonl), "vit_head", "logits")
    if a is None or b is None:
        which = "the key path" if a is None else "the data path"
        err = errors_of(key_jsonl, data_jsonl) or first_host_error(logs)
        return {"verdict": "not compared", "reason": f"no logits from {which}" + (f": {err}" if err else "")}
    xa = array("f", [float(v) for v in flat(a["data"])])
    xb = array("f", [float(v) for v in flat(b["data"])])
    ia, ib = array("I", xa.tobytes()), array("I", xb.tobytes())
    differing = sum(1 for p, q in zip(ia, ib) if p != q) + abs(len(ia) - len(ib))
    same = a["shape"] == b["shape"] and differing == 0
    diffs = [abs(p - q) for p, q in zip(xa, xb)]
    return {"verdict": "identical" if same else "different", "values": len(xa), "differing": differing,
            "max_abs_diff": max(diffs) if diffs else 0.0, "shapes": [a["shape"], b["shape"]],
            "features_values": len(list(flat((output_of(infer_lines(key_jsonl), "vit_encoder", "features") or {}).get("data", []))))}


if __name__ == "__main__":
    if sys.argv[1] == "--cut":
        json.dump(cut(sys.argv[2], sys.argv[3]), sys.stdout, indent=1)
    elif sys.argv[1] == "--table":
        table(sys.argv[2])
    elif sys.argv[1] == "--head-request":
        sys.exit(head_request(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "--identity":
        json.dump(identity(sys.argv[2], sys.argv[3], sys.argv[4:]), sys.stdout, indent=1)
        print()
