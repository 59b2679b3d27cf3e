#!/usr/bin/env python3
"""Cold start of `bin/gguf4j run` vs `llama-cli`: time to first generated token and early vs steady speed.

Usage (from the repository root):
  java/bench/scripts/cold-start.py MODEL.gguf LLAMA_BIN_DIR [--rounds 5] [--threads 2] [--ctx 512]

Per round, the two tools alternate (llama.cpp first in odd rounds, gguf4j first in even ones), each started as a
fresh process with the page cache warm (one untimed run of each first):
  ttft   wall time from starting the command to the first byte on stdout after the echoed prompt, read from the
         pipe as it arrives (both tools echo the prompt, then stream each token and flush); -n 1
  wall1  wall time of the whole -n 1 run (start to exit)
  first32  the tool's own generation speed report for -n 32 (gguf4j: "generated 32 tokens in X s";
         llama-cli: "eval time ... tokens per second")
  steady   tg128 after warm-up: `gguf4j bench -p 0 -n 128 -r 2` and `llama-bench -p 0 -n 128 -r 2`
Prints one line per measurement with the 1-minute load average, then medians. The machine's load matters:
note it with the figures, rerun when the machine is quiet.
"""
import argparse, os, re, statistics, subprocess, sys, time

PROMPT = "Once upon a time"


def load():
    return os.getloadavg()[0]


def stream_ttft(cmd, prompt_echo_len, env=None):
    """Starts cmd; returns (seconds to the first stdout byte past the prompt echo, wall seconds, stdout, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    got = b""
    first = None
    fd = p.stdout.fileno()
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        got += b
        if first is None and len(got.rstrip(b"\n")) > prompt_echo_len:
            first = time.perf_counter() - t0
    err = p.stderr.read()
    p.wait()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err.decode(errors="replace")[-2000:]))
    return first, wall, got.decode(errors="replace"), err.decode(errors="replace")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
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
    ap.add_argument("--gguf4j", default="bin/gguf4j")
    a = ap.parse_args()
    t, c = str(a.threads), str(a.ctx)
    common = ["-m", a.model, "-p", PROMPT, "-t", t, "-c", c, "--seed", "1"]
    tools = {
        "llama": lambda n: [os.path.join(a.llama_bin, "llama-cli")] + common + ["-n", str(n), "-no-cnv"],
        "gguf4j": lambda n: [a.gguf4j, "run"] + common + ["-n", str(n)],
    }
    steady = {
        "llama": [os.path.join(a.llama_bin, "llama-bench"), "-m", a.model, "-p", "0", "-n", "128", "-r", "2",
                  "-t", t, "-o", "json"],
        "gguf4j": [a.gguf4j, "bench", "-m", a.model, "-p", "0", "-n", "128", "-r", "2", "-t", t, "--json"],
    }
    # The echo: whatever each tool prints with -n 0 is not generated text (llama-cli may not accept -n 0; then
    # the prompt's own length is used).
    echo = {}
    for name, f in tools.items():
        out, _ = run(f(1))  # warms the page cache and builds gguf4j / its AOT cache if needed
        i = out.find(PROMPT)
        echo[name] = (i + len(PROMPT)) if i >= 0 else len(PROMPT)
    res = {k: {"ttft": [], "wall1": [], "first32": [], "steady": []} for k in tools}
    for r in range(a.rounds):
        order = ["llama", "gguf4j"] if r % 2 == 0 else ["gguf4j", "llama"]
        for name in order:
            l0 = load()
            ttft, wall, out, err = stream_ttft(tools[name](1), echo[name])
            res[name]["ttft"].append(ttft)
            res[name]["wall1"].append(wall)
            out, err = run(tools[name](32))
            if name == "gguf4j":
                m = re.search(r"generated (\d+) tokens in [\d.]+ s \(([\d.]+) tokens/s\)", err)
                n32, f32 = int(m.group(1)), float(m.group(2))
            else:
                m = re.search(r"eval time =.*?/\s*(\d+) runs.*?,\s*([\d.]+) tokens per second", err)
                n32, f32 = int(m.group(1)), float(m.group(2))
            res[name]["first32"].append(f32)
            out, _ = run(steady[name])
            s = [float(x) for x in re.findall(r'"avg_ts":\s*([\d.]+)', out)]
            res[name]["steady"].append(s[-1])
            print("round %d %-6s load %.2f  ttft %.3f s  wall(-n 1) %.3f s  first-%d %.1f t/s  steady tg128 %.1f t/s"
                  % (r + 1, name, l0, ttft, wall, n32, f32, s[-1]), flush=True)
    print("medians over %d rounds (load now %.2f):" % (a.rounds, load()))
    med = {k: {m: statistics.median(v) for m, v in d.items()} for k, d in res.items()}
    for k, d in med.items():
        print("  %-6s ttft %.3f s  wall(-n 1) %.3f s  first-32 %.1f t/s  steady %.1f t/s  first-32/steady %.2f"
              % (k, d["ttft"], d["wall1"], d["first32"], d["steady"], d["first32"] / d["steady"]))
    print("  gguf4j/llama ttft %.2fx, wall(-n 1) %.2fx" % (med["gguf4j"]["ttft"] / med["llama"]["ttft"],
                                                         med["gguf4j"]["wall1"] / med["llama"]["wall1"]))


if __name__ == "__main__":
    main()
