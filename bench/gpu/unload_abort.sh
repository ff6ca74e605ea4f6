#!/usr/bin/env bash
# How often a host run aborts while unloading its models (issue 7: ONNX Runtime's CUDA pinned
# allocator fails cudaFreeHost with 800 and terminates the process). Runs the replay of one model
# N times per value of VARIANTS, each passed to the backend as the environment variable
# VARIANT_ENV, and prints aborts per variant. Needs the repositories run.sh writes under WORK
# (run it once first, e.g. with ONLY='^g1-vit-eager$').
#
#   bench/gpu/unload_abort.sh OUTDIR      (from the bundle root)
# Knobs: MODEL (vit), MODE (keyeager), REQ (image_224), N (6), WARMUP (50), VARIANTS ("-"),
# VARIANT_ENV (JORT_EXP), WORK (/tmp/bench-gpu-work); SEED=1: the seed's three models at once
# (ViT-base, BERT-base, ResNet-50 by key, as seed-key) instead of MODEL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
OUTDIR=${1:?usage: unload_abort.sh OUTDIR}
mkdir -p "$OUTDIR"
WORK=${WORK:-/tmp/bench-gpu-work}
MODEL=${MODEL:-vit} MODE=${MODE:-keyeager} REQ=${REQ:-image_224} N=${N:-6} WARMUP=${WARMUP:-50}
VARIANTS=${VARIANTS:--} VARIANT_ENV=${VARIANT_ENV:-JORT_EXP}
R=$WORK/requests
if [[ ${SEED:-0} == 1 ]]; then
  MODEL=seed MODE=key
  args=()
  for p in vit:image_224 bert:ids_128 resnet50:image_224; do
    args+=(--model "${p%%:*}" --request "$R/${p#*:}.key.json" --first-request "$R/${p#*:}.first-key.json")
  done
else
  args=(--model "$MODEL" --request "$R/$REQ.key.json" --first-request "$R/$REQ.first-key.json")
fi
cudnn=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn/lib 2>/dev/null | head -1)
export LD_LIBRARY_PATH=$B/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for v in $VARIANTS; do
  aborts=0 errors=0
  for i in $(seq 1 "$N"); do
    log=$OUTDIR/$MODEL-$v-$i.log
    env "$VARIANT_ENV=${v#-}" timeout 100 "$B/host/triton-host" replay --backend-directory "$B/backends" --gpus 1 \
      --backend-config "java_onnxruntime,jvm-options=-Dorg.bytedeco.javacpp.platform.extension=-gpu" \
      --model-repository "$WORK/repo-$MODE" --repeat 100 --warmup "$WARMUP" "${args[@]}" \
      >"$log.jsonl" 2>"$log"
    rc=$?
    ((rc == 134)) && aborts=$((aborts + 1))
    ((rc != 0 && rc != 134)) && errors=$((errors + 1))
  done
  echo "variant ${v}: $aborts of $N runs aborted (rc 134), $errors other failures; $(grep -h -m1 -o 'p50_us":[0-9.]*' "$OUTDIR/$MODEL-$v-1.log.jsonl" | head -1)"
done | tee "$OUTDIR/unload.txt"
