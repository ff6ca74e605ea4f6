"""The real-server benchmark's report (triton_run.sh).

  triton_report.py --cut CUPTI_BASE RESULTS.jsonl   copies and kernels per measured phase (JSON on stdout)
  triton_report.py --table OUTDIR                   table.md on stdout, OUTDIR/summary.json

--cut counts the CUPTI records (cupti_count.c: CUPTI_BASE.memcpy.csv, .kernel.csv) whose start lies
in each result row's measured window: copies by kind (HtoD, DtoH, DtoD, ...) with bytes and
src->dst memory kinds, kernels, and the kernel-busy time (the union over streams).
--table sets every variant beside the stock backend's figures of the same scenario and run.
"""
import bisect
import csv
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def rows(path):
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip().startswith("{")]


def key(r):
    return f"{r['scenario']}|{r['variant']}|{r['rep']}"


def cut(base, results):
    res = [r for r in rows(results) if "window_unix_ns" in r]
    wins = sorted((r["window_unix_ns"][0], r["window_unix_ns"][1], key(r)) for r in res)
    starts = [w[0] for w in wins]
    sizes = {key(r): set(r.get("input_bytes", [])) for r in res}
    out = {w[2]: {"window_ns": w[1] - w[0], "copies": defaultdict(lambda: {"count": 0, "bytes": 0}),
                  "kinds": defaultdict(int), "htod_input_sized": 0, "htod_sizes": defaultdict(int),
                  "kernels": 0, "_iv": []} for w in wins}

    def find(t):
        i = bisect.bisect_right(starts, t) - 1
        return wins[i][2] if i >= 0 and t <= wins[i][1] else None

    api = {}  # runtime correlation id -> API name (CUPTI_RUNTIME=1 only)
    if os.path.exists(base + ".api.csv"):
        with open(base + ".api.csv") as f:
            for r in csv.DictReader(f):
                api[r["corr"]] = r["name"]
    with open(base + ".memcpy.csv") as f:
        for r in csv.DictReader(f):
            k = find(int(r["start"]))
            if k:
                o = out[k]
                if api:
                    o.setdefault("by_api", defaultdict(int))[
                        f'{r["kind"]} {r["bytes"]} B via {api.get(r.get("corr")) or api.get(r.get("rcorr")) or "no memcpy API call (a graph launch?)"}'] += 1
                c = o["copies"][f'{r["kind"]}:{r["src"]}->{r["dst"]}']
                c["count"] += 1
                c["bytes"] += int(r["bytes"])
                o["kinds"][r["kind"]] += 1
                if r["kind"] == "HtoD":
                    o["htod_sizes"][int(r["bytes"])] += 1
                    if int(r["bytes"]) in sizes[k]:
                        o["htod_input_sized"] += 1
    if os.path.exists(base + ".kernel.csv"):
        with open(base + ".kernel.csv") as f:
            for r in csv.DictReader(f):
                s = int(r["start"])
                k = find(s)
                if k:
                    out[k]["kernels"] += 1
                    out[k]["_iv"].append((s, int(r["end"])))
    for o in out.values():
        iv = sorted(o.pop("_iv"))
        busy, end = 0, None
        start = None
        for s, e in iv:
            if end is None or s > end:
                if end is not None:
                    busy += end - start
                start, end = s, e
            else:
                end = max(end, e)
        if end is not None:
            busy += end - start
        o["kernel_busy_ns"] = busy
        o["kernel_busy_share"] = round(busy / o["window_ns"], 3) if o["window_ns"] else None
    json.dump(out, sys.stdout, indent=1)
    print()


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return None if not a or not b else a / b


def table(outdir):
    plain = rows(os.path.join(outdir, "results.plain.jsonl"))
    cupti_rows = rows(os.path.join(outdir, "results.cupti.jsonl"))
    cw_path = os.path.join(outdir, "cupti.windows.json")
    cw = json.load(open(cw_path)) if os.path.exists(cw_path) and os.path.getsize(cw_path) else {}
    res = [r for r in plain if "scenario" in r]
    skipped = [r for r in plain + cupti_rows if "skipped" in r]
    versions = open(os.path.join(outdir, "versions.txt")).read() if os.path.exists(os.path.join(outdir, "versions.txt")) else ""
    by = defaultdict(list)  # (scenario, variant) -> rows over reps
    for r in res:
        by[(r["scenario"], r["variant"])].append(r)
    variants = []
    for r in res:
        if r["variant"] not in variants:
            variants.append(r["variant"])
    summary = {"versions": versions, "scenarios": {}}
    L = []
    L.append("# java_onnxruntime vs the stock onnxruntime backend, one real tritonserver\n")
    for line in versions.splitlines():
        if re.match(r"(date|gpu|server|triton|kind|bundle|openjdk|torch|python)", line):
            L.append(f"- {line}")
    L.append("")

    def cupti_of(scen, var):
        return cw.get(f"{scen}|{var}|0")

    def copies(c):
        if not c:
            return "-"
        k = c["kinds"]
        return f"{k.get('HtoD', 0)} ({c.get('htod_input_sized', '?')}) / {k.get('DtoH', 0)} / {k.get('DtoD', 0)}"

    # The seed.
    seed = {v: by.get(("seed", v), []) for v in variants}
    st = seed.get("stock") or []
    st_wall = med([r["wall_s"] for r in st])
    models = list(st[0]["models"]) if st else (list(next(iter(seed.values()))[0]["models"]) if res else [])

    def lat(rs, m, p):
        return med([r["models"][m][p] for r in rs if m in r["models"]])

    if any(seed.values()):
        first = seed[variants[0]][0] if seed[variants[0]] else {}
        n = first.get("requests", 0)
        # Rows written before the option existed were all in lockstep.
        cadence = "each cycle's requests sent together" if first.get("lockstep", True) else \
            "out of step, each model's next request sent on its answer"
        if first.get("pause_us"):
            cadence += f" after a pause of {first['pause_us']:g} us"
        L.append(f"## Seed: {', '.join(models)}, one request per model in flight ({cadence}), {n} measured requests per repetition\n")
        L.append("Throughput vs stock = stock's median wall time / the variant's (higher is better); "
                 "latency ratios = the variant's / stock's (lower is better).\n")
        hdr = "| variant | wall s per repetition | median s | throughput vs stock | " + \
              " | ".join(f"{m} p50 ms (vs stock) | {m} p99 ms (vs stock)" for m in models) + " | HtoD (input-sized) / DtoH / DtoD (CUPTI) | kernel-busy | answers = stock |"
        L.append(hdr)
        L.append("|" + "---|" * (hdr.count("|") - 1))
        for v in variants:
            rs = seed[v]
            if not rs:
                continue
            w = med([r["wall_s"] for r in rs])
            cells = [v, ", ".join(fmt(r["wall_s"], 3) for r in rs), fmt(w, 3), fmt(ratio(st_wall, w)) + "x"]
            for m in models:
                for p in ("p50_us", "p99_us"):
                    x, s = lat(rs, m, p), lat(st, m, p)
                    cells.append(f"{fmt(x / 1000 if x else None)} ({fmt(ratio(x, s))}x)")
            c = cupti_of("seed", v)
            cells.append(copies(c))
            cells.append(fmt(c.get("kernel_busy_share") if c else None))
            eq = sum(r["identity"].get("equal") or 0 for r in rs)
            tot = sum(r["identity"].get("total") or 0 for r in rs)
            cells.append(f"{eq}/{tot}")
            L.append("| " + " | ".join(cells) + " |")
            summary["scenarios"].setdefault("seed", {})[v] = {
                "wall_s": [r["wall_s"] for r in rs], "median_wall_s": w, "throughput_vs_stock": ratio(st_wall, w),
                "models": {m: {"p50_us": lat(rs, m, "p50_us"), "p99_us": lat(rs, m, "p99_us"),
                               "server_us": {k: med([r["models"][m]["server"][k] for r in rs])
                                             for k in ("queue_us", "compute_input_us", "compute_infer_us", "compute_output_us")}}
                           for m in models},
                "cupti": c, "answers_equal_stock": [eq, tot]}
        L.append("")
        L.append("Triton's per-request server time, us (`/v2/models/<m>/stats` over the measured phase, median "
                 "over repetitions): queue / compute_input / compute_infer / compute_output\n")
        L.append("| variant | " + " | ".join(models) + " |")
        L.append("|---|" + "---|" * len(models))
        for v in variants:
            rs = seed[v]
            if not rs:
                continue
            cells = [v]
            for m in models:
                s = [med([r["models"][m]["server"][k] for r in rs]) for k in
                     ("queue_us", "compute_input_us", "compute_infer_us", "compute_output_us")]
                cells.append(" / ".join(fmt(x, 0) for x in s))
            L.append("| " + " | ".join(cells) + " |")
        L.append("")

    # The other scenarios.
    others = []
    for r in res:
        if r["scenario"] != "seed" and r["scenario"] not in others:
            others.append(r["scenario"])
    if others:
        L.append("## Size sweep, partial, unique, chain (one model / one chain in flight)\n")
        L.append("| scenario | variant | wall s | throughput vs stock | p50 ms (vs stock) | p99 ms (vs stock) | "
                 "server us: compute_input / infer / output | HtoD (input-sized) / DtoH / DtoD (CUPTI) | answers = stock |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for s in others:
            ref = (by.get((s, "stock")) or [None])[0]
            for v in variants:
                rs = by.get((s, v))
                if not rs:
                    continue
                r = rs[0]
                m = next(iter(r["models"]))
                d = r["models"][m]
                if s == "chain":
                    srv = " + ".join("/".join(fmt(d[b][k], 0) for k in ("compute_input_us", "compute_infer_us", "compute_output_us"))
                                     for b in d if isinstance(d[b], dict) and "compute_input_us" in d[b])
                else:
                    srv = " / ".join(fmt(d["server"][k], 0) for k in ("compute_input_us", "compute_infer_us", "compute_output_us"))
                rd = ref["models"][m] if ref else {}
                c = cupti_of(s, v)
                idt = r["identity"]
                name = s + (f" ({r['path']})" if r.get("path") else "")
                L.append(f"| {name} | {v} | {fmt(r['wall_s'], 3)} | {fmt(ratio(ref['wall_s'] if ref else None, r['wall_s']))}x | "
                         f"{fmt(d['p50_us'] / 1000)} ({fmt(ratio(d['p50_us'], rd.get('p50_us')))}x) | "
                         f"{fmt(d['p99_us'] / 1000)} ({fmt(ratio(d['p99_us'], rd.get('p99_us')))}x) | {srv} | {copies(c)} | "
                         f"{idt.get('equal')}/{idt.get('total')} |")
                summary["scenarios"].setdefault(s, {})[v] = {
                    "wall_s": r["wall_s"], "requests": r["requests"], "throughput_vs_stock": ratio(ref["wall_s"] if ref else None, r["wall_s"]),
                    "p50_us": d["p50_us"], "p99_us": d["p99_us"], "server": d.get("server") or {b: d[b] for b in d if isinstance(d[b], dict)},
                    "cupti": c, "answers_equal_stock": [idt.get("equal"), idt.get("total")]}
        L.append("")

    # Identity.
    bad = [(r["scenario"], r["variant"], r["rep"], r["identity"]) for r in res
           if r["variant"] != "stock" and r["identity"].get("equal") != r["identity"].get("total")]
    total = sum(r["identity"].get("total") or 0 for r in res if r["variant"] != "stock")
    if bad:
        L.append(f"**Answers differing from stock's**: {len(bad)} runs: " +
                 "; ".join(f"{s}-{v} rep {k}: {i.get('equal')}/{i.get('total')} equal, max abs diff {i.get('max_abs_diff')}"
                           for s, v, k, i in bad))
    else:
        L.append(f"Every measured answer of ours ({total}) is equal to the stock backend's answer to the same request, bit for bit.")
    summary["identity"] = {"differing_runs": bad, "answers_compared": total}
    L.append("")
    L.append("CUPTI counts: copies whose start lies in the measured phase of the CUPTI pass (a separate server "
             "start, 1 repetition; latency comes from the plain pass); in parentheses the HtoD copies whose size is that "
             "of one of the scenario's input tensors (the others are ONNX Runtime's small copies). "
             "Kernel-busy: share of that phase with a kernel running.")
    slog = os.path.join(outdir, "server.plain.log")
    if os.path.exists(slog):
        text = open(slog, errors="replace").read()
        cap = len(re.findall(r"cuda_graph: model '[^']*' instance '[^']*': captured", text))
        eager = sorted(set(re.findall(r"cuda_graph: (model '[^']*' instance '[^']*': batch size \d+ runs eagerly: [^\"]*)", text)))
        L.append("")
        L.append(f"CUDA graphs (plain pass, server log): {cap} captures; eager fallbacks: {'; '.join(eager) if eager else 'none'}.")
        summary["cuda_graph"] = {"captures": cap, "eager": eager}
    if skipped:
        L.append("")
        L.append("Skipped or failed: " + "; ".join(f"{r['skipped']} ({r['pass']}): {r['why']}" for r in skipped))
    log = os.path.join(outdir, "run.log")
    if os.path.exists(log):
        ex = [l.split("] ", 1)[-1].strip() for l in open(log) if "exit rc=" in l or "exited rc=" in l or "not READY" in l]
        if ex:
            L.append("")
            L.append("Server: " + "; ".join(ex))
    summary["skipped"] = skipped
    json.dump(summary, open(os.path.join(outdir, "summary.json"), "w"), indent=1)
    print("\n".join(L))


def main():
    if sys.argv[1] == "--cut":
        cut(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--table":
        table(sys.argv[2])
    else:
        print(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main())
