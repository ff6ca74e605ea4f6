"""Plots of the GPU benchmark (matplotlib):

  plot.py SUMMARY.json OUT.png [OUT-graph.png]

OUT.png: throughput by cache mode and HtoD bytes (the size sweep and the seed's modes).
OUT-graph.png (default: OUT with -graph before .png): eager vs CUDA graph per model at batch 1 and
8, and the seed replay's wall time and p99 (in-process host figures: never set against the stock
backend, whose side by side is triton_run.sh's, in the real server). A figure whose cases did not
run is not written.
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

summary = json.load(open(sys.argv[1]))
cases = {c["case"]: c for c in summary["cases"]}
device = summary.get("device") or "unknown device"
out_main = sys.argv[2]
out_graph = sys.argv[3] if len(sys.argv) > 3 else out_main[:-4] + "-graph.png" if out_main.endswith(".png") else out_main + "-graph.png"


def main_figure():
    modes = ["ort", "pinned", "content", "key", "auto"]
    colors = dict(zip(modes, ["#888888", "#4c72b0", "#dd8452", "#55a868", "#c44e52"]))
    groups = [("sweep224", "602,112 B"), ("sweep591", "4.19 MB"), ("sweep1024", "12.6 MB"),
              ("partial", "two_input:\nimage repeats"), ("unique", "all unique\n602,112 B")]
    if not any(f"{g}-{m}" in cases for g, _ in groups for m in modes):
        print(f"plot: no sweep/partial/unique cases, {out_main} not written", file=sys.stderr)
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 5))
    w = 0.16
    for i, m in enumerate(modes):
        xs, ys = [], []
        for g, (name, _) in enumerate(groups):
            c = cases.get(f"{name}-{m}")
            if c and c.get("throughput_rps"):
                xs.append(g + (i - 2) * w)
                ys.append(c["throughput_rps"])
        a.bar(xs, ys, w, label=m, color=colors[m])
    a.set_xticks(range(len(groups)))
    a.set_xticklabels([l for _, l in groups])
    a.set_ylabel("requests/s (one request in flight)")
    a.set_title(f"Tiny conv model / two_input on {device}: throughput by cache mode")
    a.legend()

    names = ["seed-ort", "seed-pinned", "seed-content", "seed-key", "seed-auto", "sweep1024-ort", "sweep1024-pinned",
             "sweep1024-content", "sweep1024-key"]
    pageable, pinned = [], []
    for n in names:
        win = (cases.get(n, {}).get("cupti") or {}).get("measured", {})
        cp = win.get("copies", {})
        pageable.append(cp.get("HtoD:pageable->device", {}).get("bytes", 0) / 1e6)
        pinned.append(cp.get("HtoD:pinned->device", {}).get("bytes", 0) / 1e6)
    x = range(len(names))
    b.bar(x, pageable, 0.4, label="HtoD from pageable", color="#c44e52")
    b.bar([i + 0.4 for i in x], pinned, 0.4, label="HtoD from pinned", color="#4c72b0")
    b.set_yscale("symlog", linthresh=0.1)
    b.set_xticks([i + 0.2 for i in x])
    b.set_xticklabels(names, rotation=35, ha="right")
    b.set_ylabel("MB copied host-to-device, measured phase (CUPTI)")
    b.set_title("HtoD bytes: seed (300 requests) and 12.6 MB sweep (100)")
    b.legend()
    fig.tight_layout()
    fig.savefig(out_main, dpi=110)


def graph_figure():
    gnames = [n for n in cases if n[:3] in ("g1-", "g8-")]
    seeds = [n for n in ("seed-ort", "seed-key", "seed-graph") if n in cases]
    if not gnames and not seeds:
        print(f"plot: no graph or seed cases, {out_graph} not written", file=sys.stderr)
        return
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(18, 5.2), gridspec_kw={"width_ratios": [1.5, 1, 1.2]})
    fig.suptitle(f"CUDA graphs and the seed replay on {device}, in-process host (no HTTP; not comparable with stock)")

    # (a) one model alone: p50 bars, p99 marks, eager vs graph, batch 1 and 8
    models = []
    for n in gnames:
        m = n.split("-", 1)[1].rsplit("-", 1)[0]
        if m not in models:
            models.append(m)
    groups = [(m, bs) for m in models for bs in (1, 8) if any(f"g{bs}-{m}-{g}" in cases for g in ("eager", "graph"))]
    for i, (g, color) in enumerate((("eager", "#4c72b0"), ("graph", "#55a868"))):
        xs, p50, p99 = [], [], []
        for k, (m, bs) in enumerate(groups):
            v = cases.get(f"g{bs}-{m}-{g}", {}).get("models", {}).get(m)
            if v:
                xs.append(k + (i - 0.5) * 0.38)
                p50.append(v["p50_us"] / 1e3)
                p99.append(v["p99_us"] / 1e3)
        a.bar(xs, p50, 0.38, color=color, label=f"{g} p50")
        a.scatter(xs, p99, marker="_", s=300, color="black", zorder=3, label="p99" if i else None)
    a.set_xticks(range(len(groups)))
    a.set_xticklabels([f"{m}\nbatch {bs}" for m, bs in groups])
    a.set_ylabel("client latency, ms (one request in flight)")
    a.set_title("One model alone, key mode: eager vs CUDA graph")
    if groups:
        a.legend()
    else:
        a.set_axis_off()
        a.text(0.5, 0.5, "no g1-/g8- cases in this run", ha="center", transform=a.transAxes)

    # (b) the seed: time for 300 requests
    labels, walls, colors = [], [], []
    for n in seeds:
        t = cases[n].get("throughput_rps")
        labels.append(n)
        walls.append(300 / t if t else 0)
        colors.append({"seed-graph": "#55a868", "seed-key": "#4c72b0"}.get(n, "#dd8452"))
    b.bar(range(len(walls)), walls, 0.6, color=colors)
    for i, t in enumerate(walls):
        b.text(i + 0.32, t, f"{t:.3f}", ha="left", va="center", fontsize=9)
    b.set_xticks(range(len(walls)))
    b.set_xticklabels(labels)
    b.set_ylabel("s for 300 requests (3 models at once)")
    b.set_title("Seed replay: wall time")
    b.set_xlim(-0.5, len(walls) - 0.1)

    # (c) the seed: p99 per model
    smodels = list(cases[seeds[-1]].get("models", {})) if seeds else []
    series = [(n, cases[n]) for n in seeds]
    width = 0.8 / max(1, len(series))
    for j, (n, cs) in enumerate(series):
        xs = [k - 0.4 + width * (j + 0.5) for k in range(len(smodels))]
        c.bar(xs, [cs.get("models", {}).get(m, {}).get("p99_us", 0) / 1e3 for m in smodels], width,
              color={"seed-graph": "#55a868", "seed-key": "#4c72b0"}.get(n, "#dd8452"), label=n)
    c.set_xticks(range(len(smodels)))
    c.set_xticklabels(smodels)
    c.set_ylabel("p99 client latency, ms")
    c.set_title("Seed replay: p99 per model")
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_graph, dpi=110)


main_figure()
graph_figure()
