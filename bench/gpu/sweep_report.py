"""The concurrency sweep's table (triton_run.sh, issue 15 item 4): perf_analyzer's CSV reports,
one per model x variant x concurrency (`<model>.<variant>.c<N>.csv`), set beside the stock
backend's at the same point: throughput and its ratio to stock's (higher is better), p50 and p99
latency and their ratios (lower is better), and Triton's per-request server times as perf_analyzer
reads them from the server's statistics (queue, compute input/infer/output).

  python3 sweep_report.py SWEEP_DIR > sweep.md
"""
import csv
import glob
import os
import re
import sys

VARIANTS = ["stock", "ort", "content", "contentgraph", "default"]


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return rows[0] if rows else None


def main():
    d = sys.argv[1]
    points = {}
    for path in glob.glob(os.path.join(d, "*.csv")):
        m = re.match(r"(.+)\.(\w+)\.c(\d+)\.csv$", os.path.basename(path))
        row = read(path) if m else None
        if row:
            points[(m.group(1), int(m.group(3)), m.group(2))] = row
    print("## Concurrency sweep: dynamic batching on, the same input every request (perf_analyzer, HTTP)\n")
    print("Throughput ratio = the variant's inferences/s / stock's at the same concurrency; latency ratios = "
          "the variant's / stock's. Server times (us per request): queue / compute input / infer / output.\n")
    print("| model | in flight | variant | infer/s | vs stock | p50 ms (vs stock) | p99 ms (vs stock) | server us |")
    print("|---|---|---|---|---|---|---|---|")
    worst = {}
    measured = [v for v in VARIANTS if any(k[2] == v for k in points)]  # SWEEP_VARIANTS' share
    for model, conc in sorted({(k[0], k[1]) for k in points}):
        stock = points.get((model, conc, "stock"))
        for v in measured:
            r = points.get((model, conc, v))
            if r is None:
                print(f"| {model} | {conc} | {v} | (no result) | | | | |")
                continue
            tput = float(r["Inferences/Second"])
            p50 = float(r["p50 latency"]) / 1000
            p99 = float(r["p99 latency"]) / 1000
            if stock:
                ratio = tput / float(stock["Inferences/Second"])
                r50 = p50 / (float(stock["p50 latency"]) / 1000)
                r99 = p99 / (float(stock["p99 latency"]) / 1000)
                worst[v] = min(worst.get(v, ratio), ratio)
                rs = (f"{ratio:.2f}x", f"{p50:.2f} ({r50:.2f}x)", f"{p99:.2f} ({r99:.2f}x)")
            else:
                rs = ("", f"{p50:.2f}", f"{p99:.2f}")
            server = " / ".join(str(int(float(r.get(k, 0) or 0))) for k in
                                ("Server Queue", "Server Compute Input", "Server Compute Infer",
                                 "Server Compute Output"))
            print(f"| {model} | {conc} | {v} | {tput:.0f} | {rs[0]} | {rs[1]} | {rs[2]} | {server} |")
    print()
    for v in VARIANTS[1:]:
        if v in worst:
            print(f"- {v}: lowest throughput ratio to stock over every point: {worst[v]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
