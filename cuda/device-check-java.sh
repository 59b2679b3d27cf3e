#!/usr/bin/env bash
# cuda/device-check-java.sh - the Java side of GPU offload on a real GPU (called by cuda/device-check.sh, or alone).
#
#   G4J_CUDA_LIB=/path/libgguf4j_cuda.so JAVA=.jre/bin/java cuda/device-check-java.sh
#
# 1. GpuCheck: on the shared golden models, logits (prompt batches + 32 greedy steps) and greedy tokens with
#    -ngl 0, half, all layers and -1 (output layer too) against the CPU path, within the golden tolerances;
# 1b. the architectures beyond llama's block: random gemma, gemma2, phi3, Phi-3.5, granite and llama+YaRN models
#    (RandomModels from the core test-jar; F16, and Q4_K_M by `bin/gguf4j quantize`), GpuCheck --models: logits and
#    greedy with -ngl 0 / half / all / -1 against the CPU (GELU / soft-cap tolerances: 2e-3, Q4_K_M 5e-2 of the range),
#    phi3.5 at context 49 (short RoPE factors) and 512 (long);
# 2. the GPU benchmark: TinyLlama-shape random models (F16, then Q4_K_M and Q8_0 quantized here by
#    `bin/gguf4j quantize`), `bin/gguf4j bench -ngl 99` (pp512, tg128) as llama-bench JSON, and -ngl 0 tg for
#    scale; G4J_BENCH_8B=1 adds the Llama-3-8B shape (Q4_K_M; about 16 GB written first, minutes).
#
# Needs, carried from a build machine (all git-ignored): .jre/ (cuda/make-jre.sh), java/cli/target/gguf4j-cli.jar
# and java/cli/target/lib/ (mvn -DskipTests -pl java/core,java/cli package), java/bench/target/gguf4j-bench.jar
# (mvn -DskipTests -pl java/core,java/bench package), java/core/target/gguf4j-core-*-tests.jar (step 1b; the same
# java/core package makes it). Shared models: G4J_SHARED, else ./shared, else ../shared.
# Work files go to G4J_WORK (default /tmp/g4j-java-check). Exit status non-zero if a step failed.
set -uo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
java="${JAVA:-${G4J_JAVA:-$here/.jre/bin/java}}"
lib="${G4J_CUDA_LIB:-}"
work="${G4J_WORK:-/tmp/g4j-java-check}"
mkdir -p "$work"
fail=0
step() { echo; echo "==== $*"; }

[ -x "$java" ] || { echo "device-check-java: no Java runtime at $java (cuda/make-jre.sh, or set JAVA)" >&2; exit 1; }
cli="$here/java/cli/target"
[ -f "$cli/gguf4j-cli.jar" ] && [ -d "$cli/lib" ] || { echo "device-check-java: $cli/gguf4j-cli.jar and lib/ missing" >&2; exit 1; }
# G4J_DEVICE=host runs everything through the host device instead (a dry run of this script without a GPU)
props="${lib:+-Dgguf4j.native.cudaPath=$lib}${G4J_DEVICE:+ -Dgguf4j.device=$G4J_DEVICE}"
opts=(--enable-native-access=ALL-UNNAMED $props)
export JAVA_HOME="$(dirname "$(dirname "$java")")"   # bin/gguf4j takes it (a 25+ runtime)
export GGUF4J_JAVA_OPTS="$props"
shared="${G4J_SHARED:-}"
for d in "$here/shared" "$here/../shared"; do [ -z "$shared" ] && [ -d "$d/golden" ] && shared="$d"; done

step "version"
"$here/bin/gguf4j" --version || fail=1

step "1. GpuCheck (logits and greedy vs CPU, -ngl 0 / half / all / -1)"
if [ -z "$shared" ]; then
  echo "SKIP: no shared models (G4J_SHARED, ./shared or ../shared)"; fail=1
else
  timeout 600 "$java" "${opts[@]}" -cp "$cli/gguf4j-cli.jar:$cli/lib/*" dev.gguf4j.cli.GpuCheck "$shared" || fail=1
fi

step "1b. GpuCheck --models (gemma, gemma2, phi3, phi3.5, granite, llama-yarn random models vs CPU)"
tests_jar="$(ls "$here"/java/core/target/gguf4j-core-*-tests.jar 2>/dev/null | head -1)"
if [ -z "$tests_jar" ]; then
  echo "SKIP: java/core/target/gguf4j-core-*-tests.jar missing"; fail=1
else
  models=()
  for p in gemma gemma2 phi3 phi3.5 granite llama-yarn; do
    f16="$work/arch-$p-F16.gguf"
    # RandomModels reads the bundled tokenizer from the repository root
    [ -f "$f16" ] || (cd "$here" && timeout 300 "$java" -cp "$tests_jar:$cli/lib/*" dev.gguf4j.testing.RandomModels \
      "$p" F16 "$f16") || { fail=1; continue; }
    q="$work/arch-$p-Q4_K_M.gguf"
    [ -f "$q" ] || timeout 300 "$here/bin/gguf4j" quantize "$f16" "$q" Q4_K_M >"$work/quantize-arch-$p.log" 2>&1 \
      || { tail -5 "$work/quantize-arch-$p.log"; fail=1; continue; }
    models+=("$f16" "$q")
  done
  # phi3.5 again at context 512: its long RoPE factors (the first run's context is below its original 256)
  long=(); for m in "${models[@]}"; do [[ "$m" == *phi3.5* ]] && long+=("$m"); done
  [ ${#models[@]} -gt 0 ] && { timeout 900 "$java" "${opts[@]}" -cp "$cli/gguf4j-cli.jar:$cli/lib/*" \
    dev.gguf4j.cli.GpuCheck --models "${models[@]}" --context 512 "${long[@]}" || fail=1; }
fi

step "2. bench (bin/gguf4j bench -ngl 99)"
bench="$here/java/bench/target/gguf4j-bench.jar"
if [ ! -f "$bench" ]; then
  echo "SKIP: $bench missing"; fail=1
else
  shapes=("${G4J_BENCH_SHAPE:-tinyllama}")
  [ "${G4J_BENCH_8B:-0}" = 1 ] && shapes+=(llama3-8b)
  for shape in "${shapes[@]}"; do
    f16="$work/$shape-F16.gguf"
    [ -f "$f16" ] || timeout 900 "$java" -cp "$bench" dev.gguf4j.bench.RandomModel "$shape" F16 "$f16" || { fail=1; continue; }
    types=(Q4_K_M)
    [ "$shape" != llama3-8b ] && types=(F16 Q8_0 Q4_K_M)
    for t in "${types[@]}"; do
      m="$work/$shape-$t.gguf"
      if [ "$t" != F16 ] && [ ! -f "$m" ]; then
        timeout 900 "$here/bin/gguf4j" quantize "$f16" "$m" "$t" >"$work/quantize-$shape-$t.log" 2>&1 \
          || { tail -5 "$work/quantize-$shape-$t.log"; fail=1; continue; }
      fi
      echo "-- $shape $t ($(du -h "$m" | cut -f1))"
      timeout 600 "$here/bin/gguf4j" bench -m "$m" -p 512 -n 128 -r 3 -ngl 99 --json >"$work/bench-$shape-$t.json" \
        || fail=1
      cat "$work/bench-$shape-$t.json"
    done
    # the CPU on the same model, for scale (tg only: a pp512 of 1B parameters on the CPU takes long)
    [ "$shape" != llama3-8b ] && timeout 300 "$here/bin/gguf4j" bench -m "$work/$shape-Q4_K_M.gguf" -p 0 -n 32 -r 1 -ngl 0 \
      2>/dev/null | tail -1
  done
fi
echo
echo "device-check-java: $([ $fail = 0 ] && echo all ok || echo FAILED)"
exit $fail
