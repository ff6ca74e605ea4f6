#!/usr/bin/env bash
# Builds the self-contained GPU benchmark bundle under build/bench-gpu/bundle (for a CUDA machine
# with no Java and no network) and splits it into parts for the device tool under .gpu/.
# The CPU build is never touched: the backend directory is assembled from the same jars, with
# ONNX Runtime's CPU natives swapped for its GPU build (fetched once into build/bench-gpu/jars).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=build/bench-gpu
bundle=$out/bundle
ort_version=$(sed -n 's:.*<onnxruntime.version>\(.*\)</onnxruntime.version>.*:\1:p' pom.xml)
gpu_jar=$out/jars/onnxruntime-$ort_version-linux-x86_64-gpu.jar
if [[ ! -e $gpu_jar ]]; then
  mkdir -p "$out/jars"
  ${MVN:-mvn -B} -q dependency:copy -Dartifact="org.bytedeco:onnxruntime:$ort_version:jar:linux-x86_64-gpu" \
    -DoutputDirectory="$out/jars"
fi
rm -rf "$bundle"
mkdir -p "$bundle/backends" "$bundle/host" "$bundle/lib" "$bundle/bench/gpu" "$bundle/examples" "$bundle/tools"
be=$bundle/backends/java_onnxruntime
triton-build/assemble.sh "$be"
rm -f "$be"/onnxruntime-*-linux-x86_64.jar
cp "$gpu_jar" "$be/"
# GraphProbe and HashBenchmark: beside the backend's jars on the class path, never in its directory.
cp tools/target/java-onnxruntime-tools-*.jar "$bundle/tools/"
# jdk.jcmd: jcmd for bench/gpu/stress_run.sh (the JVM's heap after a full GC, NMT, its threads).
jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,java.xml,java.naming,jdk.jcmd \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$be/jre" 2>/dev/null
cp host/build/triton-host host/build/libtritonserver.so "$bundle/host/"
# Libraries the host needs that Ubuntu may lack (Debian's libcjson, libjson-c and libprotobuf).
for lib in $(ldd host/build/libtritonserver.so | awk '/libcjson|libjson-c|libprotobuf/ {print $3}'); do cp -L "$lib" "$bundle/lib/"; done
cp bench/gpu/run.sh bench/gpu/graph_probe.sh bench/gpu/make_models.py bench/gpu/report.py bench/gpu/plot.py bench/gpu/cupti_count.c bench/gpu/README.md \
  bench/gpu/triton_run.sh bench/gpu/triton_models.py bench/gpu/triton_bench.py bench/gpu/triton_report.py \
  bench/gpu/cuda_shm_run.sh bench/gpu/cuda_shm_check.py bench/gpu/sweep_report.py bench/gpu/graph_check.py bench/gpu/cudnn.sh bench/gpu/ab_run.sh bench/gpu/cadence_run.sh bench/gpu/awake.sh bench/gpu/side_run.sh "$bundle/bench/gpu/"
# bench/gpu/stress_run.sh: make stress-triton's scripts in their checkout layout, the models it
# serves (stress_triton.py's MODELS) and the reference data it reads (make models).
cp bench/gpu/stress_run.sh "$bundle/bench/gpu/"
mkdir -p "$bundle/scripts" "$bundle/tests/integration" "$bundle/stress/models" "$bundle/stress/testdata"
cp scripts/stress_triton.py scripts/stress_common.py "$bundle/scripts/"
cp tests/integration/local_server.py tests/integration/helpers.py "$bundle/tests/integration/"
for m in text_encoder dtypes two_input chain_encoder chain_head fails_at_runtime; do
  mkdir -p "$bundle/stress/models/$m/1"
  cp "model_repository/$m/config.pbtxt" "$bundle/stress/models/$m/"
  cp "model_repository/$m/1/model.onnx" "$bundle/stress/models/$m/1/"
done
for m in text_encoder two_input chain_encoder chain_head; do cp -r "build/testdata/$m" "$bundle/stress/testdata/"; done
# async-profiler (Maven Central) for triton_run.sh PROFILE=1: Java and native frames in the server.
ap_jar=$HOME/.m2/repository/tools/profiler/async-profiler/4.1/async-profiler-4.1.jar
[[ -e $ap_jar ]] || ${MVN:-mvn -B} -q dependency:get -Dartifact=tools.profiler:async-profiler:4.1
unzip -p "$ap_jar" linux-x64/libasyncProfiler.so >"$bundle/lib/libasyncProfiler.so"
# perf_analyzer (HTTP only) for the concurrency sweep, where ../shared has it.
if [[ -x ../shared/perf_analyzer/bin/perf_analyzer ]]; then
  mkdir -p "$bundle/perf_analyzer/bin"
  cp ../shared/perf_analyzer/bin/perf_analyzer "$bundle/perf_analyzer/bin/"
fi
# The real Triton server's GPU build for bench/gpu/triton_run.sh (the stock backend's ONNX Runtime
# libraries come from the GPU jar above, unpacked on the device).
triton=${TRITON_GPU:-../shared/tritonserver-2.70/gpu}
if [[ -x $triton/bin/tritonserver ]]; then
  mkdir -p "$bundle/tritonserver/backends/onnxruntime"
  cp -r "$triton/bin" "$triton/lib" "$triton/deplib" "$bundle/tritonserver/"
  cp "$triton/backends/onnxruntime/libtriton_onnxruntime.so" "$bundle/tritonserver/backends/onnxruntime/"
else
  echo "no $triton/bin/tritonserver: the bundle has no tritonserver/ (bench/gpu/triton_run.sh needs TRITON=...)" >&2
fi
for m in conv_net vit_patch text_encoder two_input; do
  mkdir -p "$bundle/examples/$m/1"
  cp "model_repository/$m/config.pbtxt" "$bundle/examples/$m/"
  cp "model_repository/$m/1/model.onnx" "$bundle/examples/$m/1/"
done
{ echo "bundle: $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty) built $(date -u +%FT%TZ)"; } >"$bundle/VERSION"
echo "bundle: $(du -sh "$bundle" | cut -f1) in $bundle; run: $bundle/bench/gpu/run.sh OUTDIR (host) or $bundle/bench/gpu/triton_run.sh OUTDIR (real tritonserver) or $bundle/bench/gpu/stress_run.sh OUTDIR (make stress-triton there)"
if [[ ${STAGE:-1} == 1 && -x ../shared/gpu/stage ]]; then
  ../shared/gpu/stage .gpu "$bundle"/*
fi
