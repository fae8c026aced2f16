"""word_sorting_mistake: find the first wrong step of a selection-sort trace (or answer No).

The trace sorts words under a given alphabet by selection: each step names the earliest of the
words not yet placed. A step is wrong when the word it names is not the earliest remaining word.
The generator writes the trace, maybe slips once (a near miss at higher levels: a word sharing a
long prefix with the true one) and continues correctly from the state it reached; it then re-judges
every step from scratch, so the gold answer (the first wrong step) is unique. Verifier: exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from . import _words as W
from .base import GenerationError, LogicTask, parse_int, register_logic


@dataclass
class Knobs:
    n_words: int = 6
    n_front: int = 0        # letters moved to the front of the alphabet
    shared: float = 0.0     # chance a word shares a stem with an earlier one
    p_mistake: float = 0.7  # chance the trace holds a mistake
    subtle: bool = False    # mistakes pick the runner-up (closest word), not a random later word


def first_wrong_step(steps: list[str], words: list[str], alphabet: str) -> int | None:
    key = W.sort_key(alphabet)
    remaining = list(words)
    for i, w in enumerate(steps, 1):
        if w not in remaining:
            return i
        if w != min(remaining, key=key):
            return i
        remaining.remove(w)
    return None


@register_logic
class WordSortingMistake(LogicTask):
    task_name = "word_sorting_mistake"
    description = "find the first wrong step in a word-sorting trace"
    # universal-answer probe: "No" (no wrong step) is the answer to ~28% of tasks (38% at level 0)
    chance_level = 0.40
    chance_reason = "No (the trace has no mistake) answers ~28% of tasks, ~38% at level 0"
    answer_format = 'the step number, or "No"'
    Knobs = Knobs
    synlogic_names = ("word_sorting_mistake",)
    level_table = {
        0: {"n_words": 4, "n_front": 0, "shared": 0.0, "p_mistake": 0.7, "subtle": False},
        1: {"n_words": 6, "n_front": 2, "shared": 0.2, "p_mistake": 0.7, "subtle": False},
        2: {"n_words": 9, "n_front": 4, "shared": 0.35, "p_mistake": 0.75, "subtle": True},
        3: {"n_words": 12, "n_front": 8, "shared": 0.45, "p_mistake": 0.75, "subtle": True},
        4: {"n_words": 16, "n_front": 26, "shared": 0.55, "p_mistake": 0.8, "subtle": True},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        words = W.draw_words(rng, knobs.n_words, knobs.shared)
        front = W.pick_front(rng, words, knobs.n_front)
        alphabet = W.make_alphabet(rng, front)
        key = W.sort_key(alphabet)
        slip = rng.randint(1, len(words) - 1) if rng.random() < knobs.p_mistake else None
        remaining = list(words)
        steps: list[str] = []
        while remaining:
            ordered = sorted(remaining, key=key)
            if len(steps) + 1 == slip and len(ordered) > 1:
                pick = ordered[1] if knobs.subtle else rng.choice(ordered[1:])
            else:
                pick = ordered[0]
            steps.append(pick)
            remaining.remove(pick)
        answer = first_wrong_step(steps, words, alphabet)  # re-solve
        if answer != slip:
            raise GenerationError("internal: planted mistake not found by the judge")
        return {"words": words, "front": front, "alphabet": alphabet, "steps": steps,
                "solution": "No" if answer is None else answer}

    def prompt(self, puzzle: dict[str, Any]) -> str:
        lines = []
        placed: list[str] = []
        for i, w in enumerate(puzzle["steps"], 1):
            placed.append(w)
            lines.append(f"Step {i}: the earliest remaining word is {w}. Sorted so far: {', '.join(placed)}")
        return (
            "Someone sorted a list of words in ascending order. "
            f"{W.describe_alphabet(puzzle['front'], puzzle['alphabet'])} {W.COMPARE_RULE}\n"
            "They used selection: at each step they name the earliest word (in this order) among the "
            "words not yet placed and append it to the sorted list. A step is wrong when the word it "
            "names is not the earliest of the remaining words.\n\n"
            f"Words: {' '.join(puzzle['words'])}\n\n" + "\n".join(lines) + "\n\n"
            "Answer with the number of the first wrong step, or No if every step is right. "
            "Example format: 3"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        text = answer.strip().strip(".").strip()
        gold = puzzle["solution"]
        if text.lower() in ("no", "none", "no mistake", "no mistakes"):
            if str(gold).lower() == "no":
                return Score.ok()
            return Score.fail(f"there is a mistake (step {gold})", format_ok=True)
        if text.lower().startswith("step "):
            text = text[5:]
        value = parse_int(text)
        if str(gold).lower() == "no":
            return Score.fail(f"every step is right (answer No), not step {value}", format_ok=True)
        if value == int(gold):
            return Score.ok()
        side = "before" if value < int(gold) else "after"
        return Score.fail(f"step {value} is {side} the first wrong step", format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return str(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        if "alphabet" not in puzzle:
            return None
        key = W.sort_key(puzzle["alphabet"])
        remaining = list(puzzle["words"])
        lines = []
        for i, w in enumerate(puzzle["steps"], 1):
            best = min(remaining, key=key)
            if w != best:
                lines.append(f"Step {i} names {w}, but {best} comes earlier "
                             f"({W.first_difference(best, w)}), so step {i} is the first wrong step.")
                return "\n".join(lines)
            lines.append(f"Step {i}: {w} is the earliest of the remaining words. Right.")
            remaining.remove(w)
        lines.append("Every step is right: No.")
        return "\n".join(lines)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        n = len(puzzle.get("steps", [])) or 5
        return rng.choice(["No"] + [str(i) for i in range(1, n + 1)])

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        if answer is None or str(answer).strip().lower() in ("no", ""):
            return {"solution": "No", "source": "synlogic"}
        try:
            return {"solution": int(str(answer).strip()), "source": "synlogic"}
        except ValueError:
            return None
