#!/usr/bin/env bash
# Static checks of the Dockerfile, without Docker (make lint-docker; CI runs it after make test):
#  1. dockerfile-utils lint (npm package dockerfile-utils, the linter behind the VS Code Docker
#     extension; installed once into build/tools/); hadolint is on neither npm nor Debian.
#  2. the paths every COPY needs: the build context, .dockerignore, and what the build stage
#     produces, staged here with the same script the build stage runs (needs a finished build:
#     make build, or make test).
set -euo pipefail
cd "$(dirname "$0")/.."
version=0.16.3
tools=build/tools/dockerfile-utils
lint=$tools/node_modules/.bin/dockerfile-utils
if [[ ! -x $lint ]]; then
  command -v npm >/dev/null || { echo "check-dockerfile: npm is needed to install dockerfile-utils (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "dockerfile-utils@$version" >/dev/null
fi
"$lint" lint Dockerfile
echo "check-dockerfile: dockerfile-utils $version lint: no problems"

if [[ ! -e native/build/libtriton_java_onnxruntime.so || ! -d java-backend/target/backend-jars ]]; then
  echo "check-dockerfile: no finished build to stage the image from; run make build first" >&2
  exit 1
fi
triton-build/stage-image.sh build/image >/dev/null
/usr/bin/python3 scripts/check-dockerfile-paths.py
