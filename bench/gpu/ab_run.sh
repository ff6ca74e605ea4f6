#!/usr/bin/env bash
# Two builds of our backend in one GPU lease: triton_run.sh's seed replay twice, first with the
# java-backend jar OLD_JAR in place of the bundle's, then with the bundle's own, each against the
# stock backend in its own server, with step times on. Leases differ by tens of percent, so a
# before/after of our request path is only read from one lease.
#
#   bench/gpu/ab_run.sh OUTDIR OLD_JAR
#
# OUTDIR gets old/ and new/ (triton_run.sh's output each) and ab.md: both tables and the last
# step-times line of each model. Environment: what triton_run.sh takes; the defaults here are
# VARIANTS=stock,ort,key,content, SWEEP_MODELS= (no sweep), CUPTI=0,
# BENCH_ARGS="--jvm-warmup 3000 --only warmup|seed --chain=" and
# JVM_OPTIONS=-Djava_onnxruntime.step-times=100. Each instance serves 3000 warm-up Executes, then
# 201 per seed repetition (3), so the last step-times line, the 3,600th Execute's, covers the
# third repetition's seed alone; with 1000 it was the warm-up's (a hot loop, not the seed's cycle).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$here/../.." && pwd)
[[ $# -eq 2 && -f $2 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
mkdir -p "$1" && out=$(cd "$1" && pwd)
be=$(cd "${BACKEND:-$B/backends/java_onnxruntime}" && pwd)
jar=$(cd "$be" && ls java-backend-*.jar)
old_be=${WORK:-/tmp/bench-triton-work}-old-backend
rm -rf "$old_be" && cp -a "$be" "$old_be" && cp "$2" "$old_be/$jar" || exit 1
export VARIANTS=${VARIANTS:-stock,ort,key,content} SWEEP_MODELS=${SWEEP_MODELS-} CUPTI=${CUPTI:-0}
export BENCH_ARGS=${BENCH_ARGS:---jvm-warmup 3000 --only warmup|seed --chain=}
export JVM_OPTIONS=${JVM_OPTIONS:--Djava_onnxruntime.step-times=100}
: >"$out/ab.md"
for side in old new; do
  backend=$be
  [[ $side == old ]] && backend=$old_be
  BACKEND=$backend "$here/triton_run.sh" "$out/$side" >"$out/$side.log" 2>&1
  {
    echo "## $side: $(sha256sum "$backend/$jar" | cut -c1-12) ($(tail -1 "$out/$side.log"))"
    echo
    cat "$out/$side/table.md" 2>/dev/null
    echo
    echo '```'
    # The last step-times line of each model: its instance after the warm-up.
    grep -h 'step times' "$out/$side/server.plain.log" | sed "s/.*model '\([^']*\)', /\1 /; s/\"$//" \
      | awk '{last[$1] = $0} END {for (m in last) print last[m]}' | sort
    echo '```'
    echo
  } >>"$out/ab.md"
done
cat "$out/ab.md"
