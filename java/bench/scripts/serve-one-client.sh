#!/usr/bin/env bash
# One streaming client against gguf4j serve -np NP, against gguf4j bench's tg on the same model, alternated PAIRS
# times: serve-load.py's stream_tok_s (tokens after the first / time after the first) next to bench's tgTOKENS.
#   serve-one-client.sh MODEL [TOKENS] [PAIRS]      Env: THREADS (2), NP (4), CTX_SLOT (512)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
model="$1"; tokens="${2:-128}"; pairs="${3:-3}"
threads="${THREADS:-2}"; np="${NP:-4}"; ctx="${CTX_SLOT:-512}"; port=18092
for pair in $(seq 1 "$pairs"); do
  echo "# bench: load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$root/bin/gguf4j" bench -m "$model" -p 0 -n "$tokens" -t "$threads" -r 2 2>&1 | grep "tg$tokens" | sed 's/^/bench /'
  "$root/bin/gguf4j" serve -m "$model" --port "$port" -t "$threads" -np "$np" -c "$ctx" >/tmp/serve-one-client.log 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "# serve: load $(cut -d' ' -f1-3 /proc/loadavg)"
  python3 "$here/serve-load.py" --url "http://127.0.0.1:$port" --clients 1 --tokens "$tokens" --rounds 2 \
      --prompt-words 6 --tag "one$pair" | grep summary | sed 's/^/serve /'
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
