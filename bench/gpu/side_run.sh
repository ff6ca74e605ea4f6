#!/usr/bin/env bash
# Sides of a GPU A/B of our request path, one server each, in the bundle: the seed replay after
# the JVM's warm-up (triton_run.sh with CUPTI=0, no sweep, step times every 100 Executes), one
# side per device call where a call's time is short. Leases differ by tens of percent, so an
# old/new pair is only read from one lease (bench/gpu/ab_run.sh runs both sides in one call).
#
#   bench/gpu/side_run.sh OUTDIR SIDE...
#
# SIDE:
#   old    OLD_JAR (a java-backend jar) in place of the bundle's, VARIANTS (default
#          stock,keygraph,default)
#   new    the bundle's own jar, the same VARIANTS
#   bert   bert alone (--seed bert), stock and keygraph
#   modes  every mode: stock, ort, key, content, keygraph, contentgraph
#   prof   keygraph alone under async-profiler (cpu, every 20 us, a file every 10 s) after 8,000
#          warm-up requests per model (bench/triton/profile_steps.py reads the files)
#
# OUTDIR gets per side: SIDE/ (triton_run.sh's output), SIDE.log and machine-SIDE.txt; then
# logs-SIDES.tgz of it all (the device tool returns a few files; prof's profiles go in as
# prof/*.ex.gz, their Executor stacks only). Prints each side's table and each model's last
# step-times line. EXTRA_ARGS: more triton_bench.py arguments after each side's own (a smoke test
# on the CPU build: KIND=KIND_CPU, its models, VARIANTS without graphs); BACKEND: our backend
# directory (default the bundle's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -ge 2 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
mkdir -p "$1" && out=$(cd "$1" && pwd)
shift
be=$(cd "${BACKEND:-$B/backends/java_onnxruntime}" && pwd) || exit 1
jar=$(cd "$be" && ls java-backend-*.jar)
export CUPTI=0 SWEEP_MODELS= JVM_OPTIONS=-Djava_onnxruntime.step-times=100
for side in "$@"; do
  backend=$be
  args="--jvm-warmup 3000 --only warmup|seed --chain="
  variants=${VARIANTS:-stock,keygraph,default}
  profile=()
  case $side in
    old)
      [[ -f ${OLD_JAR:-} ]] || { echo "side old needs OLD_JAR, a java-backend jar" >&2; exit 64; }
      backend=${WORK:-/tmp/bench-triton-work}-old-backend
      rm -rf "$backend" && cp -a "$be" "$backend" && cp "$OLD_JAR" "$backend/$jar" || exit 1 ;;
    new) ;;
    bert) args="$args --seed bert"; variants=stock,keygraph ;;
    modes) variants=stock,ort,key,content,keygraph,contentgraph ;;
    prof)
      args="--jvm-warmup 8000 --only warmup|seed --chain="; variants=keygraph
      profile=(PROFILE=1 PROFILE_LOOP=10s PROFILE_INTERVAL=20us) ;;
    *) echo "unknown side '$side' (old, new, bert, modes, prof)" >&2; exit 64 ;;
  esac
  { nvidia-smi -L; cat "$B/VERSION"; lscpu | grep -E "Model name|^CPU\(s\)"; nproc
    sha256sum "$backend/$jar"; } >"$out/machine-$side.txt" 2>&1
  start=$(date +%s)
  env "${profile[@]}" BACKEND="$backend" VARIANTS="$variants" BENCH_ARGS="$args ${EXTRA_ARGS:-}" \
    "$here/triton_run.sh" "$out/$side" >"$out/$side.log" 2>&1
  echo "$side: rc=$? in $(( $(date +%s) - start )) s"
  for f in "$out/$side"/profile-*.collapsed; do
    [[ -f $f ]] && grep -a "Executor.execute" "$f" | gzip -9 >"$f.ex.gz"
  done
  cat "$out/$side/table.md" 2>/dev/null
  grep -h 'step times' "$out/$side/server.plain.log" | sed "s/.*model '\([^']*\)', /\1 /; s/\"$//" \
    | awk '{last[$1] = $0} END {for (m in last) print last[m]}' | sort
done
sides=$(echo "$@" | tr ' ' '-')
(cd "$out" && tar -czf "logs-$sides.tgz" --exclude='*.tgz' --exclude='*.collapsed' \
  $(printf '%s ' "$@") $(printf 'machine-%s.txt %s.log ' "$@"))
