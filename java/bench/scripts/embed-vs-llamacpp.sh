#!/usr/bin/env bash
# Embedding throughput, gguf4j embed vs llama.cpp's llama-embedding, alternating, for docs/benchmarks.md.
#
#   embed-vs-llamacpp.sh LLAMA_EMBEDDING [OUT_DIR]
#
# Model: RandomEncoders bge-small (bge-small-en-v1.5's shape: bert, 384 hidden, 12 layers, 12 heads, n_ff 1536,
# vocab 30522, CLS pooling), TYPE (default F16; Q8_0 is llama-quantize's, LLAMA_QUANTIZE). Inputs: N (256) lines of
# 62 common words, each one WordPiece token, so 64 tokens with [CLS] and [SEP]: batches of 32 inputs (-b 2048),
# each its own sequence. Both tools: -c 512 -b 2048 -t T, L2 normalisation, JSON output (discarded). The time is
# each tool's own time for the forward passes: llama-embedding's "prompt eval time" (llama_perf_context_print,
# its llama_encode calls), gguf4j's "embedded in" (the Llama.embed call, JIT warm-up included); load and start-up
# are not counted. ROUNDS (3) rounds per thread count (THREADS "1 2"), the order swapped every round; the table
# gives the median inputs/s per tool and their ratio, runs.tsv every run with the load average before it.
# Needs: java/core test classes built (mvn -o -q -pl java/core,java/cli package -DskipTests, then
# mvn -o -q -pl java/core test-compile), python3.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,16p' "$0"; exit 2; }
llama_embedding=$1
out=${2:-$(mktemp -d /tmp/embed-vs-llamacpp.XXXXXX)}
root="$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)"
gguf4j=${GGUF4J:-$root/bin/gguf4j}
java=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
threads=${THREADS:-1 2}
rounds=${ROUNDS:-3}
type=${TYPE:-F16}
n=${N:-256}
mkdir -p "$out"
model=$out/bge-small-$type.gguf
if [ ! -f "$model" ]; then
  cp=$root/java/core/target/test-classes:$root/java/core/target/classes
  if [ "$type" = Q8_0 ]; then
    (cd "$root" && "$java" -cp "$cp" dev.gguf4j.testing.RandomEncoders bge-small F16 "$out/bge-small-F16.gguf")
    "${LLAMA_QUANTIZE:?set LLAMA_QUANTIZE for Q8_0}" "$out/bge-small-F16.gguf" "$model" Q8_0 > /dev/null 2>&1
  else
    (cd "$root" && "$java" -cp "$cp" dev.gguf4j.testing.RandomEncoders bge-small "$type" "$model")
  fi
fi
inputs=$out/inputs.txt
python3 - "$root/tests/golden/tokenizer/ggml-vocab-bert-bge.gguf" "$inputs" "$n" <<'PY'
import random, struct, sys
b = open(sys.argv[1], 'rb').read()
o = 24
def s():
    global o
    n, = struct.unpack_from('<Q', b, o); o += 8; r = b[o:o + n]; o += n; return r.decode()
tokens = None
for _ in range(struct.unpack_from('<Q', b, 16)[0]):
    k = s(); t, = struct.unpack_from('<I', b, o); o += 4
    if t == 8: s(); continue
    if t != 9: o += {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}[t]; continue
    et, cnt = struct.unpack_from('<IQ', b, o); o += 12
    if et == 8:
        vals = [s() for _ in range(cnt)]
        if k == 'tokenizer.ggml.tokens': tokens = vals
    else:
        o += cnt * {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}[et]
words = [t[1:] for t in tokens[2000:8000] if t.startswith('\u2581') and t[1:].isalpha() and t[1:].islower()
         and len(t) > 3]
rnd = random.Random(42)
with open(sys.argv[2], 'w') as f:
    f.write('\n'.join(' '.join(rnd.choice(words) for _ in range(62)) for _ in range(int(sys.argv[3]))) + '\n')
PY
runs=$out/runs.tsv
printf 'threads\tround\ttool\tseconds\tinputs_per_s\tload1\n' > "$runs"
{
  echo "# $(date -u '+%F %T') UTC; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
  echo "# gguf4j $(git -C "$root" rev-parse --short HEAD); llama-embedding: $llama_embedding; model $model; $n inputs x 64 tokens"
  echo "# load: $(cat /proc/loadavg)"
} | tee "$out/header.txt"
one() { # tool threads -> seconds of the forward passes
  if [ "$1" = llama ]; then
    "$llama_embedding" -m "$model" -f "$inputs" -c 512 -b 2048 -t "$2" --embd-normalize 2 \
        --embd-output-format json 2> "$out/llama.log" > /dev/null
    grep -m1 'prompt eval time' "$out/llama.log" | sed 's/.*= *\([0-9.]*\) ms.*/\1/' | awk '{print $1 / 1000}'
  else
    "$gguf4j" embed -m "$model" -f "$inputs" -c 512 -b 2048 -t "$2" --embd-normalize 2 \
        --embd-output-format json 2> "$out/gguf4j.log" > /dev/null
    grep -m1 'embedded in' "$out/gguf4j.log" | sed 's/.*embedded in \([0-9.]*\) s.*/\1/'
  fi
}
for t in $threads; do
  for r in $(seq 1 "$rounds"); do
    order="llama gguf4j"; [ $((r % 2)) -eq 0 ] && order="gguf4j llama"
    for tool in $order; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      sec=$(one "$tool" "$t")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$r" "$tool" "$sec" "$(awk -v n="$n" -v s="$sec" 'BEGIN{printf "%.2f", n/s}')" "$load" >> "$runs"
    done
  done
done
echo "| threads | llama-embedding inputs/s (median) | gguf4j inputs/s (median) | gguf4j / llama.cpp |"
echo "|---|---|---|---|"
for t in $threads; do
  l=$(awk -F'\t' -v t="$t" '$1==t && $3=="llama" {print $5}' "$runs" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  g=$(awk -F'\t' -v t="$t" '$1==t && $3=="gguf4j" {print $5}' "$runs" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  echo "| $t | $l | $g | $(awk -v a="$g" -v b="$l" 'BEGIN{printf "%.2f", a/b}')x |"
done | tee "$out/table.md"
echo "runs: $runs"
