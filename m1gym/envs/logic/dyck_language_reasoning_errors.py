"""dyck_language_reasoning_errors: which numbered steps of a bracket-checking trace are wrong.

The trace processes a bracket sequence one character per thought and states the stack after each
character, then concludes. Each thought is judged on its own against the true state (an error does
not make later correct thoughts wrong), so the set of wrong thoughts is well defined and unique.
The generator writes a correct trace, plants ``n_errors`` distinct mistakes (a pop forgotten, an
extra pop, a wrong kind pushed, an element dropped, a wrong conclusion) and re-judges every
thought before emitting. Verifier: exact set match; "none" when every thought is right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from . import _dyck as D
from .base import AnswerParseError, GenerationError, LogicTask, parse_int_list, register_logic, strip_fences

NONE_WORDS = ("none", "no errors", "no error", "no mistakes", "all correct")


@dataclass
class Knobs:
    n_types: int = 2     # bracket kinds used
    n_pairs: int = 5     # bracket pairs in the balanced sequence before any truncation
    n_errors: int = 1    # wrong thoughts planted (0 allowed at random with p_none)
    p_none: float = 0.15 # chance the trace is left fully correct
    p_unbalanced: float = 0.3  # chance the sequence is cut so brackets stay open at the end


def _judge(seq: str, thoughts: list[dict[str, Any]]) -> list[int]:
    """Numbers of the wrong thoughts (recomputed from the sequence, not from how they were made)."""
    wrong: list[int] = []
    stack: list[str] = []
    for t in thoughts:
        if t["kind"] == "step":
            ch = seq[t["pos"]]
            if ch in D.PAIRS:
                stack.append(ch)
            else:
                stack.pop()  # sequences in this task never hold an unmatched closer
            if t["stack"] != "".join(stack):
                wrong.append(t["n"])
        elif t["kind"] == "final":
            truth = not stack
            if t["stack"] != "".join(stack) or t["balanced"] != truth:
                wrong.append(t["n"])
    return wrong


def _render(t: dict[str, Any]) -> str:
    n = t["n"]
    if t["kind"] == "intro":
        return f"Thought {n}: We read the sequence one character at a time and keep a stack of open brackets."
    if t["kind"] == "start":
        return f"Thought {n}: stack: empty"
    if t["kind"] == "step":
        return f"Thought {n}: {t['char']} ; stack: {D.stack_text(list(t['stack']))}"
    verdict = "balanced" if t["balanced"] else "not balanced"
    return (f"Thought {n}: We reached the end. The final stack is {D.stack_text(list(t['stack']))}, "
            f"so the sequence is {verdict}.")


@register_logic
class DyckLanguageReasoningErrors(LogicTask):
    task_name = "dyck_language_reasoning_errors"
    description = "find the wrong steps in a stack trace that checks a bracket sequence"
    answer_format = 'thought numbers, comma separated ("3,7"), or "none"'
    Knobs = Knobs
    synlogic_names = ("dyck_language_reasoning_errors",)
    level_table = {
        0: {"n_types": 1, "n_pairs": 3, "n_errors": 1, "p_none": 0.15, "p_unbalanced": 0.2},
        1: {"n_types": 2, "n_pairs": 5, "n_errors": 1, "p_none": 0.15, "p_unbalanced": 0.3},
        2: {"n_types": 3, "n_pairs": 8, "n_errors": 2, "p_none": 0.1, "p_unbalanced": 0.3},
        3: {"n_types": 4, "n_pairs": 12, "n_errors": 3, "p_none": 0.1, "p_unbalanced": 0.35},
        4: {"n_types": 4, "n_pairs": 18, "n_errors": 4, "p_none": 0.1, "p_unbalanced": 0.35},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        kinds = D.openers(knobs.n_types)
        seq = D.random_balanced(rng, knobs.n_pairs, kinds, p_open=0.55)
        if rng.random() < knobs.p_unbalanced:
            # cut inside the sequence at a point where something is still open
            cuts = [i for i in range(2, len(seq)) if D.first_error(seq[:i])[1]]
            seq = seq[:rng.choice(cuts)]
        thoughts: list[dict[str, Any]] = [{"n": 1, "kind": "intro"}, {"n": 2, "kind": "start"}]
        stack: list[str] = []
        for pos, ch in enumerate(seq):
            stack.append(ch) if ch in D.PAIRS else stack.pop()
            thoughts.append({"n": len(thoughts) + 1, "kind": "step", "pos": pos, "char": ch,
                             "stack": "".join(stack)})
        thoughts.append({"n": len(thoughts) + 1, "kind": "final", "stack": "".join(stack),
                         "balanced": not stack})
        n_err = 0 if rng.random() < knobs.p_none else knobs.n_errors
        candidates = [t for t in thoughts if t["kind"] in ("step", "final")]
        for t in rng.sample(candidates, min(n_err, len(candidates))):
            self._plant(rng, t, seq, kinds)
        wrong = _judge(seq, thoughts)  # re-solve from the sequence
        if len(wrong) != min(n_err, len(candidates)):
            raise GenerationError("internal: planted error not detected")
        return {"sequence": seq,
                "thoughts": [_render(t) for t in thoughts],
                "trace": thoughts, "solution": wrong}

    @staticmethod
    def _plant(rng: random.Random, t: dict[str, Any], seq: str, kinds: str) -> None:
        st = t["stack"]
        if t["kind"] == "final":
            if rng.random() < 0.5 or not st:
                t["balanced"] = not t["balanced"]
            else:
                t["stack"] = st[:-1]
            return
        ch = t["char"]
        options = []
        if ch in D.PAIRS:  # a push
            options.append(st[:-1])                                            # push forgotten
            options.append(st[:-1] + rng.choice([k for k in D.OPENERS if k != ch]))  # wrong kind
            options.append(st + ch)                                            # pushed twice
        else:  # a pop
            options.append(st + D.CLOSE_TO_OPEN[ch])                           # pop forgotten
            if st:
                options.append(st[:-1])                                        # popped twice
            options.append(st + ch)                                            # closer pushed
        if len(st) >= 2:
            options.append(st[1:])                                             # bottom dropped
        t["stack"] = rng.choice([o for o in options if o != st])

    def prompt(self, puzzle: dict[str, Any]) -> str:
        trace = "\n".join(puzzle["thoughts"])
        return (
            "Someone checked whether a bracket sequence is balanced (every opening bracket ( [ { < is "
            "closed later by its own kind ) ] } >, in reverse order of opening) by reading it one "
            "character at a time and writing the stack of still-open brackets (bottom first) after "
            "each character. Some thoughts may be wrong.\n"
            "A step thought is wrong when the stack it writes is not the true stack after that "
            "character. The last thought is wrong when its final stack or its conclusion is false. "
            "Judge every thought against the true state, not against earlier thoughts: after a "
            "mistake, a thought that writes the true stack is correct.\n\n"
            f"Sequence: {D.spaced(puzzle['sequence'])}\n\n{trace}\n\n"
            "Answer with the numbers of all wrong thoughts in increasing order, separated by commas, "
            "or the word none if every thought is correct. Example format: 4,9"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        chosen = parse_thought_numbers(answer)
        gold = {int(x) for x in puzzle["solution"]}
        if chosen == gold:
            return Score.ok()
        if not gold:
            return Score.fail("every thought is correct (answer none)", format_ok=True)
        if not chosen:
            return Score.fail(f"{len(gold)} thought(s) are wrong, not none", format_ok=True)
        extra, missed = sorted(chosen - gold), sorted(gold - chosen)
        parts = []
        if extra:
            parts.append(f"thought(s) {','.join(map(str, extra))} are correct")
        if missed:
            parts.append(f"missed {len(missed)} wrong thought(s)")
        return Score.fail("; ".join(parts), format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        sol = sorted(int(x) for x in puzzle["solution"])
        return ",".join(map(str, sol)) if sol else "none"

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        seq = puzzle.get("sequence")
        if seq is None or "thoughts" not in puzzle:
            return None
        lines, stack = [], []
        for pos, ch in enumerate(seq):
            stack.append(ch) if ch in D.PAIRS else stack.pop()
            lines.append(f"after {ch} (thought {pos + 3}) the true stack is {D.stack_text(stack)}")
        lines.append(f"final: {'balanced' if not stack else 'not balanced'}")
        lines.append(f"Comparing with the written thoughts, the wrong ones are: {self.solution_text(puzzle)}")
        return "\n".join(lines)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        n = len(puzzle.get("thoughts", [])) or 10
        pick = sorted(rng.sample(range(3, n + 1), min(n - 2, rng.randint(0, 3)))) if n > 2 else []
        return ",".join(map(str, pick)) if pick else "none"

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        idx = metadata.get("error_indices")
        if not isinstance(idx, list) or not all(isinstance(i, int) for i in idx):
            return None
        puzzle: dict[str, Any] = {"solution": sorted(set(idx)), "source": "synlogic"}
        return puzzle


def parse_thought_numbers(answer: str) -> set[int]:
    text = strip_fences(answer).strip().rstrip(".").replace("，", ",")
    if text.lower() in NONE_WORDS:
        return set()
    if not text:
        raise AnswerParseError('empty answer; expected thought numbers like 3,7 or the word none')
    nums = parse_int_list(text)
    if not nums:
        raise AnswerParseError('expected thought numbers like 3,7 or the word none')
    return set(nums)
