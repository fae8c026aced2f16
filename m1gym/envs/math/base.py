"""Shared base of the math environments: scoring, reference responses, LaTeX formatting helpers.

A family module holds only its problem logic:

    class Fractions(MathFamily):
        family = "fractions"
        description = "..."

        def build(self, rng, level) -> Problem:    # question, exact answer, solution steps
            ...

    register_family(Fractions)

The base turns ``build`` into ``generate`` (own seeded RNG per instance, stable ids), scores any
response by extracting its final answer (``<answer>`` or ``\\boxed{}``) and checking math
equivalence against the gold answer in a killable worker process, and writes the reference
response (think block with the solution steps, then the answer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import sympy

from ...core import Environment, Score, Task, reference_response
from ...registry import register
from ...verifiers.extract import extract_answer
from ...verifiers.format import check_format
from ...verifiers.math import DEFAULT_TIMEOUT, MathVerdict, check_math, check_math_batch

ANSWER_INSTRUCTION = (
    "\n\nThink step by step, then give only the final answer inside <answer>...</answer> "
    "(or as \\boxed{...})."
)
ANSWER_FORMAT = "final answer in <answer>...</answer> or \\boxed{...}; LaTeX or plain math"


@dataclass
class Problem:
    """What a family's ``build`` returns.

    question: the problem statement (the answer instruction is appended by the base).
    answer:   the gold answer as LaTeX (exact).
    steps:    the step-by-step solution; the base appends the final "So the answer is ..." line.
    distractor: a plausible wrong answer (a typical mistake); must not be equivalent to ``answer``.
    meta:     extra JSON-able facts (knobs used, sub-type).
    """

    question: str
    answer: str
    steps: list[str]
    distractor: str
    meta: dict[str, Any] = field(default_factory=dict)


class MathEnv(Environment):
    """Scoring shared by every math environment (procedural families and the dataset env)."""

    kind = "rule"
    answer_format = ANSWER_FORMAT
    #: hard per-answer timeout of the equivalence check, seconds
    check_timeout: ClassVar[float] = DEFAULT_TIMEOUT

    def _extract(self, response: str) -> tuple[str | None, Score | None]:
        fmt = check_format(response, boxed=True)
        if not fmt.ok:
            return None, Score.fail(f"format: {fmt.reason}", format_ok=False)
        answer = extract_answer(response, boxed=True)
        if answer is None or not answer.strip():
            return None, Score.fail("no final answer found", format_ok=False)
        return answer, None

    def _extract_for(self, task: Task, response: str) -> tuple[str | None, Score | None]:
        """The answer of a response to this task (an env may accept a task's own answer convention)."""
        return self._extract(response)

    @staticmethod
    def _gold(task: Task) -> str | None:
        gold = task.answer
        if isinstance(gold, dict):  # tolerate {"answer": ...} / {"ground_truth": ...}
            gold = gold.get("answer", gold.get("ground_truth"))
        if isinstance(gold, (int, float)) and not isinstance(gold, bool):
            gold = str(gold)
        return gold if isinstance(gold, str) and gold.strip() else None

    @staticmethod
    def _verdict_score(verdict: MathVerdict, answer: str) -> Score:
        details = {"answer": answer[:200]}
        if verdict.timed_out:
            details["timed_out"] = True
        if verdict.correct:
            return Score.ok(verdict.reason, **details)
        return Score.fail(f"wrong answer: {verdict.reason}", format_ok=True, **details)

    def _score(self, task: Task, response: str) -> Score:
        gold = self._gold(task)
        if gold is None:
            return Score.fail("task has no gold answer (task.answer must be a non-empty string)")
        answer, failed = self._extract_for(task, response)
        if failed is not None:
            return failed
        verdict = check_math(gold, answer, timeout=self.config.get("timeout", self.check_timeout))
        return self._verdict_score(verdict, answer)

    def score_batch(self, tasks: Sequence[Task], responses: Sequence[Any]) -> list[Score]:
        """Many responses at once: the equivalence checks fan out over the worker processes."""
        import time

        from ...core import coerce_response

        if len(tasks) != len(responses):
            raise ValueError(f"score_batch got {len(tasks)} tasks but {len(responses)} responses")
        start = time.perf_counter()
        scores: list[Score | None] = [None] * len(tasks)
        pending: list[tuple[int, str, str]] = []
        for i, (task, response) in enumerate(zip(tasks, responses)):
            try:
                if self.name and task.env != self.name:
                    scores[i] = Score.fail(f"task belongs to env {task.env!r}, not {self.name!r}")
                    continue
                gold = self._gold(task)
                if gold is None:
                    scores[i] = Score.fail("task has no gold answer (task.answer must be a non-empty string)")
                    continue
                answer, failed = self._extract_for(task, coerce_response(response))
                if failed is not None:
                    scores[i] = failed
                else:
                    pending.append((i, gold, answer))
            except Exception as exc:  # same contract as score(): never raise
                scores[i] = Score.fail(f"verifier error: {type(exc).__name__}: {exc}"[:500])
        if pending:
            verdicts = check_math_batch([(g, a) for _, g, a in pending],
                                        timeout=self.config.get("timeout", self.check_timeout))
            for (i, _, answer), verdict in zip(pending, verdicts):
                scores[i] = self._verdict_score(verdict, answer)
        per_item = (time.perf_counter() - start) * 1000.0 / max(1, len(tasks))
        out = []
        for s in scores:
            assert s is not None
            s.elapsed_ms = per_item
            out.append(s)
        return out

    def reference(self, task: Task) -> str:
        gold = self._gold(task) or ""
        solution = task.meta.get("solution") if isinstance(task.meta, dict) else None
        return reference_response(gold, solution if isinstance(solution, str) and solution.strip() else None)


class MathFamily(MathEnv):
    """A procedural family: implement ``build(rng, level) -> Problem``."""

    family: ClassVar[str] = ""
    levels: ClassVar[tuple[int, ...]] = (0, 1, 2, 3, 4)
    procedural = True
    version = "1"
    #: generation retries (a build may reject a degenerate draw by raising Retry)
    max_attempts: ClassVar[int] = 100

    def build(self, rng: random.Random, level: int) -> Problem:
        raise NotImplementedError

    def generate(self, seed: int, level: int | None = None, **knobs: Any) -> Task:
        level = 0 if level is None else int(level)
        if level not in self.levels:
            raise ValueError(f"{self.name}: level must be one of {list(self.levels)}, got {level}")
        for attempt in range(self.max_attempts):
            rng = self.rng(seed, level, attempt)
            try:
                problem = self.build(rng, level)
            except Retry:
                continue
            break
        else:  # pragma: no cover - families are written so this never happens
            raise RuntimeError(f"{self.name}: no valid problem after {self.max_attempts} draws (seed {seed})")
        solution = "\n".join(problem.steps + [f"So the answer is {problem.answer}"])
        meta = {"level": level, "seed": seed, "family": self.family, "solution": solution,
                "distractor": problem.distractor, **problem.meta}
        return self.make_task(f"{seed}:{level}", problem.question + ANSWER_INSTRUCTION, problem.answer, meta)


class Retry(Exception):
    """Raised by ``build`` to reject a degenerate draw (the base redraws with a fresh RNG)."""


def register_family(cls: type[MathFamily]) -> type[MathFamily]:
    cls.name = f"math/{cls.family}"
    register(cls.name, cls)
    return cls


# ---- formatting helpers ------------------------------------------------------------------------

def tex(value: Any) -> str:
    """Exact LaTeX of a number or expression: 3, -\\frac{7}{2}, \\frac{3}{2} + \\frac{\\sqrt{5}}{2}."""
    if isinstance(value, float):
        value = sympy.nsimplify(value)
    value = sympy.sympify(value, strict=True)  # strict: never parses a string
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational:
        p, q = int(value.p), int(value.q)
        return f"-\\frac{{{-p}}}{{{q}}}" if p < 0 else f"\\frac{{{p}}}{{{q}}}"
    return sympy.latex(value)


def plain(value: Any) -> str:
    """Plain text of a rational for questions and steps: 3, -7/2."""
    value = sympy.Rational(value)
    return str(int(value)) if value.q == 1 else f"{value.p}/{value.q}"


def paren(value: Any) -> str:
    """A number as an operand: negative numbers in parentheses."""
    s = plain(value)
    return f"({s})" if s.startswith("-") else s


def decimal_or_fraction(value: Any) -> str:
    """A terminating decimal when exact (37.5), else a LaTeX fraction."""
    value = sympy.Rational(value)
    q = int(value.q)
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q != 1:
        return tex(value)
    if value.q == 1:
        return str(int(value))
    digits = 0
    scaled = value
    while scaled.q != 1:
        scaled *= 10
        digits += 1
    sign = "-" if scaled < 0 else ""
    text = str(abs(int(scaled))).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def poly_tex(expr: Any, x: sympy.Symbol) -> str:
    """A polynomial in descending powers of x, as LaTeX."""
    return sympy.latex(sympy.Poly(expr, x).as_expr(), order="lex") if expr != 0 else "0"


def poly_text(expr: Any, x: sympy.Symbol) -> str:
    """A polynomial as plain text in descending powers: 3x^2 - 2x + 5."""
    poly = sympy.Poly(sympy.expand(expr), x)
    terms = []
    for (k,), c in zip(poly.monoms(), poly.coeffs()):
        c = sympy.Rational(c)
        mag = abs(c)
        coef = "" if (mag == 1 and k > 0) else plain(mag)
        var = "" if k == 0 else ("x" if k == 1 else f"x^{k}")
        body = f"{coef}{var}" if coef and var else (coef or var)
        if not terms:
            terms.append(("-" if c < 0 else "") + body)
        else:
            terms.append(("- " if c < 0 else "+ ") + body)
    return " ".join(terms) if terms else "0"
