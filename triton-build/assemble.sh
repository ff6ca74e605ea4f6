#!/usr/bin/env bash
# Assembles the backend directory Triton loads: <backend-directory>/java_onnxruntime/ holding
# libtriton_java_onnxruntime.so, the libcjson.so.1 it links, and every jar of the backend's class path (the shim puts each
# *.jar of its directory on the class path). The host tests, `make demo` and the Docker image all
# load the directory this script makes: one source of truth for the layout.
#
#   triton-build/assemble.sh DEST [--jre]
#
# Needs a finished build (mvn package): native/build/ and java-backend/target/. With --jre it
# also adds jre/, a Java runtime made with jlink, which the shim finds beside itself.
# A javacpp-cache/ already in DEST (natives JavaCPP extracted on an earlier start) is kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: assemble.sh DEST [--jre]}
jre=0
[[ ${2:-} == --jre ]] && jre=1

shim=$root/native/build/libtriton_java_onnxruntime.so
jar=$(ls "$root"/java-backend/target/java-backend-*.jar 2>/dev/null | grep -v -- '-sources' | head -1 || true)
deps=$root/java-backend/target/backend-jars
for f in "$shim" "$jar" "$deps"; do
  [[ -e $f ]] || { echo "assemble.sh: $f is missing; build first (mvn -DskipTests package)" >&2; exit 1; }
done

# The shim's one library that a Triton image lacks (cJSON, for the backend config) goes beside it:
# the shim finds it through its $ORIGIN run path.
cjson=$(ldd "$shim" | awk '$1 == "libcjson.so.1" { print $3 }')
[[ -f $cjson ]] || { echo "assemble.sh: $shim needs libcjson.so.1, not found (apt install libcjson-dev)" >&2; exit 1; }

mkdir -p "$dest"
rm -f "$dest"/*.jar "$dest"/*.so "$dest"/*.so.*
cp "$shim" "$dest/"
cp -L "$cjson" "$dest/libcjson.so.1"
cp "$jar" "$dest/"
cp "$deps"/*.jar "$dest/"
if ((jre)); then
  rm -rf "$dest/jre"
  jlink --add-modules java.base,java.logging,java.management,jdk.unsupported,java.xml,java.naming \
    --strip-debug --no-header-files --no-man-pages --output "$dest/jre"
fi
echo "assembled $dest: $(ls "$dest" | grep -c '\.jar$') jars, $(basename "$shim"), libcjson.so.1$( ((jre)) && echo ', jre/')"
