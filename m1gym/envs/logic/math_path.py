"""Math path: restore the masked digits ('?') of an arithmetic equation.

Verifier (SIM/CC): the answer must be the template with every '?' replaced by one digit and every
other character unchanged (spaces ignored); no number may start with 0 unless it is the single
digit 0; both sides are evaluated exactly (our own parser, Fraction arithmetic, no eval) and must
be equal. Any valid filling passes, so instances with several fillings are scored fairly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from ...core import Score
from ._exact_expr import fraction_text, parse_expr
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic


@dataclass
class Knobs:
    n_operands: int = 2     # numbers on the left-hand side
    max_digits: int = 2     # each operand has 1..max_digits digits
    ops: str = "+"          # operators drawn between operands
    n_masks: int = 2        # digits replaced by '?'
    brackets: bool = False  # wrap two neighbouring operands in brackets
    mask_result: bool = False  # whether digits of the right-hand side may be masked

    def __post_init__(self) -> None:
        if self.n_operands < 2 or self.max_digits < 1 or self.n_masks < 1 or not set(self.ops) <= set("+-*/"):
            raise ValueError("n_operands >= 2, max_digits >= 1, n_masks >= 1, ops a subset of '+-*/'")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("×", "*").replace("÷", "/").replace("−", "-")


class MathPath(LogicTask):
    task_name = "math_path"
    description = "Replace every '?' in an equation by a digit so that the equation becomes true."
    answer_format = "the completed equation, e.g. 12 + 35 = 47"
    Knobs = Knobs
    level_table = {
        0: {"n_operands": 2, "max_digits": 2, "ops": "+", "n_masks": 2},
        1: {"n_operands": 3, "max_digits": 2, "ops": "+-", "n_masks": 3},
        2: {"n_operands": 3, "max_digits": 2, "ops": "+-*", "n_masks": 4, "mask_result": True},
        3: {"n_operands": 4, "max_digits": 2, "ops": "+-*", "n_masks": 5, "brackets": True, "mask_result": True},
        4: {"n_operands": 5, "max_digits": 3, "ops": "+-*/", "n_masks": 7, "brackets": True, "mask_result": True},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            nums = [str(rng.randint(1, 10 ** rng.randint(1, k.max_digits) - 1)) for _ in range(k.n_operands)]
            ops = [rng.choice(k.ops) for _ in range(k.n_operands - 1)]
            parts = [nums[0]]
            for op, n in zip(ops, nums[1:]):
                parts += [op, n]
            if k.brackets:
                i = 2 * rng.randrange(k.n_operands - 1)
                parts[i] = "(" + parts[i]
                parts[i + 2] = parts[i + 2] + ")"
            lhs = " ".join(parts)
            try:
                value = parse_expr(lhs).value
            except ZeroDivisionError:
                continue
            if value.denominator != 1 or value < 0:
                continue
            solution = f"{lhs} = {fraction_text(value)}"
            cut = len(lhs) if not k.mask_result else len(solution)
            positions = [i for i, ch in enumerate(solution[:cut]) if ch.isdigit()]
            if len(positions) < k.n_masks + 1:
                continue
            masked = set(rng.sample(positions, k.n_masks))
            template = "".join("?" if i in masked else ch for i, ch in enumerate(solution))
            puzzle = {"template": template, "solution": solution}
            if self.check(puzzle, solution).reward == 1.0:  # the construction re-verified
                return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        return (
            f"Some digits of this equation were replaced by '?':\n\n    {p['template']}\n\n"
            "Replace every '?' by a single digit 0-9 so that the equation is true.\n"
            "Rules:\n"
            "- Each '?' is exactly one digit; all other characters stay as they are.\n"
            "- A number with two or more digits does not start with 0.\n"
            "- Usual precedence: brackets first, then * and /, then + and -, left to right. Division is "
            "exact (no rounding).\n"
            "If several fillings work, any one of them is accepted.\n\n"
            "Answer format: the whole completed equation, for example for ?2 + 3? = 47 an answer is: "
            "12 + 35 = 47"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        text = _norm(answer.strip().strip("`$"))
        tpl = _norm(p["template"])
        if len(text) != len(tpl):
            raise AnswerParseError(f"the completed equation should have {len(tpl)} non-space characters "
                                   f"like the template, got {len(text)}")
        for i, (t, a) in enumerate(zip(tpl, text)):
            if t == "?":
                if not a.isdigit():
                    return Score.fail(f"'?' number {tpl[:i].count('?') + 1} was replaced by {a!r}, not a digit")
            elif t != a:
                return Score.fail(f"character {i} was changed from {t!r} to {a!r}", format_ok=True)
        for num in re.findall(r"\d+", text):
            if len(num) > 1 and num[0] == "0":
                return Score.fail(f"the number {num} starts with 0", format_ok=True)
        lhs, _, rhs = text.partition("=")
        try:
            left, right = parse_expr(lhs).value, parse_expr(rhs).value
        except ZeroDivisionError:
            return Score.fail("the completed equation divides by zero", format_ok=True)
        if left != right:
            return Score.fail(f"the equation is false: left side {fraction_text(left)}, right side "
                              f"{fraction_text(right)}", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["solution"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        filled = [s for t, s in zip(p["template"], p["solution"]) if t == "?"]
        lhs, _, rhs = p["solution"].partition("=")
        return (f"The template is {p['template']}. Trying digits for the {len(filled)} unknowns, "
                f"{', '.join(filled)} (in order) works: {lhs.strip()} evaluates to {rhs.strip()}.")

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: random digits in the holes."""
        return "".join(str(rng.randint(0, 9)) if ch == "?" else ch for ch in p["template"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (math_path_verifier.py): ``metadata["query_expr"]`` is the equation with "?" for
        the hidden digits, ``metadata["ref_expr"]`` the completed one. Same task; kept only when the
        reference equation passes our check."""
        from .synlogic import scores_gold

        template, solution = str(metadata["query_expr"]).strip(), str(metadata["ref_expr"]).strip()
        if "?" not in template or "=" not in template:
            return None
        return scores_gold(cls, {"template": template, "solution": solution}, solution)


register_logic(MathPath)
