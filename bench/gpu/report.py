"""The GPU benchmark's figures.

  report.py --cut CUPTI_BASE REPLAY.jsonl   copies and kernels of the measured phase (JSON on stdout)
  report.py --table OUTDIR                  OUTDIR/summary.json and the markdown table (stdout)

CUPTI records (cupti_count.c: CLOCK_REALTIME ns) are cut to the windows the host's replay totals
line gives: `measured` (after warm-up) and `requests` (from the first request sent, warm-up and
--first-request included; model loading excluded).
"""
import csv
import gzip
import json
import os
import re
import sys
from collections import defaultdict

GOALS = {
    "hit_htod": "a hit makes 0 HtoD copies of that input",
    "key_cpu": "named-key hit <= 2 us CPU per input",
    "content_cpu": "content hit <= 14 us at 602,112 B",
    "seed_bytes": "seed scenario: HtoD bytes divided by ~300",
    "tput_small": "throughput >= 1.3x copy-per-request on the small conv model (602,112 B)",
    "tput_large": "throughput >= 2x copy-per-request at 12.6 MiB",
    "streams": "kernels of the 3 models overlap on >= 3 non-default streams",
}


INPUT_SIZES = {602112, 1024, 4191372, 12582912}  # the request inputs: image 224/591/1024, BERT ids


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
    copies = list(csv.DictReader(open(base + ".memcpy.csv")))
    kernels = [(int(r["start"]), int(r["end"]), int(r["stream"])) for r in csv.DictReader(open(base + ".kernel.csv"))]
    for w, (a, b) in windows.items():
        agg = defaultdict(lambda: {"count": 0, "bytes": 0, "dur_ns": 0})
        sizes = defaultdict(int)
        for r in copies:
            s = int(r["start"])
            if a <= s <= b:
                k = f'{r["kind"]}:{r["src"]}->{r["dst"]}'
                agg[k]["count"] += 1
                agg[k]["bytes"] += int(r["bytes"])
                agg[k]["dur_ns"] += int(r["end"]) - s
                if r["kind"] == "HtoD":
                    sizes[int(r["bytes"])] += 1
        ks = [k for k in kernels if a <= k[0] <= b]
        per = defaultdict(lambda: [0, 0])
        ev = []
        for s, e, st in ks:
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
                  "kernels": len(ks), "streams": {str(k): {"kernels": v[0], "busy_ns": v[1]} for k, v in per.items()},
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
    return d


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
    for name in [c["case"] for c in cases if c["mode"] in ("content", "key", "auto") and c["scenario"] in ("seed", "sweep224", "sweep591", "sweep1024", "partial")]:
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
    for name in ("seed-content", "seed-key", "seed-ort", "seed-content-1stream"):
        win = (by.get(name, {}).get("cupti") or {}).get("measured")
        if win:
            ids = ", ".join(sorted(win["streams"]))
            lines.append(f"- {GOALS['streams']}: {name}: {len(win['streams'])} streams with kernels "
                         f"({ids}), kernels of >= 2 streams overlap during "
                         f"{100 * win['overlap_fraction']:.0f}% of kernel-busy time")
    out += lines
    json.dump({"cases": cases, "goals": GOALS}, open(os.path.join(outdir, "summary.json"), "w"), indent=1)
    print("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "--cut":
        json.dump(cut(sys.argv[2], sys.argv[3]), sys.stdout, indent=1)
    elif sys.argv[1] == "--table":
        table(sys.argv[2])
