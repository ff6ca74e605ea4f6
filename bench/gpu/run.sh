#!/usr/bin/env bash
# Runs the GPU benchmark from the bundle `make bench-gpu` builds, on any CUDA machine (no Java,
# no network needed): makes the models, then every scenario x mode through the in-process Triton
# host and the real shim, once plain (latency, throughput) and once under CUPTI (copies, kernels
# by stream), and prints the table.
#
#   bench/gpu/run.sh OUTDIR
#
# OUTDIR gets: table.md, summary.json, run.log (per-case elapsed), and raw/ (every run's replay
# output, host log, metrics, stats, CUPTI summary). Environment (all optional):
#   PLAN     all (default), base (the cases of the 2026-11-25 run) or graph (CUDA graphs, the
#            chain, and seed-ort/seed-key beside seed-graph; no hash benchmark)
#   PYTHON   python with torch, transformers, torchvision, onnx, numpy (default: /opt/torch/.venv/bin/python3, else python3)
#   WORK     scratch folder for models and requests (default /tmp/bench-gpu-work)
#   KIND     KIND_GPU (default) or KIND_CPU (a smoke test of the scripts on a machine without a GPU)
#   ONLY     extended regex: run only the cases whose name matches (e.g. '^seed'), within PLAN
#   REPEAT / WARMUP   measured / warm-up requests per model (default 100 / 10)
#   CUPTI    0 to skip the CUPTI runs
#   HASH     1 / 0: run the hash benchmark (default 1, 0 with PLAN=graph)
#   DEADLINE_S  skip the cases still to run once this many seconds have passed (default 0: none)
#   SEED     model:request pairs of the seed scenario (default "vit:image_224 bert:ids_128 resnet50:image_224")
#   GRAPH_MODELS  model:request pairs of the eager-vs-graph cases (default: as SEED)
#   CHAIN_MODE    repository of the chain cases: keyeager (default) or keygraph
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,27p' "$0"; exit 64; }
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
PLAN=${PLAN:-all}
GRAPH_MODELS=${GRAPH_MODELS:-$SEED}
CHAIN_MODE=${CHAIN_MODE:-keyeager}
DEADLINE_S=${DEADLINE_S:-0}
case $PLAN in
  all) plan_re='.' ;;
  base) plan_re='^(seed-(ort|pinned|content|key|auto)(-1stream|-1thread)?$|sweep[0-9]+-|partial-|unique-)' ;;
  graph) plan_re='^(seed-(ort|key|graph)$|g[18]-|graph-identity|chain-)' ;;
  *) echo "PLAN must be all, base or graph" >&2; exit 64 ;;
esac
HASH=${HASH:-$([[ $PLAN == graph ]] && echo 0 || echo 1)}
t_start=$(date +%s)
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
  # The device by name, on a line of its own (report.py prints it beside the peer's H100 figures).
  echo "gpu: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)"
  echo "plan: $PLAN; kind: $KIND; repeat $REPEAT, warm-up $WARMUP"
  [[ -x /usr/local/cuda/bin/nvcc ]] && /usr/local/cuda/bin/nvcc --version | tail -2 | head -1
  "$B/backends/java_onnxruntime/jre/bin/java" -version 2>&1 | head -1
  ls "$B/backends/java_onnxruntime" | grep '\.jar$'
  "$PYTHON" -c 'import torch, transformers, torchvision, onnx; print("torch", torch.__version__, "transformers", transformers.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)' 2>/dev/null
  cat "$B/VERSION" 2>/dev/null
} >"$OUTDIR/versions.txt" 2>&1
log "versions: $(tr '\n' ';' <"$OUTDIR/versions.txt" | cut -c1-400)"
# Hash throughput of this machine's CPU (the content mode's cost), as `make bench` prints it here.
mkdir -p "$WORK"
if [[ $HASH == 1 ]]; then
  t=$(date +%s)
  timeout 120 "$B/backends/java_onnxruntime/jre/bin/java" -Dorg.bytedeco.javacpp.cacheDir="$WORK/javacpp-hash" \
    -cp "$B/backends/java_onnxruntime/*:$B/tools/*" dev.javaonnxruntime.cache.HashBenchmark >"$OUTDIR/hash.txt" 2>&1
  log "hash in $(( $(date +%s) - t )) s: $(tr '\n' ';' <"$OUTDIR/hash.txt" | cut -c1-300)"
fi

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

# Whether a case is in this run: PLAN, ONLY, DEADLINE_S.
wanted() { [[ $1 =~ $plan_re && $1 =~ $ONLY ]]; }
# A case this run cannot do: NAME REASON (logged, and listed by report.py).
skip_case() {
  wanted "$1" || return 0
  log "$1: skipped: $2"
  echo "$1 $2" >>"$OUTDIR/raw/skipped.txt"
}
# One case: NAME MODE STREAMS(instance|shared) [replay args...]. Runs plain, then under CUPTI
# (unless CASE_CUPTI=0 is set for the call: where CUPTI's ~1 ms per request buys no figure).
run_case() {
  local name=$1 mode=$2 streams=$3; shift 3
  wanted "$name" || return 0
  if ((DEADLINE_S > 0 && $(date +%s) - t_start > DEADLINE_S)); then
    skip_case "$name" "past DEADLINE_S=$DEADLINE_S s"; return 0
  fi
  local cfg=(--backend-config "java_onnxruntime,stream-per-instance=$([[ $streams == shared ]] && echo false || echo true)")
  [[ -n $jvm ]] && cfg+=(--backend-config "java_onnxruntime,jvm-options=$jvm")
  local passes=(plain)
  [[ -n $cupti_lib && ${CASE_CUPTI:-1} == 1 ]] && passes+=(cupti)
  local tc=$(date +%s%N)
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
    ((rc != 0)) && { grep -m3 -i "error\|exception\|breach\|triton-host:" "$base.log" | cut -c1-300 | tee -a "$OUTDIR/run.log" >&2; }
    # The backend's CUDA graph lines (captures, eager fallbacks), once per distinct text.
    grep -h "cuda_graph" "$base.log" 2>/dev/null | sed 's/^.*cuda_graph/cuda_graph/' | sort | uniq -c | head -8 |
      while read -r line; do log "  $name $pass: $line"; done
  done
  local ms=$(( ($(date +%s%N) - tc) / 1000000 ))
  log "case $name: elapsed $((ms / 1000)).$(printf %03d $((ms % 1000))) s (${passes[*]})"
  echo "$name $ms" >>"$OUTDIR/raw/elapsed.txt"
  echo "$name $mode $streams" >>"$OUTDIR/raw/cases.txt"
}
has_model() { [[ -e $WORK/repo-$1/$2/config.pbtxt ]]; }

: >"$OUTDIR/raw/cases.txt"
: >"$OUTDIR/raw/skipped.txt"
: >"$OUTDIR/raw/elapsed.txt"
t_cases=$(date +%s)
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
  # PLAN=graph: seed-ort is the stock-like baseline for latency and throughput; its copies under
  # CUPTI are those of the last full run, so it runs plain only.
  CASE_CUPTI=$([[ $PLAN == graph && $mode == ort ]] && echo 0 || echo 1) \
    run_case "seed-$mode" "$mode" instance $(seed_args "$([[ $mode == key ]] && echo key)")
done
# The seed with CUDA graphs (key mode: the inputs stay resident, copied DtoD into the graphs'
# buffers). Host figures: compared with seed-key and seed-ort only (stock: triton_run.sh).
if [[ $KIND != KIND_GPU ]]; then
  skip_case seed-graph "cuda_graph needs KIND_GPU instances (refused at model load on $KIND)"
else
  run_case seed-graph keygraph instance $(seed_args key)
fi
run_case seed-pinned-1stream pinned shared $(seed_args "")
run_case seed-content-1stream content shared $(seed_args "")
run_case seed-content-1thread content_t1 instance $(seed_args "")
# (a') one model alone, eager vs CUDA graph, at batch 1 and at max_batch_size (8), key mode.
# CUPTI at batch 1 only (kernels and launches per request; batch 8 adds no new count).
for p in $GRAPH_MODELS; do
  m=${p%%:*} r=${p#*:}
  for b in 1 8; do
    rq=$r; [[ $b == 8 ]] && rq=${r}_b8
    for g in eager graph; do
      name=g$b-$m-$g
      if ! has_model key$g "$m"; then
        skip_case "$name" "model $m is not in repo-key$g (NO_TORCH=1 makes no torch models; GRAPH_MODELS=conv_net:image_224 runs an example)"
      elif [[ ! -e $R/$rq.key.json ]]; then
        skip_case "$name" "no request file $rq.key.json"
      elif [[ $g == graph && $KIND != KIND_GPU ]]; then
        skip_case "$name" "cuda_graph needs KIND_GPU instances (refused at model load on $KIND)"
      else
        CASE_CUPTI=$([[ $b == 1 ]] && echo 1 || echo 0) \
          run_case "$name" "key$g" instance --model "$m" --request "$R/$rq.key.json" --first-request "$R/$rq.first-key.json"
      fi
    done
  done
done
# (a'') graph results identical to eager: one infer per model and batch size on repo-keygraph,
# 4 repetitions of the request that carries the data (the 1st runs eagerly and learns the shape,
# the 2nd captures, the 3rd and 4th replay); --verify-repeats counts answers that differ from the
# 1st, bit for bit (the printed floats are exact to float precision).
if [[ $KIND == KIND_GPU ]] && wanted graph-identity; then
  for p in $GRAPH_MODELS; do
    m=${p%%:*} r=${p#*:}
    has_model keygraph "$m" || continue
    for b in 1 8; do
      rq=$r; [[ $b == 8 ]] && rq=${r}_b8
      [[ -e $R/$rq.first-key.json ]] || continue
      gi=$OUTDIR/raw/graph-identity-$m-b$b
      timeout 100 "$host" infer --backend-directory "$backends" --gpus "$gpus" --model-repository "$WORK/repo-keygraph" \
        --backend-config "java_onnxruntime,jvm-options=$jvm" --model "$m" --request "$R/$rq.first-key.json" \
        --repeat 4 --verify-repeats >"$gi.jsonl" 2>"$gi.log"
      log "graph-identity $m b$b: rc=$? $(grep -m1 -o 'repeats differing from the first answer [0-9]*' "$gi.log"); $(grep -c 'captured batch size' "$gi.log") captured; $(grep -m1 -o 'runs eagerly: .*' "$gi.log" | cut -c1-160)"
    done
  done
fi
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
# (e) the chain vit_encoder -> vit_head, one chain in flight (one latency sample per chain).
# chain-device: the encoder keeps `features` (605,184 B) resident under a key and returns only
# `pooled`; the head names the key. chain-client: `features` go to the client and back.
# First the identity: the head's logits by the key path and from the features' printed data.
chain_reason=""
if [[ $CHAIN_MODE == keygraph && $KIND != KIND_GPU ]]; then
  chain_reason="CHAIN_MODE=keygraph needs KIND_GPU instances"
elif ! has_model "$CHAIN_MODE" vit_encoder || ! has_model "$CHAIN_MODE" vit_head; then
  chain_reason="needs the torch-made vit_encoder and vit_head (not made with NO_TORCH=1)"
fi
if ((DEADLINE_S > 0 && $(date +%s) - t_start > DEADLINE_S)); then
  chain_reason="past DEADLINE_S=$DEADLINE_S s"
fi
if [[ -n $chain_reason ]]; then
  skip_case chain-identity "$chain_reason"
  skip_case chain-device "$chain_reason"
  skip_case chain-client "$chain_reason"
elif wanted chain-device || wanted chain-client || wanted chain-identity; then
  t=$(date +%s%N)
  id=$OUTDIR/raw/chain-identity
  icfg=(--backend-directory "$backends" --gpus "$gpus" --model-repository "$WORK/repo-$CHAIN_MODE"
        --backend-config "java_onnxruntime,jvm-options=$jvm")
  timeout 100 "$host" infer "${icfg[@]}" --model vit_encoder --request "$R/chain_enc.identity.json" \
    --model vit_head --request "$R/chain_head.identity-key.json" >"$id.key.jsonl" 2>"$id.key.log"
  rc1=$?
  # The features as the encoder printed them, sent as data (what a client round trip carries);
  # they also become chain-client's head request.
  rc2=1
  if "$PYTHON" "$here/report.py" --head-request "$id.key.jsonl" "$R/chain_head.data.json" 2>>"$id.key.log"; then
    timeout 100 "$host" infer "${icfg[@]}" --model vit_head --request "$R/chain_head.data.json" >"$id.data.jsonl" 2>"$id.data.log"
    rc2=$?
    cp "$R/chain_head.data.json" "$R/chain_head.client.json"
  else
    log "chain-identity: no features in the encoder's answer; chain-client's head request keeps random features"
  fi
  "$PYTHON" "$here/report.py" --identity "$id.key.jsonl" "$id.data.jsonl" "$id.key.log" "$id.data.log" >"$id.json" 2>>"$OUTDIR/run.log"
  ms=$(( ($(date +%s%N) - t) / 1000000 ))
  log "chain-identity [$CHAIN_MODE]: infer rc=$rc1/$rc2 in $ms ms: $(tr -d '\n' <"$id.json" | cut -c1-200)"
  echo "chain-identity $ms" >>"$OUTDIR/raw/elapsed.txt"
  run_case chain-device "$CHAIN_MODE" instance --model vit_encoder --request "$R/chain_enc.device.json" \
    --then-model vit_head --then-request "$R/chain_head.device.json"
  run_case chain-client "$CHAIN_MODE" instance --model vit_encoder --request "$R/chain_enc.client.json" \
    --then-model vit_head --then-request "$R/chain_head.client.json"
fi
log "cases done in $(( $(date +%s) - t_cases )) s"

"$PYTHON" "$here/report.py" --table "$OUTDIR" >"$OUTDIR/table.md" 2>>"$OUTDIR/run.log"
"$PYTHON" "$here/plot.py" "$OUTDIR/summary.json" "$OUTDIR/plot.png" "$OUTDIR/plot-graph.png" 2>>"$OUTDIR/run.log" \
  || log "no plot (matplotlib missing?)"
log "total: $(( $(date +%s) - t_start )) s (plan $PLAN)"
cat "$OUTDIR/table.md"
