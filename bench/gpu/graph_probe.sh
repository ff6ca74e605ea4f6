#!/usr/bin/env bash
# Which ONNX Runtime settings let the CUDA provider capture and replay ViT-base, BERT-base and
# ResNet-50 as CUDA graphs on this GPU (issue 9). Runs dev.javaonnxruntime.onnx.GraphProbe once
# per model x variant, each in its own process (a failed capture can leave a sticky CUDA error),
# and prints one RESULT line per run; OUTDIR gets probe.txt (the lines) and probe.log (everything).
#
#   bench/gpu/graph_probe.sh OUTDIR        (from the bundle root, like run.sh)
# Knobs: MODELS (default "vit bert resnet50"; a path to an .onnx file works too), BATCHES (default "1 8"), RUNS (replays, default 200),
# WORK (models, default /tmp/jort-work).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
OUTDIR=${1:?usage: graph_probe.sh OUTDIR}
mkdir -p "$OUTDIR"
WORK=${WORK:-/tmp/jort-work}
MODELS=${MODELS:-vit bert resnet50}
BATCHES=${BATCHES:-1 8}
RUNS=${RUNS:-200}
PYTHON=${PYTHON:-}
if [[ -z $PYTHON ]]; then
  PYTHON=python3
  [[ -x /opt/torch/.venv/bin/python3 ]] && PYTHON=/opt/torch/.venv/bin/python3
fi
cudnn=$(ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn/lib 2>/dev/null | head -1)
export LD_LIBRARY_PATH=$B/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
java=$B/backends/java_onnxruntime/jre/bin/java
log=$OUTDIR/probe.log
out=$OUTDIR/probe.txt
: >"$out"

t0=$(date +%s)
(cd "$here" && "$PYTHON" -c "
import make_models, os, sys
d = os.path.join(sys.argv[1], 'models')
names = [n for n in sys.argv[2:] if '/' not in n and not os.path.exists(os.path.join(d, n, '1', 'model.onnx'))]
if names: make_models.export_torch(d, names)
" "$WORK" $MODELS) >>"$log" 2>&1 || { echo "export failed"; tail -20 "$log"; exit 1; }
echo "models ready in $(( $(date +%s) - t0 )) s" | tee -a "$log"

probe() { # MODEL BATCH [ENV=V] ARGS...
  local m=$1 b=$2; shift 2
  local envs=()
  while [[ ${1:-} == *=* && ${1%%=*} == CUDA_* ]]; do envs+=("$1"); shift; done
  local t=$(date +%s)
  local res
  res=$(env "${envs[@]}" timeout 180 "$java" -Dorg.bytedeco.javacpp.platform.extension=-gpu \
    -Dorg.bytedeco.javacpp.cacheDir="$WORK/javacpp-probe" -cp "$B/backends/java_onnxruntime/*:$B/tools/*" \
    dev.javaonnxruntime.onnx.GraphProbe "$WORK/models/$m/1/model.onnx" "$b" runs="$RUNS" "$@" 2>>"$log")
  local rc=$?
  local closed=$(grep -c '^CLOSED' <<<"$res")
  res="$(grep '^RESULT' <<<"$res") rc=$rc closed=$closed"
  [[ -n $res ]] || res="RESULT model=$m batch=$b variant=[${envs[*]} $*] rc=$rc (no result; see probe.log)"
  [[ ${#envs[@]} -gt 0 ]] && res="$res env=[${envs[*]}]"
  echo "$res ($(( $(date +%s) - t )) s)" | tee -a "$out"
  echo "--- $res" >>"$log"
}

# INTERLEAVE=1: only whether a captured graph answers a new input right after its session ran
# another batch shape (InterleaveProbe): eager=same (one session, as before the fix) and eager=own
# (the other shape in a session of its own, as the backend now arranges); capture 1, other 3.
if [[ ${INTERLEAVE:-0} == 1 ]]; then
  for m in $MODELS; do
    f=$m
    [[ -f $f ]] || f=$WORK/models/$m/1/model.onnx
    for v in same own; do
      t=$(date +%s)
      res=$(timeout 180 "$java" -Dorg.bytedeco.javacpp.platform.extension=-gpu \
        -Dorg.bytedeco.javacpp.cacheDir="$WORK/javacpp-probe" -cp "$B/backends/java_onnxruntime/*:$B/tools/*" \
        dev.javaonnxruntime.onnx.InterleaveProbe "$f" 1 3 eager=$v 2>>"$log")
      rc=$?
      res="$(grep '^RESULT' <<<"$res") rc=$rc"
      echo "$res ($(( $(date +%s) - t )) s)" | tee -a "$out"
    done
  done
  exit 0
fi

# CLOSE=1: only whether closing a session aborts the process (issue 7): plain sessions (ORT's
# callback frees pinned buffers), graph-enabled ones, ORT's own stream; 3 processes each.
if [[ ${CLOSE:-0} == 1 ]]; then
  for m in $MODELS; do
    for v in "graph=off" "graph=off stream=ort" "graph=on"; do
      for i in 1 2 3; do
        # shellcheck disable=SC2086
        probe "$m" 1 runs=50 $v
      done
    done
  done
  echo "sessions closed cleanly: $(grep -c "closed=1" "$out") of $(grep -c "^RESULT" "$out")" | tee -a "$out"
  exit 0
fi

for m in $MODELS; do
  for b in $BATCHES; do
    probe "$m" "$b"
    probe "$m" "$b" dim.batch="$b"
    if [[ $b == 1 ]]; then
      probe "$m" "$b" stream=ort
      probe "$m" "$b" dim.batch="$b" stream=ort
      probe "$m" "$b" dim.batch="$b" cuda.cudnn_conv_algo_search=HEURISTIC
      probe "$m" "$b" session.disable_cpu_ep_fallback=1
      probe "$m" "$b" dim.batch="$b" session.disable_cpu_ep_fallback=1
    fi
  done
done
echo "total $(( $(date +%s) - t0 )) s" | tee -a "$log"
