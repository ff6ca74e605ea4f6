#!/usr/bin/env bash
# Extracts the backend's native libraries into JavaCPP's cache directory ahead of time, or checks
# that a start would extract nothing. The image runs it at build time (as root), then checks as
# the user the server runs as, who cannot write to the backend directory.
#
#   triton-build/preextract.sh BACKEND_DIR TOOLS_DIR            extract (TOOLS_DIR holds PreExtract.class)
#   triton-build/preextract.sh BACKEND_DIR TOOLS_DIR --check    fail if anything would be extracted
#
# The JVM is started the way the shim starts it: BACKEND_DIR/jre (else JAVA_HOME, else java on
# PATH), every line of BACKEND_DIR/jvm.options, and the cache directory
# BACKEND_DIR/javacpp-cache unless jvm.options sets org.bytedeco.javacpp.cacheDir.
set -euo pipefail
dir=$(cd "${1:?usage: preextract.sh BACKEND_DIR TOOLS_DIR [--check]}" && pwd)
tools=$(cd "${2:?usage: preextract.sh BACKEND_DIR TOOLS_DIR [--check]}" && pwd)
check=0
[[ ${3:-} == --check ]] && check=1

# The classes whose natives the backend loads (JavaCPP runtime, ONNX Runtime with its dnnl and
# OpenCL preloads, cudart, our Triton binding and XXH3).
classes=(
  org.bytedeco.javacpp.Pointer
  org.bytedeco.onnxruntime.global.onnxruntime
  org.bytedeco.cuda.global.cudart
  dev.javaonnxruntime.triton.api.global.TritonApiLib
  dev.javaonnxruntime.cache.Xxh3
)

if [[ -x $dir/jre/bin/java ]]; then
  java=$dir/jre/bin/java
elif [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
  java=$JAVA_HOME/bin/java
else
  java=java
fi

opts=()
if [[ -f $dir/jvm.options ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line#"${line%%[![:space:]]*}"}
    [[ -z $line || $line == \#* ]] && continue
    # shellcheck disable=SC2206 # one option per line, split on blanks like the shim does
    opts+=($line)
  done <"$dir/jvm.options"
fi
cache=$dir/javacpp-cache
for o in "${opts[@]}"; do
  [[ $o == -Dorg.bytedeco.javacpp.cacheDir=* ]] && cache=${o#*=}
done
if [[ " ${opts[*]:-} " != *org.bytedeco.javacpp.cacheDir* ]]; then
  opts=("-Dorg.bytedeco.javacpp.cacheDir=$cache" "${opts[@]}")
fi

cp="$tools:$dir/*"
if ((check)); then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  # JavaCPP's debug log names every extraction ("Extracting jar:...").
  "$java" "${opts[@]}" -Dorg.bytedeco.javacpp.logger.debug=true -cp "$cp" PreExtract "${classes[@]}" >"$log" 2>&1 || {
    cat "$log" >&2
    echo "preextract.sh --check: the pre-extraction tool failed" >&2
    exit 1
  }
  # JavaCPP 1.5.13 skips a cache directory this user cannot write to (the image makes the
  # directory itself, not its contents, writable by the server's user) and falls back to
  # ~/.javacpp/cache or /tmp: a silent 300 MB extraction at every start.
  used=$(sed -n 's/^pre-extract: .* native files from the class path in //p' "$log")
  if [[ $(readlink -f "$used") != $(readlink -f "$cache") ]]; then
    cat "$log" >&2
    echo "preextract.sh --check: JavaCPP used the cache $used, not $cache (is $cache writable by $(id -un)?)" >&2
    exit 1
  fi
  if grep -q 'Extracting ' "$log"; then
    grep 'Extracting ' "$log" >&2
    echo "preextract.sh --check: the files above were not in the cache: a start would write to it" >&2
    exit 1
  fi
  grep '^pre-extract:' "$log"
  echo "preextract.sh --check: nothing to extract; the cache in $dir is complete"
else
  "$java" "${opts[@]}" -cp "$cp" PreExtract "${classes[@]}"
fi
