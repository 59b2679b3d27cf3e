#!/usr/bin/env bash
# cuda/device-check.sh - everything the CUDA library needs checked on a real GPU, in one run (meant for a lent
# H100/H200 machine: CUDA 13, no network, no JDK, 16 cores; finishes in a few minutes).
#
#   cuda/device-check.sh [BUILD_DIR]        (default /tmp/g4j-device-check)
#
#  1. detects the GPU's compute capability (nvidia-smi, else nvcc's __nvcc_device_query) and builds libgguf4j_cuda,
#     its tests and bench_cuda for that architecture only;
#     (with CMake when it is installed, else the same targets with nvcc/gcc directly; G4J_NO_CMAKE=1 forces that);
#  2. tests: test_cuda_device (probe), test_blocks_host (host block math), test_cuda_ops (every op on the GPU vs CPU
#     references; must PASS here, a skip counts as a failure since a GPU is expected);
#  3. bench_cuda: matmul timings (GB/s at n=1, TFLOP/s at n=512) next to the measured copy bandwidth;
#  4. hook for the Java side: if cuda/device-check-java.sh exists (written by whoever owns the Java GPU checks) it runs
#     with G4J_CUDA_LIB (the built library) and JAVA (from $G4J_JAVA, else .jre/bin/java, if present) exported.
# Prints a summary table; exit status non-zero if any step failed. Logs: BUILD_DIR/*.log.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-/tmp/g4j-device-check}"
mkdir -p "$build"
jobs="$(nproc 2>/dev/null || echo 8)"
declare -a names=() results=() notes=()
record() { names+=("$1"); results+=("$2"); notes+=("$3"); }
t_start=$(date +%s)

# ---- 1. architecture
arch=""
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1
  arch="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
fi
if [[ -z "$arch" ]]; then
  for q in "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")/__nvcc_device_query" /usr/local/cuda/bin/__nvcc_device_query; do
    if [[ -x "$q" ]]; then arch="$("$q" 2>/dev/null | tr ',' '\n' | head -1 | tr -d ' ')"; break; fi
  done
fi
if [[ -z "$arch" ]]; then
  echo "device-check: no GPU architecture detected (nvidia-smi / __nvcc_device_query); building for 90" >&2
  arch=90
  record "detect GPU" FAIL "no GPU found"
else
  record "detect GPU" ok "sm_$arch"
fi

# ---- build: CMake if present, else the same targets with nvcc/gcc directly (a bare machine may lack cmake)
build_without_cmake() {
  local cu="nvcc -std=c++17 -O3 -arch=sm_$arch --expt-relaxed-constexpr -Xcompiler -fPIC,-fvisibility=hidden"
  local inc="-I$here/cuda/include -I$here/native/include -I$here/cuda/src -I$here/native/src -I$here/cuda/tests"
  local cc="gcc -std=gnu11 -O2 -fPIC -fvisibility=hidden -ffp-contract=off -fno-math-errno -I$here/native/include -I$here/native/src"
  local avx2="-mavx -mavx2 -mfma -mf16c" avx512="-mavx -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl"
  mkdir -p "$build/obj" || return 1
  local pids=() f flags
  for f in "$here"/native/src/*.c; do
    flags=""; case "$f" in *avx512*) flags="$avx512" ;; *avx2*) flags="$avx2" ;; esac
    $cc $flags -DG4J_BUILDING_LIBRARY -DG4J_VERSION_STRING='"device-check"' -c "$f" -o "$build/obj/$(basename "$f").o" & pids+=($!)
  done
  for f in "$here"/cuda/src/*.cu; do
    $cu $inc -DG4J_CUDA_BUILDING_LIBRARY -c "$f" -o "$build/obj/$(basename "$f").o" & pids+=($!)
  done
  local ok=1 p
  for p in "${pids[@]}"; do wait "$p" || ok=0; done
  [[ $ok == 1 ]] || return 1
  gcc -shared -o "$build/libgguf4j.so" "$build"/obj/*.c.o -lpthread -lm || return 1
  nvcc -shared -cudart static -arch=sm_$arch -o "$build/libgguf4j_cuda.so" "$build"/obj/*.cu.o -Xlinker --no-undefined || return 1
  local rp="-Wl,-rpath,$build"
  gcc -std=gnu11 -O2 $inc "$here/cuda/tests/test_device.c" -o "$build/test_cuda_device" -L"$build" -lgguf4j_cuda $rp || return 1
  gcc -std=gnu11 -O2 $inc "$here/cuda/tests/test_cuda_ops.c" -o "$build/test_cuda_ops" -L"$build" -lgguf4j_cuda -lgguf4j -lm $rp || return 1
  nvcc -std=c++17 -O2 -arch=compute_$arch $inc "$here/cuda/tests/test_blocks_host.cu" -o "$build/test_blocks_host" \
    -L"$build" -lgguf4j -Xlinker -rpath,"$build" || return 1
  local root="" d
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda "$(dirname "$(readlink -f "$(command -v nvcc)")")/.."; do
    if [[ -n "$d" && -f "$d/include/cuda_runtime_api.h" ]]; then root="$d"; break; fi
  done
  [[ -n "$root" ]] || { echo "CUDA toolkit root not found (set CUDA_HOME)"; return 1; }
  gcc -std=gnu11 -O2 $inc -I"$root/include" "$here/cuda/bench/bench_cuda.c" -o "$build/bench_cuda" \
    -L"$build" -lgguf4j_cuda -lgguf4j -L"$root/lib64" -lcudart_static -ldl -lrt -lpthread -lm $rp || return 1
}

t0=$(date +%s)
if command -v cmake >/dev/null 2>&1 && [[ -z "${G4J_NO_CMAKE:-}" ]]; then
  how=cmake
  cmake -S "$here/cuda" -B "$build" -DCMAKE_BUILD_TYPE=Release -DG4J_CUDA_ARCHITECTURES="$arch" -DG4J_CUDA_BENCH=ON \
    >"$build/configure.log" 2>&1 && cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1
  rc=$?
else
  how=nvcc
  build_without_cmake >"$build/build.log" 2>&1
  rc=$?
fi
if [[ $rc == 0 ]]; then
  record "build (sm_$arch, $how)" ok "$(( $(date +%s) - t0 )) s"
  built=1
else
  tail -30 "$build/build.log"
  record "build (sm_$arch, $how)" FAIL "see $build/build.log"
  built=0
fi

# ---- 2. tests (run directly: exit 0 passes; 77 is a skip, which counts as a failure where a GPU is expected)
if [[ $built == 1 ]]; then
  for t in test_cuda_device test_blocks_host test_cuda_ops; do
    t0=$(date +%s)
    timeout 420 "$build/$t" >"$build/$t.log" 2>&1
    rc=$?
    case $rc in
      0) res=ok; note="$(( $(date +%s) - t0 )) s" ;;
      77) res=FAIL; note="skipped: $(grep -m1 'SKIP:' "$build/$t.log")" ;;
      *) res=FAIL; note="exit $rc, see $build/$t.log" ;;
    esac
    echo "==== $t: $res"
    head -150 "$build/$t.log"
    record "$t" "$res" "$note"
  done

  # ---- 3. bench
  t0=$(date +%s)
  if timeout 300 "$build/bench_cuda" >"$build/bench.log" 2>&1; then
    record "bench_cuda" ok "$(( $(date +%s) - t0 )) s"
  else
    record "bench_cuda" FAIL "see $build/bench.log"
  fi
  cat "$build/bench.log"
fi

# ---- 4. Java hook
if [[ -x "$here/cuda/device-check-java.sh" || -f "$here/cuda/device-check-java.sh" ]]; then
  java="${G4J_JAVA:-}"
  [[ -z "$java" && -x "$here/.jre/bin/java" ]] && java="$here/.jre/bin/java"
  if [[ -z "$java" ]]; then
    record "java checks" SKIP "no Java runtime (set G4J_JAVA or provide .jre/bin/java)"
  else
    t0=$(date +%s)
    if G4J_CUDA_LIB="$build/libgguf4j_cuda.so" JAVA="$java" bash "$here/cuda/device-check-java.sh" >"$build/java.log" 2>&1; then
      record "java checks" ok "$(( $(date +%s) - t0 )) s"
    else
      record "java checks" FAIL "see $build/java.log"
    fi
    tail -40 "$build/java.log"
  fi
else
  record "java checks" SKIP "cuda/device-check-java.sh not present"
fi

# ---- summary
echo
echo "==== device-check summary ($(( $(date +%s) - t_start )) s)"
printf '| %-22s | %-4s | %s\n' "step" "res" "note"
fail=0
for i in "${!names[@]}"; do
  printf '| %-22s | %-4s | %s\n' "${names[$i]}" "${results[$i]}" "${notes[$i]}"
  [[ "${results[$i]}" == FAIL ]] && fail=1
done
exit $fail
