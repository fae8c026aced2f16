"""Time sequence: meeting scheduling over busy calendars and extra rules.

The answer is ``[longest, count]``: the length in minutes of the longest stretch when everyone is
available (after applying every rule), and the number of allowed start times (on the stated grid)
for a meeting of the stated duration. Both are computed minute by minute, so the answer is unique
and the verifier is exact match on the two integers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, parse_int_list, register_logic

PEOPLE = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Julia"]
DAY_START, DAY_END = 9 * 60, 17 * 60


def _hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass
class Knobs:
    people: int = 2           # number of participants
    blocks: int = 2           # busy blocks per person (at most)
    grid: int = 30            # busy times lie on this minute grid
    step: int = 30            # meetings may start every `step` minutes
    rule_prob: float = 0.0    # probability of each extra rule kind being present
    durations: str = "30,60"  # meeting lengths to draw from

    def __post_init__(self) -> None:
        if not 1 <= self.people <= len(PEOPLE) or self.grid < 5 or self.step < 5 or not 0 <= self.rule_prob <= 1:
            raise ValueError(f"people in 1..{len(PEOPLE)}, grid and step >= 5, rule_prob in [0, 1]")


def _availability(p: dict[str, Any]) -> list[bool]:
    """free[m] for every minute m of the day (index 0 = 09:00)."""
    free = [True] * (DAY_END - DAY_START)

    def block(a: int, b: int) -> None:
        for m in range(max(a, DAY_START), min(b, DAY_END)):
            free[m - DAY_START] = False

    buffers = {r["person"]: r["minutes"] for r in p["rules"] if r["kind"] == "buffer"}
    for person, busy in p["busy"].items():
        for a, b in busy:
            block(a, b + buffers.get(person, 0))
    for r in p["rules"]:
        if r["kind"] == "not_before":
            block(DAY_START, r["time"])
        elif r["kind"] == "not_after":
            block(r["time"], DAY_END)
        elif r["kind"] == "lunch":
            block(r["start"], r["end"])
    return free


def _solve(p: dict[str, Any]) -> tuple[int, int, list[tuple[int, int]]]:
    free = _availability(p)
    runs: list[tuple[int, int]] = []
    start = None
    for i, f in enumerate(free + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            runs.append((start + DAY_START, i + DAY_START))
            start = None
    longest = max((b - a for a, b in runs), default=0)
    d = p["duration"]
    count = sum(1 for s in range(DAY_START, DAY_END - d + 1, p["step"])
                if all(free[s - DAY_START:s - DAY_START + d]))
    return longest, count, runs


class TimeSequence(LogicTask):
    task_name = "time_sequence"
    description = "Find the longest common free time and count the possible meeting start times."
    answer_format = "[minutes, count], e.g. [90, 3]"
    Knobs = Knobs
    level_table = {
        0: {"people": 2, "blocks": 2, "grid": 30, "step": 30, "rule_prob": 0.0},
        1: {"people": 3, "blocks": 2, "grid": 15, "step": 30, "rule_prob": 0.3},
        2: {"people": 4, "blocks": 3, "grid": 15, "step": 15, "rule_prob": 0.5, "durations": "30,45,60"},
        3: {"people": 5, "blocks": 3, "grid": 5, "step": 15, "rule_prob": 0.7, "durations": "25,40,55"},
        4: {"people": 7, "blocks": 4, "grid": 5, "step": 10, "rule_prob": 0.9, "durations": "20,35,50,70"},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            names = rng.sample(PEOPLE, k.people)
            busy: dict[str, list[list[int]]] = {}
            for name in names:
                blocks: list[list[int]] = []
                for _b in range(rng.randint(1, k.blocks)):
                    length = rng.randrange(k.grid, 121, k.grid)
                    start = rng.randrange(DAY_START, DAY_END - length + 1, k.grid)
                    if all(start >= b or start + length <= a for a, b in blocks):
                        blocks.append([start, start + length])
                busy[name] = sorted(blocks)
            rules: list[dict[str, Any]] = []
            if rng.random() < k.rule_prob:
                rules.append({"kind": "not_before", "person": rng.choice(names),
                              "time": rng.randrange(DAY_START + 30, DAY_START + 151, k.grid)})
            if rng.random() < k.rule_prob:
                rules.append({"kind": "not_after", "person": rng.choice(names),
                              "time": rng.randrange(DAY_END - 150, DAY_END - 29, k.grid)})
            if rng.random() < k.rule_prob:
                rules.append({"kind": "lunch", "start": 12 * 60, "end": 13 * 60})
            if rng.random() < k.rule_prob:
                rules.append({"kind": "buffer", "person": rng.choice(names), "minutes": rng.choice([10, 15, 20])})
            puzzle = {"busy": busy, "order": names, "rules": rules,
                      "duration": int(rng.choice(k.durations.split(","))), "step": k.step}
            longest, count, runs = _solve(puzzle)
            if count == 0:
                continue  # an impossible meeting teaches little; keep instances with at least one slot
            puzzle["solution"] = [longest, count]
            puzzle["free"] = [list(r) for r in runs]  # lists, so the task survives a JSON round trip
            return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        lines = []
        for name in p["order"]:
            blocks = ", ".join(f"{_hm(a)}-{_hm(b)}" for a, b in p["busy"][name])
            lines.append(f"- {name} is busy {blocks}." if blocks else f"- {name} has no meetings.")
        rules = []
        for r in p["rules"]:
            if r["kind"] == "not_before":
                rules.append(f"- {r['person']} cannot meet before {_hm(r['time'])}.")
            elif r["kind"] == "not_after":
                rules.append(f"- {r['person']} must be finished by {_hm(r['time'])}.")
            elif r["kind"] == "lunch":
                rules.append(f"- Nobody meets during lunch, {_hm(r['start'])}-{_hm(r['end'])}.")
            elif r["kind"] == "buffer":
                rules.append(f"- {r['person']} needs a {r['minutes']}-minute break after each of their busy blocks "
                             "(no meeting may overlap it).")
        rule_text = ("Extra rules:\n" + "\n".join(rules) + "\n") if rules else ""
        return (
            f"The working day runs from 09:00 to 17:00. A meeting with everyone must fit inside it.\n"
            f"Calendars (a block 10:00-11:00 means busy from 10:00 until 11:00; a meeting may end at 10:00 "
            f"or start at 11:00):\n" + "\n".join(lines) + "\n" + rule_text +
            f"\nQuestions:\n1. How many minutes long is the longest stretch of time in which everyone is "
            f"available (all rules applied)?\n"
            f"2. A meeting of {p['duration']} minutes may start at 09:00 or any time a multiple of "
            f"{p['step']} minutes later. How many possible start times are there?\n\n"
            "Answer format: a JSON list [minutes, count], for example [90, 3]"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        got = parse_int_list(answer)
        if len(got) != 2:
            raise AnswerParseError(f"expected two integers [minutes, count], got {len(got)}")
        want = p["solution"]
        if got[0] != want[0]:
            return Score.fail(f"the longest common free stretch is not {got[0]} minutes", format_ok=True)
        if got[1] != want[1]:
            return Score.fail(f"the number of possible start times is not {got[1]}", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return f"[{p['solution'][0]}, {p['solution'][1]}]"

    def reasoning(self, p: dict[str, Any]) -> str | None:
        runs = ", ".join(f"{_hm(a)}-{_hm(b)} ({b - a} min)" for a, b in p["free"]) or "none"
        return (f"Combining every calendar and rule, everyone is free at: {runs}.\n"
                f"The longest stretch is {p['solution'][0]} minutes. Counting start times every {p['step']} "
                f"minutes where {p['duration']} minutes fit inside a free stretch gives {p['solution'][1]}.")

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a random stretch length and count."""
        return f"[{rng.randrange(0, 481, 5)}, {rng.randint(0, 30)}]"

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (time_sequence_verifier.py): the gold is ``metadata["records"]["answers"]``
        with ``answer_maxLen`` (longest common free stretch, minutes) and ``answer_nums`` (number of
        possible start times); answers are the list [minutes, count], as here."""
        from .synlogic import scores_gold

        gold = metadata["records"]["answers"]
        sol = [int(gold["answer_maxLen"]), int(gold["answer_nums"])]
        return scores_gold(cls, {"solution": sol, "source": "synlogic"}, f"[{sol[0]}, {sol[1]}]")


register_logic(TimeSequence)
