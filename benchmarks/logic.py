"""Throughput of the logic tasks: instances generated per second and verifications per second.

    python benchmarks/logic.py [--tasks sudoku ...] [--level 2] [--seconds 0.5]

For every registered logic task, at the middle level (level 2 unless the task lacks it), on one
core in this process:

- gen/s:  ``env.generate(seed, level)`` calls per second (fresh seeds, timed for about --seconds);
- ver/s:  ``env.score(task, response)`` calls per second, cycling over the reference responses of
  the generated tasks (the full scoring path: answer extraction, parsing, rule check);
- gen x / ver x: the same as multiples of the targets (20 instances/s, 500 verifications/s), so the
  columns compare within this one run regardless of machine speed.

Tasks missing a target are flagged at the end. Exit status 0 always (a benchmark reports).
"""

from __future__ import annotations

import argparse
import sys
import time

GEN_TARGET = 20.0
VER_TARGET = 500.0


def bench_task(name: str, level: int | None = None, seconds: float = 0.5) -> dict:
    from m1gym import make

    env = make(name)
    lvl = level if level is not None and level in env.levels else (
        2 if 2 in env.levels else sorted(env.levels)[len(env.levels) // 2])
    tasks = []
    t0 = time.perf_counter()
    seed = 0
    while True:
        tasks.append(env.generate(seed, lvl))
        seed += 1
        elapsed = time.perf_counter() - t0
        if (elapsed >= seconds and seed >= 3) or seed >= 2000:
            break
    gen_rate = len(tasks) / elapsed
    responses = [env.reference(t) for t in tasks]
    n, correct = 0, 0
    t0 = time.perf_counter()
    while True:
        i = n % len(tasks)
        correct += env.score(tasks[i], responses[i]).reward >= 1.0
        n += 1
        elapsed = time.perf_counter() - t0
        if (elapsed >= seconds and n >= 10) or n >= 20000:
            break
    ver_rate = n / elapsed
    return {"task": name, "level": lvl, "gen_per_s": gen_rate, "ver_per_s": ver_rate,
            "ref_ok": correct / n, "instances": len(tasks)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", help="task names (default: every logic task)")
    parser.add_argument("--level", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args(argv)

    from m1gym.envs.logic.calibrate import resolve_tasks

    try:
        names = resolve_tasks(args.tasks)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = []
    for name in names:
        try:
            rows.append(bench_task(name, args.level, args.seconds))
        except Exception as exc:  # report a broken task and go on
            rows.append({"task": name, "error": f"{type(exc).__name__}: {exc}"[:120]})
    width = max(len(r["task"]) for r in rows) if rows else 10
    print(f"{'task':<{width}}  level  {'gen/s':>9}  {'gen x':>6}  {'ver/s':>9}  {'ver x':>7}  ref_ok")
    flags = []
    for r in rows:
        if "error" in r:
            print(f"{r['task']:<{width}}  ERROR {r['error']}")
            flags.append(f"{r['task']}: {r['error']}")
            continue
        print(f"{r['task']:<{width}}  {r['level']:>5}  {r['gen_per_s']:>9.1f}  {r['gen_per_s'] / GEN_TARGET:>6.1f}"
              f"  {r['ver_per_s']:>9.0f}  {r['ver_per_s'] / VER_TARGET:>7.1f}  {r['ref_ok']:.2f}")
        if r["gen_per_s"] < GEN_TARGET:
            flags.append(f"{r['task']}: generates {r['gen_per_s']:.1f}/s < {GEN_TARGET:.0f}/s")
        if r["ver_per_s"] < VER_TARGET:
            flags.append(f"{r['task']}: verifies {r['ver_per_s']:.0f}/s < {VER_TARGET:.0f}/s")
        if r["ref_ok"] < 1.0:
            flags.append(f"{r['task']}: reference answers pass only {r['ref_ok']:.0%}")
    print(f"\n{len(rows)} tasks; targets: >= {GEN_TARGET:.0f} instances/s generated, "
          f">= {VER_TARGET:.0f} verifications/s (x = multiple of the target)")
    if flags:
        print("MISSING TARGETS:")
        for f in flags:
            print(f"  ! {f}")
    else:
        print("every task meets both targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
