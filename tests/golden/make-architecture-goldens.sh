#!/usr/bin/env bash
# Regenerates tests/golden/<preset>-{F32-kvf32,F16,Q4_K_M}.golden.gguf for RandomModels presets with llama.cpp
# (the recipe of docs/golden-data.md, "issue 11's architectures"; used for mixtral and qwen2moe).
#   tests/golden/make-architecture-goldens.sh PRESET...      (from the repository root)
# Needs: LLAMA (default /work/peers/llama.cpp, c392e50, built: build/bin/llama-quantize, llama-simple, libllama.so),
# the core test classes (mvn -q -o -pl java/core test-compile), a JDK 25 (JAVA, default temurin-25).
set -euo pipefail
LLAMA=${LLAMA:-/work/peers/llama.cpp}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
W=${W:-$(mktemp -d)}; mkdir -p "$W"
CP=java/core/target/test-classes:java/core/target/classes
P0="Once upon a time"
P1="Lily and Tom went to the park. They saw a big dog and"
P2="The little cat was sad because it could not find its red ball."
gcc -O2 -std=c11 -I$LLAMA/include -I$LLAMA/ggml/include docs/oracles/llama-logits-oracle.c -L$LLAMA/build/bin \
    -lllama -lggml -lggml-base -Wl,-rpath,$LLAMA/build/bin -o $W/oracle
for p in "$@"; do
  for t in F32 F16; do "$JAVA" -cp $CP dev.gguf4j.testing.RandomModels $p $t $W/$p-$t.gguf; done
  $LLAMA/build/bin/llama-quantize $W/$p-F16.gguf $W/$p-Q4_K_M.gguf Q4_K_M > $W/$p-quantize.log 2>&1
  for v in F32 F16 Q4_K_M; do
    out=$p-$v; kv=f16
    if [ $v = F32 ]; then out=$p-F32-kvf32; kv=f32; fi
    ORACLE_KV=$kv ORACLE_MODEL_SHA256=$(sha256sum $W/$p-$v.gguf | cut -c1-64) $W/oracle $W/$p-$v.gguf $p-$v.gguf 32 \
        $W/$out.golden.gguf "$P0" "$P1" "$P2" > $W/$out.oracle.log 2>&1
    if [ $v = Q4_K_M ]; then
      cp $W/$out.golden.gguf tests/golden/$out.golden.gguf
    else # llama-simple's text (F16 KV cache), added as prompt.i.llama_simple_stdout
      i=0
      for prompt in "$P0" "$P1" "$P2"; do
        $LLAMA/build/bin/llama-simple -m $W/$p-$v.gguf -n 32 "$prompt" > $W/$out.simple.$i 2>/dev/null
        i=$((i + 1))
      done
      "$JAVA" -cp $CP dev.gguf4j.testing.AddLlamaSimpleStdout $W/$out.golden.gguf tests/golden/$out.golden.gguf \
          $W/$out.simple.0 $W/$out.simple.1 $W/$out.simple.2
    fi
  done
done
echo "models and logs in $W"
