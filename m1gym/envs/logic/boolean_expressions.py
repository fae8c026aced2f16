"""boolean_expressions: pick every option whose boolean expression is true.

Each option is an expression over True/False literals, integer comparisons of small arithmetic
terms, ``not``, ``and`` and ``or`` (Python precedence: not > and > or; arithmetic before
comparison). The generator builds the expression tree, computes its value, and re-solves the
rendered text with an independent evaluator (``ast.parse`` + a whitelist walk, never ``eval``) so
a rendering or precedence slip can never produce a wrong gold answer. At least one option is true.
Verifier: the set of letters must equal the set of true options exactly.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, register_logic, strip_fences

LABELS = "ABCDEFGHIJ"
CMP_OPS = ("<", ">", "<=", ">=", "==", "!=")


@dataclass
class Knobs:
    depth: int = 2          # height of the boolean tree (not/and/or levels above the leaves)
    n_options: int = 4      # number of lettered options (<= 10)
    arith_terms: int = 1    # numbers on each side of a comparison (1 = plain numbers)
    not_chain: int = 1      # longest run of stacked ``not``
    max_chars: int = 160    # an option longer than this is redrawn


# ---- independent evaluator (ast walk over a whitelist; no eval) ---------------------------------

def evaluate(text: str) -> Any:
    """Value of an expression of this task's grammar. Raises ValueError on anything outside it."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        raise ValueError(f"not an expression: {exc.__class__.__name__}") from None
    return _walk(tree.body)


def _walk(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and (isinstance(node.value, (bool, int))):
        return node.value
    if isinstance(node, ast.BoolOp):
        vals = [_walk(v) for v in node.values]
        if not all(isinstance(v, bool) for v in vals):
            raise ValueError("and/or applied to a non-boolean")
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.UnaryOp):
        v = _walk(node.operand)
        if isinstance(node.op, ast.Not):
            if not isinstance(v, bool):
                raise ValueError("not applied to a non-boolean")
            return not v
        if isinstance(node.op, ast.USub) and isinstance(v, int) and not isinstance(v, bool):
            return -v
        raise ValueError("unsupported unary operator")
    if isinstance(node, ast.BinOp):
        a, b = _walk(node.left), _walk(node.right)
        if isinstance(a, bool) or isinstance(b, bool):
            raise ValueError("arithmetic on a boolean")
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        raise ValueError("unsupported arithmetic operator")
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        a, b = _walk(node.left), _walk(node.comparators[0])
        if isinstance(a, bool) or isinstance(b, bool):
            raise ValueError("comparison of booleans")
        op = node.ops[0]
        table = {ast.Lt: a < b, ast.Gt: a > b, ast.LtE: a <= b, ast.GtE: a >= b, ast.Eq: a == b,
                 ast.NotEq: a != b}
        for k, v in table.items():
            if isinstance(op, k):
                return v
    raise ValueError(f"unsupported syntax {type(node).__name__}")


class _FoldComparisons(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        return ast.copy_location(ast.Constant(value=_walk(node)), node)


def reduce_comparisons(text: str) -> str:
    """The expression with every comparison replaced by its truth value (for the reasoning text)."""
    tree = _FoldComparisons().visit(ast.parse(text, mode="eval"))
    return ast.unparse(tree)


# ---- generator ---------------------------------------------------------------------------------

def _arith(rng: random.Random, terms: int) -> tuple[str, int]:
    """An arithmetic term with ``terms`` numbers, e.g. '3 * -2 + 4'."""
    nums = [rng.randint(-9, 9) for _ in range(terms)]
    text = str(nums[0])
    ops = [rng.choice("+-*") for _ in range(terms - 1)]
    for op, n in zip(ops, nums[1:]):
        text += f" {op} {n}" if n >= 0 else f" {op} ({n})"
    return text, evaluate(text)


def _leaf(rng: random.Random, k: Knobs) -> str:
    if rng.random() < 0.3:
        return rng.choice(["True", "False"])
    left, _ = _arith(rng, rng.randint(1, k.arith_terms))
    right, _ = _arith(rng, rng.randint(1, k.arith_terms))
    return f"{left} {rng.choice(CMP_OPS)} {right}"


def _tree(rng: random.Random, k: Knobs, depth: int) -> str:
    if depth <= 0:
        return _leaf(rng, k)
    r = rng.random()
    if r < 0.25:
        inner = _tree(rng, k, depth - 1)
        return "not " * rng.randint(1, k.not_chain) + f"({inner})"
    op = "and" if r < 0.62 else "or"
    n = 3 if depth >= 2 and rng.random() < 0.3 else 2
    parts = [_tree(rng, k, depth - 1 - (rng.random() < 0.3 and depth > 1)) for _ in range(n)]
    return f" {op} ".join(f"({p})" for p in parts)


@register_logic
class BooleanExpressions(LogicTask):
    task_name = "boolean_expressions"
    description = "choose every true boolean expression among lettered options"
    answer_format = 'letters of the true options, comma separated: "A,C"'
    Knobs = Knobs
    level_table = {
        0: {"depth": 1, "n_options": 3, "arith_terms": 1, "not_chain": 1, "max_chars": 60},
        1: {"depth": 2, "n_options": 4, "arith_terms": 2, "not_chain": 1, "max_chars": 110},
        2: {"depth": 3, "n_options": 5, "arith_terms": 2, "not_chain": 2, "max_chars": 180},
        3: {"depth": 4, "n_options": 6, "arith_terms": 3, "not_chain": 2, "max_chars": 300},
        4: {"depth": 5, "n_options": 8, "arith_terms": 3, "not_chain": 3, "max_chars": 480},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        n = min(knobs.n_options, len(LABELS))
        for _ in range(200):
            exprs: list[str] = []
            while len(exprs) < n:
                e = _tree(rng, knobs, knobs.depth)
                if len(e) <= knobs.max_chars and e not in exprs:
                    exprs.append(e)
            values = [evaluate(e) for e in exprs]  # re-solve the rendered text
            if any(values) and not all(values) and all(isinstance(v, bool) for v in values):
                options = [{"label": LABELS[i], "expr": e} for i, e in enumerate(exprs)]
                solution = [LABELS[i] for i, v in enumerate(values) if v]
                return {"options": options, "values": values, "solution": solution}
        raise GenerationError("could not draw options with both true and false values")

    def prompt(self, puzzle: dict[str, Any]) -> str:
        lines = "\n".join(f"{o['label']}. {o['expr']}" for o in puzzle["options"])
        return (
            "Evaluate each boolean expression below and find every option that is true.\n"
            "Rules: integers use ordinary arithmetic (* before + and -; a negative number after an operator is "
            "written in parentheses); "
            "a comparison (<, >, <=, >=, ==, !=) between two arithmetic terms is True or False; "
            "`not` binds tighter than `and`, which binds tighter than `or`; parentheses group as usual.\n\n"
            f"{lines}\n\n"
            "Answer with the letters of all true options in alphabetical order, separated by commas. "
            "Example format: A,C"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        labels = [o["label"] for o in puzzle["options"]] if "options" in puzzle else list(LABELS)
        chosen = parse_letters(answer, labels)
        gold = set(puzzle["solution"])
        if chosen == gold:
            return Score.ok()
        wrong = sorted(chosen - gold)
        missed = sorted(gold - chosen)
        parts = []
        if wrong:
            parts.append(f"{','.join(wrong)} {'is' if len(wrong) == 1 else 'are'} false")
        if missed:
            parts.append(f"missed true option(s) {','.join(missed)}")
        return Score.fail("; ".join(parts), format_ok=True, wrong=wrong, missed=missed)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return ",".join(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        if "options" not in puzzle:
            return None
        lines = ["First evaluate every comparison, then the not/and/or structure."]
        for o, v in zip(puzzle["options"], puzzle["values"]):
            lines.append(f"{o['label']}: {reduce_comparisons(o['expr'])} = {v}")
        true = ",".join(puzzle["solution"])
        lines.append(f"True options: {true}.")
        return "\n".join(lines)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        labels = [o["label"] for o in puzzle["options"]]
        pick = [l for l in labels if rng.random() < 0.5] or [rng.choice(labels)]
        return ",".join(pick)

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        letters = [c.upper() for c in str(answer or "") if c.isalpha()]
        if not letters:
            return None
        return {"solution": sorted(set(letters)), "source": "synlogic"}


def parse_letters(answer: str, labels: list[str]) -> set[str]:
    text = strip_fences(answer).strip().strip("[]").replace("，", ",")
    if not text:
        raise AnswerParseError("empty answer; expected letters like A,C")
    parts = [p.strip().strip("'\"").strip() for p in text.replace(" and ", ",").split(",")]
    parts = [p for p in parts if p]
    out: set[str] = set()
    for p in parts:
        p = p.rstrip(".").upper()
        if p not in labels:
            raise AnswerParseError(f"{p[:20]!r} is not an option letter (options: {','.join(labels)})")
        if p in out:
            raise AnswerParseError(f"option {p} is listed twice")
        out.add(p)
    if not out:
        raise AnswerParseError("no option letters found; expected letters like A,C")
    return out
