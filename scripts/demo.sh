#!/usr/bin/env bash
# The seed's scenario through the in-process host and the real shim: three models (a conv net and
# a ViT-like model on the same 1x3x224x224 FP32 input, a transformer-like model on [1,128] INT64
# token ids), 100 identical requests each, one request per model in flight at a time (as the
# seed's async client), then per model: requests, latency p50/p99, and the input-cache figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/demo
mkdir -p "$out"
seed=build/testdata/seed
# The example models with the input cache keyed by content: conv_net and vit_patch get the same
# bytes, so one stored entry serves both (CPU instances here: the cache lives in host memory).
repo=$out/repo
for m in conv_net vit_patch text_encoder; do
  mkdir -p "$repo/$m/1"
  ln -sf "$PWD/model_repository/$m/1/model.onnx" "$repo/$m/1/model.onnx"
  { cat "model_repository/$m/config.pbtxt"
    echo 'parameters { key: "input_cache" value: { string_value: "'"${INPUT_CACHE:-content}"'" } }'
  } >"$repo/$m/config.pbtxt"
done
./triton-host replay --model-repository "$repo" \
  --model conv_net --request $seed/conv_net.json \
  --model vit_patch --request $seed/vit_patch.json \
  --model text_encoder --request $seed/text_encoder.json \
  --repeat "${REPEAT:-100}" --warmup 5 --metrics "$out/metrics.txt" "$@" >"$out/replay.jsonl" 2>"$out/host.log" || {
  rc=$?; echo "triton-host failed (exit $rc); log: $out/host.log" >&2; tail -20 "$out/host.log" >&2; exit $rc; }
python3 scripts/report.py "$out/replay.jsonl" "$out/metrics.txt"
