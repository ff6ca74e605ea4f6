#!/usr/bin/env bash
# The GPU benchmark in the REAL tritonserver: Triton 2.70.0's GPU build (carried in the bundle as
# tritonserver/) serves every model twice over, with Triton's stock onnxruntime backend and with
# ours in each mode, side by side in ONE server on the same ONNX files; triton_bench.py replays
# every scenario over HTTP with binary tensors, once plain (latency, throughput, Triton's stats)
# and once under CUPTI (copies by kind, cut to each measured phase); triton_report.py prints stock
# and ours side by side.
#
#   bench/gpu/triton_run.sh OUTDIR
#
# OUTDIR gets: table.md, summary.json, run.log, versions.txt, results.plain.jsonl,
# results.cupti.jsonl, server.plain.log, server.cupti.log, metrics.*.txt, cupti.windows.json.
# Environment (all optional):
#   TRITON    the server build: bin/tritonserver, lib/, deplib/, backends/onnxruntime/ (default: the
#             bundle's tritonserver/)
#   PYTHON    python with numpy, and torch, transformers, torchvision, onnx for the models
#             (default /opt/torch/.venv/bin/python3, else python3)
#   WORK      scratch folder (default /tmp/bench-triton-work)
#   PORT      HTTP port (default 18400; metrics on PORT+2)
#   KIND      KIND_GPU (default) or KIND_CPU (a smoke test without a GPU: set TRITON, NO_TORCH=1,
#             VARIANTS without the graph modes, BENCH_ARGS for the example models)
#   VARIANTS  default stock,ort,key,content,keygraph,contentgraph
#   REPS      repetitions of the seed (default 3); CUPTI_REPS for the CUPTI pass (default 1)
#   CUPTI     0: no CUPTI pass; CUPTI_RUNTIME=1: also the memcpy API calls (cupti.windows.json's by_api)
#   CUDNN     the cuDNN 9 directory for the server (default: the torch venv's; empty: the system's);
#             CUDNN_PRELOAD 1 (default) preloads its libcudnn*.so.9, 0 does not (bench/gpu/cudnn.sh)
#   JSIG      1 (default): preload the bundled JRE's libjsig.so (the JVM's signal chaining; issue 14
#             item 0: tritonserver replaces the JVM's SIGSEGV handler after the models load); 0: not
#   DEADLINE_S  the CUPTI pass starts only if fewer seconds than this have passed (default 330)
#   BENCH_ARGS  extra triton_bench.py arguments (both passes)
#   SWEEP_MODELS  models of the concurrency sweep after the plain pass, in the same server (default
#             "vit,resnet50" on KIND_GPU, none on KIND_CPU): <model>__<variant>__db with dynamic
#             batching, perf_analyzer at SWEEP_CONCURRENCY (default "1 4 16") requests in flight,
#             SWEEP_MS (default 3000) per measurement window; sweep.md gets the table;
#             SWEEP_VARIANTS (default "stock ort content contentgraph") the variants it measures
#   GRAPH_CHECK_OURS  our variant graph_check.py sets beside stock (default contentgraph on
#             KIND_GPU, content on KIND_CPU)
#   PLAIN     0: skip the scenario replay of the plain pass (its server still runs the sweep)
#   PROFILE   1: async-profiler in the plain pass's server (PROFILER_LIB: libasyncProfiler.so,
#             default the bundle's lib/; PROFILE_EVENT cpu|wall, PROFILE_INTERVAL 50us), Java and
#             native frames for PROFILE_SECONDS (default 60) from the server's start, collapsed
#             stacks in OUTDIR/profile-<pid>.collapsed; PROFILE_LOOP=30s: one file per 30 s
#             instead (profile-<pid>-<time>.collapsed), the last ones after the JVM's warm-up
#   JVM_OPTIONS  more options for our backend's JVM (e.g. -Djava_onnxruntime.step-times=1000: the
#             mean time of each step of an Execute, logged every 1000 Executes per instance)
#   PERF_ANALYZER  the perf_analyzer binary (default: the bundle's perf_analyzer/bin/perf_analyzer)
#   BACKEND / EXAMPLES / BACKEND_CONFIG  our backend directory, the example models (default: the
#             bundle's), one more --backend-config for ours (e.g. java-home=...; smoke test)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
mkdir -p "$1" && OUTDIR=$(cd "$1" && pwd)
TRITON=$(cd "${TRITON:-$B/tritonserver}" && pwd)
WORK=${WORK:-/tmp/bench-triton-work}
PORT=${PORT:-18400}
KIND=${KIND:-KIND_GPU}
VARIANTS=${VARIANTS:-stock,ort,key,content,keygraph,contentgraph}
REPS=${REPS:-3}
CUPTI_REPS=${CUPTI_REPS:-1}
CUPTI=${CUPTI:-1}
JSIG=${JSIG:-1}
DEADLINE_S=${DEADLINE_S:-330}
NO_TORCH=${NO_TORCH:-0}
SWEEP_MODELS=${SWEEP_MODELS-$([[ ${KIND:-KIND_GPU} == KIND_GPU ]] && echo vit,resnet50)}
PLAIN=${PLAIN:-1}
SWEEP_CONCURRENCY=${SWEEP_CONCURRENCY:-1 4 16}
SWEEP_MS=${SWEEP_MS:-3000}
SWEEP_VARIANTS=${SWEEP_VARIANTS:-stock ort content contentgraph}
PERF_ANALYZER=${PERF_ANALYZER:-$B/perf_analyzer/bin/perf_analyzer}
read -r -a bench_args <<<"${BENCH_ARGS:-}"
t_start=$(date +%s)
log() { echo "[$(date +%T)] $*" | tee -a "$OUTDIR/run.log" >&2; }
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  [[ -x /opt/torch/.venv/bin/python3 ]] && PYTHON=/opt/torch/.venv/bin/python3
fi
export PYTHONUNBUFFERED=1
be=$(cd "${BACKEND:-$B/backends/java_onnxruntime}" && pwd)
EXAMPLES=${EXAMPLES:-$B/examples}
. "$here/cudnn.sh" # cudnn, cudnn_preload: one cuDNN in the server
export LD_LIBRARY_PATH=$TRITON/deplib:$TRITON/lib:/usr/local/cuda/targets/x86_64-linux/lib:/usr/local/cuda/lib64${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$WORK"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "gpu: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)"
  echo "server: $TRITON/bin/tritonserver ($(ls "$TRITON/lib"))"
  echo "kind: $KIND; variants: $VARIANTS; seed reps: $REPS (CUPTI pass: $CUPTI_REPS); jsig: $JSIG"
  "$be/jre/bin/java" -version 2>&1 | head -1
  ls "$be" | grep '\.jar$' | tr '\n' ' '; echo
  "$PYTHON" -c 'import numpy, sys; print("python", sys.version.split()[0], "numpy", numpy.__version__)'
  "$PYTHON" -c 'import torch, transformers, torchvision, onnx; print("torch", torch.__version__, "transformers", transformers.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)' 2>/dev/null
  cat "$B/VERSION" 2>/dev/null
} >"$OUTDIR/versions.txt" 2>&1
log "versions: $(tr '\n' ';' <"$OUTDIR/versions.txt" | cut -c1-600)"

# CUPTI counter.
cupti_lib=""
if [[ $CUPTI == 1 && $KIND == KIND_GPU ]]; then
  inc=/usr/local/cuda/extras/CUPTI/include; [[ -e $inc/cupti.h ]] || inc=/usr/local/cuda/targets/x86_64-linux/include
  lib=/usr/local/cuda/extras/CUPTI/lib64; ls $lib/libcupti.so* >/dev/null 2>&1 || lib=/usr/local/cuda/targets/x86_64-linux/lib
  if gcc -O2 -shared -fPIC -o "$WORK/libcupti_count.so" "$here/cupti_count.c" -I"$inc" -I/usr/local/cuda/include \
      -L"$lib" -Wl,-rpath,"$lib" -lcupti -lpthread 2>"$OUTDIR/cupti_build.log"; then
    cupti_lib=$WORK/libcupti_count.so
  else
    log "cannot build cupti_count: $(tail -3 "$OUTDIR/cupti_build.log")"
  fi
fi

# Backends: ours (the bundle's directory, linked) and the stock one with ONNX Runtime's libraries
# from the same ONNX Runtime jar ours carries (GPU natives in the bundle).
rm -rf "$WORK/backends"; mkdir -p "$WORK/backends/onnxruntime"
ln -s "$be" "$WORK/backends/java_onnxruntime"
cp "$TRITON/backends/onnxruntime/libtriton_onnxruntime.so" "$WORK/backends/onnxruntime/"
ortjar=$(ls "$be"/onnxruntime-*-linux-x86_64*.jar | grep -v -- '-sources' | head -1)
"$PYTHON" - "$ortjar" "$WORK/backends/onnxruntime" <<'EOF' || { log "cannot unpack ONNX Runtime for the stock backend"; exit 1; }
import os, re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
n = 0
for name in z.namelist():
    base = os.path.basename(name)
    if re.match(r"libonnxruntime.*\.so", base):
        open(os.path.join(sys.argv[2], base), "wb").write(z.read(name)); n += 1
print(n, "ONNX Runtime libraries from", os.path.basename(sys.argv[1]))
EOF
log "stock backend: $(ls "$WORK/backends/onnxruntime" | tr '\n' ' ')"

# Models: one repository, every model per variant (same ONNX file).
t0=$(date +%s)
margs=("$WORK" --kind "$KIND" --examples "$EXAMPLES" --variants "$VARIANTS" --sweep "$SWEEP_MODELS")
[[ $NO_TORCH == 1 ]] && margs+=(--no-torch)
if ! "$PYTHON" "$here/triton_models.py" "${margs[@]}" >"$OUTDIR/make_models.log" 2>&1; then
  log "triton_models failed:"; tail -30 "$OUTDIR/make_models.log" >&2; exit 1
fi
log "models ready in $(( $(date +%s) - t0 )) s: $(tail -1 "$OUTDIR/make_models.log" | cut -c1-200)"

jvm=""
[[ $KIND == KIND_GPU ]] && jvm="-Dorg.bytedeco.javacpp.platform.extension=-gpu "
jvm+="-Dorg.bytedeco.javacpp.cacheDir=$WORK/javacpp-cache"
[[ -n ${JVM_OPTIONS:-} ]] && jvm+=" $JVM_OPTIONS"
if [[ ${PROFILE:-0} == 1 ]]; then
  # PROFILE_LOOP (e.g. 30s): one file per period instead, profile-<pid>-<time>.collapsed, so the
  # periods after the JVM's warm-up can be read apart from it.
  when="timeout=${PROFILE_SECONDS:-60},collapsed,file=$OUTDIR/profile-%p.collapsed"
  [[ -n ${PROFILE_LOOP:-} ]] && when="loop=$PROFILE_LOOP,collapsed,file=$OUTDIR/profile-%p-%t.collapsed"
  jvm+=" -agentpath:${PROFILER_LIB:-$B/lib/libasyncProfiler.so}=start,event=${PROFILE_EVENT:-cpu},interval=${PROFILE_INTERVAL:-50us},cstack=vm,$when"
fi
preload=""
[[ $JSIG == 1 && -e $be/jre/lib/libjsig.so ]] && preload=$be/jre/lib/libjsig.so
[[ -n $cudnn_preload ]] && preload=${preload:+$preload:}$cudnn_preload
server_pid=""
# http METHOD URL: the body on stdout, fails unless HTTP 200 (python: the GPU machine may lack curl).
http() {
  "$PYTHON" -c 'import sys, urllib.request
r = urllib.request.urlopen(urllib.request.Request(sys.argv[2], method=sys.argv[1], data=b"" if sys.argv[1] == "POST" else None), timeout=10)
sys.stdout.buffer.write(r.read())' "$1" "$2" 2>/dev/null
}

# start_server PASS [env...]: starts tritonserver, waits until HTTP answers (the server loads
# every model before it opens HTTP), logs the models not READY.
start_server() {
  local pass=$1; shift
  local t=$(date +%s)
  env ${preload:+LD_PRELOAD=$preload} "$@" "$TRITON/bin/tritonserver" --model-repository "$WORK/repo-triton" \
    --backend-directory "$WORK/backends" --http-address 127.0.0.1 --http-port "$PORT" \
    --metrics-address 127.0.0.1 --metrics-port $((PORT + 2)) --exit-on-error=false --strict-readiness=false \
    --exit-timeout-secs 20 "--backend-config=java_onnxruntime,jvm-options=$jvm" \
    ${BACKEND_CONFIG:+"--backend-config=java_onnxruntime,$BACKEND_CONFIG"} \
    >"$OUTDIR/server.$pass.log" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid"; log "server ($pass) exited rc=$? before answering"; tail -20 "$OUTDIR/server.$pass.log" >&2
      server_pid=""; return 1
    fi
    http GET "http://127.0.0.1:$PORT/v2/health/live" >/dev/null && break
    sleep 1
  done
  http POST "http://127.0.0.1:$PORT/v2/repository/index" >"$OUTDIR/index.$pass.json"
  [[ $pass == plain ]] && echo "triton: $(http GET "http://127.0.0.1:$PORT/v2" | cut -c1-300)" >>"$OUTDIR/versions.txt"
  log "server ($pass) up in $(( $(date +%s) - t )) s: $("$PYTHON" -c '
import json, sys, collections
ix = json.load(open(sys.argv[1]))
c = collections.Counter(m.get("state") for m in ix)
bad = [m["name"] + ": " + m.get("reason", "")[:200] for m in ix if m.get("state") != "READY"]
print(dict(c), "; ".join(bad))' "$OUTDIR/index.$pass.json")"
}
# stop_server PASS: SIGTERM, waits up to 60 s, then SIGKILL; logs the exit status.
stop_server() {
  local pass=$1 i rc
  [[ -n $server_pid ]] || return 0
  http GET "http://127.0.0.1:$((PORT + 2))/metrics" >"$OUTDIR/metrics.$pass.txt"
  kill -TERM "$server_pid"
  for i in $(seq 1 60); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    log "server ($pass) still running 60 s after SIGTERM: SIGKILL"; kill -KILL "$server_pid"
  fi
  wait "$server_pid"; rc=$?
  log "server ($pass) exit rc=$rc after SIGTERM; $(grep -i 'signal (\|double free\|corrupted' "$OUTDIR/server.$pass.log" | grep -vc 'Signal (15)') crash lines in its log"
  server_pid=""
}
trap '[[ -n $server_pid ]] && kill -KILL $server_pid 2>/dev/null' EXIT

# The concurrency sweep (issue 15 item 4): perf_analyzer against each <model>__<variant>__db at
# each concurrency, stock first; one CSV per point under OUTDIR/sweep/, the table in sweep.md.
sweep() {
  [[ -n $SWEEP_MODELS ]] || return 0
  if [[ ! -x $PERF_ANALYZER ]]; then log "sweep skipped: no $PERF_ANALYZER"; return 0; fi
  mkdir -p "$OUTDIR/sweep"
  local t=$(date +%s) m v c b
  # First, on the fresh instances: graphs captured and replayed while batch sizes vary, every
  # answer against stock's (graph_check.py).
  timeout 200 "$PYTHON" "$here/graph_check.py" --url "127.0.0.1:$PORT" --models "$SWEEP_MODELS" \
    --ours "${GRAPH_CHECK_OURS:-$([[ $KIND == KIND_GPU ]] && echo contentgraph || echo content)}" >"$OUTDIR/graph_check.log" 2>&1
  log "graph check: rc=$? $(tail -1 "$OUTDIR/graph_check.log")"
  for m in ${SWEEP_MODELS//,/ }; do
    # Every batch size once first: ONNX Runtime's first run of a shape searches cuDNN's
    # algorithms (and ours captures a graph), which must not land in a measurement window.
    for v in $SWEEP_VARIANTS; do
      for b in 1 2 3 4 5 6 7 8; do
        timeout 60 "$PERF_ANALYZER" -m "${m}__${v}__db" -u "127.0.0.1:$PORT" -b "$b" --concurrency-range 1:1 \
          --request-count 3 >>"$OUTDIR/sweep/warmup.log" 2>&1 || log "warm-up $m $v b=$b: rc=$?"
      done
    done
    for c in $SWEEP_CONCURRENCY; do
      for v in $SWEEP_VARIANTS; do
        timeout 120 "$PERF_ANALYZER" -m "${m}__${v}__db" -u "127.0.0.1:$PORT" --concurrency-range "$c:$c" \
          --warmup-request-count 50 --measurement-interval "$SWEEP_MS" --stability-percentage 25 --max-trials 8 \
          -f "$OUTDIR/sweep/$m.$v.c$c.csv" >"$OUTDIR/sweep/$m.$v.c$c.log" 2>&1 \
          || log "perf_analyzer $m $v c=$c: rc=$? ($(grep -v '^ *$' "$OUTDIR/sweep/$m.$v.c$c.log" | tail -1 | cut -c1-200))"
      done
    done
  done
  "$PYTHON" "$here/sweep_report.py" "$OUTDIR/sweep" >"$OUTDIR/sweep.md" 2>>"$OUTDIR/run.log" || log "sweep report failed"
  log "sweep: $(( $(date +%s) - t )) s"
}

# Pass 1: plain (every figure but the copies).
: >"$OUTDIR/results.plain.jsonl"
if start_server plain; then
  t=$(date +%s)
  if [[ $PLAIN == 1 ]]; then
    timeout 420 "$PYTHON" "$here/triton_bench.py" --url "127.0.0.1:$PORT" --out "$OUTDIR/results.plain.jsonl" \
      --pass plain --variants "$VARIANTS" --reps "$REPS" "${bench_args[@]}" 2>&1 | tee "$OUTDIR/bench.plain.log"
    log "plain pass: rc=${PIPESTATUS[0]} in $(( $(date +%s) - t )) s"
  fi
  sweep
  if [[ ${PROFILE:-0} == 1 ]]; then
    for i in $(seq 1 90); do compgen -G "$OUTDIR/profile-*.collapsed" >/dev/null && break; sleep 1; done
    log "profile: $(ls "$OUTDIR"/profile-*.collapsed 2>/dev/null | tr '\n' ' ')"
  fi
  stop_server plain
fi

# Pass 2: CUPTI (copies, kernels), a separate server start; latency never comes from it.
: >"$OUTDIR/results.cupti.jsonl"
if [[ -n $cupti_lib ]]; then
  if (( $(date +%s) - t_start > DEADLINE_S )); then
    log "CUPTI pass skipped: $(( $(date +%s) - t_start )) s passed, DEADLINE_S=$DEADLINE_S"
  else
    rm -f "$WORK"/cupti.*
    if start_server cupti CUDA_INJECTION64_PATH="$cupti_lib" CUPTI_OUT="$WORK/cupti" CUPTI_RUNTIME="${CUPTI_RUNTIME:-0}"; then
      t=$(date +%s)
      timeout 300 "$PYTHON" "$here/triton_bench.py" --url "127.0.0.1:$PORT" --out "$OUTDIR/results.cupti.jsonl" \
        --pass cupti --variants "$VARIANTS" --reps "$CUPTI_REPS" "${bench_args[@]}" 2>&1 | tee "$OUTDIR/bench.cupti.log"
      log "cupti pass: rc=${PIPESTATUS[0]} in $(( $(date +%s) - t )) s"
      stop_server cupti
      "$PYTHON" "$here/triton_report.py" --cut "$WORK/cupti" "$OUTDIR/results.cupti.jsonl" >"$OUTDIR/cupti.windows.json" \
        2>>"$OUTDIR/run.log" || log "CUPTI cut failed"
      cp "$WORK/cupti.json" "$OUTDIR/cupti.process.json" 2>/dev/null
    fi
  fi
fi

"$PYTHON" "$here/triton_report.py" --table "$OUTDIR" >"$OUTDIR/table.md" 2>>"$OUTDIR/run.log" || log "report failed"
log "total: $(( $(date +%s) - t_start )) s"
cat "$OUTDIR/table.md"
if [[ -e $OUTDIR/sweep.md ]]; then cat "$OUTDIR/sweep.md"; fi
