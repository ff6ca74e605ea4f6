#!/usr/bin/env bash
# A CPU A/B of two builds: bench/triton/cpu.py (cache off, intra_op_thread_count 1 on both
# backends, step times on) in two built checkouts, interleaved old, new, then new, old, and so on
# for ROUNDS rounds (default 2), so that the noise of this 2-core machine, and its drift within a
# round, fall on both alike. CACHE=key: ours by key (bench/triton/cpu.py). OLD_JVM / NEW_JVM: more
# options for our JVM on that side (an A/B of a JVM setting: the same tree twice). OLD_AWAKE=1 /
# NEW_AWAKE=1: that side's run holds /dev/cpu_dma_latency at 0 (bench/gpu/awake.sh), for both
# backends of its server.
# OLD_ENV / NEW_ENV: NAME=VALUE words for that side's server environment (e.g. MALLOC_ARENA_MAX=64).
# CYCLES / WARMUP: measured and warm-up cycles of each run (default 2500 and 6000).
#   bench/triton/cpu_ab.sh OLD_TREE NEW_TREE OUTDIR   (each tree: `make build` done; OUTDIR/ab.md:
#   ours minus stock per side, bench/triton/cpu_ab_table.py)
set -uo pipefail
[[ $# -eq 3 ]] || { sed -n '2,12p' "$0"; exit 64; }
mkdir -p "$3"
awake_sh=$(cd "$(dirname "$0")/../gpu" && pwd)/awake.sh
if [[ ${OLD_AWAKE:-0} == 1 || ${NEW_AWAKE:-0} == 1 ]]; then
  "$awake_sh" true || exit 1
fi
for round in $(seq 1 "${ROUNDS:-2}"); do
  order="old new"; (( round % 2 == 0 )) && order="new old"
  for side in $order; do
    dir=$2 jvm=${NEW_JVM:-} awake=${NEW_AWAKE:-0} vars=${NEW_ENV:-}
    [[ $side == old ]] && dir=$1 jvm=${OLD_JVM:-} awake=${OLD_AWAKE:-0} vars=${OLD_ENV:-}
    out=$(cd "$3" && pwd)/$side-$round
    wrap=(); [[ $awake == 1 ]] && wrap=("$awake_sh")
    # shellcheck disable=SC2086 # $vars: NAME=VALUE words
    (cd "$dir" && "${wrap[@]}" env $vars THREADS=1 CYCLES="${CYCLES:-2500}" WARMUP="${WARMUP:-6000}" \
      JVM_OPTIONS="-Djava_onnxruntime.step-times=${CYCLES:-2500}${jvm:+ $jvm}" \
      timeout 500 /usr/bin/python3 bench/triton/cpu.py "$out" >"$out.log" 2>&1)
    echo "$side-$round: $(head -1 "$out/table.md")"
  done
done
/usr/bin/python3 "$(dirname "$0")/cpu_ab_table.py" "$3" | tee "$3/ab.md"
