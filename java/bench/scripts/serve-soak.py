#!/usr/bin/env python3
"""Load test of `gguf4j serve`: many concurrent clients for a while against a few parallel sequences.

Usage (from the repository root; Python 3 standard library only):
  java/bench/scripts/serve-soak.py MODEL.gguf [--clients 64] [--seconds 120] [--np 4] [--queue 16]
                                   [--threads 2] [--ctx 512] [--max-tokens 32] [--warmup 20]

Starts `bin/gguf4j serve -m MODEL -np NP --queue QUEUE -t THREADS -c CTX --chat-template chatml` on a free port,
waits for GET /health to say 200, then runs CLIENTS threads for SECONDS, each sending chat completions one after
another (a different prompt each, every other one streamed, MAX_TOKENS tokens at most). A 503 must carry
Retry-After and an OpenAI error object; the client then waits that long, as a polite client does. Anything but a
200 or such a 503 (another status, a broken connection, a malformed reply) is counted as a failure. The server's
RSS (/proc/PID/status VmRSS) is sampled every 5 s; the figures after WARMUP seconds are reported. At the end the
server gets SIGTERM and must exit 0 after draining; its log (one access line per request) is searched for
internal errors and for any status other than 200 and 503.
Prints a summary; exits 1 when any check failed.
"""
import argparse, http.client, json, os, re, signal, socket, subprocess, sys, tempfile, threading, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--np", type=int, default=4)
    ap.add_argument("--queue", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--gguf4j", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../bin/gguf4j"))
    a = ap.parse_args()

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="serve-soak-", suffix=".log", delete=False)
    cmd = [a.gguf4j, "serve", "-m", a.model, "--port", str(port), "-np", str(a.np), "--queue", str(a.queue),
           "-t", str(a.threads), "-c", str(a.ctx), "--chat-template", "chatml"]
    print("server:", " ".join(cmd), "; log:", log.name, flush=True)
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        if time.time() > deadline or server.poll() is not None:
            sys.exit("server did not become ready; see " + log.name)
        time.sleep(0.5)

    lock = threading.Lock()
    counts = {}  # outcome -> count
    failures = []
    tokens = [0]
    t0 = time.time()
    stop_at = t0 + a.seconds

    def count(k):
        with lock:
            counts[k] = counts.get(k, 0) + 1

    def client(n):
        i = 0
        conn = None
        while time.time() < stop_at:
            i += 1
            stream = i % 2 == 0
            body = json.dumps({"messages": [{"role": "system", "content": "You are brief."},
                                            {"role": "user", "content": f"Client {n}, question {i}: and God said"}],
                               "max_tokens": a.max_tokens, "temperature": 0.8, "stream": stream,
                               "stream_options": {"include_usage": True} if stream else None})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status == 200:
                    if stream:
                        text = data.decode()
                        assert text.endswith("data: [DONE]\n\n"), text[-200:]
                        usage = [json.loads(e[6:]) for e in text.split("\n\n") if e.startswith("data: {")
                                 and '"usage"' in e]
                        got = usage[-1]["usage"]["completion_tokens"] if usage else 0
                    else:
                        got = json.loads(data)["usage"]["completion_tokens"]
                    with lock:
                        tokens[0] += got
                    count("200")
                elif r.status == 503:
                    retry = r.getheader("Retry-After")
                    err = json.loads(data)["error"]["message"]
                    assert retry is not None and err, data
                    count("503")
                    time.sleep(float(retry))
                else:
                    count(str(r.status))
                    with lock:
                        failures.append(f"{r.status}: {data[:200]!r}")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # a broken connection or a malformed reply
                count("failure")
                with lock:
                    failures.append(f"{type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None

    rss = []  # (seconds since start, KiB)
    done = threading.Event()

    def sample():
        while not done.wait(5):
            rss.append((time.time() - t0, rss_kib(server.pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    done.set()
    sampler.join()

    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(90)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "killed after 90 s"
    log.close()
    with open(log.name, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    access = [l for l in lines if re.match(r"gguf4j: (GET|POST) ", l)]
    bad_access = [l for l in access if not re.match(r"gguf4j: \S+ \S+ (200|503) ", l)]
    errors = [l for l in lines if "internal error" in l or "Exception" in l or "error:" in l]

    warm = [k for s, k in rss if s >= a.warmup and k]
    print(f"clients {a.clients}, -np {a.np}, --queue {a.queue}, {elapsed:.0f} s, model {os.path.basename(a.model)}")
    print("responses:", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"generated tokens: {tokens[0]} ({tokens[0] / elapsed:.1f}/s over the run)")
    if warm:
        print(f"RSS after {a.warmup:.0f} s warm-up: first {warm[0] / 1024:.0f} MiB, min {min(warm) / 1024:.0f},"
              f" max {max(warm) / 1024:.0f}, last {warm[-1] / 1024:.0f} MiB ({len(warm)} samples)")
    print("RSS samples (s, MiB):", " ".join(f"{s:.0f}:{k / 1024:.0f}" for s, k in rss if k))
    print(f"server: {len(access)} access-log lines, {len(bad_access)} with another status, {len(errors)} error lines,"
          f" exit status after SIGTERM {code}")
    for l in (failures[:5] + bad_access[:5] + errors[:5]):
        print("  ", l)
    ok = not failures and not bad_access and not errors and code == 0 and counts.get("200", 0) > 0
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
