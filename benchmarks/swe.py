"""SWE sandbox timings, with the images cached (they are built first if missing, not timed).

    python benchmarks/swe.py [--repeats 5] [--sample textkit]

Measured in this one run, on the bundled samples:

- grade:       ``Grader.grade_patch(gold)`` end to end: fresh container, repository copy, git apply,
               test-file restore, syntax check, test patch, pytest with JUnit XML, parse, removal;
- direct:      the same pytest command alone, in a container that already holds the patched repository
               (what grading costs at the least);
- overhead:    grade - direct (target: at most 1.5 s);
- agent step:  ``SWEAgentEnv.step("bash true")`` in a running episode (parse, run, observation);
- throughput:  gold patches of every sample graded by 1 and by 2 threads; gradings per second and
               the 2-thread speed-up.

Medians of --repeats. Exit status 0 always (a benchmark reports).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

OVERHEAD_TARGET_S = 1.5


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sample", default="textkit")
    args = ap.parse_args(argv)

    from m1gym.envs.swe import Grader, SWEAgentEnv, samples
    from m1gym.envs.swe.image_builder import shared_builder

    insts = samples()
    inst = next(s for s in insts if s.sample == args.sample)
    builder = shared_builder()
    t0 = time.perf_counter()
    for s in insts:
        builder.ensure(s)
    print(f"images ready in {time.perf_counter() - t0:.1f}s (not timed below)")
    grader = Grader(builder=builder)

    def grade():
        g = grader.grade_patch(inst, inst.patch)
        assert g.resolved, g.reason

    grade()  # warm the daemon's caches
    grade_s = _median_time(grade, args.repeats)

    with grader.workspace(inst) as ws:
        assert ws.apply(inst.patch, "gold.patch")[0] and ws.apply(inst.test_patch, "test.patch", fuzzy=False)[0]

        def direct():
            run = ws.tests(inst.test_files, 300)
            assert run.statuses and all(v == "passed" for v in run.statuses.values()), run.output

        direct()
        direct_s = _median_time(direct, args.repeats)

    env = SWEAgentEnv([inst], grader=grader)
    try:
        env.reset(seed=0, options={"max_steps": 10_000})
        env.step("bash true")
        step_s = _median_time(lambda: env.step("bash true"), max(args.repeats, 10))
    finally:
        env.close()

    jobs = [s for s in insts for _ in range(max(1, args.repeats // 2))]

    def run_all(workers: int) -> float:
        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda s: grader.grade_patch(s, s.patch), jobs))
        assert all(r.resolved for r in results), [r.reason for r in results if not r.resolved]
        return len(jobs) / (time.perf_counter() - t)

    serial = run_all(1)
    parallel = run_all(2)
    grader.close()

    overhead = grade_s - direct_s
    rows = [
        ("grade one task (s)", f"{grade_s:.2f}", ""),
        ("same tests, existing container (s)", f"{direct_s:.2f}", ""),
        ("grading overhead (s)", f"{overhead:.2f}",
         f"target <= {OVERHEAD_TARGET_S} s: {'met' if overhead <= OVERHEAD_TARGET_S else 'MISSED'}"),
        ("grade / direct", f"{grade_s / direct_s:.1f}x", ""),
        ("agent step, bash true (ms)", f"{step_s * 1000:.0f}", ""),
        ("gradings/s, 1 thread", f"{serial:.2f}", f"{len(jobs)} gold patches over {len(insts)} samples"),
        ("gradings/s, 2 threads", f"{parallel:.2f}", f"speed-up {parallel / serial:.2f}x"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"\nSWE sandbox, sample {inst.instance_id}, median of {args.repeats}")
    for name, value, note in rows:
        print(f"  {name:<{w}}  {value:>8}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
