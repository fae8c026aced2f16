"""Format reward: is the response shaped as the answer contract asks?

A well-formed response closes its think block exactly once (if it opens one), and gives exactly one
final answer after it: one ``<answer>`` block with nothing but whitespace after it, or (math) one
``\\boxed{}`` when no tag is used, with no stray closing brace after it (extract.py's trailing-junk
rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from .extract import THINK_CLOSE, THINK_OPEN, answer_tags, boxed_all, boxed_tail_problem, split_region


@dataclass(frozen=True)
class FormatCheck:
    ok: bool
    reason: str

    @property
    def reward(self) -> float:
        return 1.0 if self.ok else 0.0


def check_format(response: str, *, boxed: bool = False, require_think: bool = False) -> FormatCheck:
    if not isinstance(response, str) or not response.strip():
        return FormatCheck(False, "empty response")
    opens, closes = response.count(THINK_OPEN), response.count(THINK_CLOSE)
    if require_think and closes == 0:
        return FormatCheck(False, "no <think>...</think> block")
    if opens > 1 or closes > 1:
        return FormatCheck(False, f"think block opened {opens}x and closed {closes}x; expected once")
    if opens == 1 and closes == 0:
        return FormatCheck(False, "think block never closed (truncated response?)")
    if closes == 1 and opens == 1 and response.find(THINK_OPEN) > response.find(THINK_CLOSE):
        return FormatCheck(False, "</think> appears before <think>")
    region, problem = split_region(response)
    if problem is not None:
        return FormatCheck(False, problem)
    tags = answer_tags(region)
    if len(tags) > 1:
        return FormatCheck(False, f"{len(tags)} <answer> blocks after the think block; expected exactly one")
    if len(tags) == 1:
        return FormatCheck(True, "ok")
    if boxed:
        n = len(boxed_all(region))
        tail = boxed_tail_problem(region) if n == 1 else None
        if tail is not None:
            return FormatCheck(False, tail)
        if n == 1:
            return FormatCheck(True, "ok")
        if n > 1:
            return FormatCheck(False, f"{n} \\boxed{{}} answers; expected exactly one")
        return FormatCheck(False, "no final answer: expected <answer>...</answer> or \\boxed{...}")
    return FormatCheck(False, "no final answer: expected <answer>...</answer>")
