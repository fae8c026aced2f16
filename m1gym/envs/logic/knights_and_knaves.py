"""Knights and knaves: knights always tell the truth, knaves always lie; who is which?

Statements are compound formulas (not / and / or / iff / if-then over "X is a knight/knave").
The generator draws a hidden assignment and statements consistent with it, then checks all 2^n
assignments and keeps the instance only if exactly one is consistent. The verifier is exact match
of the name -> knight/knave map against that unique model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, parse_map, register_logic

NAMES = ["Ava", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Ida", "Jay", "Kit", "Lea", "Max"]
OPS = ("not", "and", "or", "iff", "imp")


@dataclass
class Knobs:
    people: int = 2         # islanders (2..10)
    depth: int = 1          # nesting depth of a statement's formula
    ops: str = "not,and,or"  # connectives drawn from (comma list of OPS)

    def __post_init__(self) -> None:
        if not 2 <= self.people <= 10 or self.depth < 0 or not set(self.ops.split(",")) <= set(OPS):
            raise ValueError(f"people in 2..10, depth >= 0, ops from {OPS}")


def _eval(f: list, a: list[bool] | tuple[bool, ...]) -> bool:
    op = f[0]
    if op == "atom":
        return a[f[1]] == f[2]
    if op == "not":
        return not _eval(f[1], a)
    x, y = _eval(f[1], a), _eval(f[2], a)
    if op == "and":
        return x and y
    if op == "or":
        return x or y
    if op == "iff":
        return x == y
    return (not x) or y  # imp


def _text(f: list, names: list[str], top: bool = True) -> str:
    op = f[0]
    if op == "atom":
        return f"{names[f[1]]} is a {'knight' if f[2] else 'knave'}"
    if op == "not":
        return f"it is not true that {_text(f[1], names, False)}" if top else \
            f"(it is not true that {_text(f[1], names, False)})"
    a, b = _text(f[1], names, False), _text(f[2], names, False)
    s = {"and": f"{a} and {b}", "or": f"{a} or {b}", "iff": f"{a} if and only if {b}",
         "imp": f"if {a} then {b}"}[op]
    return s if top else f"({s})"


def consistent(n: int, statements: list[list]) -> list[tuple[bool, ...]]:
    """All assignments (True = knight) where each speaker's statement is true iff they are a knight."""
    out = []
    for bits in range(1 << n):
        a = tuple(bool(bits >> i & 1) for i in range(n))
        if all(_eval(f, a) == a[i] for i, f in enumerate(statements)):
            out.append(a)
    return out


class KnightsAndKnaves(LogicTask):
    task_name = "knights_and_knaves"
    description = "Knights always tell the truth, knaves always lie: decide who is which."
    answer_format = 'JSON object name -> "knight"/"knave"'
    Knobs = Knobs
    level_table = {
        0: {"people": 2, "depth": 1, "ops": "not,and,or"},
        1: {"people": 3, "depth": 1, "ops": "not,and,or"},
        2: {"people": 4, "depth": 2, "ops": "not,and,or,iff"},
        3: {"people": 6, "depth": 2, "ops": "not,and,or,iff,imp"},
        4: {"people": 8, "depth": 3, "ops": "not,and,or,iff,imp"},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        ops = k.ops.split(",")
        n = k.people

        def formula(depth: int, speaker: int) -> list:
            if depth == 0 or rng.random() < 0.25:
                # mostly about others: "I am a knave"-style self reference is allowed but rarer
                who = rng.randrange(n) if rng.random() < 0.2 else rng.choice([j for j in range(n) if j != speaker])
                return ["atom", who, rng.random() < 0.5]
            op = rng.choice(ops)
            if op == "not":
                return ["not", formula(depth - 1, speaker)]
            left = formula(depth - 1, speaker)
            right = formula(depth - 1, speaker)
            while right == left:  # "X is a knave and X is a knave" reads as a bug
                right = formula(depth - 1, speaker)
            return [op, left, right]

        for _ in range(MAX_GENERATION_ATTEMPTS):
            hidden = tuple(rng.random() < 0.5 for _ in range(n))
            statements = []
            for i in range(n):
                for _try in range(30):
                    f = formula(k.depth, i)
                    if _eval(f, hidden) == hidden[i]:
                        break
                else:
                    f = ["not", f]  # flips its truth value, so it now matches the speaker
                statements.append(f)
            sols = consistent(n, statements)
            if sols != [hidden]:
                continue  # 0 or several models: retry (the EM verifier needs exactly one)
            names = rng.sample(NAMES, n)
            return {"names": names, "statements": statements,
                    "solution": {names[i]: ("knight" if hidden[i] else "knave") for i in range(n)}}
        raise GenerationError(f"{self.name}: no instance with a unique solution for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        names = p["names"]
        lines = [f'{names[i]} says: "{_text(f, names)}."' for i, f in enumerate(p["statements"])]
        return (
            f"On an island every inhabitant is either a knight, who always tells the truth, or a knave, who "
            f"always lies. You meet {len(names)} inhabitants: {', '.join(names)}.\n\n" + "\n".join(lines) +
            "\n\n('A or B' is true when at least one of A, B is true; 'if A then B' is false only when A is true "
            "and B is false; 'A if and only if B' is true when A and B are both true or both false.)\n"
            "Who is a knight and who is a knave?\n"
            "Answer format: a JSON object giving every inhabitant as \"knight\" or \"knave\", for example "
            '{"Zed": "knight", "Quin": "knave", ...} (with the names above)'
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        data = parse_map(answer)
        got = {str(k).strip().lower(): str(v).strip().lower() for k, v in data.items()}
        want = {k.lower(): v for k, v in p["solution"].items()}
        bad = sorted(v for v in got.values() if v not in ("knight", "knave"))
        if bad:
            raise AnswerParseError(f"values must be \"knight\" or \"knave\", got {bad[0][:20]!r}")
        if set(got) != set(want):
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            raise AnswerParseError(f"names do not match the inhabitants (missing {missing}, unknown {extra[:5]})")
        wrong = sorted(name for name in want if got[name] != want[name])
        if wrong:
            return Score.fail(f"wrong for {', '.join(wrong)}", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return "{" + ", ".join(f'"{k}": "{v}"' for k, v in p["solution"].items()) + "}"

    def reasoning(self, p: dict[str, Any]) -> str | None:
        names = p["names"]
        a = [p["solution"][nm] == "knight" for nm in names]
        sol = p["solution"]
        lines = ["Check the assignment " + ", ".join(f"{nm}={sol[nm]}" for nm in names) + ":"]
        for i, f in enumerate(p["statements"]):
            lines.append(f"- {names[i]}'s statement is {'true' if _eval(f, a) else 'false'}, consistent with "
                         f"{names[i]} being a {p['solution'][names[i]]}.")
        lines.append(f"Each of the other {2 ** len(names) - 1} assignments makes some statement contradict its "
                     "speaker, so this is the only solution.")
        return "\n".join(lines)

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: a coin flip per inhabitant."""
        return "{" + ", ".join(f'"{nm}": "{rng.choice(["knight", "knave"])}"' for nm in p["names"]) + "}"


register_logic(KnightsAndKnaves)
