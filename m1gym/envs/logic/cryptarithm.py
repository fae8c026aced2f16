"""Cryptarithm: replace letters by digits so that the equation holds.

Verifier (SIM, not string match): the answer is the equation written in digits. It must have the
shape of the letter equation (same operators, same number lengths), the letter->digit mapping read
off position by position must be consistent (a letter is always the same digit) and injective
(different letters, different digits), no multi-digit number may start with 0, and the equation
must be true in exact integer arithmetic. Any such assignment scores 1, so puzzles with several
solutions are scored fairly without enumerating them.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic


@dataclass
class Knobs:
    n_operands: int = 2     # numbers on the left-hand side
    digits: int = 2         # digits per left-hand operand (multiplication operands: see mul_digits)
    ops: str = "+"          # operators drawn for the left-hand side
    mul_digits: int = 1     # digits of the right factor of a '*' (keeps products a sane size)
    max_letters: int = 10   # reject instances with more distinct letters than this

    def __post_init__(self) -> None:
        if self.n_operands < 2 or self.digits < 1 or not set(self.ops) <= set("+-*") or not self.ops:
            raise ValueError("n_operands >= 2, digits >= 1, ops a non-empty subset of '+-*'")


_TERM_RE = re.compile(r"\s*(\d+|[A-Z]+|[-+*×=])")


def _split(eq: str, what: str) -> list[str]:
    """Tokens of an equation: numbers/words and operators; AnswerParseError on anything else."""
    eq = eq.strip().replace("×", "*").replace("−", "-")
    pos, out = 0, []
    while pos < len(eq):
        m = _TERM_RE.match(eq, pos)
        if not m:
            if eq[pos:].strip() == "":
                break
            raise AnswerParseError(f"unexpected {eq[pos:pos + 10]!r} in the {what}")
        out.append(m.group(1))
        pos = m.end()
    return out


def _evaluate(tokens: list[str]) -> int:
    """Value of ``n (op n)*`` with * before + and -; integers only."""
    terms: list[int] = []
    signs: list[int] = []
    cur = int(tokens[0])
    sign = 1
    for op, num in zip(tokens[1::2], tokens[2::2]):
        if op == "*":
            cur *= int(num)
        else:
            terms.append(cur)
            signs.append(sign)
            cur, sign = int(num), (1 if op == "+" else -1)
    terms.append(cur)
    signs.append(sign)
    return sum(s * t for s, t in zip(signs, terms))


class Cryptarithm(LogicTask):
    task_name = "cryptarithm"
    description = "Letters stand for distinct digits; find digits that make the equation true."
    answer_format = "the equation in digits, e.g. 12 + 35 = 47"
    Knobs = Knobs
    level_table = {
        0: {"n_operands": 2, "digits": 2, "ops": "+"},
        1: {"n_operands": 2, "digits": 3, "ops": "+-"},
        2: {"n_operands": 3, "digits": 3, "ops": "+-"},
        3: {"n_operands": 3, "digits": 4, "ops": "+-*", "mul_digits": 2},
        4: {"n_operands": 4, "digits": 4, "ops": "+-*", "mul_digits": 3},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            ops = [rng.choice(k.ops) for _ in range(k.n_operands - 1)]
            nums = [rng.randint(10 ** (k.digits - 1), 10 ** k.digits - 1)]
            for op in ops:
                d = k.mul_digits if op == "*" else k.digits
                nums.append(rng.randint(max(2, 10 ** (d - 1)), 10 ** d - 1))
            tokens: list[str] = [str(nums[0])]
            for op, n in zip(ops, nums[1:]):
                tokens += [op, str(n)]
            result = _evaluate(tokens)
            if result < 10:
                continue
            digit_eq = " ".join(tokens) + f" = {result}"
            used = sorted(set(re.sub(r"\D", "", digit_eq)))
            if len(used) > k.max_letters or len(used) < 3:
                continue
            letters = rng.sample(string.ascii_uppercase, len(used))
            mapping = dict(zip(used, letters))
            letter_eq = "".join(mapping.get(ch, ch) for ch in digit_eq)
            puzzle = {"equation": letter_eq, "solution": digit_eq,
                      "mapping": {mapping[d]: int(d) for d in used}}
            if self.check(puzzle, digit_eq).reward == 1.0:  # the construction re-verified
                return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        return (
            f"Solve the cryptarithm:\n\n    {p['equation']}\n\n"
            "Rules:\n"
            "- Each letter stands for one digit 0-9; the same letter is always the same digit.\n"
            "- Different letters stand for different digits.\n"
            "- A number with two or more digits does not start with 0.\n"
            "- The equation must be true in ordinary integer arithmetic (* before + and -).\n"
            "If several assignments work, any one of them is accepted.\n\n"
            "Answer format: the equation with every letter replaced by its digit, keeping the operators, "
            "for example for AB + CD = EF a valid answer looks like: 12 + 35 = 47"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        text = answer.strip().strip("`$").strip()
        puzzle_tokens = _split(p["equation"], "puzzle")
        tokens = _split(text, "answer")
        if len(tokens) != len(puzzle_tokens):
            return Score.fail(f"the answer has {len(tokens)} numbers/operators, the puzzle {len(puzzle_tokens)}",
                              format_ok=False)
        mapping: dict[str, str] = {}
        for pt, at in zip(puzzle_tokens, tokens):
            if not pt[0].isalpha():
                if at != pt:
                    return Score.fail(f"operator {at!r} where the puzzle has {pt!r}", format_ok=True)
                continue
            if not at.isdigit():
                return Score.fail(f"{at!r} stands where the word {pt} should be written in digits")
            if len(at) != len(pt):
                return Score.fail(f"{at} has {len(at)} digits but {pt} has {len(pt)} letters", format_ok=True)
            if len(at) > 1 and at[0] == "0":
                return Score.fail(f"{at} (for {pt}) starts with 0", format_ok=True)
            for letter, digit in zip(pt, at):
                if mapping.setdefault(letter, digit) != digit:
                    return Score.fail(f"letter {letter} is both {mapping[letter]} and {digit}", format_ok=True)
        inverse: dict[str, str] = {}
        for letter, digit in sorted(mapping.items()):
            if inverse.setdefault(digit, letter) != letter:
                return Score.fail(f"letters {inverse[digit]} and {letter} are both {digit}", format_ok=True)
        eq = tokens.index("=") if "=" in tokens else -1
        if eq < 0:
            raise AnswerParseError("the answer has no '='")
        lhs, rhs = _evaluate(tokens[:eq]), _evaluate(tokens[eq + 1:])
        if lhs != rhs:
            return Score.fail(f"the equation is false: left side {lhs}, right side {rhs}", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["solution"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        pairs = ", ".join(f"{k}={v}" for k, v in sorted(p["mapping"].items()))
        return (f"Letters: {pairs}.\nSubstituting gives {p['solution']}, which is true, all letters map to "
                "distinct digits and no number starts with 0.")

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a random injective letter -> digit assignment."""
        letters = sorted(set(re.sub(r"[^A-Z]", "", p["equation"])))
        digits = dict(zip(letters, rng.sample("0123456789", len(letters))))
        return "".join(digits.get(ch, ch) for ch in p["equation"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (cryptarithm_verifier.py and generator): the gold ``answer`` is the equation in
        digits ("123 + 456 = 579"), compared as a string; ``metadata`` holds ``letter_words`` (operands,
        then the result) and ``operators``. Without them the letter equation is read from the question
        text (a run of capital-letter words joined by + - * and =). SynLogic's generator keeps only
        instances with one solution; our check accepts any digit assignment that makes the equation
        true, and the row maps only when the gold passes it."""
        text = str(answer or "").strip()
        words, ops = metadata.get("letter_words"), metadata.get("operators")
        if isinstance(words, list) and isinstance(ops, list) and len(words) == len(ops) + 2 and ops:
            eq = " ".join(f"{w} {o}" for w, o in zip(words, ops)) + f" {words[-2]} = {words[-1]}"
            found = [eq]
        else:
            found = list(dict.fromkeys(
                re.findall(r"\b([A-Z]+(?:\s*[-+*×]\s*[A-Z]+)+\s*=\s*[A-Z]+)\b", question or "")))
        if not text or len(found) != 1:
            return None
        puzzle = {"equation": found[0], "solution": text, "source": "synlogic"}
        try:
            return puzzle if cls().check(puzzle, text).reward == 1.0 else None
        except ValueError:
            return None


register_logic(Cryptarithm)
