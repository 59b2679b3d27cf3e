#!/usr/bin/env bash
# Regenerates the committed FFM bindings of gguf4j.h and gguf4j_cuda.h with jextract.
#
#   native/jextract.sh /path/to/jextract-install     (or JEXTRACT_HOME=...; also run by `mvn -Pjextract -Djextract.home=...`)
#
# jextract is in no registry, so its output is committed (java/core/src/main/java/dev/gguf4j/internal/bindings)
# and this script is how it is remade after a header changes. No -l option: symbols resolve through the
# library that dev.gguf4j.internal.NativeLoader loads (SymbolLookup.loaderLookup()).
#
# Building jextract without gradle (its wrapper downloads Gradle; the committed output came from
# openjdk/jextract master f9866df, which needs JDK 23+, with Debian's libclang 14):
#   apt-get install libclang1-14 libclang-common-14-dev      # libclang + clang's builtin headers
#   git -C JEXTRACT_GIT archive f9866df src/main | tar -x -C SRC
#   javac --release 25 -d CLS $(find SRC/src/main/java -name '*.java'); cp -r SRC/src/main/resources/. CLS/
#   jar --create --file HOME/lib/org.openjdk.jextract.jar --module-version 23 -C CLS .
#   ln -s /usr/lib/llvm-14/lib/libclang.so.1 HOME/lib/libclang.so   # System.loadLibrary("clang")
# and HOME/bin/jextract runs:
#   java --enable-native-access=org.openjdk.jextract -Djava.library.path=HOME/lib \
#     -Djextract.header.path=/usr/lib/llvm-14/lib/clang/14.0.6/include \
#     -p HOME/lib/org.openjdk.jextract.jar -m org.openjdk.jextract/org.openjdk.jextract.JextractTool "$@"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
home="${1:-${JEXTRACT_HOME:-}}"
[ -n "$home" ] || { echo "usage: $0 JEXTRACT_HOME (the folder holding bin/jextract)" >&2; exit 2; }
jx="$home/bin/jextract"
[ -x "$jx" ] || { echo "no executable jextract at $jx" >&2; exit 2; }
out="$here/java/core/src/main/java"
pkg=dev.gguf4j.internal.bindings
rm -rf "$out/dev/gguf4j/internal/bindings"

# CPU library: every g4j_ function and the enums' constants.
syms=()
for f in $(grep -oE '\bg4j_[a-z0-9_]+[[:space:]]*\(' "$here/native/include/gguf4j.h" | tr -d '( ' | sort -u); do syms+=(--include-function "$f"); done
for c in $(grep -oE '^[[:space:]]+G4J_[A-Z0-9_]+[[:space:]]*=' "$here/native/include/gguf4j.h" | tr -d '= ' | sort -u); do syms+=(--include-constant "$c"); done
"$jx" --output "$out" -t "$pkg" --header-class-name GgufNative "${syms[@]}" --include-constant G4J_ABI_VERSION \
  "$here/native/include/gguf4j.h"

# CUDA library: its own header class, and the device-info struct.
syms=()
for f in $(grep -oE '\bg4j_cuda_[a-z0-9_]+[[:space:]]*\(' "$here/cuda/include/gguf4j_cuda.h" | tr -d '( ' | sort -u); do syms+=(--include-function "$f"); done
"$jx" --output "$out" -t "$pkg" --header-class-name GgufCudaNative "${syms[@]}" --include-constant G4J_CUDA_ABI_VERSION \
  --include-struct g4j_cuda_device_info -I "$here/native/include" "$here/cuda/include/gguf4j_cuda.h"

echo "bindings written to $out/${pkg//.//}"
