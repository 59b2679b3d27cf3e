#!/usr/bin/env bash
# gguf4j serve against llama-server, alternated in one run: each pair starts one server, runs serve-load.py
# (a warm-up round, then ROUNDS measured rounds), stops it, then does the same with the other, PAIRS times.
#   serve-vs-llama-server.sh MODEL [CLIENTS] [TOKENS] [PAIRS] [ROUNDS] [PROMPT_WORDS]
# Env: LLAMA_SERVER (default /work/peers/llama.cpp/build/bin/llama-server), THREADS (2), LLAMA_THREADS (llama-server's
# -t, default THREADS), NP (4), CTX_SLOT (512):
# gguf4j -c CTX_SLOT per sequence; llama-server -c NP*CTX_SLOT (it splits -c among its slots). llama-server c392e50
# sometimes fails a request here ("failed to find free space in the KV cache", its default --defrag-thold 0.1 on):
# serve-load.py then stops with that request's error, and the pair is run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
model="$1"; clients="${2:-4}"; tokens="${3:-128}"; pairs="${4:-3}"; rounds="${5:-3}"; words="${6:-48}"
llama_server="${LLAMA_SERVER:-/work/peers/llama.cpp/build/bin/llama-server}"
threads="${THREADS:-2}"; llama_threads="${LLAMA_THREADS:-$threads}"; np="${NP:-4}"; ctx="${CTX_SLOT:-512}"
port=18090
py="${PYTHON:-python3}"

wait_health() { # pid of the server
  for _ in $(seq 1 600); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$1" 2>/dev/null || { echo "server exited: $(tail -1 "$2")" >&2; return 1; }
    sleep 0.2
  done
  echo "server did not come up" >&2; return 1
}

run_one() { # name command...
  local name="$1"; shift
  port=$((port + 1)) # a fresh port per server: a stopped server's connections can hold the last one for a while
  local args=() a
  for a in "$@"; do args+=("${a/@PORT@/$port}"); done
  "${args[@]}" >"/tmp/serve-bench-$name.log" 2>&1 &
  local pid=$!
  wait_health "$pid" "/tmp/serve-bench-$name.log"
  echo "# $name ${args[*]}: load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$py" "$here/serve-load.py" --url "http://127.0.0.1:$port" --clients "$clients" --tokens "$tokens" \
      --rounds "$rounds" --prompt-words "$words" --tag "p$pair" | sed "s/^/$name /"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  while ss -ltn | grep -q ":$port "; do sleep 0.2; done # the port free again
}

for pair in $(seq "${FIRST_PAIR:-1}" "$pairs"); do
  run_one gguf4j "$root/bin/gguf4j" serve -m "$model" --port @PORT@ -t "$threads" -np "$np" -c "$ctx"
  run_one llama-server "$llama_server" -m "$model" --port @PORT@ -t "$llama_threads" -np "$np" -c $((np * ctx)) \
      --no-webui
done
