#!/usr/bin/env bash
# Stages, from a finished build, everything the Docker image installs (the Dockerfile's build
# stage runs this script; running it here gives the same tree to test without Docker):
#
#   OUT/backends/java_onnxruntime/   the backend directory, made by assemble.sh --jre, plus jvm.options
#   OUT/tools/                       PreExtract.class and preextract.sh (fill / check the JavaCPP cache)
#   OUT/models/                      the example model repository as generated (KIND_CPU)
#   OUT/models-gpu/                  the same models with instance_group kind KIND_GPU
#   OUT/testdata/                    reference requests and outputs (for tests/integration)
#
#   triton-build/stage-image.sh OUT
#
# Needs `make models` and `mvn -DskipTests package` done (with -Donnxruntime.classifier=
# linux-x86_64-gpu for the GPU image: jvm.options then selects JavaCPP's -gpu natives).
# The natives are not extracted here: the image does that in its final stage (preextract.sh),
# where the paths are the ones the server uses.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: stage-image.sh OUT}
mkdir -p "$out"
out=$(cd "$out" && pwd)
be=$out/backends/java_onnxruntime

for f in "$root/model_repository/conv_net/1/model.onnx" "$root/build/testdata"; do
  [[ -e $f ]] || { echo "stage-image.sh: $f is missing; run make models first" >&2; exit 1; }
done

rm -rf "$out/backends" "$out/tools" "$out/models" "$out/models-gpu" "$out/testdata"
"$root/triton-build/assemble.sh" "$be" --jre

# Exactly one ONNX Runtime natives jar: the CPU build or the GPU build, never both.
ort=$(cd "$be" && ls onnxruntime-*-linux-x86_64*.jar)
if [[ $(wc -l <<<"$ort") != 1 ]]; then
  echo "stage-image.sh: expected one ONNX Runtime natives jar in $be, found: $ort" >&2
  echo "  (java-backend/target/backend-jars holds jars of two builds: mvn clean, then package)" >&2
  exit 1
fi
{
  echo "# JVM options of the java_onnxruntime backend: one per line, read by the shim at start,"
  echo "# before --backend-config=java_onnxruntime,jvm-options=... (which wins)."
  echo "# JavaCPP's cache is <backend dir>/javacpp-cache unless an option here sets"
  echo "# -Dorg.bytedeco.javacpp.cacheDir; the image fills it at build time."
  if [[ $ort == *-gpu.jar ]]; then
    echo "# ONNX Runtime's GPU natives (jar classifier linux-x86_64-gpu):"
    echo "-Dorg.bytedeco.javacpp.platform.extension=-gpu"
  fi
} >"$be/jvm.options"

mkdir -p "$out/tools"
javacpp=
for j in "$be"/javacpp-*.jar; do [[ $j == *-linux-* ]] || javacpp=$j; done
javac --release 17 -d "$out/tools" -cp "$javacpp" "$root/triton-build/PreExtract.java"
cp "$root/triton-build/preextract.sh" "$out/tools/"

for m in "$root"/model_repository/*/; do
  m=${m%/}
  [[ -f $m/config.pbtxt ]] || continue
  name=$(basename "$m")
  mkdir -p "$out/models/$name" "$out/models-gpu/$name"
  cp -r "$m/." "$out/models/$name/"
  cp -r "$m/." "$out/models-gpu/$name/"
  sed -i 's/kind: KIND_CPU/kind: KIND_GPU/' "$out/models-gpu/$name/config.pbtxt"
done
cp "$root/model_repository/README.md" "$out/models/README.md"
cat >"$out/models-gpu/README.md" <<'EOF'
# Example models on the GPU

The models of ../models (see its README.md), with `instance_group [ { kind: KIND_GPU count: 2 } ]`
instead of KIND_CPU: each instance runs ONNX Runtime's CUDA execution provider on its own CUDA
stream, and the input cache keeps inputs on the device. To move a model of your own to the GPU,
change `kind: KIND_CPU` to `kind: KIND_GPU` in its config.pbtxt (add `gpus: [ 0 ]` to pin a device).
EOF
cp -r "$root/build/testdata" "$out/testdata"
natives=CPU
[[ $ort == *-gpu.jar ]] && natives=GPU
echo "staged $out: backends/java_onnxruntime (ONNX Runtime $natives natives), tools, models, models-gpu, testdata"
