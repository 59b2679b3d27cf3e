#!/usr/bin/env bash
# One streaming client against `gguf4j serve -np NP`, against `gguf4j bench` tg on the same model, alternated
# PAIRS times with one server kept running (it is idle, its workers parked, while bench runs): each pair is one
# bench tgTOKENS (-r 1, its own JVM) and one streamed request of TOKENS tokens (serve-load.py --clients 1:
# stream_tok_s = tokens after the first / time after the first, temperature 0.8 as serve-load.py sends). Prints a
# line per pair with both rates and their ratio, then the median ratio. One warm-up request and one warm-up bench
# run first (JIT), not counted.
#   serve-one-client.sh MODEL [TOKENS] [PAIRS]      Env: THREADS (2), NP (4), CTX_SLOT (512)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
model="$1"; tokens="${2:-128}"; pairs="${3:-6}"
threads="${THREADS:-2}"; np="${NP:-4}"; ctx="${CTX_SLOT:-512}"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/serve-one-client.XXXXXX.log)
"$root/bin/gguf4j" serve -m "$model" --port "$port" -t "$threads" -np "$np" -c "$ctx" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited: $(tail -1 "$log")" >&2; exit 1; }
  sleep 0.2
done
bench() { "$root/bin/gguf4j" bench -m "$model" -p 0 -n "$tokens" -t "$threads" -r 1 2>&1 | grep "tg$tokens" |
  awk -F'|' '{split($9, a, " "); print a[1]}'; }
serve() { python3 "$here/serve-load.py" --url "http://127.0.0.1:$port" --clients 1 --tokens "$tokens" --rounds 1 \
  --warmup 0 --prompt-words 6 --tag "one$1" | grep summary |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["stream_tok_s_median"])'; }
bench >/dev/null; serve w >/dev/null
ratios=()
for pair in $(seq 1 "$pairs"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  b=$(bench); s=$(serve "$pair")
  r=$(python3 -c "print(round($s / $b, 3))")
  ratios+=("$r")
  echo "pair $pair (load $load): bench tg$tokens $b t/s, serve one client $s t/s, ratio $r"
done
python3 -c "import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print('median ratio %.3f (min %.3f, max %.3f, %d pairs)' % (statistics.median(v), min(v), max(v), len(v)))" "${ratios[@]}"
