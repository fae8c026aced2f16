"""Reward service throughput and latency against in-process scoring, measured in one run.

    python benchmarks/service.py [--workers 2] [--seconds 3] [--batch-sizes 1,32,256] [--concurrency 2] [--pin]

Starts `m1gym serve --workers W` on a free loopback port and a load generator (httpx, asyncio) in
this process. For math and logic items (every registered math/* and logic/* env, lowest two
levels; a third right, a third wrong, and a third right but rewritten for math so that it takes
math-verify's path instead of the exact-match fast path) it prints items/s and p50/p99 request latency at each
batch size, beside the in-process scoring rate of the same items measured in this run: one process
(``Environment.score`` in a loop) and W processes (the same cores the service's workers use).
Batch 1 runs one request at a time (the latency case); larger batches keep ``--concurrency``
requests in flight (the throughput case).

Targets (issue 6): at batch 256 the service reaches >= 0.7x the in-process rate on the same
cores; p99 at batch 1 is under 50 ms for logic items.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson


def build_items(prefix: str, per_env: int) -> list[dict[str, Any]]:
    from m1gym.registry import get_env, list_envs

    items = []
    for spec in list_envs():
        if not spec.name.startswith(prefix) or not spec.procedural or spec.multi_turn:
            continue
        env = get_env(spec.name)
        levels = sorted(spec.levels)[:2] or [None]
        tasks = [env.generate(2000 + i, levels[i % len(levels)]) for i in range(per_env)]
        refs = [env.reference(t) for t in tasks]
        for i, task in enumerate(tasks):
            response = {0: refs[i], 1: refs[(i + 1) % len(refs)], 2: refs[i]}[i % 3]
            if i % 3 == 2 and prefix == "math/" and isinstance(task.answer, str):
                # equal but not identical to the gold answer: takes math-verify's path, not the fast path
                response = f"<think>so</think><answer>{task.answer} + 0</answer>"
            items.append({"task": task.to_dict(), "response": response})
    return items


def _score_loop(items: list[dict[str, Any]], seconds: float) -> tuple[int, float]:
    """Score items in a loop for about ``seconds``; (items scored, elapsed)."""
    from m1gym.core import Task
    from m1gym.registry import get_env

    pairs = [(Task.from_dict(it["task"]), it["response"]) for it in items]
    for task, response in pairs:  # warm up (math worker pools start on first use)
        get_env(task.env).score(task, response)
    n, t0 = 0, time.perf_counter()
    while True:
        for task, response in pairs:
            get_env(task.env).score(task, response)
        n += len(pairs)
        if time.perf_counter() - t0 >= seconds:
            return n, time.perf_counter() - t0


def pin(pid: int, cores: list[int]) -> None:
    """Every thread of a process onto these cores (sched_setaffinity on a pid moves one thread)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cores)
        except OSError:
            pass


def _pin_self(cores: list[int]) -> None:
    os.sched_setaffinity(0, cores)


class InProcess:
    """The in-process baseline: ``Environment.score`` in a loop, in 1 process (this one) and in
    W processes at once (kept alive across rounds). With ``cores``, every baseline process runs on
    those cores only (the cores the service's workers get)."""

    def __init__(self, processes: int, cores: list[int] | None = None):
        self.processes, self.cores = processes, cores
        self.ex = concurrent.futures.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                                         initializer=_pin_self if cores else None,
                                                         initargs=(cores,) if cores else ())

    def warm(self, items: list[dict[str, Any]]) -> None:
        _score_loop(items, 0.0)
        list(self.ex.map(_score_loop, [items] * self.processes, [0.0] * self.processes))

    def rate(self, items: list[dict[str, Any]], seconds: float, processes: int) -> float:
        if processes == 1:
            mine = os.sched_getaffinity(0)
            if self.cores:
                os.sched_setaffinity(0, self.cores[:1])
            try:
                n, el = _score_loop(items, seconds)
            finally:
                os.sched_setaffinity(0, mine)
            return n / el
        futures = [self.ex.submit(_score_loop, items, seconds) for _ in range(processes)]
        return sum(n / el for n, el in (f.result() for f in futures))

    def close(self) -> None:
        self.ex.shutdown()


def start_server(workers: int, extra: list[str]) -> tuple[subprocess.Popen, str]:
    log = Path(tempfile.mkstemp(prefix="m1gym-bench-", suffix=".log")[1])
    cmd = [sys.executable, "-m", "m1gym.cli", "serve", "--port", "0", "--workers", str(workers), *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        m = re.search(r"listening on (http://\S+)", log.read_text(errors="replace"))
        if m:
            log.unlink()
            return proc, m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"server did not start:\n{log.read_text(errors='replace')[-2000:]}")


def make_bodies(items: list[dict[str, Any]], batch: int) -> list[bytes]:
    return [orjson.dumps({"items": [items[(i + k) % len(items)] for k in range(batch)]})
            for i in range(0, max(len(items), batch * 4), batch)]


async def load(url: str, bodies: list[bytes], batch: int, concurrency: int, seconds: float,
               warm: bool = False) -> dict:
    latencies: list[float] = []
    errors = 0
    count = 0
    headers = {"content-type": "application/json"}

    async def worker(w: int, http: httpx.AsyncClient, stop: float) -> None:
        nonlocal errors, count
        i = w
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = await http.post("/v1/score", content=bodies[i % len(bodies)], headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or len(orjson.loads(r.content)["scores"]) != batch:
                errors += 1
            else:
                count += batch
            i += concurrency

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        if warm:  # every item once (math worker pools start on first use)
            for body in bodies:
                await http.post("/v1/score", content=body, headers=headers)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w, http, t0 + seconds) for w in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"latencies": latencies, "items_per_s": count / elapsed, "errors": errors}


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def cpu_snapshot(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds used so far by (the server process, its worker processes and their children, this process)."""
    return (_cpu_seconds(server_pid), sum(_cpu_seconds(p) for p in _descendants(server_pid)), time.process_time())


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="service workers = in-process processes compared")
    ap.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (baseline and service interleaved); medians")
    ap.add_argument("--batch-sizes", default="1,32,256")
    ap.add_argument("--concurrency", type=int, default=2, help="requests in flight for batches > 1")
    ap.add_argument("--per-env", type=int, default=12, help="tasks per env in the item pool")
    ap.add_argument("--families", default="logic,math")
    ap.add_argument("--no-by-id", action="store_true", help="skip the rows that score by task_id")
    ap.add_argument("--pin", action="store_true",
                    help="put the service's workers and the in-process baseline on the same W cores, and the "
                         "server and this load generator on the others (needs more than W cores)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    work_cores = other_cores = None
    if args.pin:
        if len(cores) <= args.workers:
            ap.error(f"--pin needs more than --workers {args.workers} cores (this process may use {len(cores)}); "
                     f"lower --workers")
        work_cores, other_cores = cores[:args.workers], cores[args.workers:]

    import m1gym  # noqa: F401

    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    pools = {}
    for fam in args.families.split(","):
        items = build_items(fam + "/", args.per_env)
        if items:
            pools[fam] = items
        else:
            print(f"(no {fam}/* envs registered: skipping {fam})")
    if not pools:
        print("nothing to measure")
        return 1

    w = args.workers
    base = InProcess(w, work_cores)
    proc, url = start_server(w, [])
    if args.pin:
        pin(os.getpid(), other_cores)
        pin(proc.pid, other_cores)
        for child in _descendants(proc.pid):  # the workers and their math-checker processes
            pin(child, work_cores)
    # "<family> by id": the same items sent as {task_id, response}, the tasks having been handed out
    # by the server's /v1/tasks (its task cache), so the request carries no task objects.
    by_id = {}
    if not args.no_by_id:
        with httpx.Client(base_url=url, timeout=120) as http:
            for fam, items in pools.items():
                slim = []
                for it in items:
                    t = it["task"]
                    got = http.post("/v1/tasks", json={"env": t["env"], "n": 1, "seed": t["meta"].get("seed"),
                                                       "level": t["meta"].get("level")}).json()["tasks"][0]
                    if got["id"] != t["id"]:
                        break  # this family's tasks do not record their seed: skip it
                    slim.append({"task_id": t["id"], "response": it["response"]})
                else:
                    by_id[f"{fam} by id"] = slim
    all_items = {**pools, **by_id}
    cells = [(fam, b, 1 if b == 1 else args.concurrency) for fam in all_items for b in batch_sizes]
    bodies = {(fam, b): make_bodies(all_items[fam], b) for fam, b, _ in cells}
    runs: dict[Any, list] = {key: [] for key in cells}
    rates: dict[Any, list] = {(fam, k): [] for fam in pools for k in (1, w)}
    try:
        for fam, items in pools.items():
            base.warm(items)
        for fam, b, conc in cells:
            asyncio.run(load(url, bodies[(fam, b)], b, conc, 0.0, warm=True))
        # Rounds interleave the baseline and the service, so load from other tenants of the
        # machine hits both alike; each figure is the median over the rounds.
        for rnd in range(args.rounds):
            for fam, items in pools.items():
                rates[(fam, 1)].append(base.rate(items, args.seconds, 1))
                if w > 1:
                    rates[(fam, w)].append(base.rate(items, args.seconds, w))
            for fam, b, conc in cells:
                before = cpu_snapshot(proc.pid)
                res = asyncio.run(load(url, bodies[(fam, b)], b, conc, args.seconds))
                after = cpu_snapshot(proc.pid)
                n = max(1.0, res["items_per_s"] * args.seconds)
                res["cpu_us_per_item"] = [(a - b_) / n * 1e6 for a, b_ in zip(after, before)]
                runs[(fam, b, conc)].append(res)
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        base.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

    med = statistics.median
    baseline = {fam: (med(rates[(fam, 1)]), med(rates[(fam, w)]) if w > 1 else med(rates[(fam, 1)]))
                for fam in pools}
    for fam in by_id:
        baseline[fam] = baseline[fam.split(" ")[0]]
    rows = []
    for (fam, b, conc), results in runs.items():
        lat = [x for r in results for x in r["latencies"]]
        rows.append({"family": fam, "batch": b, "concurrency": conc, "requests": len(lat),
                     "items_per_s": med([r["items_per_s"] for r in results]), "p50_ms": _pct(lat, 0.50),
                     "p99_ms": _pct(lat, 0.99), "errors": sum(r["errors"] for r in results),
                     "cpu_us_per_item": [med([r["cpu_us_per_item"][k] for r in results]) for k in range(3)],
                     "in_process_1": baseline[fam][0], "in_process_w": baseline[fam][1]})

    print(f"\nreward service on loopback: {w} worker processes, {os.cpu_count()} CPUs "
          f"(load average {os.getloadavg()[0]:.1f}), {args.rounds} rounds x {args.seconds:g} s per cell, medians")
    if args.pin:
        print(f"pinned: service workers and in-process baseline on cores {work_cores}, "
              f"server and load generator on cores {other_cores}")
    else:
        print("not pinned: server, workers and load generator share every core")
    print()
    print(f"{'family':<13} {'items':>5} {'in-proc 1p/s':>12} {f'in-proc {w}p/s':>12} {'us/item in-proc 1p':>19}")
    for fam, items in pools.items():
        print(f"{fam:<13} {len(items):>5} {baseline[fam][0]:>12,.0f} {baseline[fam][1]:>12,.0f} "
              f"{1e6 / baseline[fam][0]:>19.0f}")
    print()
    head = (f"{'family':<13} {'batch':>5} {'conc':>4} {'reqs':>6} {'items/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'x in-proc 1p':>12} {f'x in-proc {w}p':>12} {'errors':>6}  {'CPU us/item: server/workers/client':>34}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['family']:<13} {r['batch']:>5} {r['concurrency']:>4} {r['requests']:>6} {r['items_per_s']:>9,.0f} "
              f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['items_per_s'] / r['in_process_1']:>12.2f} "
              f"{r['items_per_s'] / r['in_process_w']:>12.2f} {r['errors']:>6}  "
              f"{'/'.join(f'{x:.0f}' for x in r['cpu_us_per_item']):>34}")
    print("\ntargets:")
    for r in rows:
        if r["batch"] == 256:
            ratio = r["items_per_s"] / r["in_process_w"]
            print(f"  {r['family']}: batch 256 at {ratio:.2f}x the in-process rate on the same {w} cores"
                  f"{' (workers pinned to them)' if args.pin else ' (shared with server and client)'} "
                  f"(target >= 0.7): {'met' if ratio >= 0.7 else 'MISSED'}")
        if r["batch"] == 1 and r["family"] == "logic":
            print(f"  logic: p99 at batch 1 = {r['p99_ms']:.1f} ms (target < 50): "
                  f"{'met' if r['p99_ms'] < 50 else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"baseline": {k: list(v) for k, v in baseline.items()}, "rows": rows},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
