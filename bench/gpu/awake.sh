#!/usr/bin/env bash
# Runs COMMAND with /dev/cpu_dma_latency held at 0: the kernel's PM QoS request that keeps idle
# CPUs out of every C-state with an exit latency (tuned's latency-performance profile does the
# same), so a thread that slept between requests wakes on a core that stayed awake. The request
# holds while a descriptor that wrote it is open: COMMAND and its children inherit it, and it ends
# with the last of them. Needs root; where the request cannot be made, exits 75 and runs nothing.
#
#   bench/gpu/awake.sh COMMAND [ARG...]        (bench/gpu/awake.sh true: can it be held here?)
set -uo pipefail
[[ $# -ge 1 ]] || { sed -n '2,/^set /{/^#/p}' "$0"; exit 64; }
# Four bytes: the latency in us.
{ exec 3>/dev/cpu_dma_latency && printf '\0\0\0\0' >&3; } 2>/dev/null \
  || { echo "awake.sh: cannot hold /dev/cpu_dma_latency at 0" >&2; exit 75; }
exec "$@"
