#!/usr/bin/env bash
# Where a key hit's microseconds go in the seed: triton_run.sh's seed (stock and keygraph) under
# four cadences, one server each, with step times on. A key hit's steps took 20-25 us in the
# lockstep seed and 4 us in the warm-up's out-of-step traffic on one H100 host
# (bench/results/2026-12-07n-h100-key-map); the cadences tell its candidates apart:
#   lockstep  the seed as always: each cycle's three requests sent together (a barrier)
#   free      out of step: each model's client sends its next request on its answer
#   pause     out of step, with a 1000 us pause after each answer (the seed's idle gap)
#   alone     vit alone, one model's thread, no other instance busy
#   awake     lockstep, with /dev/cpu_dma_latency held at 0 for that server's run
#             (bench/gpu/awake.sh), so a thread that slept ~1 ms between Executes wakes on a core
#             that stayed awake; where it cannot be held, cadence.md says so
#
#   bench/gpu/cadence_run.sh OUTDIR [CADENCE...]   (default: all five, about 5 minutes)
#
# OUTDIR gets <cadence>/ (triton_run.sh's output each) and cadence.md: the host's CPU idle and
# frequency settings, each table's seed and server-time lines, and the last three step-times
# lines (the seed's) of each model of ours. The
# environment is triton_run.sh's; the defaults here are VARIANTS=stock,keygraph, SWEEP_MODELS=,
# CUPTI=0 and JVM_OPTIONS=-Djava_onnxruntime.step-times=100. EXTRA_ARGS: more triton_bench.py
# arguments before each cadence's own (a smoke test on the CPU build: its models and variants).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
mkdir -p "$1" && out=$(cd "$1" && pwd)
shift
cadences=("$@")
[[ ${#cadences[@]} -gt 0 ]] || cadences=(lockstep free pause alone awake)
export VARIANTS=${VARIANTS:-stock,keygraph} SWEEP_MODELS=${SWEEP_MODELS-} CUPTI=${CUPTI:-0}
export JVM_OPTIONS=${JVM_OPTIONS:--Djava_onnxruntime.step-times=100}
base="--jvm-warmup 3000 --only warmup|seed --chain= ${EXTRA_ARGS:-}"
: >"$out/cadence.md"
cpuidle=/sys/devices/system/cpu/cpuidle
idle=$(cat $cpuidle/current_driver 2>/dev/null || echo none)
governor=$(cat $cpuidle/current_governor_ro $cpuidle/current_governor 2>/dev/null | head -1)
freq=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo none)
states=$(for d in /sys/devices/system/cpu/cpu0/cpuidle/state*; do
  echo -n "$(cat "$d/name" 2>/dev/null) ($(cat "$d/latency" 2>/dev/null) us) "; done)
poll=$(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns 2>/dev/null || echo -)
{
  echo "## Host: $(nproc) CPUs; cpuidle driver $idle, governor ${governor:-none}; cpufreq $freq"
  echo
  echo "cpu0's idle states (exit latency): ${states:-none}; guest_halt_poll_ns $poll"
  echo
} >>"$out/cadence.md"
for c in "${cadences[@]}"; do
  case $c in
    lockstep) args="$base" ;;
    free) args="$base --seed-lockstep 0" ;;
    pause) args="$base --seed-lockstep 0 --seed-pause-us 1000" ;;
    alone) args="$base --seed vit" ;;
    awake) args="$base" ;;
    *) echo "unknown cadence '$c' (lockstep, free, pause, alone, awake)" >&2; exit 64 ;;
  esac
  held="" wrap=()
  if [[ $c == awake ]]; then
    if "$here/awake.sh" true 2>/dev/null; then
      held=" /dev/cpu_dma_latency held at 0" wrap=("$here/awake.sh")
    else
      held=" /dev/cpu_dma_latency NOT held (bench/gpu/awake.sh cannot): as lockstep"
    fi
  fi
  start=$(date +%s)
  BENCH_ARGS="$args" "${wrap[@]}" "$here/triton_run.sh" "$out/$c" >"$out/$c.log" 2>&1
  rc=$?
  {
    echo "## $c (rc=$rc in $(( $(date +%s) - start )) s)$held: BENCH_ARGS=\"$args\""
    echo
    sed -n '/^## Seed/,/^Every measured answer/p' "$out/$c/table.md" 2>/dev/null
    echo
    echo '```'
    for m in $(grep -ho "step times: model '[^']*'" "$out/$c/server.plain.log" 2>/dev/null \
        | sort -u | sed "s/.*model '\([^']*\)'/\1/"); do
      grep -h "step times: model '$m'" "$out/$c/server.plain.log" \
        | tail -3 | sed "s/.*model '\([^']*\)', mean us per Execute over [0-9]* Executes of [0-9]* requests: /\1 /; s/ write .*between Executes/ between/; s/\"$//"
    done
    echo '```'
    echo
  } >>"$out/cadence.md"
done
cat "$out/cadence.md"
