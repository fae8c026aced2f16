"""Strict verdict parsing. A verdict the parser cannot read is a recorded failure, never a silent 0."""

from __future__ import annotations

import math
import re

_PAIR_RE = re.compile(r"\[\[\s*(A|B|TIE)\s*\]\]")
_GRADE_RE = re.compile(r"\[\[\s*([1-5])\s*\]\]")

PAIRWISE_TOKENS = ("A", "B", "TIE")


class VerdictParseError(ValueError):
    pass


def _one(matches: list[str], what: str, text: str) -> str:
    if not matches:
        raise VerdictParseError(f"no {what} in judge output (ends: {text[-80:]!r})")
    if len(set(matches)) > 1:
        raise VerdictParseError(f"ambiguous {what}: judge output holds {sorted(set(matches))}")
    return matches[-1]


def parse_pairwise(text: str) -> str:
    """'A', 'B' or 'TIE' from a judge output ending in `Verdict: [[X]]`."""
    return _one(_PAIR_RE.findall(text or ""), "pairwise verdict [[A]]/[[B]]/[[TIE]]", text or "")


def parse_grade(text: str) -> int:
    """1..5 from a judge output ending in `Grade: [[N]]`."""
    return int(_one(_GRADE_RE.findall(text or ""), "grade [[1]]..[[5]]", text or ""))


def grade_to_reward(grade: float) -> float:
    """Five-grade scale -> reward in [0, 1]: 1 -> 0.0, 3 -> 0.5, 5 -> 1.0."""
    return (float(grade) - 1.0) / 4.0


def verdict_probabilities(top_logprobs: dict[str, float], tokens: tuple[str, ...]) -> dict[str, float] | None:
    """Normalised probabilities of verdict tokens from a position's top log-probs; None if absent."""
    probs = {t: math.exp(lp) for tok, lp in top_logprobs.items() for t in tokens if tok.strip() == t}
    total = sum(probs.values())
    if total <= 0:
        return None
    return {t: probs.get(t, 0.0) / total for t in tokens}
