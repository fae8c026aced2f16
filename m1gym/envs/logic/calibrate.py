"""Calibration of the logic tasks: do the levels really rise in difficulty?

For each task and level, ``calibrate`` generates ``n`` instances and measures:

- prompt size in tokens, estimated as ``ceil(chars / 4)`` of the full prompt text (the usual
  rule of thumb for English text under BPE tokenisers; it needs no tokenizer download and is
  stable across machines, so levels can be compared; multiply by ~1.1 for bracket-heavy prompts);
- generation time per instance (ms, wall clock, this process);
- the pass rate of three answerers, each scored by the task's own verifier:
  ``garbage``: a task-agnostic answer drawn from a fixed list (empty, "42", "A", "none", ...);
  ``random``: a random answer in the right shape (the task's ``random_answer`` hook when it has one,
  else the reference answer with its words and numbers shuffled among themselves);
  ``reference``: the reference solver (``env.reference``), which must pass 100%;
  ``solver`` (optional): any command (``--solver CMD``) that reads the prompt on stdin and writes a
  response on stdout, e.g. a script calling a model.

A task whose levels rise shows growing prompt sizes and a non-increasing random pass rate; the
``rising`` column flags a task whose mean prompt size does not grow from level to level.
Results print as a table and can be written as JSON (``.json``) or Markdown (any other suffix).
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

from ...core import reference_response, stable_rng

#: task-agnostic garbage answers (the "does the verifier accept anything?" baseline)
GARBAGE_ANSWERS = ("", "I don't know", "42", "A", "none", "-1", "[]", "{}", "yes", "0", "No",
                   "[[0, 1], [1, 0]]", "{\"a\": 1}")


def approx_tokens(text: str) -> int:
    """Token estimate used throughout calibration: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


@dataclass
class CalibrationRow:
    task: str
    level: int
    n: int
    prompt_tokens: float            # mean estimated prompt tokens
    prompt_tokens_max: int
    gen_ms: float                   # mean generation time per instance
    verify_ms: float                # mean verification time (reference answers)
    garbage_pass: float             # pass rate of task-agnostic garbage answers
    random_pass: float              # pass rate of random answers in the right shape
    reference_pass: float           # pass rate of the reference solver (must be 1.0)
    failures: int = 0               # instances that failed to generate
    errors: list[str] = field(default_factory=list)
    solver_pass: float | None = None  # pass rate of a given solver (``--solver CMD``), if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shuffled_answer(text: str, rng: random.Random) -> str:
    """A random answer shaped like ``text``: its words permuted among themselves, its integers
    permuted and perturbed, punctuation (brackets, commas, quotes) kept in place; a bracket-only
    answer gets its bracket characters shuffled."""
    tokens = re.findall(r"-?\d+|[A-Za-z]+|\s+|.", text, flags=re.DOTALL)
    words = [t for t in tokens if t.isalpha()]
    nums = [t for t in tokens if re.fullmatch(r"-?\d+", t)]
    if not words and not nums:
        chars = list(text)
        rng.shuffle(chars)
        return "".join(chars)
    rng.shuffle(words)
    ints = [int(n) for n in nums]
    lo, hi = (min(ints) - 1, max(ints) + 1) if ints else (0, 1)
    new_nums = [str(rng.randint(lo, hi)) if rng.random() < 0.5 else n for n in nums]
    rng.shuffle(new_nums)
    out, wi, ni = [], 0, 0
    for t in tokens:
        if t.isalpha():
            out.append(words[wi])
            wi += 1
        elif re.fullmatch(r"-?\d+", t):
            out.append(new_nums[ni])
            ni += 1
        else:
            out.append(t)
    return "".join(out)


def logic_task_names() -> list[str]:
    from ...registry import list_envs

    return [s.name for s in list_envs() if s.name.startswith("logic/")]


def resolve_tasks(names: Iterable[str] | None) -> list[str]:
    """Full env names for the given task names ("sudoku" or "logic/sudoku"); all when None."""
    known = logic_task_names()
    if not names:
        return known
    out = []
    for name in names:
        full = name if name.startswith("logic/") else f"logic/{name}"
        if full not in known:
            raise ValueError(f"unknown logic task {name!r}; known: {', '.join(n[6:] for n in known)}")
        out.append(full)
    return out


def command_solver(command: str, timeout: float = 60.0) -> Callable[[Any], str]:
    """A solver that runs ``command`` (no shell) once per task: the prompt text on stdin, the
    response read from stdout; the task id is in the environment as M1GYM_TASK_ID. A command that
    times out or fails answers the empty string (scored 0)."""
    import os
    import shlex
    import subprocess

    argv = shlex.split(command)
    if not argv:
        raise ValueError("empty solver command")

    def solve(task: Any) -> str:
        try:
            proc = subprocess.run(argv, input=task.prompt_text, capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, "M1GYM_TASK_ID": task.id})
        except (subprocess.TimeoutExpired, OSError):
            return ""
        return proc.stdout

    return solve


def calibrate_one(env: Any, level: int, n: int = 20, seed: int = 0,
                  solver: Callable[[Any], str] | None = None) -> CalibrationRow:
    tokens: list[int] = []
    solved = 0
    gen_s: list[float] = []
    ver_s: list[float] = []
    garbage = rand = ref = 0
    failures = 0
    errors: list[str] = []
    for i in range(n):
        s = seed + i
        t0 = time.perf_counter()
        try:
            task = env.generate(s, level)
        except Exception as exc:  # calibration reports broken generators instead of dying
            failures += 1
            if len(errors) < 3:
                errors.append(f"seed {s}: {type(exc).__name__}: {exc}"[:200])
            continue
        gen_s.append(time.perf_counter() - t0)
        tokens.append(approx_tokens(task.prompt_text))
        rng = stable_rng("calibrate", env.name, level, s)
        t0 = time.perf_counter()
        ref += env.score(task, env.reference(task)).reward >= 1.0
        ver_s.append(time.perf_counter() - t0)
        garbage += env.score(task, reference_response(rng.choice(GARBAGE_ANSWERS))).reward >= 1.0
        shaped = None
        hook = getattr(env, "random_answer", None)
        if hook is not None and isinstance(task.answer, dict):
            try:
                shaped = hook(task.answer, rng)
            except Exception:
                shaped = None
        if shaped is None:
            sol = getattr(env, "solution_text", None)
            base = sol(task.answer) if sol is not None and isinstance(task.answer, dict) else "0"
            shaped = shuffled_answer(base, rng)
        rand += env.score(task, reference_response(shaped)).reward >= 1.0
        if solver is not None:
            solved += env.score(task, solver(task)).reward >= 1.0
    ok = max(1, len(gen_s))
    return CalibrationRow(
        task=env.name, level=level, n=len(gen_s),
        prompt_tokens=round(sum(tokens) / ok, 1), prompt_tokens_max=max(tokens, default=0),
        gen_ms=round(1000 * sum(gen_s) / ok, 3), verify_ms=round(1000 * sum(ver_s) / ok, 3),
        garbage_pass=round(garbage / ok, 3), random_pass=round(rand / ok, 3),
        reference_pass=round(ref / ok, 3), failures=failures, errors=errors,
        solver_pass=None if solver is None else round(solved / ok, 3),
    )


def calibrate(tasks: Iterable[str] | None = None, levels: Sequence[int] | None = None, n: int = 20,
              seed: int = 0, progress: Callable[[str], None] | None = None,
              solver: Callable[[Any], str] | None = None) -> list[CalibrationRow]:
    from ...registry import make

    rows = []
    for name in resolve_tasks(tasks):
        env = make(name)
        for level in (levels if levels is not None else list(env.levels)):
            if level not in env.levels:
                continue
            if progress:
                progress(f"{name} level {level}")
            rows.append(calibrate_one(env, level, n=n, seed=seed, solver=solver))
    return rows


def rising(rows: Sequence[CalibrationRow]) -> dict[str, bool]:
    """Per task: does the mean prompt size strictly grow from each level to the next?"""
    by_task: dict[str, list[CalibrationRow]] = {}
    for r in rows:
        by_task.setdefault(r.task, []).append(r)
    out = {}
    for task, rs in by_task.items():
        rs = sorted(rs, key=lambda r: r.level)
        out[task] = all(a.prompt_tokens < b.prompt_tokens for a, b in zip(rs, rs[1:]))
    return out


COLUMNS = ("task", "level", "n", "tokens", "tok_max", "gen_ms", "ver_ms", "garbage", "random", "ref", "fail")


def _columns(rows: Sequence[CalibrationRow]) -> tuple[str, ...]:
    return COLUMNS + (("solver",) if any(r.solver_pass is not None for r in rows) else ())


def _cells(r: CalibrationRow, with_solver: bool = False) -> list[str]:
    cells = [r.task.removeprefix("logic/"), str(r.level), str(r.n), f"{r.prompt_tokens:.0f}",
             str(r.prompt_tokens_max), f"{r.gen_ms:.2f}", f"{r.verify_ms:.3f}", f"{r.garbage_pass:.2f}",
             f"{r.random_pass:.2f}", f"{r.reference_pass:.2f}", str(r.failures)]
    if with_solver:
        cells.append("-" if r.solver_pass is None else f"{r.solver_pass:.2f}")
    return cells


def format_table(rows: Sequence[CalibrationRow]) -> str:
    columns = _columns(rows)
    cells = [list(columns)] + [_cells(r, len(columns) > len(COLUMNS)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    flags = _flags(rows)
    if flags:
        lines.append("")
        lines.extend(flags)
    return "\n".join(lines)


def _flags(rows: Sequence[CalibrationRow]) -> list[str]:
    out = []
    for task, ok in sorted(rising(rows).items()):
        if not ok and sum(r.task == task for r in rows) > 1:
            out.append(f"~ {task}: prompt size does not grow with level (fine when difficulty comes from "
                       f"fewer givens or harder structure; check the knobs)")
    for r in rows:
        if r.n and r.reference_pass < 1.0:
            out.append(f"! {r.task} level {r.level}: reference passes only {r.reference_pass:.0%}")
        if r.failures:
            out.append(f"! {r.task} level {r.level}: {r.failures} generation failure(s): {r.errors[:1]}")
        if r.garbage_pass > 0.2:
            out.append(f"! {r.task} level {r.level}: garbage answers pass {r.garbage_pass:.0%}")
    return out


def to_markdown(rows: Sequence[CalibrationRow]) -> str:
    columns = _columns(rows)
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "".join("| " + " | ".join(_cells(r, len(columns) > len(COLUMNS))) + " |\n" for r in rows)
    flags = _flags(rows)
    note = ("\nTokens: ceil(chars/4) of the prompt. garbage/random/ref: pass rates of task-agnostic "
            "garbage, random answers in the right shape, and the reference solver.\n")
    return head + body + note + ("\n" + "\n".join(f"- {f[2:]}" for f in flags) + "\n" if flags else "")


def write(rows: Sequence[CalibrationRow], path: str) -> None:
    if path.endswith(".json"):
        text = json.dumps({"token_rule": "ceil(chars/4)", "rows": [r.to_dict() for r in rows],
                           "rising": rising(rows)}, indent=1)
    else:
        text = to_markdown(rows)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
