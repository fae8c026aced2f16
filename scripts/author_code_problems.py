"""Authoring script of the code env's ``m1gym`` problem set: ``python scripts/author_code_problems.py``.

The data folder ``m1gym/envs/code/data/m1gym/<problem>/`` is the one source of truth for everything
written by hand; this script holds no problem text. A problem folder holds:

- ``problem.json``: the hand-written fields (id, title, level, tags, statement, mode ``stdio`` or
  ``call``, fn_name, time_limit_s, memory_mb, checker ``tokens`` or ``float`` with tolerances, source,
  examples) and ``tests``, the one field this script writes;
- ``samples.json``: the hand-written samples with their hand-worked answers, ``{"input", "output"}``
  (stdio) or ``{"args", "expected"}`` (call mode); they become the first tests;
- ``reference.py`` and ``wrong.py`` (accepted / must not be accepted), and where a problem has them
  ``reference.cpp``, ``wrong.cpp``, ``checker.py`` (an output checker, for problems with many right
  answers), ``starter.py`` (call mode). The env reads these files as they are.

What is here is what is not hand-written data: one fixed-seed test-input generator per stdio problem
(``GENERATORS``), brute-force cross-checks (``BRUTE``), and the build. The build runs the reference
(trusted, hand-written code, run on the host: this script stays out of the installed package) on every
sample, asserts its answer against the hand-worked one, then on every generated input (cross-checked
against the brute force where there is one), and rewrites ``tests`` in problem.json. Call-mode
problems have only their samples as tests. The set is reproducible byte for byte.

Edit a problem: edit its files in the data folder, then rerun this script (a changed reference or
generator changes the expected outputs; never edit ``tests`` by hand).
Add a problem: create its folder with problem.json (``"tests": []``), samples.json, reference.py and
wrong.py (and the optional files); for a stdio problem add a generator at the END of the generators
below (all of them draw from one random stream in the order they are registered, so a generator
inserted earlier changes the tests of every problem after it); rerun.
Drop a problem: delete its folder and its generator. The script never deletes anything.

``--out DIR`` works on another copy of the set (``cp -r`` the data folder there first, e.g. to compare
with ``diff -r``); ``--check`` writes nothing and exits 1 when a problem.json is not what the build makes.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "m1gym" / "envs" / "code" / "data" / "m1gym"
SEED = 20260525

Generator = Callable[[random.Random], list[str]]
GENERATORS: dict[str, Generator] = {}  # stdio problem id -> its test inputs, in the order they draw
BRUTE: dict[str, Callable[[str], str | None]] = {}  # problem id -> expected output (None: too big)


def generator(pid: str, brute: Callable[[str], str | None] | None = None) -> Callable[[Generator], Generator]:
    """Register ``fn`` as the test-input generator of problem ``pid`` (and its brute force, if any)."""
    def register(fn: Generator) -> Generator:
        assert pid not in GENERATORS, pid
        GENERATORS[pid] = fn
        if brute is not None:
            BRUTE[pid] = brute
        return fn
    return register


# ---------------------------------------------------------------------------------- input helpers

def words(rng, n, alpha="abcde", lo=1, hi=6):
    return ["".join(rng.choice(alpha) for _ in range(rng.randint(lo, hi))) for _ in range(n)]


def sized_array(a) -> str:
    return f"{len(a)}\n{' '.join(map(str, a))}\n"


def counted_lines(n: int, line: Callable[[], str]) -> str:
    return f"{n}\n" + "".join(line() + "\n" for _ in range(n))


def edge_list(rng, n: int, m: int, weight: tuple[int, int] | None = None) -> str:
    """``n m`` then m random edges ``u v`` (``u v w`` with w drawn from ``weight``) over vertices 1..n."""
    def edge():
        e = f"{rng.randint(1, n)} {rng.randint(1, n)}"
        return e + (f" {rng.randint(*weight)}" if weight else "") + "\n"
    return f"{n} {m}\n" + "".join(edge() for _ in range(m))


# ---------------------------------------------------------------------------------- strings

@generator("reverse-words")
def gen_reverse_words(rng):
    return [" ".join(words(rng, rng.randint(1, 30))) + "\n" for _ in range(8)]


@generator("palindrome-ignore-case")
def gen_palindrome_ignore_case(rng):
    out = []
    for _ in range(10):
        w = "".join(rng.choice("abAB") for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.6:
            w += w[::-1].swapcase()
        out.append(w + "\n")
    return out


@generator("longest-common-prefix")
def gen_longest_common_prefix(rng):
    out = []
    for _ in range(10):
        pre = "".join(rng.choice("xy") for _ in range(rng.randint(0, 3)))
        n = rng.randint(2, 6)
        text = f"{n}\n" + "\n".join(pre + w for w in words(rng, n, "ab", 0, 3)) + "\n"
        out.append(text.replace("\n\n", "\nz\n"))  # an empty word becomes "z"
    return out


@generator("run-length")
def gen_run_length(rng):
    return ["".join(rng.choice("ab") * rng.randint(1, 12) for _ in range(rng.randint(1, 8))) + "\n" for _ in range(8)]


@generator("anagram-classes")
def gen_anagram_classes(rng):
    out = []
    for _ in range(8):
        ws = words(rng, rng.randint(3, 40), "aab", 1, 4)
        out.append(f"{len(ws)}\n" + " ".join(ws) + "\n")
    return out


def _count_brute(inp):
    t, p = inp.split()
    return str(sum(1 for i in range(len(t)) if t.startswith(p, i))) + "\n"


@generator("count-occurrences", brute=_count_brute)
def gen_count_occurrences(rng):
    return (["".join(rng.choice("ab") for _ in range(rng.randint(5, 60))) + "\n"
             + rng.choice(["aa", "aba", "b", "abab"]) + "\n" for _ in range(8)]
            + ["a" * 200000 + "\n" + "a" * 1000 + "\n"])


# ---------------------------------------------------------------------------------- math

@generator("gcd-lcm")
def gen_gcd_lcm(rng):
    return [f"{rng.randint(1, 10**rng.randint(1, 18)) * k} {rng.randint(1, 10**rng.randint(1, 18)) * k}\n"
            for k in (2, 3, 6, 10, 12, 7, 1, 4)]


@generator("modpow")
def gen_modpow(rng):
    return ([f"{rng.randint(0, 10**18)} {rng.randint(0, 10**18)} {rng.randint(2, 10**rng.randint(1, 18))}\n"
             for _ in range(9)] + ["5 0 1\n"])


@generator("prime-count")
def gen_prime_count(rng):
    return [f"{n}\n" for n in (1, 2, 10, 97, 1000, 65536, 999983, 5000000)]


def _digit_sum_brute(inp):
    n = int(inp)
    return str(sum(sum(map(int, str(x))) for x in range(1, n + 1))) + "\n" if n <= 10**6 + 7 else None


@generator("digit-sum-total", brute=_digit_sum_brute)
def gen_digit_sum_total(rng):
    return [f"{n}\n" for n in (1, 9, 10, 99, 1234, 10**6 + 7, rng.randint(1, 10**15), 10**15)]


def _fib_brute(inp):
    n = int(inp)
    if n > 5000:
        return None
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return f"{a % (10**9 + 7)}\n"


@generator("fibonacci-mod", brute=_fib_brute)
def gen_fibonacci_mod(rng):
    return [f"{n}\n" for n in (0, 1, 2, 10, 50, 1000, rng.randint(1, 10**18), 10**18)]


# ---------------------------------------------------------------------------------- DP

@generator("coin-change-ways")
def gen_coin_change_ways(rng):
    out = []
    for _ in range(8):
        coins = rng.sample(range(1, 30), rng.randint(1, 6))
        amount = rng.randint(0, 200)
        out.append(f"{len(coins)} {amount}\n{' '.join(map(str, coins))}\n")
    return out


@generator("lis-length")
def gen_lis_length(rng):
    return ([sized_array([rng.randint(0, 8) for _ in range(rng.randint(3, 25))]) for _ in range(8)]
            + [sized_array([rng.randint(-10**9, 10**9) for _ in range(200000)])])


@generator("edit-distance")
def gen_edit_distance(rng):
    def word():
        return "".join(rng.choice("abc") for _ in range(rng.randint(1, 12))) + "\n"
    return [word() + word() for _ in range(8)]


@generator("knapsack-01")
def gen_knapsack_01(rng):
    out = []
    for _ in range(8):
        n, cap = rng.randint(1, 8), rng.randint(5, 30)
        out.append(f"{n} {cap}\n" + "".join(f"{rng.randint(1, cap)} {rng.randint(0, 100)}\n" for _ in range(n)))
    return out


@generator("max-subarray")
def gen_max_subarray(rng):
    return [sized_array([rng.randint(-10, 6) for _ in range(rng.randint(1, 20))]) for _ in range(7)] + ["3\n-5 -2 -9\n"]


# ---------------------------------------------------------------------------------- greedy

def _interval(rng, start_hi: int, len_lo: int, len_hi: int) -> str:
    s = rng.randint(0, start_hi)
    return f"{s} {s + rng.randint(len_lo, len_hi)}"


@generator("activity-selection")
def gen_activity_selection(rng):
    return [counted_lines(rng.randint(1, 12), lambda: _interval(rng, 30, 1, 10)) for _ in range(8)]


@generator("min-platforms")
def gen_min_platforms(rng):
    return [counted_lines(rng.randint(1, 10), lambda: _interval(rng, 15, 0, 5)) for _ in range(8)] + ["2\n1 5\n5 9\n"]


# ---------------------------------------------------------------------------------- graphs

@generator("bfs-shortest-path")
def gen_bfs_shortest_path(rng):
    return [edge_list(rng, rng.randint(2, 9), rng.randint(0, 12)) for _ in range(8)] + ["3 2\n2 1\n3 2\n"]


@generator("dijkstra")
def gen_dijkstra(rng):
    return [edge_list(rng, rng.randint(2, 8), rng.randint(1, 16), weight=(0, 9)) for _ in range(8)]


@generator("connected-components")
def gen_connected_components(rng):
    return [edge_list(rng, rng.randint(1, 12), rng.randint(0, 10)) for _ in range(8)]


@generator("mst-weight")
def gen_mst_weight(rng):
    return [edge_list(rng, rng.randint(2, 7), rng.randint(1, 14), weight=(-5, 20)) for _ in range(8)]


@generator("topological-order")
def gen_topological_order(rng):
    out = []
    for _ in range(7):  # DAGs: edges go forward in a random permutation
        n = rng.randint(3, 9)
        perm = rng.sample(range(1, n + 1), n)
        edges = sorted({tuple(sorted(rng.sample(range(n), 2))) for _ in range(n)})
        out.append(f"{n} {len(edges)}\n" + "".join(f"{perm[a]} {perm[b]}\n" for a, b in edges))
    return out + ["3 3\n1 2\n2 3\n3 1\n"]


# ---------------------------------------------------------------------------------- floats

@generator("circle-area")
def gen_circle_area(rng):
    return [f"{rng.uniform(0.1, 10**4):.4f}\n" for _ in range(8)]


@generator("polygon-area")
def gen_polygon_area(rng):
    out = []
    for _ in range(8):  # a regular k-gon of radius r, rounded to integers, either orientation
        k, r, sgn = rng.randint(3, 12), rng.randint(5, 1000), rng.choice([1, -1])
        angles = [sgn * 2 * math.pi * i / k for i in range(k)]
        out.append(f"{k}\n" + "".join(f"{round(r * math.cos(t))} {round(r * math.sin(t))}\n" for t in angles))
    return out


@generator("average-speed")
def gen_average_speed(rng):
    return [counted_lines(rng.randint(2, 10), lambda: f"{rng.randint(1, 1000)} {rng.randint(1, 1000)}")
            for _ in range(8)]


@generator("sqrt-newton")
def gen_sqrt_newton(rng):
    return [counted_lines(rng.randint(1, 6), lambda: f"{rng.randint(0, 10**12)}") for _ in range(8)]


# ---------------------------------------------------------------------------------- build

def run_py(code: str, inp: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], input=inp, capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise RuntimeError(f"reference failed: {r.stderr[-500:]}")
    return r.stdout


def call_py(code: str, fn: str, args):
    ns: dict = {}
    exec(compile(code, "<reference>", "exec"), ns)  # trusted, hand-written reference (authoring only)
    f = ns.get(fn) or getattr(ns["Solution"](), fn)
    return f(*json.loads(json.dumps(args)))


def stdio_tests(pid: str, d: Path, meta: dict, rng: random.Random) -> list[dict]:
    ref = (d / "reference.py").read_text(encoding="utf-8")
    is_float = meta["checker"]["type"] == "float"
    many_answers = (d / "checker.py").exists()  # any valid answer is accepted: the sample's is one of them
    tests = []
    for sample in read_json(d / "samples.json"):
        inp, want = sample["input"], sample["output"]
        got = run_py(ref, inp)
        if is_float:
            assert len(got.split()) == len(want.split()), (pid, inp, got, want)
            assert all(abs(float(a) - float(b)) < 1e-6 for a, b in zip(got.split(), want.split())), (pid, inp, got, want)
        elif not many_answers:
            assert got.split() == want.split(), (pid, inp, got, want)
        tests.append({"input": inp, "output": got})
    brute = BRUTE.get(pid)
    for inp in GENERATORS[pid](rng):
        out = run_py(ref, inp)
        if brute is not None:
            b = brute(inp)
            assert b is None or b.split() == out.split(), (pid, inp, out, b)
        tests.append({"input": inp, "output": out})
    return tests


def call_tests(pid: str, d: Path, meta: dict) -> list[dict]:
    ref = (d / "reference.py").read_text(encoding="utf-8")
    tests = []
    for sample in read_json(d / "samples.json"):
        args, want = sample["args"], sample["expected"]
        got = call_py(ref, meta["fn_name"], args)
        assert json.dumps(got) == json.dumps(want) or abs(got[0] - want[0]) < 1e-9, (pid, args, got, want)
        tests.append({"args": args, "expected": got})
    return tests


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def problem_dirs(root: Path) -> dict[str, Path]:
    """The problems of the set in build order: the stdio ones in generator order, then the call ones."""
    found = {p.name: p for p in sorted(root.iterdir()) if (p / "problem.json").is_file()}
    modes = {pid: read_json(d / "problem.json")["mode"] for pid, d in found.items()}
    errors = [f"{pid}: a generator but no problem folder" for pid in GENERATORS if pid not in found]
    errors += [f"{pid}: a stdio problem needs a generator in this script" for pid, m in modes.items()
               if m == "stdio" and pid not in GENERATORS]
    errors += [f"{pid}: a {m} problem has no generated tests, drop its generator" for pid, m in modes.items()
               if m != "stdio" and pid in GENERATORS]
    if errors:
        sys.exit(f"{root}:\n  " + "\n  ".join(errors))
    return {**{pid: found[pid] for pid in GENERATORS}, **{pid: d for pid, d in found.items() if pid not in GENERATORS}}


def build(root: Path = OUT, check: bool = False) -> int:
    """Recompute the tests of every problem under ``root``; rewrite problem.json (or, with ``check``, compare)."""
    if not root.is_dir():
        sys.exit(f"{root}: no such problem set folder")
    rng = random.Random(SEED)  # one stream, drawn by the generators in registration order
    stale = []
    for pid, d in problem_dirs(root).items():
        meta = read_json(d / "problem.json")
        meta["tests"] = stdio_tests(pid, d, meta, rng) if meta["mode"] == "stdio" else call_tests(pid, d, meta)
        text = json.dumps(meta, indent=1, ensure_ascii=False) + "\n"
        path = d / "problem.json"
        if path.read_text(encoding="utf-8") != text:
            stale.append(pid)
            if not check:
                path.write_text(text, encoding="utf-8")
        print(f"{pid:<24} level {meta['level']}  {len(meta['tests'])} tests"
              + ("  (changed)" if pid in stale else ""))
    verb = "out of date" if check else "rewritten"
    print(f"{len(stale)} problem.json files {verb} in {root}" + (f": {', '.join(stale)}" if stale else ""))
    return 1 if check and stale else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", "--dir", type=Path, default=OUT,
                    help=f"problem set folder whose tests to recompute (default {OUT})")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a problem.json is out of date")
    args = ap.parse_args()
    sys.exit(build(args.out, check=args.check))
