"""word_sorting: sort distinct words under a given (possibly permuted) alphabet.

The words are distinct, so the sorted order is unique; the generator sorts them with the task's
own key and re-checks that every adjacent pair is strictly increasing. Verifier: the answer must
be a permutation of the given words (reason names missing/extra words) in exactly that order
(reason names the first pair out of order).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from ...core import Score
from . import _words as W
from .base import AnswerParseError, GenerationError, LogicTask, parse_json, register_logic, strip_fences


@dataclass
class Knobs:
    n_words: int = 7      # words to sort
    n_front: int = 0      # letters moved to the front of the alphabet (26 = fully permuted)
    shared: float = 0.0   # chance a word shares a stem with an earlier one
    max_syll: int = 3     # syllables per fresh word


def parse_words(answer: str) -> list[str]:
    text = strip_fences(answer).strip()
    if text.startswith("["):
        data = parse_json(text)
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise AnswerParseError("expected a JSON list of words")
        words = [x.strip().lower() for x in data]
    else:
        words = [w.lower() for w in re.split(r"[,\s]+", text) if w]
    if not words:
        raise AnswerParseError("empty answer; expected the sorted words separated by commas")
    bad = [w for w in words if not re.fullmatch(r"[a-z][a-z'-]*", w)]
    if bad:
        raise AnswerParseError(f"{bad[0][:30]!r} is not a lowercase word")
    return words


@register_logic
class WordSorting(LogicTask):
    task_name = "word_sorting"
    description = "sort words under a modified alphabet"
    answer_format = "the words in order, comma separated"
    Knobs = Knobs
    synlogic_names = ("word_sorting",)
    level_table = {
        0: {"n_words": 5, "n_front": 0, "shared": 0.0, "max_syll": 2},
        1: {"n_words": 7, "n_front": 2, "shared": 0.15, "max_syll": 2},
        2: {"n_words": 10, "n_front": 5, "shared": 0.3, "max_syll": 3},
        3: {"n_words": 15, "n_front": 10, "shared": 0.45, "max_syll": 3},
        4: {"n_words": 28, "n_front": 26, "shared": 0.55, "max_syll": 3},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        words = W.draw_words(rng, knobs.n_words, knobs.shared, knobs.max_syll)
        front = W.pick_front(rng, words, knobs.n_front)
        alphabet = W.make_alphabet(rng, front)
        solution = sorted(words, key=W.sort_key(alphabet))
        key = W.sort_key(alphabet)
        if any(key(a) >= key(b) for a, b in zip(solution, solution[1:])):  # re-check strict order
            raise GenerationError("internal: words not strictly ordered")
        return {"words": words, "front": front, "alphabet": alphabet, "solution": solution}

    def prompt(self, puzzle: dict[str, Any]) -> str:
        return (
            "Sort the following words in ascending order. "
            f"{W.describe_alphabet(puzzle['front'], puzzle['alphabet'])} {W.COMPARE_RULE}\n\n"
            f"Words: {' '.join(puzzle['words'])}\n\n"
            "Answer with all the words in sorted order, separated by commas. "
            "Example format: bat, cab, cat"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        words = parse_words(answer)
        gold = list(puzzle["solution"])
        if words == gold:
            return Score.ok()
        if sorted(words) != sorted(gold):
            missing = sorted(set(gold) - set(words))
            extra = sorted(set(words) - set(gold))
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing[:5])}")
            if extra:
                parts.append(f"not in the list: {', '.join(extra[:5])}")
            if not parts:
                parts.append("some words repeated or dropped")
            return Score.fail("the answer is not the given words: " + "; ".join(parts), format_ok=True)
        alphabet = puzzle.get("alphabet")
        if alphabet:
            key = W.sort_key(alphabet)
            for i, (a, b) in enumerate(zip(words, words[1:]), 1):
                if key(a) > key(b):
                    return Score.fail(f"{a!r} (position {i}) must come after {b!r} "
                                      f"({W.first_difference(a, b)})", format_ok=True)
        first = next(i for i, (a, b) in enumerate(zip(words, gold), 1) if a != b)
        return Score.fail(f"wrong order from position {first}", format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return ", ".join(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        if "alphabet" not in puzzle:
            return None
        rank = {c: i for i, c in enumerate(puzzle["alphabet"])}
        lines = [f"{w}: ranks {'-'.join(str(rank[c] + 1) for c in w)}" for w in puzzle["solution"]]
        return "Write each word as the ranks of its letters in the alphabet, then sort:\n" + "\n".join(lines)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        words = list(puzzle["solution"])
        rng.shuffle(words)
        return ", ".join(words)

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        gold = metadata.get("sorted_words") or answer
        if isinstance(gold, str):
            gold = [w for w in re.split(r"[,\s]+", gold.strip().lower()) if w]
        if not isinstance(gold, list) or not gold or not all(isinstance(w, str) for w in gold):
            return None
        return {"solution": [w.strip().lower() for w in gold], "source": "synlogic"}
