#!/usr/bin/env bash
# Says clearly, and fails, when Docker cannot build or run images here.
#   triton-build/docker-check.sh DOCKER "WHAT NEEDS IT"
set -uo pipefail
docker=${1:-docker}
what=${2:-this target}
if ! command -v "$docker" >/dev/null 2>&1; then
  echo "$what needs Docker: '$docker' is not installed on this machine (https://docs.docker.com/engine/install/)." >&2
  exit 1
fi
if ! out=$("$docker" info --format '{{.ServerVersion}}' 2>&1); then
  echo "$what needs a running Docker engine: '$docker info' failed here (the client is installed, but no engine answers):" >&2
  echo "$out" | sed '/^[[:space:]]*$/d; s/^/  /' | head -5 >&2
  exit 1
fi
echo "docker: engine $out"
