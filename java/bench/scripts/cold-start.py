#!/usr/bin/env python3
"""Cold start of `bin/gguf4j run` vs `llama-cli`: time to first generated token and early vs steady speed.

Usage (from the repository root):
  java/bench/scripts/cold-start.py MODEL.gguf LLAMA_BIN_DIR [--rounds 5] [--threads 2] [--ctx 512]

Per round, the tools alternate (llama-cli, gguf4j, gguf4j with GGUF4J_AOT=0 in odd rounds, the reverse order in
even ones), each started as a fresh process with the page cache warm (one untimed run of each first):
  ttft   -n 1: time from starting the command to the arrival of the generated token on stdout, read from the
         pipe as it comes (both tools echo the prompt first, then print and flush each token as it is sampled;
         the token is the last non-blank output)
  wall1  wall time of the whole -n 1 run (start to exit)
  first32  the tool's own generation speed report for -n 32 (gguf4j: "generated 32 tokens in X s";
         llama-cli: "eval time ... tokens per second")
  steady   after the rounds, --steady-rounds times each: tg128 after warm-up, `gguf4j bench -p 0 -n 128 -r 2`
         and `llama-bench -p 0 -n 128 -r 2` (--steady-n changes 128)
Prints one line per measurement with the 1-minute load average, then medians. The machine's load matters:
note it with the figures, rerun when the machine is quiet.
"""
import argparse, os, re, statistics, subprocess, sys, time

PROMPT = "Once upon a time"


def load():
    return os.getloadavg()[0]


def stream_ttft(cmd, env=None):
    """Runs cmd (an -n 1 run); returns (seconds from start to the arrival of the last stdout bytes that are not
    white space, i.e. the one generated token, which both tools flush as soon as it is sampled; wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    err = []
    import threading
    th = threading.Thread(target=lambda: err.append(p.stderr.read()))
    th.start()
    last = None
    fd = p.stdout.fileno()
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        if b.strip():
            last = time.perf_counter() - t0
    th.join()
    p.wait()
    wall = time.perf_counter() - t0
    if p.returncode != 0 or last is None:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err[0].decode(errors="replace")[-2000:]))
    return last, wall


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr[-2000:]))
    return r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("llama_bin")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--steady-n", type=int, default=128)
    ap.add_argument("--steady-rounds", type=int, default=2)
    ap.add_argument("--gguf4j", default="bin/gguf4j")
    a = ap.parse_args()
    t, c = str(a.threads), str(a.ctx)
    common = ["-m", a.model, "-p", PROMPT, "-t", t, "-c", c, "--seed", "1"]
    tools = {
        "llama": lambda n: [os.path.join(a.llama_bin, "llama-cli")] + common + ["-n", str(n), "-no-cnv"],
        "gguf4j": lambda n: [a.gguf4j, "run"] + common + ["-n", str(n)],
    }
    # gguf4j without its ahead-of-time cache, to show what the cache gains
    tools["noaot"] = tools["gguf4j"]
    envs = {"llama": None, "gguf4j": None, "noaot": dict(os.environ, GGUF4J_AOT="0")}
    steady = {
        "llama": [os.path.join(a.llama_bin, "llama-bench"), "-m", a.model, "-p", "0", "-n", str(a.steady_n),
                  "-r", "2", "-t", t, "-o", "json"],
        "gguf4j": [a.gguf4j, "bench", "-m", a.model, "-p", "0", "-n", str(a.steady_n), "-r", "2", "-t", t,
                   "--json"],
    }
    for name, f in tools.items():
        run(f(1), envs[name])  # warms the page cache (and builds gguf4j and its AOT cache if needed)
    res = {k: {"ttft": [], "wall1": [], "first32": [], "steady": []} for k in tools}
    for r in range(a.rounds):
        order = ["llama", "gguf4j", "noaot"] if r % 2 == 0 else ["noaot", "gguf4j", "llama"]
        for name in order:
            l0 = load()
            ttft, wall = stream_ttft(tools[name](1), envs[name])
            res[name]["ttft"].append(ttft)
            res[name]["wall1"].append(wall)
            out, err = run(tools[name](32), envs[name])
            if name != "llama":
                m = re.search(r"generated (\d+) tokens in [\d.]+ s \(([\d.]+) tokens/s\)", err)
                n32, f32 = int(m.group(1)), float(m.group(2))
            else:
                m = re.search(r"eval time =.*?/\s*(\d+) runs.*?,\s*([\d.]+) tokens per second", err)
                n32, f32 = int(m.group(1)), float(m.group(2))
            res[name]["first32"].append(f32)
            print("round %d %-6s load %.2f  ttft %.3f s  wall(-n 1) %.3f s  first-%d %.1f t/s"
                  % (r + 1, name, l0, ttft, wall, n32, f32), flush=True)
    for r in range(a.steady_rounds):
        for name in ["llama", "gguf4j"]:
            l0 = load()
            out, _ = run(steady[name])
            s = [float(x) for x in re.findall(r'"avg_ts":\s*([\d.]+)', out)]
            res[name]["steady"].append(s[-1])
            print("steady %d %-6s load %.2f  tg%d %.1f t/s" % (r + 1, name, l0, a.steady_n, s[-1]), flush=True)
    print("medians over %d rounds (load now %.2f):" % (a.rounds, load()))
    res["noaot"]["steady"] = res["gguf4j"]["steady"]
    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
    for k, d in med.items():
        print("  %-6s ttft %.3f s  wall(-n 1) %.3f s  first-32 %.1f t/s  steady %.1f t/s  first-32/steady %.2f"
              % (k, d["ttft"], d["wall1"], d["first32"], d["steady"], d["first32"] / d["steady"]))
    print("  gguf4j without AOT cache/with: ttft %.2fx" % (med["noaot"]["ttft"] / med["gguf4j"]["ttft"]))
    print("  gguf4j/llama ttft %.2fx, wall(-n 1) %.2fx" % (med["gguf4j"]["ttft"] / med["llama"]["ttft"],
                                                         med["gguf4j"]["wall1"] / med["llama"]["wall1"]))


if __name__ == "__main__":
    main()
