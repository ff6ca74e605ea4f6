"""Plot of the GPU benchmark: plot.py SUMMARY.json OUT.png (matplotlib)."""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

cases = {c["case"]: c for c in json.load(open(sys.argv[1]))["cases"]}
modes = ["ort", "pinned", "content", "key", "auto"]
colors = dict(zip(modes, ["#888888", "#4c72b0", "#dd8452", "#55a868", "#c44e52"]))
groups = [("sweep224", "602,112 B"), ("sweep591", "4.19 MB"), ("sweep1024", "12.6 MB"),
          ("partial", "two_input:\nimage repeats"), ("unique", "all unique\n602,112 B")]
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
a.set_title("Tiny conv model / two_input on H100: throughput by cache mode")
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
fig.savefig(sys.argv[2], dpi=110)
