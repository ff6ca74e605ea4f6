#!/usr/bin/env bash
# `make bench` on the CPU: what the backend adds over calling ONNX Runtime directly, hash
# throughput, and start-up costs. Figures only; nothing here asserts a timing.
#
# Backend overhead per request = Triton's compute_input + compute_output as the backend reports
# them: the backend stamps compute_start right before ORT's Run and compute_end right after it,
# in the same JVM, so everything else (reading and checking the request, binding, the input
# cache, writing outputs, responding) is overhead. Warm-up is taken out by differencing two runs
# of N1 and N2 requests.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench
rm -rf "$out"; mkdir -p "$out"
N1=${N1:-200}
N2=${N2:-2200}

# One instance per model, so the figures are not two instances sharing two cores.
make_repo() { # name model mode delay
  local repo=$out/repo-$1
  mkdir -p "$repo/$2/1"
  ln -sf "$PWD/model_repository/$2/1/model.onnx" "$repo/$2/1/model.onnx"
  sed -e 's/count: 2/count: 1/' -e "s/max_queue_delay_microseconds: [0-9]*/max_queue_delay_microseconds: $4/" \
    "model_repository/$2/config.pbtxt" >"$repo/$2/config.pbtxt"
  echo "parameters { key: \"input_cache\" value: { string_value: \"$3\" } }" >>"$repo/$2/config.pbtxt"
  echo "parameters { key: \"intra_op_thread_count\" value: { string_value: \"1\" } }" >>"$repo/$2/config.pbtxt"
  echo "$repo"
}

run() { # label model mode concurrency delay
  local repo; repo=$(make_repo "$1" "$2" "$3" "$5")
  for n in $N1 $N2; do
    ./triton-host infer --model-repository "$repo" --model "$2" \
      --request "build/testdata/$2/request_b1.json" --repeat "$n" --concurrency "$4" \
      --stats "$out/$1-$n.json" >/dev/null 2>"$out/$1-$n.log"
  done
  python3 - "$1" "$2" "$out/$1-$N1.json" "$out/$1-$N2.json" <<'PY'
import json, sys
label, model, a, b = sys.argv[1:]
s1 = json.load(open(a))[model]["reported"]; s2 = json.load(open(b))[model]["reported"]
n = s2["success_count"] - s1["success_count"]
execs = s2["batch_count"] - s1["batch_count"]
d = lambda k: (s2[k] - s1[k]) / n / 1000
ov = d("compute_input_ns") + d("compute_output_ns")
print(f"{label:<28}{n/execs:>8.1f}{d('compute_infer_ns'):>12.1f}{d('compute_input_ns'):>10.1f}"
      f"{d('compute_output_ns'):>10.1f}{ov:>12.1f}   {'ok' if ov <= 30 else 'over'}")
PY
}

echo "== backend overhead per request over ORT's own Run (us; goal <= 30 at batch 1)"
printf '%-28s%8s%12s%10s%10s%12s\n' "case" "batch" "ORT run" "input" "output" "overhead"
run text_encoder-b1-off text_encoder off 1 2000
run text_encoder-b1-content text_encoder content 1 2000
run conv_net-b1-off conv_net off 1 2000
run conv_net-b1-content conv_net content 1 2000
run text_encoder-max-off text_encoder off 8 20000
run conv_net-max-off conv_net off 8 20000

echo
echo "== start-up (from the logs of the last run)"
log=$out/conv_net-max-off-$N1.log
grep -o 'JVM created in [0-9.]* ms' "$log" || true
grep -o 'ONNX Runtime loaded in [0-9]* ms' "$log" || true
python3 - "$log" <<'PY'
import re, sys
ts = {}
for line in open(sys.argv[1]):
    m = re.match(r'^\w(\d{4}) (\d+):(\d+):([\d.]+) ', line)
    if not m: continue
    t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
    if "loaded backend" in line: ts.setdefault("backend", t)
    if "successfully loaded" in line: ts.setdefault("loaded", t)
if len(ts) == 2:
    print(f"backend dlopen to model ready (JVM, ORT natives, sessions): {1000*(ts['loaded']-ts['backend']):.0f} ms")
PY

echo
echo "== XXH3-128 hash throughput (goal >= 40 GB/s single-threaded with AVX2)"
cp=$(ls build/backends/java_onnxruntime/*.jar tools/target/java-onnxruntime-tools-*.jar | tr '\n' ':')
java -cp "$cp" dev.javaonnxruntime.cache.HashBenchmark

echo
echo "== CPU cost of an input-cache hit"
java -cp "$cp" dev.javaonnxruntime.cache.HitBenchmark
