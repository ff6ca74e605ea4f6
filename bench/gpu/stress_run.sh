#!/usr/bin/env bash
# `make stress-triton` on the GPU machine, from the GPU benchmark bundle (no Java, Maven or network
# there): scripts/stress_triton.py fuzzes our backend in the bundle's real tritonserver (Triton
# 2.70.0's GPU build) over HTTP with every model on KIND_GPU: CLIENTS clients x REQUESTS requests,
# every 10th malformed, named keys forcing eviction, a model unloaded and loaded all along; server
# RSS, JVM heap, JavaCPP bytes and DEVICE MEMORY (nvidia-smi) must stay flat over the second half.
#
#   bench/gpu/stress_run.sh OUTDIR
#
# OUTDIR gets stress.log (everything the stress printed), versions.txt, and stress/ (server.log,
# samples.json with the device figures, nmt-diff.txt, the repository). The last line printed is
# the stress's verdict, `sent N, answered N, identical G of G good, crashes 0, growth X%` (RSS);
# the line before it `verdict: all held (samples: ...), device growth X%`. Exit code: the
# stress's (0: everything held), 124 when it ran past LIMIT_S.
# Environment (all optional):
#   CLIENTS, REQUESTS  default 8 x 10000 (QUICK=1: 2 x 500)
#   KIND      KIND_GPU (default) or KIND_CPU (a smoke test of the plumbing without a GPU: set TRITON,
#             BACKEND; DEVICE_MEMORY=on with a stand-in NVIDIA_SMI tests the device sampling)
#   TRITON    the server build: bin/tritonserver, lib/, deplib/ (default: the bundle's tritonserver/)
#   BACKEND   our backend directory (default: the bundle's backends/java_onnxruntime, its jre/)
#   MODELS / TESTDATA  make_models.py's models and reference data (default: the bundle's stress/)
#   PYTHON    python with numpy (default /opt/torch/.venv/bin/python3, else python3)
#   WORK      scratch folder for JavaCPP's cache (default /tmp/stress-triton-work)
#   CUDNN, CUDNN_PRELOAD  the server's cuDNN 9 (bench/gpu/cudnn.sh)
#   JSIG      1 (default): preload the backend's jre/lib/libjsig.so into the server (as triton_run.sh)
#   LIMIT_S   the stress is stopped after this many seconds (default 540)
#   DEVICE_MEMORY  auto (default: on for KIND_GPU), on, off; NVIDIA_SMI the nvidia-smi to run
#   JVM_OPTIONS    more options for the JVM in the server
#   BACKEND_CONFIG one more --backend-config for ours (e.g. java-home=...)
#   STRESS_ARGS    more stress_triton.py arguments (--help), e.g. "--keys 50000 --max-growth 15"
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,30p' "$0"; exit 64; }
mkdir -p "$1" && OUTDIR=$(cd "$1" && pwd)
KIND=${KIND:-KIND_GPU}
TRITON=$(cd "${TRITON:-$B/tritonserver}" && pwd) || exit 1
BACKEND=$(cd "${BACKEND:-$B/backends/java_onnxruntime}" && pwd) || exit 1
MODELS=${MODELS:-$B/stress/models}
TESTDATA=${TESTDATA:-$B/stress/testdata}
WORK=${WORK:-/tmp/stress-triton-work}
LIMIT_S=${LIMIT_S:-540}
JSIG=${JSIG:-1}
if [[ ${QUICK:-0} != 0 ]]; then CLIENTS=${CLIENTS:-2}; REQUESTS=${REQUESTS:-500}; fi
CLIENTS=${CLIENTS:-8}
REQUESTS=${REQUESTS:-10000}
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x /opt/torch/.venv/bin/python3 ]] && PYTHON=/opt/torch/.venv/bin/python3
fi
export PYTHONUNBUFFERED=1
mkdir -p "$WORK"
# The server's libraries, as bench/gpu/triton_run.sh has them; for the server only.
. "$here/cudnn.sh" # cudnn, cudnn_preload: one cuDNN in the server
libpath=$TRITON/deplib:$TRITON/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
args=(--kind "$KIND" --triton "$TRITON" --backend "$BACKEND" --models "$MODELS" --testdata "$TESTDATA"
      --work "$OUTDIR/stress" --clients "$CLIENTS" --requests "$REQUESTS"
      --server-env "LD_LIBRARY_PATH=$libpath"
      "--jvm-options=-Dorg.bytedeco.javacpp.cacheDir=$WORK/javacpp-cache${JVM_OPTIONS:+ $JVM_OPTIONS}"
      --device-memory "${DEVICE_MEMORY:-auto}" --nvidia-smi "${NVIDIA_SMI:-nvidia-smi}")
preload=""
[[ $JSIG == 1 && -e $BACKEND/jre/lib/libjsig.so ]] && preload=$BACKEND/jre/lib/libjsig.so
[[ -n $cudnn_preload ]] && preload=${preload:+$preload:}$cudnn_preload
[[ -n $preload ]] && args+=(--server-env "LD_PRELOAD=$preload")
[[ -n ${BACKEND_CONFIG:-} ]] && args+=(--backend-config "$BACKEND_CONFIG")
read -r -a extra <<<"${STRESS_ARGS:-}"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $(nproc) cores"
  "${NVIDIA_SMI:-nvidia-smi}" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -8
  echo "server: $TRITON/bin/tritonserver"
  echo "backend: $BACKEND ($(ls "$BACKEND" | grep '\.jar$' | tr '\n' ' '))"
  [[ -x $BACKEND/jre/bin/java ]] && "$BACKEND/jre/bin/java" -version 2>&1 | head -1
  "$PYTHON" -c 'import numpy, sys; print("python", sys.version.split()[0], "numpy", numpy.__version__)'
  echo "kind: $KIND; $CLIENTS clients x $REQUESTS requests; jsig: $JSIG; limit: $LIMIT_S s"
  cat "$B/VERSION" 2>/dev/null
} >"$OUTDIR/versions.txt" 2>&1
echo "stress_run: $(tr '\n' ';' <"$OUTDIR/versions.txt" | cut -c1-400)" >&2
echo "stress_run: logs in $OUTDIR (stress.log, stress/server.log)" >&2
t0=$(date +%s)
# timeout signals its whole process group at LIMIT_S: the server started by the stress too.
timeout -k 30 "$LIMIT_S" "$PYTHON" "$B/scripts/stress_triton.py" "${args[@]}" "${extra[@]}" 2>&1 \
  | tee "$OUTDIR/stress.log"
rc=${PIPESTATUS[0]}
if [[ $rc == 124 || $rc == 137 ]]; then
  echo "stress_run: stopped after $LIMIT_S s (LIMIT_S) before its verdict; $(( $(date +%s) - t0 )) s; try fewer REQUESTS" \
    | tee -a "$OUTDIR/stress.log"
  exit 124
fi
exit "$rc"
