"""Game of 24: combine the given numbers with + - * / and brackets to reach the target.

Verifier (SIM): the answer expression is tokenized and parsed by our own recursive-descent parser
(``_exact_expr``, no eval / sympify), evaluated with exact ``Fraction`` arithmetic, the multiset of
number literals must equal the given multiset (no reuse, no dropped number, no new constant), and
the value is compared with the TARGET. The public verifier compared the value with itself, so any
expression over the numbers passed; ``1+2+3+4`` for 1,2,3,4 / target 24 is our regression test.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ...core import Score
from ._exact_expr import fraction_text, parse_expr, parse_number
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic


@dataclass
class Knobs:
    n_numbers: int = 4        # how many numbers are given (3..6)
    pool_max: int = 9         # numbers are drawn from 1..pool_max (with repetition)
    target: int = 24          # fixed target; 0 = pick a reachable target in [target_lo, target_hi]
    target_lo: int = 10
    target_hi: int = 40
    ops: str = "+-*/"         # allowed binary operators

    def __post_init__(self) -> None:
        if not 2 <= self.n_numbers <= 6:
            raise ValueError("n_numbers must be in 2..6")
        if self.pool_max < 1 or not set(self.ops) <= set("+-*/") or not self.ops:
            raise ValueError("pool_max must be >= 1 and ops a non-empty subset of '+-*/'")


# A solution tree is an int leaf or [op, left, right] (JSON-able).
Node = Any


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _value(node: Node) -> Fraction:
    if isinstance(node, int):
        return Fraction(node)
    a, b = _value(node[1]), _value(node[2])
    out = _apply(node[0], a, b)
    if out is None:
        raise ZeroDivisionError
    return out


def _text(node: Node, top: bool = True) -> str:
    if isinstance(node, int):
        return str(node)
    s = f"{_text(node[1], False)} {node[0]} {_text(node[2], False)}"
    return s if top else f"({s})"


def solve_all(numbers: list[int], ops: str) -> dict[Fraction, Node]:
    """Every value reachable using all numbers exactly once -> one expression tree (subset DP)."""
    n = len(numbers)
    vals: dict[int, dict[Fraction, Node]] = {1 << i: {Fraction(x): x} for i, x in enumerate(numbers)}
    for mask in sorted(range(1, 1 << n), key=lambda m: bin(m).count("1")):
        if mask in vals:
            continue
        out: dict[Fraction, Node] = {}
        sub = (mask - 1) & mask
        while sub:
            other = mask ^ sub
            if sub < other:
                for a, ea in vals[sub].items():
                    for b, eb in vals[other].items():
                        for op in ops:
                            for x, y, ex, ey in ((a, b, ea, eb), (b, a, eb, ea)):
                                if op in "+*" and x is b:
                                    continue  # commutative: one order is enough
                                v = _apply(op, x, y)
                                if v is not None and v not in out:
                                    out[v] = [op, ex, ey]
            sub = (sub - 1) & mask
        vals[mask] = out
    return vals[(1 << n) - 1]


def _random_tree(rng: random.Random, numbers: list[int], ops: str) -> Node:
    items: list[Node] = list(numbers)
    rng.shuffle(items)
    while len(items) > 1:
        i, j = rng.sample(range(len(items)), 2)
        a, b = items[i], items[j]
        items = [x for k, x in enumerate(items) if k not in (i, j)]
        items.append([rng.choice(ops), a, b])
    return items[0]


class GameOf24(LogicTask):
    task_name = "game_of_24"
    description = "Reach the target number using each given number exactly once with + - * / and brackets."
    answer_format = "arithmetic expression, e.g. (8 - 4) * (7 - 1)"
    Knobs = Knobs
    level_table = {
        0: {"n_numbers": 3, "pool_max": 9, "target": 0, "target_lo": 10, "target_hi": 30},
        1: {"n_numbers": 4, "pool_max": 9, "target": 24},
        2: {"n_numbers": 4, "pool_max": 13, "target": 24},
        3: {"n_numbers": 4, "pool_max": 20, "target": 0, "target_lo": 25, "target_hi": 120},
        4: {"n_numbers": 5, "pool_max": 25, "target": 0, "target_lo": 50, "target_hi": 400},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            numbers = [rng.randint(1, k.pool_max) for _ in range(k.n_numbers)]
            if k.n_numbers <= 4:
                reach = solve_all(numbers, k.ops)
                if k.target:
                    tree = reach.get(Fraction(k.target))
                    target = k.target
                else:
                    cands = sorted(int(v) for v in reach
                                   if v.denominator == 1 and k.target_lo <= v <= k.target_hi)
                    if not cands:
                        continue
                    target = rng.choice(cands)
                    tree = reach[Fraction(target)]
                if tree is None:
                    continue
            else:
                # 5-6 numbers: the full DP is too slow for >= 20 instances/s, so the target is built
                # from a random expression tree (a solution by construction) and re-checked below.
                tree = _random_tree(rng, numbers, k.ops)
                try:
                    v = _value(tree)
                except ZeroDivisionError:
                    continue
                if v.denominator != 1 or not (k.target_lo <= v <= k.target_hi) or (k.target and v != k.target):
                    continue
                target = int(v)
            puzzle = {"numbers": numbers, "target": target, "ops": k.ops, "solution": _text(tree),
                      "tree": tree}
            if self.check(puzzle, puzzle["solution"]).reward == 1.0:  # re-solve / self-check
                return puzzle
        raise GenerationError(f"{self.name}: no solvable instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        nums = ", ".join(map(str, p["numbers"]))
        ops = " ".join(p["ops"])
        return (
            f"Numbers: {nums}\nTarget: {p['target']}\n\n"
            f"Write an arithmetic expression whose value is exactly {p['target']}.\n"
            "Rules:\n"
            f"- Use every given number exactly once (a number listed twice must be used twice); "
            "no other numbers may appear.\n"
            f"- Allowed operators: {ops} (binary only; no unary minus, no concatenating digits, "
            "no exponents). Brackets ( ) may be used freely.\n"
            "- Division is exact: fractions are allowed in intermediate results (8 / 3 is 8/3, not 2).\n\n"
            "Answer format: the expression only, for example for numbers 4, 7, 8, 8 and target 24: "
            "(7 - 8 / 8) * 4"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        text = answer.strip().strip("`$").strip()
        if "=" in text:
            # tolerate "expr = target", but the right side must be the target itself
            lhs, _, rhs = text.partition("=")
            if "=" in rhs:
                raise AnswerParseError("more than one '=' in the answer")
            if parse_number(rhs) != p["target"]:
                return Score.fail(f"the answer claims '= {rhs.strip()[:20]}' but the target is {p['target']}",
                                  format_ok=True)
            text = lhs
        try:
            parsed = parse_expr(text, extra_mul="xX")
        except ZeroDivisionError:
            return Score.fail("the expression divides by zero", format_ok=True)
        bad_ops = sorted(set(parsed.ops) - set(p["ops"]))
        if bad_ops:
            return Score.fail(f"operator(s) {bad_ops} are not allowed (allowed: {p['ops']})", format_ok=True)
        used = Counter(int(x) for x in parsed.numbers)
        given = Counter(p["numbers"])
        if used != given:
            missing = sorted((given - used).elements())
            extra = sorted((used - given).elements())
            return Score.fail(f"numbers used {sorted(used.elements())} differ from the given {sorted(p['numbers'])}"
                              f" (missing {missing}, extra {extra})", format_ok=True)
        if parsed.value != p["target"]:
            return Score.fail(f"the expression equals {fraction_text(parsed.value)}, not the target {p['target']}",
                              format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["solution"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        steps: list[str] = []

        def walk(node: Node) -> str:
            if isinstance(node, int):
                return str(node)
            a, b = walk(node[1]), walk(node[2])
            v = fraction_text(_value(node))
            steps.append(f"{a} {node[0]} {b} = {v}")
            return v

        walk(p["tree"])
        return (f"I need {p['target']} from {', '.join(map(str, p['numbers']))}, each used once.\n"
                + "\n".join(steps) + f"\nSo {p['solution']} = {p['target']}.")

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a random expression over exactly the given numbers."""
        return _text(_random_tree(rng, list(p["numbers"]), p["ops"]))

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict[str, Any] | None:
        """SynLogic rows (game_of_24_verifier.py): ``metadata`` holds ``numbers``, ``operators`` and
        ``result`` (the target). Our check evaluates the answer exactly and needs the multiset of
        numbers, so SynLogic's bug (the value compared with itself) does not carry over. The gold is
        the row's expression when it has one, else one found by our exhaustive search; the row maps
        only when that expression passes (rows with other operators than + - * / do not map)."""
        import re as _re

        numbers = [int(v) for v in metadata["numbers"]]
        ops = "".join(o for o in "+-*/" if o in {str(x).strip() for x in metadata["operators"]})
        if not ops or any(str(x).strip() not in "+-*/" for x in metadata["operators"]):
            return None
        target = int(metadata["result"])
        puzzle = {"numbers": numbers, "target": target, "ops": ops, "solution": ""}
        text = answer.strip() if isinstance(answer, str) else ""
        fence = _re.search(r"```[a-z]*\s*(.*?)```", text, _re.DOTALL)
        text = fence.group(1).strip() if fence else text
        if not text:
            node = solve_all(numbers, ops).get(Fraction(target))
            if node is None:
                return None
            text = _text(node)
        puzzle["solution"] = text
        try:
            return puzzle if cls().check(puzzle, text).reward == 1.0 else None
        except (ValueError, ZeroDivisionError):
            return None


register_logic(GameOf24)
