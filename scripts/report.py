"""Prints the demo's table: per model latency from `triton-host replay`, cache figures from the
custom metrics the backend published through Triton's metrics API (Prometheus text)."""
import json
import re
import sys
from collections import defaultdict

replay_file, metrics_file = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(replay_file) if line.strip()]
metrics = defaultdict(dict)
pattern = re.compile(r'^(\w+)\{([^}]*)\}\s+(\S+)$')
for line in open(metrics_file):
    m = pattern.match(line.strip())
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
    metrics[m.group(1)][labels.get("model", "") + "/" + labels.get("device", "")] = float(m.group(3))


def per_model(name, model):
    return sum(v for k, v in metrics.get(name, {}).items() if k.startswith(model + "/"))


print(f"{'model':<14}{'requests':>9}{'errors':>7}{'p50 us':>9}{'p99 us':>9}"
      f"{'hits':>7}{'misses':>8}{'bytes not copied':>18}")
for r in rows:
    if "model" not in r:
        continue
    m = r["model"]
    print(f"{m:<14}{r['requests']:>9}{r['errors']:>7}{r['p50_us']:>9.0f}{r['p99_us']:>9.0f}"
          f"{per_model('java_onnxruntime_input_cache_hits_total', m):>7.0f}"
          f"{per_model('java_onnxruntime_input_cache_misses_total', m):>8.0f}"
          f"{per_model('java_onnxruntime_input_cache_bytes_saved_total', m):>18.0f}")
for r in rows:
    if "total_requests" in r:
        print(f"total: {r['total_requests']} requests in {r['wall_s']:.3f} s "
              f"({r['throughput_rps']:.0f} requests/s)")
resident = metrics.get("java_onnxruntime_input_cache_resident_bytes", {})
for k, v in sorted(resident.items()):
    print(f"cache on device {k.split('/')[1] or '?'}: {v:.0f} bytes resident")
