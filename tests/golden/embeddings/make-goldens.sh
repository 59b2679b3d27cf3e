#!/usr/bin/env bash
# Regenerates tests/golden/embeddings/*.json with llama.cpp c392e50's llama-embedding (CPU build): for each model
# and pooling, the embeddings of prompts.txt (one input per line, all in one batch, each its own sequence),
# L2-normalised (--embd-normalize 2), as llama-embedding's own OpenAI-shaped JSON (--embd-output-format json,
# 7 decimals). EmbeddingGoldenTest rebuilds each model (RandomEncoders, or the shared kjv7m / bundled stories260K
# decoders; Q8_0 with this project's quantizer) and checks its SHA-256 against models.sha256 first.
#
#   mvn -o -q -pl java/core test-compile
#   tests/golden/embeddings/make-goldens.sh $LLAMA/build/bin /tmp/embed-goldens
# (llama-embedding built from examples/embedding/embedding.cpp of c392e50 against that build's libllama)
set -euo pipefail
BIN=$1; W=$2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
G=$ROOT/tests/golden/embeddings
J=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
CP=$ROOT/java/core/target/test-classes:$ROOT/java/core/target/classes
SHARED=${SHARED:-$ROOT/../shared}
mkdir -p "$W"
cd "$ROOT"
for p in bert nomic-bert; do
  for t in F32 F16; do "$J" -cp "$CP" dev.gguf4j.testing.RandomEncoders $p $t "$W/$p-$t.gguf"; done
  "$BIN/llama-quantize" "$W/$p-F16.gguf" "$W/$p-Q8_0.gguf" Q8_0 > /dev/null 2>&1
done
cp "$SHARED/models/kjv7m-F32.gguf" "$SHARED/models/kjv7m-F16.gguf" "$SHARED/models/kjv7m-Q8_0.gguf" "$W/"
cp java/cli/src/main/resources/dev/gguf4j/cli/stories260K.gguf "$W/stories260K-F32.gguf"
: > "$G/models.sha256"
run() { # model ctx pooling
  local m=$1 ctx=$2 pool=$3
  "$BIN/llama-embedding" -m "$W/$m.gguf" -f "$G/prompts.txt" -c "$ctx" -t 2 --pooling "$pool" \
      --embd-normalize 2 --embd-output-format json 2> "$W/$m-$pool.log" > "$G/$m-$pool.json"
}
for t in F32 F16 Q8_0; do
  run bert-$t 512 cls; run bert-$t 512 mean
  run nomic-bert-$t 2048 mean; run nomic-bert-$t 2048 last
  run kjv7m-$t 256 mean; run kjv7m-$t 256 last
done
run stories260K-F32 512 mean; run stories260K-F32 512 cls
for f in bert-F32 bert-F16 bert-Q8_0 nomic-bert-F32 nomic-bert-F16 nomic-bert-Q8_0 kjv7m-F32 kjv7m-F16 kjv7m-Q8_0 \
    stories260K-F32; do
  (cd "$W" && sha256sum "$f.gguf") >> "$G/models.sha256"
done
