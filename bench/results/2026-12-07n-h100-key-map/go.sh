#!/bin/bash
# One side of today's H100/H200 A/B, in the bundle on the device: go.sh old|new|bert|modes|prof
set -u
S=/tmp/stage; B=$S/bundle; O=$OUT; side=$1
be=$B/backends/java_onnxruntime
jar=$(cd "$be" && ls java-backend-*.jar)
{ nvidia-smi -L; cat "$B/VERSION"; lscpu | grep -E "Model name|^CPU\(s\)"; nproc;
  sha256sum "$S"/*.jar "$be/$jar"; } > "$O/machine-$side.txt" 2>&1
export CUPTI=0 SWEEP_MODELS= JVM_OPTIONS=-Djava_onnxruntime.step-times=100
backend=$be
if [[ $side == old ]]; then
  backend=/tmp/old-backend; rm -rf $backend; cp -a "$be" $backend; cp "$S/8ee50ab.jar" "$backend/$jar"
fi
args="--jvm-warmup 3000 --only warmup|seed --chain="
variants=stock,keygraph
if [[ $side == bert ]]; then args="$args --seed bert"; variants=stock,keygraph; fi
if [[ $side == modes ]]; then variants=stock,ort,key,content,keygraph,contentgraph; fi
if [[ $side == prof ]]; then # the key hit under async-profiler: the last 10 s files are steady
  args="--jvm-warmup 8000 --only warmup|seed --chain="; variants=keygraph
  export PROFILE=1 PROFILE_LOOP=10s PROFILE_INTERVAL=20us
fi
cd "$B"
start=$(date +%s)
BACKEND=$backend VARIANTS=$variants BENCH_ARGS="$args" bench/gpu/triton_run.sh "$O/$side" > "$O/$side.log" 2>&1
echo "rc=$? in $(( $(date +%s) - start )) s"
cat "$O/$side/table.md" 2>/dev/null | head -60
grep -h 'step times' "$O/$side/server.plain.log" | sed "s/.*model '\([^']*\)', /\1 /; s/\"$//" \
  | awk '{last[$1] = $0} END {for (m in last) print last[m]}' | sort
