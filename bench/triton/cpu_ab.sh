#!/usr/bin/env bash
# A CPU A/B of two builds: bench/triton/cpu.py (cache off, intra_op_thread_count 1 on both
# backends, step times on) in two built checkouts, interleaved old, new, old, new, so that the
# noise of this 2-core machine falls on both alike.
#   bench/triton/cpu_ab.sh OLD_TREE NEW_TREE OUTDIR   (each tree: `make build` done)
set -uo pipefail
[[ $# -eq 3 ]] || { sed -n '2,5p' "$0"; exit 64; }
mkdir -p "$3"
for round in 1 2; do
  for side in old new; do
    dir=$2; [[ $side == old ]] && dir=$1
    out=$(cd "$3" && pwd)/$side-$round
    (cd "$dir" && THREADS=1 CYCLES=2500 WARMUP=6000 JVM_OPTIONS="-Djava_onnxruntime.step-times=2500" \
      timeout 500 /usr/bin/python3 bench/triton/cpu.py "$out" >"$out.log" 2>&1)
    echo "$side-$round: $(head -1 "$out/table.md")"
  done
done
