"""Math scoring throughput: bare math-verify vs m1gym's pooled checker, on the same answers.

    python benchmarks/math_scoring.py [--answers 2000] [--group 4] [--timeout 5]

The answers: tasks from all ten ``math/<family>`` envs at levels 0-4, ``--group`` sampled
responses per task (as in RL, where G responses share one prompt), cycling through response kinds:
the reference (think block + answer), the distractor (a typical mistake), the answer in another
notation (\\boxed{} in prose, a decimal, a reordered set / tuple), a perturbed answer ("+ 1"), and
garbage (no answer, unclosed think block).

Rows (answers per second, over the same list, in this one run):

  (a)  bare math-verify in this process: the answer extracted from the response, then
       ``verify(parse(gold), parse(answer))`` with math-verify's own signal-based timeouts; what one
       would write without m1gym. (Also shown: math-verify extracting from the whole response
       itself, which finds no answer in many of these responses and so does less work.)
  (b)  ``env.score(task, response)`` one at a time, through a pool of ONE worker process
       (extraction, format check, fast paths, IPC, math-verify + guards in the worker).
  (c)  ``env.score_batch`` per env, through a pool of TWO worker processes.

Ratios are against (a). Targets on a 2-core machine: (b) >= 0.8x, (c) >= 1.5x. Also printed: how
many answers needed a worker, and how often (b) and (a) disagree (m1gym's guards reject
published math-verify false positives and accept some forms it misses). Exit status 0 always.
"""

from __future__ import annotations

import argparse
import logging
import os
import time


def build_answers(n: int, group: int, offset: int = 10_000):
    from m1gym import get_env
    from m1gym.envs.math import FAMILIES

    per_task = max(1, group)
    n_tasks = max(1, n // per_task)
    items = []
    kinds = ("reference", "distractor", "boxed-prose", "other-notation", "plus-one", "garbage")
    t = 0
    while len(items) < n:
        family = FAMILIES[t % len(FAMILIES)]
        level = (t // len(FAMILIES)) % 5
        env = get_env(f"math/{family}")
        task = env.generate(offset + t, level)
        for j in range(per_task):
            kind = kinds[(t + j * 2) % len(kinds)]
            items.append((env, task, respond(env, task, kind)))
            if len(items) >= n:
                break
        t += 1
    return items[:n], n_tasks


def respond(env, task, kind: str) -> str:
    ans = task.answer
    if kind == "reference":
        return env.reference(task)
    if kind == "distractor":
        return f"<think>\nLet me work it out.\n</think>\n<answer>{task.meta['distractor']}</answer>"
    if kind == "boxed-prose":
        return f"First we simplify, then we compute.\n\nThe final answer is $\\boxed{{{ans}}}$."
    if kind == "other-notation":
        alt = ans
        if ans.startswith("\\frac{") or ans.startswith("-\\frac{"):
            alt = ans.replace("\\frac{", "").replace("}{", "/").replace("}", "")  # a/b
        elif ", " in ans and "=" not in ans:
            alt = ", ".join(reversed(ans.split(", ")))  # reordered set
        elif ans.startswith("x = ") and ", y = " in ans:
            x, y = ans[4:].split(", y = ")
            alt = f"({x}, {y})"
        elif ans.lstrip("-").isdigit():
            alt = f"{ans}.0"
        return f"<think>ok</think><answer>{alt}</answer>"
    if kind == "plus-one":
        return f"<answer>{ans} + 1</answer>"
    return "<think>I am not sure" if (len(ans) % 2) else "I could not solve this."


def worker_cpu(pool) -> float:
    """CPU seconds (user + system) used so far by the pool's worker processes (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for w in list(pool._idle):
        try:
            with open(f"/proc/{w.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--answers", type=int, default=2000)
    ap.add_argument("--group", type=int, default=4, help="responses per task (gold answers repeat this often)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="interleaved rounds on fresh answer sets; the best time of each mode counts")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--worker-only", action="store_true",
                    help="keep only answers that reach a worker (no fast path): the pool's worst case")
    ap.add_argument("--warmup", type=int, default=1000,
                    help="answers (from other tasks) scored before timing, so each fresh worker process has "
                         "imported its modules and built the LaTeX parser's tables, as in a long run")
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from math_verify import parse, verify

    from m1gym.verifiers import math as vm
    from m1gym.verifiers.extract import extract_answer

    load_before = os.getloadavg()
    rounds = [build_answers(args.answers, args.group, offset=10_000 * (r + 1))[0] for r in range(max(1, args.rounds))]
    if args.worker_only:
        def needs_worker(item):
            a = extract_answer(item[2], boxed=True)
            return (a is not None and item[0]._extract(item[2])[1] is None
                    and vm.prepare(item[1].answer, a)[0] is None)

        rounds = [[it for it in items if needs_worker(it)] for items in rounds]
        size = min(len(items) for items in rounds)
        rounds = [items[:size] for items in rounds]
    warm_items, _ = build_answers(args.warmup, 1, offset=999_000)  # other tasks: warms imports and parser tables, not caches
    n = len(rounds[0])
    print(("only answers that reach a worker; " if args.worker_only else "") +
          f"{n} answers per round ({args.group} responses per task), "
          f"10 families x 5 levels, {len(rounds)} interleaved rounds on fresh answers (best time counts); "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} at start")

    def bare_full(seq):
        return [bool(verify(parse("\\boxed{" + t.answer + "}"), parse(r))) for _, t, r in seq]

    def bare_extracted(seq):
        out = []
        for _, t, r in seq:
            a = extract_answer(r, boxed=True)
            out.append(bool(a is not None and verify(parse("\\boxed{" + t.answer + "}"), parse("\\boxed{" + a + "}"))))
        return out

    def one_by_one(seq):
        return [e.score(t, r) for e, t, r in seq]

    def batched(seq):
        out = [None] * len(seq)
        groups: dict[str, list[int]] = {}
        for i, (e, _, _) in enumerate(seq):
            groups.setdefault(e.name, []).append(i)
        for idx in groups.values():
            env = seq[idx[0]][0]
            for i, s in zip(idx, env.score_batch([seq[i][1] for i in idx], [seq[i][2] for i in idx])):
                out[i] = s
        return out

    def clear_caches() -> None:
        import math_verify.parser as mvp

        for name in ("parse_latex_cached", "parse_expr_cached"):
            fn = getattr(mvp, name, None)
            if hasattr(fn, "cache_clear"):
                fn.cache_clear()

    def bare(fn):
        def run(seq):
            clear_caches()  # every round starts cold, like the fresh worker processes of (b) and (c)
            return fn(seq), 0.0
        return run

    def pooled(n_workers, fn):
        def run(seq):
            pool = vm.MathPool(n_workers, timeout=args.timeout)
            old = vm.set_default_pool(pool)
            try:
                pool.warm_up()
                fn(warm_items)
                before, c0 = worker_cpu(pool), time.process_time()
                out, secs = timed(lambda: fn(seq))
                return out, worker_cpu(pool) - before + time.process_time() - c0, secs
            finally:
                vm.set_default_pool(old)
                pool.close()
        return run

    modes = {"a": bare(bare_extracted), "a0": bare(bare_full), "b": pooled(1, one_by_one), "c": pooled(2, batched)}
    bare_extracted(warm_items)
    bare_full(warm_items)
    best = {k: float("inf") for k in modes}
    cpu = {k: float("inf") for k in modes}
    results: dict[str, list] = {}
    for r, items in enumerate(rounds):
        for key, fn in modes.items():
            if key in ("a", "a0"):
                c0 = time.process_time()
                (out, _), secs = timed(lambda: fn(items))
                used = time.process_time() - c0
            else:
                out, used, secs = fn(items)  # CPU of this process and the workers, timed part only
            if secs < best[key]:
                best[key], cpu[key] = secs, used
            if r == 0:
                results[key] = out

    rate = {k: n / v for k, v in best.items()}
    rows = [
        ("(a)  bare math-verify parse+verify, 1 process", "a", None),
        ("     (same, math-verify extracting from the whole response)", "a0", None),
        ("(b)  env.score, pool of 1 worker", "b", 0.8),
        ("(c)  env.score_batch, pool of 2 workers", "c", 1.5),
    ]
    print(f"\n{'mode':<60}{'answers/s':>10}{'seconds':>9}{'CPU s':>7}{'x (a)':>7}  target")
    for label, key, target in rows:
        ratio = rate[key] / rate["a"]
        mark = "" if target is None else (f">= {target}x " + ("ok" if ratio >= target else "MISSED"))
        print(f"{label:<60}{rate[key]:>10.0f}{best[key]:>9.2f}{cpu[key]:>7.2f}{ratio:>7.2f}  {mark}")

    items = rounds[0]
    extracted = [(t.answer, extract_answer(r, boxed=True)) for _, t, r in items]
    need_worker = sum(1 for g, a in extracted if a is not None and vm.prepare(g, a)[0] is None)
    agree_bc = sum(sb.reward == sc.reward for sb, sc in zip(results["b"], results["c"]))
    diff = [(t.answer, r[-50:], a, sb.reward) for (_, t, r), a, sb in zip(items, results["a"], results["b"])
            if bool(a) != (sb.reward == 1.0)]
    load_after = os.getloadavg()
    print(f"\nanswers that needed a worker process: {need_worker}/{n} (the rest had no answer, a bad format, "
          "or were decided by an exact fast path)")
    print(f"(b) and (c) agree on {agree_bc}/{n}; (a) and (b) differ on {len(diff)}/{n}:")
    for gold, resp, a, b in diff[:6]:
        print(f"   gold {gold!r:<26} bare={int(a)} m1gym={int(b)}  response ...{resp!r}")
    print(f"load average {load_after[0]:.1f} at end on {os.cpu_count()} CPUs (a shared machine: compare ratios "
          "within this run, not absolute rates).")
    print("CPU s = CPU seconds this process and its workers spent in the best round; when the CPU share this "
          "session gets is the bottleneck (other users, autogroup scheduling), two workers cannot beat one.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
