#!/usr/bin/env bash
# gguf4j quantize vs llama-quantize: wall time of whole-model runs, alternately, with byte-identity checked.
#
#   java/bench/scripts/quantize-vs-llamacpp.sh [-t "1 2"] [-i "no yes"] [-r ROUNDS] TYPE...
#
# For each TYPE, thread count and imatrix choice, runs llama-quantize and gguf4j quantize on the same input
# (ROUNDS times, alternating), compares the outputs with cmp, and prints one line per run pair:
#   type threads imatrix | wall seconds llama, gguf4j, ratio | CPU seconds (user+sys) llama, gguf4j, ratio |
#   1-minute load before/after | outputs identical
# The CPU-time ratio is the steadier one when other work shares the machine; the goal is about wall time.
# Each pair starts from the same memory state: before each timed run everything is written back (sync) and the
# other tool's output is dropped from the page cache (posix_fadvise DONTNEED), and the order alternates by round.
# Without that the second tool of a pair paid for the first one's 2.2-4.4 GB of float output in the page cache:
# gguf4j F16->F32 took 9.0 s second and 3.8 s first, llama-quantize 4.5 s first and 9.0 s second (quiet machine).
# Environment: MODEL (default /work/models/tinyllama-f16.gguf), LLAMA_QUANTIZE (llama.cpp c392e50's binary),
# IMATRIX (llama-imatrix .dat; default: a synthetic one made by synthetic-imatrix.py next to this script),
# OUTDIR (scratch, default /tmp/qvl), GGUF4J (default: bin/gguf4j of this checkout).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
MODEL=${MODEL:-/work/models/tinyllama-f16.gguf}
LLAMA_QUANTIZE=${LLAMA_QUANTIZE:-/work/peers/llama.cpp/build/bin/llama-quantize}
GGUF4J=${GGUF4J:-$root/bin/gguf4j}
OUTDIR=${OUTDIR:-/tmp/qvl}
threads="1 2"
imatrix="no yes"
rounds=1
while getopts "t:i:r:" o; do
  case $o in
    t) threads=$OPTARG ;;
    i) imatrix=$OPTARG ;;
    r) rounds=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || set -- Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL F16 BF16 F32
mkdir -p "$OUTDIR"
IMATRIX=${IMATRIX:-$OUTDIR/synthetic.imatrix}
if [ ! -f "$IMATRIX" ]; then
  python3 "$here/synthetic-imatrix.py" "$MODEL" "$IMATRIX" >/dev/null
fi
load() { cut -d' ' -f1 /proc/loadavg; }
# The input in the page cache before the first pair: otherwise the first run of the sweep (always llama-quantize)
# read the 2.2 GB model from disk and took 5.3-5.9 s instead of 1.3 s.
cat "$MODEL" >/dev/null
evict() { # evict FILE: drops FILE's (written-back) pages from the page cache
  [ -f "$1" ] && python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"
  return 0
}
timed() { # timed OUT_PREFIX CMD...: runs CMD, leaves "wall cpu" in OUT_PREFIX.t
  local p=$1; shift
  # Written-back first: without it the second tool of a pair wrote while the kernel was still flushing the first
  # one's output (2.2-4.4 GB for the float types), was throttled by the dirty-page limit, and took up to 3x longer.
  sync
  for f in "$OUTDIR/l.gguf" "$OUTDIR/g.gguf"; do evict "$f"; done
  /usr/bin/time -f "%e %U %S" -o "$p.time" "$@" >"$p.log" 2>&1
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$p.time" >"$p.t"
}
printf '%-8s %3s %-3s | %8s %8s %5s | %8s %8s %5s | %-11s %s\n' type thr im llama_s gguf4j_s ratio llama_cpu g4j_cpu ratio load same
for type in "$@"; do
  for t in $threads; do
    for im in $imatrix; do
      for ((r = 0; r < rounds; r++)); do
        lopt=(); gopt=()
        if [ "$im" = yes ]; then lopt=(--imatrix "$IMATRIX"); gopt=(--imatrix "$IMATRIX"); fi
        l0=$(load)
        if ((r % 2 == 0)); then
          timed "$OUTDIR/l" "$LLAMA_QUANTIZE" "${lopt[@]}" "$MODEL" "$OUTDIR/l.gguf" "$type" "$t"
          timed "$OUTDIR/g" "$GGUF4J" quantize "$MODEL" "$OUTDIR/g.gguf" "$type" --threads "$t" "${gopt[@]}"
        else
          timed "$OUTDIR/g" "$GGUF4J" quantize "$MODEL" "$OUTDIR/g.gguf" "$type" --threads "$t" "${gopt[@]}"
          timed "$OUTDIR/l" "$LLAMA_QUANTIZE" "${lopt[@]}" "$MODEL" "$OUTDIR/l.gguf" "$type" "$t"
        fi
        l1=$(load)
        read -r lw lc <"$OUTDIR/l.t"
        read -r gw gc <"$OUTDIR/g.t"
        same=yes
        cmp -s "$OUTDIR/l.gguf" "$OUTDIR/g.gguf" || same=NO
        printf '%-8s %3s %-3s | %8.2f %8.2f %5.2f | %8.2f %8.2f %5.2f | %-11s %s\n' "$type" "$t" "$im" "$lw" "$gw" \
          "$(echo "$gw / $lw" | bc -l)" "$lc" "$gc" "$(echo "$gc / $lc" | bc -l)" "$l0/$l1" "$same"
        rm -f "$OUTDIR/l.gguf" "$OUTDIR/g.gguf"
      done
    done
  done
done
