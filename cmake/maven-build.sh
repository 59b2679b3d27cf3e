#!/usr/bin/env bash
# Drives the CMake projects from Maven (native/pom.xml). One place that knows the build directories and
# the layout inside the classifier jars:  dev/gguf4j/native/<classifier-os-arch>/lib*.so
#
#   cmake/maven-build.sh cpu      TARGET_DIR VERSION   configure + build native/, stage libgguf4j.so
#   cmake/maven-build.sh test     TARGET_DIR           ctest of the CPU build
#   cmake/maven-build.sh sanitize TARGET_DIR           native tests again under ASan + UBSan
#   cmake/maven-build.sh cuda     TARGET_DIR VERSION   same for cuda/ when nvcc exists, else one line saying it is skipped
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
what="$1"; target="$2"; version="${3:-0.0.0}"
jobs="${G4J_BUILD_JOBS:-$(nproc)}"
stage_dir() { echo "$target/jar-$1/dev/gguf4j/native/linux-x86_64"; }

case "$what" in
  cpu)
    cmake -S "$here/native" -B "$target/cmake-cpu" -DCMAKE_BUILD_TYPE=Release -DG4J_VERSION_STRING="$version" >/dev/null
    cmake --build "$target/cmake-cpu" -j "$jobs"
    mkdir -p "$(stage_dir linux-x86_64)"
    cp "$target/cmake-cpu/libgguf4j.so" "$(stage_dir linux-x86_64)/"
    ;;
  test)
    ctest --test-dir "$target/cmake-cpu" --output-on-failure
    ;;
  sanitize)
    cmake -S "$here/native" -B "$target/cmake-sanitize" -DCMAKE_BUILD_TYPE=Debug -DG4J_SANITIZE=ON >/dev/null
    cmake --build "$target/cmake-sanitize" -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$target/cmake-sanitize" --output-on-failure
    ;;
  cuda)
    if ! command -v nvcc >/dev/null 2>&1; then
      echo "[gguf4j] nvcc not found on PATH: skipping the CUDA library (no linux-x86_64-cuda jar in this build)"
      exit 0
    fi
    cmake -S "$here/cuda" -B "$target/cmake-cuda" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$target/cmake-cuda" -j "$jobs"
    ctest --test-dir "$target/cmake-cuda" --output-on-failure
    mkdir -p "$(stage_dir linux-x86_64-cuda)"
    cp "$target/cmake-cuda/libgguf4j_cuda.so" "$(stage_dir linux-x86_64-cuda)/"
    ;;
  *) echo "usage: $0 cpu|test|sanitize|cuda TARGET_DIR [VERSION]" >&2; exit 2 ;;
esac
