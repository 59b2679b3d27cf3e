#!/usr/bin/env bash
# Regenerates the imatrix / KL-divergence goldens in this folder with llama.cpp c392e50 (CPU build):
#   kjv7m-F16-c256-10.imatrix   llama-imatrix on the first 10 chunks of 256 tokens of kjv7m-test.txt (.dat format)
#   kjv7m-F16-c256-2.kld        llama-perplexity --kl-divergence-base on its first 2 chunks of 256 (F16 base)
#   kjv7m-Q4_K_M-c256-2.kld.txt llama-perplexity --kl-divergence of kjv7m-Q4_K_M.gguf against that base
# Usage: tests/golden/quality/make-quality-goldens.sh [LLAMA_BIN_DIR] [SHARED_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-/work/peers/llama.cpp/build/bin}
shared=${2:-$here/../../../../shared}
cd "$shared/models" # the dataset name llama-imatrix stores is the -f argument as given: kjv7m-test.txt
"$bin/llama-imatrix" -m kjv7m-F16.gguf -f kjv7m-test.txt -c 256 --chunks 10 -t 2 \
    -o "$here/kjv7m-F16-c256-10.imatrix" > /dev/null 2>&1
"$bin/llama-perplexity" -m kjv7m-F16.gguf -f kjv7m-test.txt -c 256 --chunks 2 -t 2 \
    --kl-divergence-base "$here/kjv7m-F16-c256-2.kld" > /dev/null 2>&1
"$bin/llama-perplexity" -m kjv7m-Q4_K_M.gguf -c 256 -t 2 --kl-divergence \
    --kl-divergence-base "$here/kjv7m-F16-c256-2.kld" 2>/dev/null | sed -n '/====== Perplexity/,$p' \
    > "$here/kjv7m-Q4_K_M-c256-2.kld.txt"
echo "goldens written to $here"
