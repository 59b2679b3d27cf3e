#!/usr/bin/env bash
# MoE generation: gguf4j bench vs llama-bench on the Mixtral-shaped random model (docs/benchmarks.md, "Mixture of
# experts"), plus the bytes each token reads.
#
#   moe-vs-llamacpp.sh LLAMA_BIN_DIR MODEL_DIR [OUT_DIR]
#
# LLAMA_BIN_DIR: llama.cpp's build/bin (llama-quantize, llama-bench). MODEL_DIR/mixtral-bench-Q4_K_M.gguf is made
# if absent: `RandomModel mixtral-bench F16` (java/bench; 8 experts, 2 used, n_embd 1024, 28 layers, expert n_ff
# 3584, vocab 32000: 2.6B parameters, 5.2 GB) then llama-quantize to Q4_K_M (1.5 GB); the F16 file is removed.
# Then avx2-vs-llamacpp.sh with PREFIX=mixtral-bench TYPES=Q4_K_M (its environment: THREADS, TESTS (default tg
# here), ROUNDS, REPS, ISA) runs the two tools alternating, medians and ratio in OUT_DIR/table.md.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
bin=$1
models=$2
out=${3:-$(mktemp -d /tmp/moe-vs-llamacpp.XXXXXX)}
root="$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)"
java=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
m=$models/mixtral-bench-Q4_K_M.gguf
mkdir -p "$models" "$out"
if [ ! -f "$m" ]; then
  [ -f "$root/java/bench/target/gguf4j-bench.jar" ] || mvn -q -f "$root/pom.xml" -pl java/bench -am package -DskipTests
  "$java" -cp "$root/java/bench/target/gguf4j-bench.jar" dev.gguf4j.bench.RandomModel mixtral-bench F16 \
      "$models/mixtral-bench-F16.gguf"
  "$bin/llama-quantize" "$models/mixtral-bench-F16.gguf" "$m" Q4_K_M > "$out/quantize.log" 2>&1
  rm -f "$models/mixtral-bench-F16.gguf"
fi
# bytes per generated token: every tensor but the token embedding (one row of it is read) and the stacked experts,
# of which used/experts are read (the chosen experts' slices)
"$root/bin/gguf4j" info "$m" --tensors --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
md = d["metadata"]
ne, nu = int(md["llama.expert_count"]), int(md["llama.expert_used_count"])
exp = sum(t["bytes"] for t in d["tensors"] if "_exps." in t["name"])
emb = next(t for t in d["tensors"] if t["name"] == "token_embd.weight")
dense = d["tensor_bytes"] - exp - emb["bytes"]
row = emb["bytes"] // emb["shape"][1]
per = dense + exp * nu // ne + row
mb = lambda b: "%.1f MB" % (b / 1e6)
print("file %s; stacked experts %s (%d x %d layers), %d of %d used per token; dense tensors %s (attention, router, norms, output)"
      % (mb(d["file_size"]), mb(exp), ne, int(md["llama.block_count"]), nu, ne, mb(dense)))
print("bytes per token: %s + %d/%d x %s + one embedding row %d B = %s (%.0f%% of the weights)"
      % (mb(dense), nu, ne, mb(exp), row, mb(per), 100.0 * per / d["tensor_bytes"]))
' | tee "$out/bytes-per-token.txt"
PREFIX=mixtral-bench TYPES=Q4_K_M TESTS=${TESTS:-tg} "$root/java/bench/scripts/avx2-vs-llamacpp.sh" \
    "$bin/llama-bench" "$models" "$out"
