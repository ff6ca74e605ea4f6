#!/usr/bin/env bash
# Runs the GPU benchmark from the bundle `make bench-gpu` builds, on any CUDA machine (no Java,
# no network needed): makes the models, then every scenario x mode through the in-process Triton
# host and the real shim, once plain (latency, throughput) and once under CUPTI (copies, kernels
# by stream), and prints the table.
#
#   bench/gpu/run.sh OUTDIR
#
# OUTDIR gets: table.md, summary.json, and raw/ (every run's replay output, host log, metrics,
# stats, CUPTI summary). Environment (all optional):
#   PYTHON   python with torch, transformers, torchvision, onnx, numpy (default: /opt/torch/.venv/bin/python3, else python3)
#   WORK     scratch folder for models and requests (default /tmp/bench-gpu-work)
#   KIND     KIND_GPU (default) or KIND_CPU (a smoke test of the scripts on a machine without a GPU)
#   ONLY     extended regex: run only the cases whose name matches (e.g. '^seed')
#   REPEAT / WARMUP   measured / warm-up requests per model (default 100 / 10)
#   CUPTI    0 to skip the CUPTI runs
#   SEED     model:request pairs of the seed scenario (default "vit:image_224 bert:ids_128 resnet50:image_224")
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,20p' "$0"; exit 64; }
mkdir -p "$1/raw" && OUTDIR=$(cd "$1" && pwd)
WORK=${WORK:-/tmp/bench-gpu-work}
KIND=${KIND:-KIND_GPU}
ONLY=${ONLY:-.}
REPEAT=${REPEAT:-100}
WARMUP=${WARMUP:-10}
CUPTI=${CUPTI:-1}
SEED=${SEED:-"vit:image_224 bert:ids_128 resnet50:image_224"}
SWEEP_MODEL=${SWEEP_MODEL:-conv_tiny}
SWEEP_SIZES=${SWEEP_SIZES:-"224 591 1024"}
UNIQUE_MODEL=${UNIQUE_MODEL:-conv_tiny}
NO_TORCH=${NO_TORCH:-0}
log() { echo "[$(date +%T)] $*" | tee -a "$OUTDIR/run.log" >&2; }

if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x /opt/torch/.venv/bin/python3 ]] && PYTHON=/opt/torch/.venv/bin/python3
fi
cudnn=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn/lib 2>/dev/null | head -1)
export LD_LIBRARY_PATH=$B/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
host=$B/host/triton-host
backends=$B/backends
# The bundle carries ONNX Runtime's GPU natives only: JavaCPP loads them with this extension.
jvm=-Dorg.bytedeco.javacpp.platform.extension=-gpu
gpus=1
[[ $KIND == KIND_GPU ]] || gpus=0

# Versions and the device.
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,pcie.link.gen.max,pcie.link.width.max --format=csv,noheader
  [[ -x /usr/local/cuda/bin/nvcc ]] && /usr/local/cuda/bin/nvcc --version | tail -2 | head -1
  "$B/backends/java_onnxruntime/jre/bin/java" -version 2>&1 | head -1
  ls "$B/backends/java_onnxruntime" | grep '\.jar$'
  "$PYTHON" -c 'import torch, transformers, torchvision, onnx; print("torch", torch.__version__, "transformers", transformers.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)' 2>/dev/null
  cat "$B/VERSION" 2>/dev/null
} >"$OUTDIR/versions.txt" 2>&1
log "versions: $(tr '\n' ';' <"$OUTDIR/versions.txt" | cut -c1-400)"
# Hash throughput of this machine's CPU (the content mode's cost), as `make bench` prints it here.
mkdir -p "$WORK"
timeout 120 "$B/backends/java_onnxruntime/jre/bin/java" -Dorg.bytedeco.javacpp.cacheDir="$WORK/javacpp-hash" \
  -cp "$B/backends/java_onnxruntime/*" dev.javaonnxruntime.cache.HashBenchmark >"$OUTDIR/hash.txt" 2>&1
log "hash: $(tr '\n' ';' <"$OUTDIR/hash.txt" | cut -c1-300)"

# CUPTI counter.
cupti_lib=""
if [[ $CUPTI == 1 && $KIND == KIND_GPU ]]; then
  inc=/usr/local/cuda/extras/CUPTI/include; [[ -e $inc/cupti.h ]] || inc=/usr/local/cuda/targets/x86_64-linux/include
  lib=/usr/local/cuda/extras/CUPTI/lib64; ls $lib/libcupti.so* >/dev/null 2>&1 || lib=/usr/local/cuda/targets/x86_64-linux/lib
  mkdir -p "$WORK"
  if gcc -O2 -shared -fPIC -o "$WORK/libcupti_count.so" "$here/cupti_count.c" -I"$inc" -I/usr/local/cuda/include \
      -L"$lib" -Wl,-rpath,"$lib" -lcupti -lpthread 2>"$OUTDIR/raw/cupti_build.log"; then
    cupti_lib=$WORK/libcupti_count.so
    log "built $cupti_lib"
  else
    log "cannot build cupti_count: $(tail -3 "$OUTDIR/raw/cupti_build.log")"
  fi
fi

# Models, requests, one repository per mode.
mkdir -p "$WORK"
t0=$(date +%s)
args=("$WORK" --kind "$KIND" --examples "$B/examples")
[[ $NO_TORCH == 1 ]] && args+=(--no-torch)
if ! "$PYTHON" "$here/make_models.py" "${args[@]}" >"$OUTDIR/raw/make_models.log" 2>&1; then
  log "make_models failed:"; tail -30 "$OUTDIR/raw/make_models.log" >&2; exit 1
fi
log "models ready in $(( $(date +%s) - t0 )) s: $(tail -1 "$OUTDIR/raw/make_models.log")"
R=$WORK/requests

# One case: NAME MODE STREAMS(instance|shared) [replay args...]. Runs plain, then under CUPTI.
run_case() {
  local name=$1 mode=$2 streams=$3; shift 3
  [[ $name =~ $ONLY ]] || return 0
  local cfg=(--backend-config "java_onnxruntime,stream-per-instance=$([[ $streams == shared ]] && echo false || echo true)")
  [[ -n $jvm ]] && cfg+=(--backend-config "java_onnxruntime,jvm-options=$jvm")
  local passes=(plain)
  [[ -n $cupti_lib ]] && passes+=(cupti)
  for pass in "${passes[@]}"; do
    local base=$OUTDIR/raw/$name.$pass env=()
    [[ $pass == cupti ]] && env=(CUDA_INJECTION64_PATH="$cupti_lib" CUPTI_OUT="$WORK/cupti/$name")
    mkdir -p "$WORK/cupti"
    local t=$(date +%s%N)
    env "${env[@]}" timeout 100 "$host" replay --backend-directory "$backends" --gpus "$gpus" "${cfg[@]}" \
      --model-repository "$WORK/repo-$mode" --repeat "$REPEAT" --warmup "$WARMUP" \
      --metrics "$base.metrics" --stats "$base.stats.json" "$@" >"$base.jsonl" 2>"$base.log"
    local rc=$?
    if [[ $pass == cupti && -e $WORK/cupti/$name.memcpy.csv ]]; then
      cp "$WORK/cupti/$name.json" "$base.cupti.json" 2>/dev/null
      "$PYTHON" "$here/report.py" --cut "$WORK/cupti/$name" "$base.jsonl" >"$base.window.json" 2>>"$base.log"
      gzip -f -c "$WORK/cupti/$name.memcpy.csv" >"$base.memcpy.csv.gz" 2>/dev/null
    fi
    log "$name [$mode, streams per $streams, $pass]: rc=$rc in $(( ($(date +%s%N) - t) / 1000000 )) ms: $(tail -1 "$base.jsonl" | cut -c1-90)"
    ((rc != 0)) && { grep -m3 -i "error\|exception\|breach" "$base.log" | cut -c1-300 >&2; }
  done
  echo "$name $mode $streams" >>"$OUTDIR/raw/cases.txt"
}

: >"$OUTDIR/raw/cases.txt"
# (a) the seed: three models, one request per model in flight, the same input every time.
seed_args() {  # $1: "" or "key"
  local p m r
  for p in $SEED; do
    m=${p%%:*} r=${p#*:}
    if [[ $1 == key ]]; then
      echo "--model $m --request $R/$r.key.json --first-request $R/$r.first-key.json"
    else
      echo "--model $m --request $R/$r.json"
    fi
  done
}
for mode in ort pinned content key auto; do
  run_case "seed-$mode" "$mode" instance $(seed_args "$([[ $mode == key ]] && echo key)")
done
run_case seed-pinned-1stream pinned shared $(seed_args "")
run_case seed-content-1stream content shared $(seed_args "")
run_case seed-content-1thread content_t1 instance $(seed_args "")
# (b) input size sweep on the small conv model, one model at a time.
for s in $SWEEP_SIZES; do
  for mode in ort pinned content key auto; do
    if [[ $mode == key ]]; then
      run_case "sweep$s-$mode" key instance --model "$SWEEP_MODEL" --request "$R/image_$s.key.json" --first-request "$R/image_$s.first-key.json"
    else
      run_case "sweep$s-$mode" "$mode" instance --model "$SWEEP_MODEL" --request "$R/image_$s.json"
    fi
  done
done
# (c) partially repeated: two_input, the image repeats, the bias changes every request.
for mode in ort pinned content key auto; do
  if [[ $mode == key ]]; then
    run_case "partial-$mode" key instance --model two_input --request "$R/two_input.key.json" --first-request "$R/two_input.first-key.json" --vary-input bias
  else
    run_case "partial-$mode" "$mode" instance --model two_input --request "$R/two_input.json" --vary-input bias
  fi
done
# (d) every input unique (the worst case for content hashing).
for mode in ort pinned content auto; do
  run_case "unique-$mode" "$mode" instance --model "$UNIQUE_MODEL" --request "$R/image_224.json" --vary-input input
done

"$PYTHON" "$here/report.py" --table "$OUTDIR" >"$OUTDIR/table.md" 2>>"$OUTDIR/run.log"
"$PYTHON" "$here/plot.py" "$OUTDIR/summary.json" "$OUTDIR/plot.png" 2>>"$OUTDIR/run.log" || log "no plot (matplotlib missing?)"
cat "$OUTDIR/table.md"
