#!/usr/bin/env bash
# gguf4j bench vs llama-bench, pairwise and alternating, for the "AVX2-only machine" table of docs/benchmarks.md.
#
#   avx2-vs-llamacpp.sh LLAMA_BENCH MODEL_DIR [OUT_DIR]
#
# LLAMA_BENCH: llama.cpp's llama-bench binary; MODEL_DIR holds $PREFIX-<TYPE>.gguf for each TYPE (made as the
# section says). For every type, thread count and test (pp512, tg128) it runs ROUNDS rounds; each round runs
# llama-bench and `gguf4j bench` once each (-r REPS), the order swapped every round, so both tools see the same
# stretch of machine load. The table gives per tool the median over the rounds of each run's mean tokens/s and
# the ratio of the medians; the per-run figures and the load before each pair go to OUT_DIR/runs.tsv.
# Environment: PREFIX (default tinyllama; mixtral-bench for moe-vs-llamacpp.sh), TYPES (default "Q4_K_M Q4_0 Q8_0 Q6_K"), THREADS ("1 2"), TESTS ("pp tg"), ROUNDS (3), REPS (2),
# ISA (avx2: passed as -Dgguf4j.isa), GGUF4J (default: bin/gguf4j of this checkout), GGUF4J_BEFORE (optional: the
# launcher of a second gguf4j build, e.g. a copy of bin/ and java/cli/target of an older commit, run in the same
# rounds as a third tool: the table then has its column and ratio too), IK_BENCH (optional: ik_llama.cpp's
# llama-bench, run with -rtr 1 (its run-time repacking) in the same rounds: the table then has its column and
# gguf4j's ratio to it, the issue-19 speed bar).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,13p' "$0"; exit 2; }
llama_bench=$1
models=$2
out=${3:-$(mktemp -d /tmp/avx2-vs-llamacpp.XXXXXX)}
root="$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)"
gguf4j=${GGUF4J:-$root/bin/gguf4j}
types=${TYPES:-Q4_K_M Q4_0 Q8_0 Q6_K}
prefix=${PREFIX:-tinyllama}
threads=${THREADS:-1 2}
tests=${TESTS:-pp tg}
rounds=${ROUNDS:-3}
reps=${REPS:-2}
isa=${ISA:-avx2}
before=${GGUF4J_BEFORE:-}
ik=${IK_BENCH:-}
mkdir -p "$out"
runs=$out/runs.tsv
[ -x "$llama_bench" ] || { echo "avx2-vs-llamacpp: $llama_bench is not an executable llama-bench" >&2; exit 2; }
for t in $types; do
  [ -f "$models/$prefix-$t.gguf" ] || { echo "avx2-vs-llamacpp: $models/$prefix-$t.gguf not found" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "avx2-vs-llamacpp: needs jq" >&2; exit 2; }

printf 'type\tthreads\ttest\tround\ttool\tts\tload1\ttime\n' > "$runs"
{
  echo "# $(date -u '+%F %T') UTC; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
  echo "# gguf4j $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- native java || echo '+changes'), -Dgguf4j.isa=$isa"
  echo "# llama-bench: $llama_bench ($("$llama_bench" -m "$models/$prefix-${types%% *}.gguf" -p 0 -n 1 -r 1 -o json 2>/dev/null | jq -r '.[0].build_commit + " build " + (.[0].build_number|tostring) + ", " + .[0].cpu_info' || true))"
  [ -n "$ik" ] && echo "# ik_llama.cpp llama-bench: $ik ($("$ik" -m "$models/$prefix-${types%% *}.gguf" -p 0 -n 1 -r 1 -o json 2>/dev/null | jq -r '.[0].build_commit + " build " + (.[0].build_number|tostring)' || true)), -rtr 1"
  echo "# load: $(cat /proc/loadavg)"
} | tee "$out/header.txt"

one() { # tool type threads test -> mean t/s of one invocation
  local tool=$1 type=$2 nt=$3 test=$4 p=0 n=0 m=$models/$prefix-$2.gguf
  if [ "$test" = pp ]; then p=512; else n=128; fi
  local launcher=$gguf4j
  if [ "$tool" = llama ]; then
    "$llama_bench" -m "$m" -p $p -n $n -t "$nt" -r "$reps" -o json 2>/dev/null | jq -r '.[0].avg_ts'
    return
  fi
  if [ "$tool" = ik ]; then
    "$ik" -m "$m" -p $p -n $n -t "$nt" -r "$reps" -rtr 1 -o json 2>/dev/null | jq -r '.[0].avg_ts'
    return
  fi
  [ "$tool" = before ] && launcher=$before
  GGUF4J_JAVA_OPTS="-Dgguf4j.isa=$isa ${GGUF4J_JAVA_OPTS:-}" "$launcher" bench -m "$m" -p $p -n $n -t "$nt" \
    -r "$reps" --json 2>/dev/null | jq -r '.[0].avg_ts'
}

for type in $types; do
  for nt in $threads; do
    for test in $tests; do
      for ((r = 1; r <= rounds; r++)); do
        if ((r % 2)); then order="llama gguf4j"; else order="gguf4j llama"; fi
        [ -n "$before" ] && { if ((r % 2)); then order="$order before"; else order="before $order"; fi; }
        [ -n "$ik" ] && { if ((r % 2)); then order="ik $order"; else order="$order ik"; fi; }
        for tool in $order; do
          load=$(cut -d' ' -f1 /proc/loadavg)
          ts=$(one "$tool" "$type" "$nt" "$test")
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$type" "$nt" "$test" "$r" "$tool" "$ts" "$load" "$(date -u +%T)" >> "$runs"
          echo "$type t=$nt $test round $r $tool: $ts t/s (load $load)" >&2
        done
      done
    done
  done
done

# the table: medians over the rounds, ratio gguf4j / llama.cpp
python3 - "$runs" <<'EOF' | tee "$out/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
keys = []
for r in rows:
    k = (r['type'], r['threads'], r['test'])
    if k not in keys: keys.append(k)
has_before = any(r['tool'] == 'before' for r in rows)
has_ik = any(r['tool'] == 'ik' for r in rows)
if has_ik:
    print('| type | threads | test | llama.cpp | ik_llama.cpp -rtr 1 | gguf4j | ratio to llama.cpp | ratio to ik_llama.cpp | load |')
    print('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |')
elif has_before:
    print('| type | threads | test | llama.cpp | gguf4j before | ratio before | gguf4j | ratio | ratio per round | load |')
    print('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |')
else:
    print('| type | threads | test | llama.cpp | gguf4j | ratio | ratio per round | load |')
    print('| --- | ---: | --- | ---: | ---: | ---: | --- | --- |')
for k in sorted(keys, key=lambda k: (k[2] != 'pp', keys.index(k))):
    sel = [r for r in rows if (r['type'], r['threads'], r['test']) == k]
    def ts(tool): return [float(r['ts']) for r in sel if r['tool'] == tool]
    l, g = ts('llama'), ts('gguf4j')
    rounds = sorted({r['round'] for r in sel}, key=int)
    per = []
    for rd in rounds:
        a = [float(r['ts']) for r in sel if r['round'] == rd and r['tool'] == 'llama']
        b = [float(r['ts']) for r in sel if r['round'] == rd and r['tool'] == 'gguf4j']
        if a and b: per.append('%.2f' % (b[0] / a[0]))
    loads = [float(r['load1']) for r in sel]
    lm, gm = statistics.median(l), statistics.median(g)
    test = 'pp512' if k[2] == 'pp' else 'tg128'
    mid = ''
    if has_ik:
        im = statistics.median(ts('ik'))
        print('| %s | %s | %s | %.2f | %.2f | %.2f | **%.2f** | **%.2f** | %.1f–%.1f |' % (k[0], k[1], test, lm, im,
              gm, gm / lm, gm / im, min(loads), max(loads)))
        continue
    if has_before:
        bm = statistics.median(ts('before'))
        mid = '%.2f | %.2f | ' % (bm, bm / lm)
    print('| %s | %s | %s | %.2f | %s%.2f | **%.2f** | %s | %.1f–%.1f |' % (k[0], k[1], test, lm, mid, gm, gm / lm,
          ' / '.join(per), min(loads), max(loads)))
EOF
echo "runs: $runs" >&2
