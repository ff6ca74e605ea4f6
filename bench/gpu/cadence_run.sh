#!/usr/bin/env bash
# Where a key hit's microseconds go in the seed: triton_run.sh's seed (stock and keygraph) under
# four cadences, one server each, with step times on. A key hit's steps took 20-25 us in the
# lockstep seed and 4 us in the warm-up's out-of-step traffic on one H100 host
# (bench/results/2026-12-07n-h100-key-map); the cadences tell its candidates apart:
#   lockstep  the seed as always: each cycle's three requests sent together (a barrier)
#   free      out of step: each model's client sends its next request on its answer
#   pause     out of step, with a 1000 us pause after each answer (the seed's idle gap)
#   alone     vit alone, one model's thread, no other instance busy
#
#   bench/gpu/cadence_run.sh OUTDIR [CADENCE...]   (default: all four, about 4 minutes)
#
# OUTDIR gets <cadence>/ (triton_run.sh's output each) and cadence.md: each table's seed and
# server-time lines and each keygraph model's last three step-times lines (the seed's). The
# environment is triton_run.sh's; the defaults here are VARIANTS=stock,keygraph, SWEEP_MODELS=,
# CUPTI=0 and JVM_OPTIONS=-Djava_onnxruntime.step-times=100. EXTRA_ARGS: more triton_bench.py
# arguments before each cadence's own (a smoke test on the CPU build: its models and variants).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
mkdir -p "$1" && out=$(cd "$1" && pwd)
shift
cadences=("$@")
[[ ${#cadences[@]} -gt 0 ]] || cadences=(lockstep free pause alone)
export VARIANTS=${VARIANTS:-stock,keygraph} SWEEP_MODELS=${SWEEP_MODELS-} CUPTI=${CUPTI:-0}
export JVM_OPTIONS=${JVM_OPTIONS:--Djava_onnxruntime.step-times=100}
base="--jvm-warmup 3000 --only warmup|seed --chain= ${EXTRA_ARGS:-}"
: >"$out/cadence.md"
for c in "${cadences[@]}"; do
  case $c in
    lockstep) args="$base" ;;
    free) args="$base --seed-lockstep 0" ;;
    pause) args="$base --seed-lockstep 0 --seed-pause-us 1000" ;;
    alone) args="$base --seed vit" ;;
    *) echo "unknown cadence '$c' (lockstep, free, pause, alone)" >&2; exit 64 ;;
  esac
  start=$(date +%s)
  BENCH_ARGS="$args" "$here/triton_run.sh" "$out/$c" >"$out/$c.log" 2>&1
  rc=$?
  {
    echo "## $c (rc=$rc in $(( $(date +%s) - start )) s): BENCH_ARGS=\"$args\""
    echo
    sed -n '/^## Seed/,/^Every measured answer/p' "$out/$c/table.md" 2>/dev/null
    echo
    echo '```'
    for m in vit bert resnet50; do
      grep -h "step times: model '${m}__keygraph'" "$out/$c/server.plain.log" 2>/dev/null \
        | tail -3 | sed "s/.*model '\([^']*\)', mean us per Execute over [0-9]* Executes of [0-9]* requests: /\1 /; s/ write .*between Executes/ between/; s/\"$//"
    done
    echo '```'
    echo
  } >>"$out/cadence.md"
done
cat "$out/cadence.md"
