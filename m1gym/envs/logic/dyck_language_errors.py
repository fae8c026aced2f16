"""dyck_language_errors: position of the first bracket that breaks a sequence (-1 if valid).

The generator draws a balanced sequence and, for invalid instances, corrupts it (a closer of the
wrong kind, an extra closer, an opener of the wrong kind whose damage shows only at its partner, two
neighbours swapped). It then re-solves the corrupted text with a stack scan; instances whose only
defect would be brackets left open at the end are redrawn, so every answer is a single well-defined
integer. Verifier: exact integer match.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from . import _dyck as D
from .base import GenerationError, LogicTask, parse_int, register_logic


@dataclass
class Knobs:
    n_types: int = 2        # bracket kinds used
    n_pairs: int = 6        # bracket pairs in the underlying balanced sequence
    p_valid: float = 0.25   # chance the sequence is left valid (answer -1)
    n_corruptions: int = 1  # edits applied to invalid instances
    subtle: bool = False    # prefer opener-kind edits (error appears far from the edit)


def _corrupt(rng: random.Random, seq: str, kinds: str, subtle: bool) -> str:
    s = list(seq)
    kind = rng.choice(["opener", "opener", "closer", "swap", "extra"] if subtle
                      else ["closer", "closer", "extra", "swap", "opener"])
    if kind == "closer":
        idx = [i for i, c in enumerate(s) if c in D.CLOSE_TO_OPEN]
        i = rng.choice(idx)
        choices = [D.PAIRS[o] for o in D.OPENERS if D.PAIRS[o] != s[i]]
        s[i] = rng.choice(choices[:max(1, len(kinds))] if len(kinds) > 1 else choices)
    elif kind == "opener":
        idx = [i for i, c in enumerate(s) if c in D.PAIRS]
        i = rng.choice(idx)
        s[i] = rng.choice([o for o in D.OPENERS if o != s[i]])
    elif kind == "swap":
        i = rng.randrange(len(s) - 1)
        s[i], s[i + 1] = s[i + 1], s[i]
    else:
        s.insert(rng.randrange(len(s) + 1), D.PAIRS[rng.choice(kinds)])
    return "".join(s)


@register_logic
class DyckLanguageErrors(LogicTask):
    task_name = "dyck_language_errors"
    description = "find the first bracket that makes a sequence unbalanced (-1 if balanced)"
    # universal-answer probe: "-1" (balanced) is the answer to ~1 task in 5 (1 in 3 at level 0)
    chance_level = 0.35
    chance_reason = "-1 (a balanced sequence) answers ~20% of tasks, ~33% at level 0"
    answer_format = "one integer: 1-based position, or -1"
    Knobs = Knobs
    synlogic_names = ("dyck_language_errors",)
    level_table = {
        0: {"n_types": 1, "n_pairs": 4, "p_valid": 0.3, "n_corruptions": 1, "subtle": False},
        1: {"n_types": 2, "n_pairs": 7, "p_valid": 0.25, "n_corruptions": 1, "subtle": False},
        2: {"n_types": 3, "n_pairs": 11, "p_valid": 0.2, "n_corruptions": 1, "subtle": True},
        3: {"n_types": 4, "n_pairs": 16, "p_valid": 0.15, "n_corruptions": 2, "subtle": True},
        4: {"n_types": 4, "n_pairs": 24, "p_valid": 0.15, "n_corruptions": 3, "subtle": True},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        kinds = D.openers(knobs.n_types)
        valid = rng.random() < knobs.p_valid
        for _ in range(100):
            seq = D.random_balanced(rng, knobs.n_pairs, kinds)
            if not valid:
                for _ in range(knobs.n_corruptions):
                    seq = _corrupt(rng, seq, kinds, knobs.subtle)
            err, stack = D.first_error(seq)  # re-solve
            if valid and err == -1 and not stack:
                return {"sequence": seq, "solution": -1}
            if not valid and err != -1:
                return {"sequence": seq, "solution": err}
        raise GenerationError("could not draw a sequence with a located error")

    def prompt(self, puzzle: dict[str, Any]) -> str:
        seq = puzzle["sequence"]
        numbered = " ".join(f"{i}:{c}" for i, c in enumerate(seq, 1))
        return (
            "A bracket sequence is valid when, reading left to right, every closing bracket ) ] } > "
            "closes the most recent still-open bracket and is of the same kind ( [ { <, and nothing is "
            "left open at the end. Find the first position where the sequence below goes wrong: the "
            "first closing bracket that has no open bracket to close or whose kind differs from the "
            "most recent open bracket. Positions count from 1. If the sequence is valid, answer -1. "
            "(Every invalid sequence here has such a closing bracket.)\n\n"
            f"Sequence: {D.spaced(seq)}\n"
            f"Numbered: {numbered}\n\n"
            "Answer with one integer. Example: for \"( [ ) ]\" the answer is 3; for \"( )\" it is -1."
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        text = answer.strip()
        if text.lower() in ("valid", "none", "no error", "no errors"):
            text = "-1"
        value = parse_int(text)
        gold = int(puzzle["solution"])
        if value == gold:
            return Score.ok()
        if gold == -1:
            return Score.fail(f"the sequence is valid (answer -1), not {value}", format_ok=True)
        if value == -1:
            return Score.fail(f"the sequence is not valid: position {gold} breaks it", format_ok=True)
        seq = puzzle.get("sequence")
        if seq is not None and not (1 <= value <= len(seq)):
            return Score.fail(f"position {value} is outside the sequence (1..{len(seq)})", format_ok=True)
        side = "before" if value < gold else "after"
        return Score.fail(f"position {value} is {side} the first error", format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return str(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        seq = puzzle.get("sequence")
        if seq is None:
            return None
        gold = puzzle["solution"]
        lines, stack = [], []
        for i, c in enumerate(seq, 1):
            if c in D.PAIRS:
                stack.append(c)
            elif stack and stack[-1] == D.CLOSE_TO_OPEN[c]:
                stack.pop()
            else:
                top = stack[-1] if stack else "nothing"
                lines.append(f"{i}: {c} but the open bracket on top is {top} -> error at {i}")
                return "\n".join(lines)
            lines.append(f"{i}: {c} ; stack: {D.stack_text(stack)}")
        lines.append("The stack is empty at the end, so the sequence is valid: -1." if gold == -1
                     else "")
        return "\n".join(l for l in lines if l)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        return str(rng.choice([-1] + list(range(1, len(puzzle.get("sequence", "x" * 10)) + 1))))

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        if metadata.get("is_valid") is True:
            gold: Any = -1
        else:
            gold = metadata.get("first_error_pos", answer)
        try:
            gold = int(str(gold).strip())
        except (TypeError, ValueError):
            return None
        puzzle: dict[str, Any] = {"solution": gold, "source": "synlogic"}
        seq = metadata.get("dyck_sequence") or metadata.get("sequence")
        if isinstance(seq, str):
            puzzle["sequence"] = "".join(seq.split())
        return puzzle
