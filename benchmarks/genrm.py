"""GenRM throughput: judge calls/s against the project's own `m1gym serve-model` (a tiny checkpoint
on loopback) at concurrency 1, 8 and 32; and the cost of the length-bias monitor per step beside a
scoring step of 1,024 responses (target: monitor < 1% of the scoring step).

    python benchmarks/genrm.py [--calls 32] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "m1gym.cli", "serve-model", path, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"serve-model exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("serve-model did not start")


async def judge_rate(url: str, calls: int, concurrency: int, max_tokens: int) -> tuple[float, float]:
    from m1gym.genrm import HTTPJudge
    from m1gym.genrm.templates import PAIRWISE_V1

    judge = HTTPJudge(url, timeout=300)
    sem = asyncio.Semaphore(concurrency)
    lat = []

    async def one(i: int):
        async with sem:
            msgs = PAIRWISE_V1.messages(question=f"q{i}", a="first answer", b="second answer")
            r = await judge.acomplete(msgs, max_tokens=max_tokens, temperature=0.0)
            lat.append(r.latency_ms)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    dt = time.perf_counter() - t0
    lat.sort()
    return calls / dt, lat[len(lat) // 2]


def monitor_cost(n_responses: int = 1024, group: int = 8) -> tuple[float, float]:
    """(monitor update ms, scoring step ms) for n_responses in groups of `group`."""
    import m1gym
    from m1gym.genrm import LengthBiasMonitor

    env = m1gym.make("logic/word_sorting")
    tasks = [env.generate(i, 2) for i in range(n_responses // group)]
    pairs = [(t, env.reference(t) if j % 2 else "<answer>wrong</answer>") for t in tasks for j in range(group)]
    t0 = time.perf_counter()
    scores = env.score_batch([p[0] for p in pairs], [p[1] for p in pairs])
    scoring_ms = (time.perf_counter() - t0) * 1000
    rng = random.Random(0)
    mon = LengthBiasMonitor()
    groups = [[(scores[g * group + j].reward, rng.randint(50, 500), scores[g * group + j].correct)
               for j in range(group)] for g in range(len(tasks))]
    for step in range(mon.config.window):  # fill the window: the steady-state cost
        mon.update(step, groups)
    t0 = time.perf_counter()
    reps = 5
    for step in range(reps):
        mon.update(100 + step, groups)
    return (time.perf_counter() - t0) * 1000 / reps, scoring_ms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=16)
    args = ap.parse_args()
    from m1gym.inference.model import build_model, save_checkpoint_model

    tmp = tempfile.mkdtemp(prefix="m1gym-genrm-bench-")
    model, tok = build_model("tiny")  # (model, CharTokenizer)
    save_checkpoint_model(model, tok, tmp)
    proc, url = start_server(tmp)
    best = 0.0
    try:
        print(f"judge: m1gym serve-model (tiny preset, CPU) at {url}; {args.calls} calls, "
              f"{args.max_tokens} new tokens each, greedy "
              f"(the server batches concurrent greedy requests); {os.cpu_count()} CPUs")
        print(f"{'concurrency':>11} {'calls/s':>9} {'p50 ms':>9} {'vs c=1':>7}")
        base = None
        for c in (1, 8, 32):
            rate, p50 = asyncio.run(judge_rate(url, args.calls, c, args.max_tokens))
            base = base or rate
            best = max(best, rate)
            print(f"{c:>11} {rate:>9.2f} {p50:>9.0f} {rate / base:>7.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    mon_ms, rule_ms = monitor_cost()
    # a GenRM scoring step judges every response twice (both orders) at the best measured rate
    genrm_ms = 2 * 1024 / best * 1000
    share = mon_ms / genrm_ms
    print(f"\nlength-bias monitor per step (1,024 responses, window full): {mon_ms:.2f} ms")
    print(f"  vs a GenRM scoring step of 1,024 responses (2,048 judge calls at {best:.1f}/s): {genrm_ms:.0f} ms -> "
          f"{share:.4%} ({'ok' if share < 0.01 else 'MISS'}: target < 1%)")
    print(f"  vs a rule-verified scoring step of 1,024 logic answers: {rule_ms:.1f} ms -> {mon_ms / rule_ms:.1%} "
          "(for reference: the monitor only runs on GenRM-scored groups)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
