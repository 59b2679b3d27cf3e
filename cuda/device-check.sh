#!/usr/bin/env bash
# cuda/device-check.sh - everything the CUDA library needs checked on a real GPU, in one run (meant for a lent
# H100/H200 machine: CUDA 13, no network, no JDK, 16 cores; finishes in a few minutes).
#
#   cuda/device-check.sh [BUILD_DIR]        (default /tmp/g4j-device-check)
#
#  1. detects the GPU's compute capability (nvidia-smi, else nvcc's __nvcc_device_query) and builds libgguf4j_cuda,
#     its tests and bench_cuda for that architecture only;
#  2. ctest: cuda_device (probe), cuda_blocks_host (host block math), cuda_ops (every op on the GPU vs CPU
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

# ---- build
t0=$(date +%s)
if cmake -S "$here/cuda" -B "$build" -DCMAKE_BUILD_TYPE=Release -DG4J_CUDA_ARCHITECTURES="$arch" -DG4J_CUDA_BENCH=ON \
     >"$build/configure.log" 2>&1 && cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
  record "build (sm_$arch)" ok "$(( $(date +%s) - t0 )) s"
  built=1
else
  tail -30 "$build/configure.log" "$build/build.log"
  record "build (sm_$arch)" FAIL "see $build/build.log"
  built=0
fi

# ---- 2. tests
if [[ $built == 1 ]]; then
  for t in cuda_device cuda_blocks_host cuda_ops; do
    t0=$(date +%s)
    ctest --test-dir "$build" -R "^${t}\$" -V >"$build/test-$t.log" 2>&1
    if grep -q "Skipped\|SKIP:" "$build/test-$t.log"; then
      res=FAIL; note="skipped: $(grep -m1 'SKIP:' "$build/test-$t.log" || echo 'no device')"
    elif grep -q "100% tests passed" "$build/test-$t.log"; then
      res=ok; note="$(( $(date +%s) - t0 )) s"
    else
      res=FAIL; note="see $build/test-$t.log"
    fi
    echo "==== $t: $res"
    grep -E '^[0-9]+: ' "$build/test-$t.log" | sed -E 's/^[0-9]+: //' | grep -vE '^(Test command|Working Directory|Environment variables|Test timeout)' | head -120
    record "test $t" "$res" "$note"
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
