"""Web of lies: each person either always tells the truth or always lies; who tells the truth?

The generator draws a hidden truth assignment and statements consistent with it, then enumerates
every assignment (backtracking, each statement checked as soon as its people are assigned) and asks
only about people whose value is the same in all consistent assignments, so the answer is unique.
Verifier: strict token parse (a comma-separated yes/no list, or a JSON list of "yes"/"no"; nothing
else), then exact match of the ordered list. Words like "yes" inside free text are never scanned.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

NAMES = ["Amara", "Bilal", "Chloe", "Dmitri", "Elena", "Felix", "Greta", "Hiro", "Ines", "Jonas", "Kemal",
         "Lucia", "Mateo", "Nadia", "Oskar", "Priya"]
KINDS = ("is", "both", "either", "exactly_one", "at_least")


@dataclass
class Knobs:
    people: int = 4           # number of people
    kinds: str = "is"         # statement kinds to draw from (comma list of KINDS)
    forward: float = 0.0      # probability a statement mentions a later person (no simple chain)
    questions: int = 1        # people asked about
    shuffle: bool = False     # statements listed in random order

    def __post_init__(self) -> None:
        if not 3 <= self.people <= len(NAMES) or not set(self.kinds.split(",")) <= set(KINDS):
            raise ValueError(f"people in 3..{len(NAMES)}; kinds from {KINDS}")
        if not 1 <= self.questions <= self.people:
            raise ValueError("questions in 1..people")


def _truth(st: dict[str, Any], a: list[bool]) -> bool:
    vals = [a[t] == st["value"] for t in st["targets"]]  # "target has property `value`"
    kind = st["kind"]
    if kind == "is":
        return vals[0]
    if kind == "both":
        return all(vals)
    if kind == "either":
        return any(vals)
    if kind == "exactly_one":
        return sum(vals) == 1
    return sum(vals) >= st["k"]


def _text(st: dict[str, Any], names: list[str]) -> str:
    who = [names[t] for t in st["targets"]]
    prop = "tells the truth" if st["value"] else "lies"
    props = "tell the truth" if st["value"] else "lie"
    kind = st["kind"]
    if kind == "is":
        body = f"{who[0]} {prop}"
    elif kind == "both":
        body = f"{who[0]} and {who[1]} both {props}"
    elif kind == "either":
        body = f"at least one of {who[0]} and {who[1]} {prop}"
    elif kind == "exactly_one":
        body = f"exactly one of {who[0]} and {who[1]} {prop}"
    else:
        body = f"at least {st['k']} of {', '.join(who[:-1])} and {who[-1]} {props}"
    return f"{names[st['speaker']]} says that {body}."


def _settled(st: dict[str, Any], known: dict[int, bool]) -> bool | None:
    """The claim's truth if it is the same for every value of the people not yet known, else None."""
    free = [t for t in st["targets"] if t not in known]
    seen = set()
    for bits in range(1 << len(free)):
        a = dict(known)
        a.update({t: bool(bits >> j & 1) for j, t in enumerate(free)})
        seen.add(_truth(st, [a.get(i, False) for i in range(max(st["targets"]) + 1)]))
    return seen.pop() if len(seen) == 1 else None


def models(n: int, facts: dict[int, bool], statements: list[dict[str, Any]]) -> list[list[bool]]:
    """Every truth assignment consistent with the facts and statements (backtracking)."""
    ready: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for st in statements:
        ready[max([st["speaker"], *st["targets"]])].append(st)
    out: list[list[bool]] = []
    a: list[bool] = [False] * n

    def go(i: int) -> None:
        if i == n:
            out.append(list(a))
            return
        for v in ((facts[i],) if i in facts else (True, False)):
            a[i] = v
            if all(_truth(st, a) == a[st["speaker"]] for st in ready[i]):
                go(i + 1)

    go(0)
    return out


class WebOfLies(LogicTask):
    task_name = "web_of_lies"
    description = "Truth-tellers and liars: decide who tells the truth."
    answer_format = "comma-separated yes/no list, e.g. yes, no, yes"
    Knobs = Knobs
    level_table = {
        0: {"people": 4, "kinds": "is", "questions": 2},
        1: {"people": 5, "kinds": "is", "questions": 3, "shuffle": True},
        2: {"people": 6, "kinds": "is,both,either", "questions": 3, "forward": 0.2, "shuffle": True},
        3: {"people": 8, "kinds": "is,both,either,exactly_one", "questions": 3, "forward": 0.4, "shuffle": True},
        4: {"people": 11, "kinds": "both,either,exactly_one,at_least", "questions": 4, "forward": 0.6,
            "shuffle": True},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        kinds = k.kinds.split(",")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            n = k.people
            names = rng.sample(NAMES, n)
            hidden = [rng.random() < 0.5 for _ in range(n)]
            facts = {0: hidden[0]}
            statements = []
            for speaker in range(1, n):
                for _try in range(50):
                    kind = rng.choice(kinds)
                    width = {"is": 1, "at_least": 3}.get(kind, 2)
                    pool = [j for j in range(speaker)]
                    if rng.random() < k.forward:
                        pool = [j for j in range(n) if j != speaker]
                    if len(pool) < width:
                        pool = [j for j in range(n) if j != speaker]
                    st = {"speaker": speaker, "kind": kind, "targets": sorted(rng.sample(pool, width)),
                          "value": rng.random() < 0.5}
                    if kind == "at_least":
                        st["k"] = rng.randint(1, 2)
                    if _truth(st, hidden) == hidden[speaker]:
                        statements.append(st)
                        break
                else:
                    break
            if len(statements) != n - 1:
                continue
            found = models(n, facts, statements)
            if hidden not in found:
                continue
            determined = [i for i in range(1, n) if len({m[i] for m in found}) == 1]
            if len(determined) < k.questions:
                continue
            # ask preferably about people late in the chain (more inference needed)
            asked = sorted(rng.sample(determined[-max(k.questions, len(determined) // 2):], k.questions))
            order = list(range(len(statements)))
            if k.shuffle:
                rng.shuffle(order)
            return {"names": names, "facts": {str(i): v for i, v in facts.items()},
                    "statements": [statements[i] for i in order], "asked": asked,
                    "solution": ["yes" if hidden[i] else "no" for i in asked], "hidden": hidden}
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        names = p["names"]
        facts = [f"{names[int(i)]} {'tells the truth' if v else 'lies'}." for i, v in sorted(p["facts"].items())]
        lines = facts + [_text(st, names) for st in p["statements"]]
        asked = [names[i] for i in p["asked"]]
        q = ", ".join(asked[:-1]) + (" and " if len(asked) > 1 else "") + asked[-1]
        return (
            "Each person below either always tells the truth or always lies: everything a truth-teller says "
            "is true and everything a liar says is false.\n\n" + "\n".join(lines) + "\n\n"
            + (f"Question: does {q} tell the truth?\n" if len(asked) == 1 else
               f"Question: does each of {q} tell the truth? Answer in this order: {', '.join(asked)}.\n") +
            "Answer format: one yes/no per person, comma separated, in the order asked, for example: yes, no, yes"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        text = answer.strip()
        if text.startswith("["):
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                raise AnswerParseError("not a valid JSON list of \"yes\"/\"no\"") from None
            if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
                raise AnswerParseError("expected a list of \"yes\"/\"no\" strings")
            tokens = [x.strip().lower() for x in data]
        else:
            tokens = [t.strip().lower() for t in re.split(r"[,;\n]", text)]
        if any(t not in ("yes", "no") for t in tokens):
            raise AnswerParseError("every item must be exactly 'yes' or 'no' (comma separated)")
        if len(tokens) != len(p["solution"]):
            raise AnswerParseError(f"expected {len(p['solution'])} answers, got {len(tokens)}")
        wrong = [p["names"][i] for i, t, s in zip(p["asked"], tokens, p["solution"]) if t != s]
        if wrong:
            return Score.fail(f"wrong for {', '.join(wrong)}", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return ", ".join(p["solution"])

    def reasoning(self, p: dict[str, Any]) -> str | None:
        names, hidden = p["names"], p["hidden"]
        known = {int(i): v for i, v in p["facts"].items()}
        lines = [f"{names[i]} {'tells the truth' if v else 'lies'} (given)." for i, v in sorted(known.items())]
        todo = list(p["statements"])
        progress = True
        while todo and progress:  # forward deduction: a claim about known people fixes its speaker
            progress = False
            for st in list(todo):
                s = st["speaker"]
                if _settled(st, known) is not None:
                    true = _truth(st, hidden)
                    lines.append(f"{_text(st, names)[:-1]}: that claim is {'true' if true else 'false'}, "
                                 f"so {names[s]} {'tells the truth' if true else 'lies'}.")
                elif st["kind"] == "is" and s in known:
                    t = st["targets"][0]
                    lines.append(f"{_text(st, names)[:-1]} and {names[s]} {'tells the truth' if known[s] else 'lies'}"
                                 f", so {names[t]} {'tells the truth' if hidden[t] else 'lies'}.")
                    known[t] = hidden[t]
                else:
                    continue
                known[s] = hidden[s]
                todo.remove(st)
                progress = True
        if todo:
            lines.append("The remaining claims are settled by trying both cases; only this assignment is "
                         "consistent for the people asked: " + ", ".join(
                             f"{names[i]} {'tells the truth' if hidden[i] else 'lies'}" for i in p["asked"]) + ".")
        return "\n".join(lines)

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a coin flip per person asked."""
        return ", ".join(rng.choice(["yes", "no"]) for _ in p["asked"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (web_of_lies_verifier.py): the gold ``answer`` is the yes/no list in the asked
        order, e.g. "**yes, no, yes**" (true/false read as yes/no); answers are compared in order, as
        here."""
        if not isinstance(answer, str):
            return None
        words = re.findall(r"[a-z]+", answer.lower())
        table = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
        if not words or any(w not in table for w in words):
            return None
        sol = [table[w] for w in words]
        puzzle = {"names": [f"question {i + 1}" for i in range(len(sol))], "asked": list(range(len(sol))),
                  "solution": sol, "source": "synlogic"}
        return puzzle if cls().check(puzzle, ", ".join(sol)).reward == 1.0 else None


register_logic(WebOfLies)
