#!/usr/bin/env python3
"""Concurrent streaming clients against an OpenAI-compatible server (gguf4j serve, llama-server): aggregate
generated tokens/s and time to first token. Plain http.client (no dependencies).

  serve-load.py --url http://127.0.0.1:8080 --clients 4 --tokens 128 --prompt-words 48 --rounds 3 --tag r1

Each client streams POST /v1/completions with its own prompt (different words per client and round, so no
server reuses a cached prompt; cache_prompt false for llama-server), max_tokens/n_predict TOKENS, ignore_eos (every
client generates exactly TOKENS), temperature 0.8 and its own seed. Per round: aggregate tokens/s = all generated
tokens / (last reply's end - first request's start); TTFT per client = first streamed text - request start;
stream tok/s per client = its tokens after the first / the time after its first (the generation rate it sees). One
JSON line per round on stdout, then a summary line (medians over rounds; TTFT p50/p99 over all clients of all
rounds).
"""
import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse

WORDS = ("the of and to in that he shall unto for his a lord they be is him not them it with all thou thy was god "
         "which my me said but ye their have will out if are from when this were upon land man house day people "
         "king son hand came made great water before earth city heaven light night morning word voice fire stone "
         "river field bread wine mountain gate child servant brother father mother wisdom truth river sea ship").split()


def prompt(client, rnd, words):
    r = random.Random(1000 * rnd + client)
    return "Story %d.%d: " % (rnd, client) + " ".join(r.choice(WORDS) for _ in range(words))


def one(url, body, out, i):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    t0 = time.perf_counter()
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        out[i] = {"error": "%d %s" % (r.status, r.read()[:200])}
        return
    ttft = None
    events = 0
    usage = None
    buf = b""
    while True:
        line = r.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data: "):
            continue
        data = line[6:]
        if data == b"[DONE]":
            break
        j = json.loads(data)
        if j.get("usage"):
            usage = j["usage"]
        for ch in j.get("choices") or []:
            if ch.get("text"):
                events += 1
                if ttft is None:
                    ttft = time.perf_counter() - t0
    t1 = time.perf_counter()
    c.close()
    out[i] = {"start": t0, "end": t1, "ttft": ttft, "events": events,
              "tokens": usage.get("completion_tokens") if usage else None,
              "prompt_tokens": usage.get("prompt_tokens") if usage else None}


def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p / 100.0
    f = int(k)
    return v[f] if f + 1 >= len(v) else v[f] + (v[f + 1] - v[f]) * (k - f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--prompt-words", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    rates, ttfts, rows, stream_rates = [], [], [], []
    for rnd in range(-a.warmup, a.rounds):
        out = [None] * a.clients
        threads = []
        for i in range(a.clients):
            body = {"prompt": prompt(i, rnd + 100 * (a.warmup + 1) + sum(map(ord, a.tag)), a.prompt_words),
                    "max_tokens": a.tokens, "n_predict": a.tokens, "ignore_eos": True, "stream": True,
                    "stream_options": {"include_usage": True}, "temperature": 0.8, "seed": 42 + i,
                    "cache_prompt": False}
            t = threading.Thread(target=one, args=(a.url, body, out, i))
            threads.append(t)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for o in out:
            if "error" not in o and o["ttft"] is None:
                o["error"] = "no text in the stream (%d events, usage %s)" % (o["events"], o["tokens"])
        errs = [o for o in out if "error" in o]
        if errs:
            print(json.dumps({"tag": a.tag, "round": rnd, "errors": errs}), flush=True)
            sys.exit(1)
        gen = sum(o["tokens"] if o["tokens"] is not None else a.tokens for o in out)
        wall = max(o["end"] for o in out) - min(o["start"] for o in out)
        # per client, after its first token: (tokens - 1) / (end - first token), the stream's generation rate
        streams = [((o["tokens"] or a.tokens) - 1) / (o["end"] - o["start"] - o["ttft"]) for o in out]
        row = {"tag": a.tag, "round": rnd, "clients": a.clients, "generated": gen, "wall_s": round(wall, 3),
               "tok_s": round(gen / wall, 2), "ttft_s": [round(o["ttft"], 3) for o in out],
               "prompt_tokens": [o["prompt_tokens"] for o in out],
               "stream_tok_s": [round(x, 2) for x in streams]}
        print(json.dumps(row), flush=True)
        if rnd >= 0:
            rates.append(gen / wall)
            ttfts += [o["ttft"] for o in out]
            stream_rates += streams
            rows.append(row)
    print(json.dumps({"tag": a.tag, "summary": True, "clients": a.clients, "rounds": a.rounds,
                      "tok_s_median": round(statistics.median(rates), 2),
                      "tok_s_all": [round(r, 2) for r in rates],
                      "ttft_p50_s": round(pct(ttfts, 50), 3), "ttft_p99_s": round(pct(ttfts, 99), 3),
                      "stream_tok_s_median": round(statistics.median(stream_rates), 2)}), flush=True)


if __name__ == "__main__":
    main()
