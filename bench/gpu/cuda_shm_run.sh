#!/usr/bin/env bash
# Inputs in CUDA shared memory (and system shared memory) in the REAL tritonserver: Triton 2.70.0's
# GPU build (the bundle's tritonserver/) serves conv_net, two_input and text_encoder with the stock
# onnxruntime backend and with ours (input_cache off, content, key; a CUDA graph), each on KIND_GPU
# and KIND_CPU; cuda_shm_check.py registers client regions through Triton's HTTP API and compares
# every answer with stock's bit for bit. Prints the pass/fail table; exit code 1 on a failure.
#
#   bench/gpu/cuda_shm_run.sh OUTDIR
#
# OUTDIR gets: table.md, server.log, models.log, check.log. Environment (all optional):
#   TRITON  the server build: bin/, lib/, deplib/, backends/onnxruntime/ (default: the bundle's tritonserver/)
#   PYTHON  python with numpy (default /opt/torch/.venv/bin/python3, else python3)
#   WORK    scratch folder (default /tmp/cuda-shm-work); PORT HTTP port (default 18500; metrics PORT+2)
#   KINDS   gpu,cpu (default); KINDS=cpu with TRITON=<cpu build> BACKEND=... BACKEND_CONFIG=java-home=...
#           EXAMPLES=model_repository: the smoke test without a GPU (CUDA rows skipped)
#   BACKEND / EXAMPLES / BACKEND_CONFIG  our backend directory, the example models, one more --backend-config
#   CUDNN, CUDNN_PRELOAD  the server's cuDNN 9 (bench/gpu/cudnn.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,17p' "$0"; exit 64; }
mkdir -p "$1" && OUTDIR=$(cd "$1" && pwd)
TRITON=$(cd "${TRITON:-$B/tritonserver}" && pwd)
WORK=${WORK:-/tmp/cuda-shm-work}
PORT=${PORT:-18500}
export KINDS=${KINDS:-gpu,cpu}
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x /opt/torch/.venv/bin/python3 ]] && PYTHON=/opt/torch/.venv/bin/python3
fi
export PYTHONUNBUFFERED=1
be=$(cd "${BACKEND:-$B/backends/java_onnxruntime}" && pwd)
EXAMPLES=$(cd "${EXAMPLES:-$B/examples}" && pwd)
. "$here/cudnn.sh" # cudnn, cudnn_preload: one cuDNN in the server
export LD_LIBRARY_PATH=$TRITON/deplib:$TRITON/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
rm -rf "$WORK"; mkdir -p "$WORK/backends/onnxruntime"
echo "bundle: $(cat "$B/VERSION" 2>/dev/null || echo "(no VERSION)"); kinds: $KINDS; gpu: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | tr '\n' ' ')"

# Backends: ours (linked) and the stock one with the ONNX Runtime libraries of the jar ours carries.
ln -s "$be" "$WORK/backends/java_onnxruntime"
cp "$TRITON/backends/onnxruntime/libtriton_onnxruntime.so" "$WORK/backends/onnxruntime/"
if ls "$TRITON"/backends/onnxruntime/libonnxruntime.so* >/dev/null 2>&1; then
  cp "$TRITON"/backends/onnxruntime/libonnxruntime*.so* "$WORK/backends/onnxruntime/"
else
  ortjar=$(ls "$be"/onnxruntime-*-linux-x86_64*.jar | grep -v -- '-sources' | head -1)
  "$PYTHON" - "$ortjar" "$WORK/backends/onnxruntime" <<'PY' || { echo "cannot unpack ONNX Runtime for the stock backend"; exit 1; }
import os, re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name in z.namelist():
    if re.match(r"libonnxruntime.*\.so", os.path.basename(name)):
        open(os.path.join(sys.argv[2], os.path.basename(name)), "wb").write(z.read(name))
PY
fi
"$PYTHON" "$here/cuda_shm_check.py" repo "$WORK" "$EXAMPLES" >"$OUTDIR/models.log" 2>&1 || { cat "$OUTDIR/models.log"; exit 1; }

jvm="-Dorg.bytedeco.javacpp.cacheDir=$WORK/javacpp-cache"
[[ $KINDS == *gpu* ]] && jvm="-Dorg.bytedeco.javacpp.platform.extension=-gpu $jvm"
preload=""
[[ -e $be/jre/lib/libjsig.so ]] && preload=$be/jre/lib/libjsig.so
[[ -n $cudnn_preload ]] && preload=${preload:+$preload:}$cudnn_preload
env ${preload:+LD_PRELOAD=$preload} "$TRITON/bin/tritonserver" --model-repository "$WORK/repo" \
  --backend-directory "$WORK/backends" --http-address 127.0.0.1 --http-port "$PORT" \
  --metrics-address 127.0.0.1 --metrics-port $((PORT + 2)) --allow-client-shm=true \
  --exit-timeout-secs 20 "--backend-config=java_onnxruntime,jvm-options=$jvm" \
  ${BACKEND_CONFIG:+"--backend-config=java_onnxruntime,$BACKEND_CONFIG"} >"$OUTDIR/server.log" 2>&1 &
pid=$!
trap 'kill -KILL $pid 2>/dev/null' EXIT
up=0
for i in $(seq 1 240); do
  kill -0 $pid 2>/dev/null || { echo "tritonserver exited before ready:"; tail -30 "$OUTDIR/server.log"; exit 1; }
  "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/v2/health/ready" % sys.argv[1], timeout=2)' "$PORT" 2>/dev/null && { up=1; break; }
  sleep 1
done
((up)) || { echo "tritonserver not ready after 240 s:"; grep -i "error\|fail" "$OUTDIR/server.log" | tail -20; exit 1; }
echo "server ready in ${i} s"
"$PYTHON" "$here/cuda_shm_check.py" check "127.0.0.1:$PORT" "$OUTDIR" 2>"$OUTDIR/check.log"
rc=$?
kill -TERM $pid
for i in $(seq 1 40); do kill -0 $pid 2>/dev/null || break; sleep 1; done
kill -0 $pid 2>/dev/null && { echo "server still up 40 s after SIGTERM: SIGKILL"; kill -KILL $pid; }
wait $pid; src=$?
echo "server exit rc=$src; CUDA graph lines: $(grep -c 'cuda_graph:' "$OUTDIR/server.log"); CUDA errors in the log: $(grep -ci 'cudaError\|CUDA error\|illegal memory' "$OUTDIR/server.log")"
grep 'cuda_graph:' "$OUTDIR/server.log" | head -4
exit $rc
