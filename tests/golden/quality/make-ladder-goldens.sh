#!/usr/bin/env bash
# Regenerates the ladder goldens in this folder with llama.cpp c392e50 (CPU build): for each of the shared
# llama-quantize outputs of kjv7m (Q8_0, Q6_K, Q4_K_M, Q4_0, Q3_K_M, Q2_K), llama-perplexity --kl-divergence against
# llama-perplexity's F16 base over the first 10 chunks of 256 tokens of kjv7m-test.txt:
#   kjv7m-TYPE-c256-10.kld.txt   its statistics (from "====== Perplexity statistics" on)
# LadderTest compares gguf4j ladder's rows (its own quantizer, its own base) with them.
# Usage: tests/golden/quality/make-ladder-goldens.sh [LLAMA_BIN_DIR] [SHARED_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-/work/peers/llama.cpp/build/bin}
shared=${2:-$here/../../../../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$shared/models"
"$bin/llama-perplexity" -m kjv7m-F16.gguf -f kjv7m-test.txt -c 256 --chunks 10 -t 2 \
    --kl-divergence-base "$tmp/base.kld" > /dev/null 2>&1
for t in Q8_0 Q6_K Q4_K_M Q4_0 Q3_K_M Q2_K; do
    "$bin/llama-perplexity" -m "kjv7m-$t.gguf" -c 256 -t 2 --kl-divergence --kl-divergence-base "$tmp/base.kld" \
        2>/dev/null | sed -n '/====== Perplexity/,$p' > "$here/kjv7m-$t-c256-10.kld.txt"
done
echo "goldens written to $here"
