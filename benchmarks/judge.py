"""Judge throughput: bare subprocess vs warm container pool vs fresh container per submission.

    python benchmarks/judge.py [--python-subs 12] [--cpp-subs 6]

One 10-test Python problem (``reverse-words``) and one 10-test C++ problem (``gcd-lcm``) from the
shipped set, judged by the same ``Judge`` code over three sandboxes, all in one run:

  (a) bare:  LocalSandbox, plain subprocesses in a temp dir, no isolation at all
  (b) pool:  DockerSandbox(pool=True), warm containers reset between submissions (the default)
  (c) fresh: DockerSandbox(pool=False), a new container per submission (create/start/remove)

Submissions run one after another, the three modes taking turns in rounds; every one must be accepted. Prints submissions/s and the ratios
(b)/(a) (target >= 0.5) and (b)/(c) (target >= 3). The C++ submission includes only <cstdio>, so the
base image's precompiled bits/stdc++.h gives the containers no edge over the bare host compiler.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

os.environ.setdefault("M1GYM_NO_AUTOLOAD", "1")

from m1gym.envs.code import Judge, load_builtin_set  # noqa: E402
from m1gym.sandbox import DockerSandbox, LocalSandbox  # noqa: E402

CPP_GCD_LCM = r"""
#include <cstdio>
typedef unsigned long long u64;
static u64 g(u64 a, u64 b) { while (b) { u64 t = a % b; a = b; b = t; } return a; }
int main() {
    u64 a, b;
    if (scanf("%llu %llu", &a, &b) != 2) return 1;
    u64 d = g(a, b);
    unsigned __int128 l = (unsigned __int128)(a / d) * b;
    char buf[64]; int n = 0;
    do { buf[n++] = char('0' + (int)(l % 10)); l /= 10; } while (l);
    printf("%llu ", d);
    while (n) putchar(buf[--n]);
    putchar('\n');
}
"""


def bench(judges: dict[str, Judge], problem, code: str, lang: str, n: int, rounds: int) -> dict[str, float]:
    """Submissions/s per mode. The modes take turns in ``rounds`` rounds of ``n`` submissions, so a
    change in the (shared) machine's load hits every mode alike."""
    spent = {name: 0.0 for name in judges}
    for judge in judges.values():
        judge.judge(problem, code, lang)  # warm-up (pool: starts the container; all: page cache)
    for _ in range(rounds):
        for name, judge in judges.items():
            start = time.perf_counter()
            for _ in range(n):
                r = judge.judge(problem, code, lang)
                if not r.accepted:
                    raise SystemExit(f"benchmark submission not accepted on {problem.id} ({name}): {r.summary()}")
            spent[name] += time.perf_counter() - start
    return {name: n * rounds / t for name, t in spent.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python-subs", type=int, default=4, help="submissions per mode per round (Python)")
    ap.add_argument("--cpp-subs", type=int, default=2, help="submissions per mode per round (C++)")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    problems = {p.id: p for p in load_builtin_set("m1gym")}
    py_problem, cpp_problem = problems["reverse-words"], problems["gcd-lcm"]
    assert len(py_problem.tests) == 10 and len(cpp_problem.tests) == 10
    cases = [("python", py_problem, py_problem.reference_solution("python"), "python", args.python_subs),
             ("c++17", cpp_problem, CPP_GCD_LCM, "cpp", args.cpp_subs)]
    pool, fresh = DockerSandbox(pool=True, pool_size=2), DockerSandbox(pool=False)
    sandboxes = {"bare": LocalSandbox(), "pool": pool, "fresh": fresh}
    rows = []
    for label, problem, code, lang, n in cases:
        rates = bench({name: Judge(sb) for name, sb in sandboxes.items()}, problem, code, lang, n, args.rounds)
        rows.append((label, problem.id, n * args.rounds, rates))
    pool.close()
    fresh.close()

    print(f"judge throughput, {os.cpu_count()} CPUs, 10 tests per submission, sequential submissions")
    print(f"{'language':<8} {'problem':<14} {'subs':>4} {'(a) bare/s':>11} {'(b) pool/s':>11} {'(c) fresh/s':>12} "
          f"{'b/a':>6} {'b/c':>6}")
    ok = True
    for label, pid, n, r in rows:
        ba, bc = r["pool"] / r["bare"], r["pool"] / r["fresh"]
        ok &= ba >= 0.5 and bc >= 3.0
        print(f"{label:<8} {pid:<14} {n:>4} {r['bare']:>11.2f} {r['pool']:>11.2f} {r['fresh']:>12.2f} "
              f"{ba:>6.2f} {bc:>6.2f}")
    print("targets: b/a >= 0.50 and b/c >= 3.00 ->", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
