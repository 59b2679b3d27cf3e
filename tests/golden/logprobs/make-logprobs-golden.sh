#!/usr/bin/env bash
# Regenerates llama-server-n_probs.json: llama.cpp c392e50's llama-server /completion with n_probs on the shared
# kjv7m-Q4_K_M model (greedy, so both sides generate the same tokens), its default pre-sampling probabilities
# (post_sampling_probs false: the softmax of the raw logits over the whole vocabulary). Used by
# java/cli ServeLogprobsTest. Usage: tests/golden/logprobs/make-logprobs-golden.sh [LLAMA_CPP_BIN_DIR] [SHARED_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-/work/peers/llama.cpp/build/bin}
shared=${2:-$here/../../../../shared}
port=18765
"$bin/llama-server" -m "$shared/models/kjv7m-Q4_K_M.gguf" -c 256 -t 2 --port $port --host 127.0.0.1 \
    >/tmp/llama-server-logprobs.log 2>&1 &
pid=$!
trap 'kill $pid' EXIT
for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:$port/health >/dev/null && break
    sleep 0.2
done
curl -sf http://127.0.0.1:$port/completion -H 'Content-Type: application/json' -d '{"prompt": "In the beginning",
    "n_predict": 8, "n_probs": 5, "temperature": 0, "cache_prompt": false}' | python3 -c '
import json, sys
r = json.load(sys.stdin)
out = {"source": "llama.cpp c392e50 llama-server /completion, kjv7m-Q4_K_M.gguf, -c 256, prompt \"In the beginning\","
                 " n_predict 8, n_probs 5, temperature 0 (pre-sampling probabilities)",
       "prompt": "In the beginning", "content": r["content"],
       "completion_probabilities": [{"id": p["id"], "token": p["token"], "logprob": p["logprob"],
                                     "top_logprobs": [{"id": t["id"], "token": t["token"], "logprob": t["logprob"]}
                                                      for t in p["top_logprobs"]]}
                                    for p in r["completion_probabilities"]]}
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
print()' > "$here/llama-server-n_probs.json"
echo "wrote $here/llama-server-n_probs.json"
