#!/usr/bin/env bash
# Runs tests/integration against the image (what `make integration` does after `make image`):
# for each repository of the image (KIND_GPU, then KIND_CPU) it starts the server with the GPUs,
# waits until the example models are ready, runs test_server.py with tritonclient (HTTP and gRPC)
# in the NGC client SDK image, prints the server's log on failure, and stops the server.
#
#   tests/integration/run.sh [IMAGE]
#
# Environment: KINDS ("gpu cpu"), TRITON_TAG (26.06, for the SDK image), CLIENT_IMAGE
# (nvcr.io/nvidia/tritonserver:$TRITON_TAG-py3-sdk, which ships tritonclient), CLIENT=local to
# use this machine's python3 with tritonclient[all] instead, HTTP_PORT/GRPC_PORT/METRICS_PORT
# (18000/18001/18002 on localhost), DOCKER (docker), GPUS (all).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
image=${1:-java-onnxruntime-triton:dev}
docker=${DOCKER:-docker}
kinds=${KINDS:-gpu cpu}
tag=${TRITON_TAG:-26.06}
client_image=${CLIENT_IMAGE:-nvcr.io/nvidia/tritonserver:$tag-py3-sdk}
http=${HTTP_PORT:-18000} grpc=${GRPC_PORT:-18001} metrics=${METRICS_PORT:-18002}

"$root/triton-build/docker-check.sh" "$docker" "make integration"
if ! "$docker" image inspect "$image" >/dev/null 2>&1; then
  echo "integration: image $image not found; run make image" >&2
  exit 1
fi

# The reference data the image's models were made with (the build stage's, not this tree's).
testdata=$root/build/integration/testdata
rm -rf "$testdata"
mkdir -p "$testdata"
DOCKER_BUILDKIT=1 "$docker" build -q --target testdata --output "type=local,dest=$testdata" "$root" >/dev/null

name=java-onnxruntime-it-$$
cleanup() { "$docker" rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

status=0
for kind in $kinds; do
  repo=/opt/java_onnxruntime/models-gpu
  [[ $kind == cpu ]] && repo=/opt/java_onnxruntime/models
  echo "== integration: $image, repository $repo (KIND_${kind^^})"
  cleanup
  "$docker" run -d --name "$name" --gpus "${GPUS:-all}" --shm-size=1g \
    -p "127.0.0.1:$http:8000" -p "127.0.0.1:$grpc:8001" -p "127.0.0.1:$metrics:8002" \
    "$image" tritonserver --model-repository="$repo" >/dev/null
  env=(-e "TRITON_HTTP_URL=localhost:$http" -e "TRITON_GRPC_URL=localhost:$grpc"
       -e "TRITON_METRICS_URL=localhost:$metrics" -e "EXPECT_KIND=$kind")
  rc=0
  if [[ ${CLIENT:-docker} == local ]]; then
    (cd "$here" && TRITON_HTTP_URL=localhost:$http TRITON_GRPC_URL=localhost:$grpc \
      TRITON_METRICS_URL=localhost:$metrics EXPECT_KIND=$kind TESTDATA=$testdata \
      python3 -m unittest -v test_server) || rc=$?
  else
    "$docker" run --rm --network host "${env[@]}" -e TESTDATA=/testdata \
      -v "$here:/tests:ro" -v "$testdata:/testdata:ro" -w /tests \
      "$client_image" python3 -m unittest -v test_server || rc=$?
  fi
  if ((rc != 0)); then
    echo "== integration FAILED on KIND_${kind^^}; server log:" >&2
    "$docker" logs "$name" 2>&1 | tail -200 >&2
    status=1
  fi
done
cleanup
exit $status
