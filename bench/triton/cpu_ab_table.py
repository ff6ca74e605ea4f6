"""The tables of a bench/triton/cpu_ab.sh run: per side (old, new) and per Triton statistic, ours
minus stock in us per request, the median over the rounds and each round's figure; then each
backend's own figures per side (medians over the rounds), for an A/B that moves both backends
(a host setting).

  python3 bench/triton/cpu_ab_table.py OUTDIR      (OUTDIR/{old,new}-<round>/summary.json)
"""

import glob
import json
import os
import statistics
import sys

FIELDS = ("compute_input", "compute_infer", "compute_output")


def main(out):
    sides = {}
    for side in ("old", "new"):
        files = sorted(glob.glob(os.path.join(out, side + "-*", "summary.json")),
                       key=lambda f: int(f.split(os.sep)[-2].split("-")[1]))
        sides[side] = [json.load(open(f))["results"] for f in files]
    first = next(r for runs in sides.values() for r in runs)
    models = [m for m in first if not m.endswith("_stock")]
    print("| side | ours minus stock, us: median (each round) | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    for side, runs in sides.items():
        for field in FIELDS:
            cells = []
            for m in models:
                diffs = [r[m]["us"][field] - r[m + "_stock"]["us"][field] for r in runs]
                cells.append("%+.1f (%s)" % (statistics.median(diffs),
                                             " ".join("%+.1f" % d for d in diffs)))
            print("| %s (%d) | %s | %s |" % (side, len(runs), field, " | ".join(cells)))
    print()
    print("| side | backend | " + " | ".join(
        "%s: %s" % (m, " / ".join(FIELDS + ("p50 ms",))) for m in models) + " |")
    print("|---|---|" + "---|" * len(models))
    for side, runs in sides.items():
        for backend, suffix in (("stock", "_stock"), ("ours", "")):
            cells = []
            for m in models:
                figures = [statistics.median(r[m + suffix]["us"][f] for r in runs) for f in FIELDS]
                p50 = statistics.median(r[m + suffix]["p50_ms"] for r in runs)
                cells.append(" / ".join("%.1f" % x for x in figures) + " / %.2f" % p50)
            print("| %s | %s | %s |" % (side, backend, " | ".join(cells)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
