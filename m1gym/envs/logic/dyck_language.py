"""dyck_language: complete a bracket sequence with the fewest characters.

The prompt gives a prefix whose every closing bracket matches; the answer is the whole sequence
with the shortest completion appended. The shortest completion is unique (close the open stack in
reverse order), so the verifier is exact match after whitespace/quote normalisation, with a
specific reason for each way an answer can fail (prefix altered, unbalanced, not shortest).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from . import _dyck as D
from .base import GenerationError, LogicTask, register_logic


@dataclass
class Knobs:
    n_types: int = 2      # bracket kinds used: (), [], {}, <>
    length: int = 14      # length of the full (completed) sequence
    fill: int = 3         # characters the answer must add (depth of the open stack at the cut)
    p_open: float = 0.5   # bias towards nesting while drawing the prefix


@register_logic
class DyckLanguage(LogicTask):
    task_name = "dyck_language"
    description = "complete a bracket sequence with the shortest closing suffix"
    answer_format = "the full bracket sequence, e.g. ([]{})"
    Knobs = Knobs
    synlogic_names = ("dyck_language",)
    level_table = {
        0: {"n_types": 1, "length": 8, "fill": 2, "p_open": 0.5},
        1: {"n_types": 2, "length": 14, "fill": 3, "p_open": 0.5},
        2: {"n_types": 3, "length": 22, "fill": 5, "p_open": 0.55},
        3: {"n_types": 4, "length": 34, "fill": 7, "p_open": 0.6},
        4: {"n_types": 4, "length": 52, "fill": 11, "p_open": 0.62},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        length = knobs.length + rng.choice((-2, 0, 0, 2))
        fill = max(1, knobs.fill + rng.choice((-1, 0, 0, 1)))
        prefix_len = length - fill
        if prefix_len % 2 != fill % 2:
            prefix_len -= 1
        if prefix_len < fill:
            raise GenerationError(f"length {knobs.length} too short for fill {knobs.fill}")
        prefix = D.random_prefix(rng, prefix_len, fill, D.openers(knobs.n_types), knobs.p_open)
        full = prefix + D.completion(prefix)  # re-solve
        if not D.is_balanced(full) or len(full) - len(prefix) != fill:
            raise GenerationError("internal: completion is not minimal")
        return {"prefix": prefix, "solution": full}

    def prompt(self, puzzle: dict[str, Any]) -> str:
        return (
            "Complete the bracket sequence below so that it becomes a balanced (Dyck) sequence, "
            "adding as few characters as possible and only at the end. Balanced means every opening "
            "bracket ( [ { < is closed later by its own kind ) ] } >, and brackets close in the "
            "reverse order they were opened. Do not change the given characters.\n\n"
            f"Sequence: {D.spaced(puzzle['prefix'])}\n\n"
            "Answer with the whole completed sequence (the given part plus your added characters), "
            "spaces optional. Example: for \"( [ {\" the answer is ([{}])"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        seq = D.parse_brackets(answer)
        gold = puzzle["solution"]
        if seq == gold:
            return Score.ok()
        prefix = puzzle.get("prefix")
        if prefix is not None and not seq.startswith(prefix):
            if gold.startswith(seq) or (prefix and prefix.endswith(seq)) or D.completion(prefix) == seq:
                return Score.fail("give the whole sequence (given part plus completion), not a fragment",
                                  format_ok=True)
            return Score.fail("the answer does not start with the given sequence (a given character "
                              "was changed, dropped or added)", format_ok=True)
        if not D.is_balanced(seq):
            err, stack = D.first_error(seq)
            where = f"bracket {err} does not match" if err != -1 else f"{len(stack)} bracket(s) left open"
            return Score.fail(f"the sequence is not balanced: {where}", format_ok=True)
        if len(seq) > len(gold):
            return Score.fail(f"balanced but not the shortest completion ({len(seq)} chars, "
                              f"shortest is {len(gold)})", format_ok=True)
        return Score.fail("not the expected completion", format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return puzzle["solution"]

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        prefix = puzzle.get("prefix")
        if prefix is None:
            return None
        _, stack = D.first_error(prefix)
        return (f"Reading the sequence left to right and keeping a stack of open brackets, "
                f"the stack at the end is: {D.stack_text(stack)}.\n"
                f"Closing them from the top: {D.spaced(D.completion(prefix))}.")

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        prefix = puzzle.get("prefix", "")
        extra = len(puzzle["solution"]) - len(prefix)
        return prefix + "".join(rng.choice(D.CLOSERS) for _ in range(extra))

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        full = metadata.get("full_sequence") or answer
        if not isinstance(full, str) or not full:
            return None
        full = "".join(full.split())
        prefix = metadata.get("question_sequence")
        puzzle: dict[str, Any] = {"solution": full, "source": "synlogic"}
        if isinstance(prefix, str) and full.startswith("".join(prefix.split())):
            puzzle["prefix"] = "".join(prefix.split())
        return puzzle
