"""Operation: evaluate an expression built from made-up binary operators defined in the prompt.

The generator evaluates the expression exactly (Fraction) and the verifier compares values, not
strings: ``3/2``, ``1.5`` and ``\\frac{3}{2}`` are the same answer (math equivalence for single
numbers, parsed by our own number parser; nothing is evaluated as code).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from ...core import Score
from ._exact_expr import fraction_text, parse_number
from .base import GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

SYMBOLS = ["⊕", "⊗", "△", "☆", "◇", "▽", "♣", "⊙"]
#: results larger than this are rejected (keeps hand computation sane)
MAX_ABS = 10 ** 6

F = Fraction
# (text, function, needs_nonzero_denominator). k is a small constant drawn per definition.
_FORMULAS: list[tuple[str, Callable[[F, F, int], F | None]]] = [
    ("a + b + {k}", lambda a, b, k: a + b + k),
    ("{k}*a + b", lambda a, b, k: k * a + b),
    ("a - {k}*b", lambda a, b, k: a - k * b),
    ("a*b - {k}", lambda a, b, k: a * b - k),
    ("(a + b)*{k}", lambda a, b, k: (a + b) * k),
    ("a*a - b", lambda a, b, k: a * a - b),
    ("a*b + a + b", lambda a, b, k: a * b + a + b),
    ("(a - b)*(a + b)", lambda a, b, k: (a - b) * (a + b)),
    ("a + {k}*b*b", lambda a, b, k: a + k * b * b),
]
_DIV_FORMULAS = [
    ("(a + b)/{k}", lambda a, b, k: (a + b) / k),
    ("a*b/(a + b)", lambda a, b, k: None if a + b == 0 else a * b / (a + b)),
    ("(a - b)/(b + {k})", lambda a, b, k: None if b + k == 0 else (a - b) / (b + k)),
]
# conditions choosing between two formulas
_CONDITIONS = [
    ("a > b", lambda a, b: a > b),
    ("a + b is an even integer", lambda a, b: (a + b).denominator == 1 and (a + b).numerator % 2 == 0),
    ("a is an integer multiple of 3", lambda a, b: a.denominator == 1 and a.numerator % 3 == 0),
    ("a < 2*b", lambda a, b: a < 2 * b),
]


@dataclass
class Knobs:
    n_symbols: int = 1        # made-up operators defined
    depth: int = 1            # nesting depth of the expression tree
    cond_prob: float = 0.0    # probability that a definition is piecewise ("if ... otherwise ...")
    division: bool = False    # allow definitions that divide (fractional answers)
    leaf_max: int = 9         # leaves are integers 1..leaf_max

    def __post_init__(self) -> None:
        if not 1 <= self.n_symbols <= len(SYMBOLS) or self.depth < 1 or not 0 <= self.cond_prob <= 1:
            raise ValueError(f"n_symbols in 1..{len(SYMBOLS)}, depth >= 1, cond_prob in [0, 1]")


class _Def:
    """One operator definition, rebuilt from its JSON form ({symbol, cases, cond})."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.d = d
        table = _FORMULAS + _DIV_FORMULAS
        self.f1 = table[d["f1"]][1]
        self.f2 = table[d["f2"]][1] if d.get("cond") is not None else None
        self.cond = _CONDITIONS[d["cond"]][1] if d.get("cond") is not None else None

    def __call__(self, a: F, b: F) -> F | None:
        if self.cond is not None and not self.cond(a, b):
            return self.f2(a, b, self.d["k2"])
        return self.f1(a, b, self.d["k1"])


def _def_text(d: dict[str, Any]) -> str:
    table = _FORMULAS + _DIV_FORMULAS
    s = d["symbol"]
    f1 = table[d["f1"]][0].format(k=d["k1"])
    if d.get("cond") is None:
        return f"a {s} b = {f1}"
    f2 = table[d["f2"]][0].format(k=d["k2"])
    return f"a {s} b = {f1} if {_CONDITIONS[d['cond']][0]}; otherwise a {s} b = {f2}"


def _expr_text(node: Any) -> str:
    if isinstance(node, int):
        return str(node)
    return f"({_expr_text(node[1])} {node[0]} {_expr_text(node[2])})"


def _evaluate(node: Any, defs: dict[str, _Def], steps: list[str] | None = None) -> F | None:
    if isinstance(node, int):
        return F(node)
    a = _evaluate(node[1], defs, steps)
    b = _evaluate(node[2], defs, steps)
    if a is None or b is None:
        return None
    v = defs[node[0]](a, b)
    if v is None or abs(v) > MAX_ABS or v.denominator > 10 ** 4:
        return None
    if steps is not None:
        steps.append(f"{fraction_text(a)} {node[0]} {fraction_text(b)} = {fraction_text(v)}")
    return v


class Operation(LogicTask):
    task_name = "operation"
    description = "Evaluate an expression that uses made-up operators defined in the prompt."
    answer_format = "a number: integer or fraction p/q"
    Knobs = Knobs
    level_table = {
        0: {"n_symbols": 1, "depth": 1, "cond_prob": 0.0},
        1: {"n_symbols": 2, "depth": 2, "cond_prob": 0.0},
        2: {"n_symbols": 2, "depth": 2, "cond_prob": 0.5},
        3: {"n_symbols": 3, "depth": 3, "cond_prob": 0.6, "division": True},
        4: {"n_symbols": 4, "depth": 4, "cond_prob": 0.8, "division": True, "leaf_max": 12},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        n_formulas = len(_FORMULAS) + (len(_DIV_FORMULAS) if k.division else 0)
        for _ in range(MAX_GENERATION_ATTEMPTS):
            symbols = rng.sample(SYMBOLS, k.n_symbols)
            defs = []
            for s in symbols:
                d: dict[str, Any] = {"symbol": s, "f1": rng.randrange(n_formulas), "k1": rng.randint(2, 5),
                                     "cond": None}
                if rng.random() < k.cond_prob:
                    d["cond"] = rng.randrange(len(_CONDITIONS))
                    d["f2"] = rng.randrange(n_formulas)
                    d["k2"] = rng.randint(2, 5)
                    if d["f2"] == d["f1"] and d["k2"] == d["k1"]:
                        d["k2"] += 1
                defs.append(d)

            def tree(depth: int) -> Any:
                if depth == 0:
                    return rng.randint(1, k.leaf_max)
                left = tree(depth - 1 if rng.random() < 0.7 else 0)
                right = tree(depth - 1 if rng.random() < 0.5 else 0)
                return [rng.choice(symbols), left, right]

            expr = tree(k.depth)
            # the top level must really be as deep as the knob says: force the left spine
            node = expr
            for _d in range(k.depth - 1):
                if isinstance(node[1], int):
                    node[1] = [rng.choice(symbols), node[1], rng.randint(1, k.leaf_max)]
                node = node[1]
            used = set()
            stack = [expr]
            while stack:
                n = stack.pop()
                if not isinstance(n, int):
                    used.add(n[0])
                    stack += [n[1], n[2]]
            if used != set(symbols):
                continue
            value = _evaluate(expr, {d["symbol"]: _Def(d) for d in defs})
            if value is None:
                continue
            puzzle = {"defs": defs, "expr": expr, "value": fraction_text(value)}
            if self.check(puzzle, puzzle["value"]).reward == 1.0:  # re-solved from the JSON form
                return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        defs = "\n".join(f"- {_def_text(d)}" for d in p["defs"])
        return (
            "New binary operators are defined as follows (a is the left operand, b the right one; "
            "ordinary +, -, * and / keep their usual meaning, and all arithmetic is exact):\n"
            f"{defs}\n\n"
            f"Compute:  {_expr_text(p['expr'])}\n\n"
            "Evaluate the innermost brackets first.\n"
            "Answer format: the exact value as an integer or a reduced fraction p/q, for example 17 or -7/3"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        got = parse_number(answer)
        want = Fraction(p["value"])
        if got != want:
            return Score.fail(f"the value {fraction_text(got)} is not the exact result", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["value"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        steps: list[str] = []
        _evaluate(p["expr"], {d["symbol"]: _Def(d) for d in p["defs"]}, steps)
        return "Innermost first:\n" + "\n".join(steps)

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a random small integer."""
        return str(rng.randint(-50, 50))

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (operation_verifier.py): the gold ``answer`` is compared with math-verify. Rows
        whose gold is one exact number (7, -3/4, 2.5, \\frac{3}{4}) map; symbolic golds do not."""
        from .base import AnswerParseError

        try:
            value = parse_number(str(answer))
        except AnswerParseError:
            return None
        return {"value": fraction_text(value), "source": "synlogic"}


register_logic(Operation)
