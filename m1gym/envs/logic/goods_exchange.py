"""goods_exchange: track who holds which item after a sequence of swaps.

Each person starts with one distinct item. Operations: two people swap; the holder of a named item
swaps with a person (indirect reference, resolved against the state at that moment); the holders
of two named items swap; three people pass their items round a circle. The generator simulates the
operations (the simulation is the solver; the final map is unique) and re-simulates the rendered
operation records before emitting. Verifier: the answer map must equal the final map exactly;
names and items match case-insensitively. Answers may be a JSON object or, as SynLogic prints them,
a tuple of (person, item) pairs (read with ``ast.literal_eval``, which evaluates literals only).
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, parse_json, register_logic, strip_fences

PEOPLE = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
          "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yasmin"]
ITEMS = ["kite", "vase", "guitar", "lamp", "book", "scarf", "watch", "camera", "umbrella", "teapot",
         "globe", "drum", "compass", "lantern", "mirror", "violin", "basket", "candle", "puzzle", "radio"]


@dataclass
class Knobs:
    n_people: int = 4
    n_ops: int = 6
    p_indirect: float = 0.0   # chance an operation names an item instead of a person
    p_rotate: float = 0.0     # chance of a three-way pass round a circle


def apply(owner: dict[str, str], op: dict[str, Any]) -> None:
    """Apply one operation record to the person -> item map (in place)."""
    holder = {item: p for p, item in owner.items()}
    kind = op["kind"]
    if kind == "swap":
        a, b = op["a"], op["b"]
    elif kind == "item_person":
        a, b = holder[op["item"]], op["b"]
    elif kind == "item_item":
        a, b = holder[op["item"]], holder[op["item2"]]
    elif kind == "rotate":
        ring = op["ring"]
        items = [owner[p] for p in ring]
        for i, p in enumerate(ring):
            owner[p] = items[i - 1]  # each passes to the next person in the ring
        return
    else:
        raise ValueError(f"unknown operation {kind!r}")
    if a == b:
        raise ValueError("a person cannot swap with themselves")
    owner[a], owner[b] = owner[b], owner[a]


def render(op: dict[str, Any]) -> str:
    kind = op["kind"]
    if kind == "swap":
        return f"{op['a']} and {op['b']} swap their items."
    if kind == "item_person":
        return f"Whoever holds the {op['item']} swaps items with {op['b']}."
    if kind == "item_item":
        return f"The person holding the {op['item']} and the person holding the {op['item2']} swap items."
    ring = op["ring"]
    chain = ", ".join(f"{ring[i]} gives theirs to {ring[(i + 1) % len(ring)]}" for i in range(len(ring)))
    return f"{', '.join(ring[:-1])} and {ring[-1]} pass their items round at the same time: {chain}."


@register_logic
class GoodsExchange(LogicTask):
    task_name = "goods_exchange"
    description = "track item ownership through a sequence of swaps"
    answer_format = 'JSON object person -> item: {"Alice": "kite", ...}'
    Knobs = Knobs
    synlogic_names = ("goods_exchange",)
    level_table = {
        0: {"n_people": 3, "n_ops": 3, "p_indirect": 0.0, "p_rotate": 0.0},
        1: {"n_people": 4, "n_ops": 6, "p_indirect": 0.15, "p_rotate": 0.0},
        2: {"n_people": 5, "n_ops": 10, "p_indirect": 0.3, "p_rotate": 0.1},
        3: {"n_people": 6, "n_ops": 15, "p_indirect": 0.4, "p_rotate": 0.15},
        4: {"n_people": 8, "n_ops": 24, "p_indirect": 0.5, "p_rotate": 0.2},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        n = min(knobs.n_people, len(PEOPLE))
        if n < 2:
            raise GenerationError("goods_exchange needs at least 2 people")
        people = rng.sample(PEOPLE, n)
        items = rng.sample(ITEMS, n)
        start = dict(zip(people, items))
        owner = dict(start)
        ops: list[dict[str, Any]] = []
        for _ in range(knobs.n_ops):
            holder = {item: p for p, item in owner.items()}
            r = rng.random()
            if n >= 3 and r < knobs.p_rotate:
                op: dict[str, Any] = {"kind": "rotate", "ring": rng.sample(people, 3)}
            elif r < knobs.p_rotate + knobs.p_indirect:
                item = rng.choice(items)
                if rng.random() < 0.5:
                    other = rng.choice([p for p in people if p != holder[item]])
                    op = {"kind": "item_person", "item": item, "b": other}
                else:
                    item2 = rng.choice([i for i in items if i != item])
                    op = {"kind": "item_item", "item": item, "item2": item2}
            else:
                a, b = rng.sample(people, 2)
                op = {"kind": "swap", "a": a, "b": b}
            apply(owner, op)
            ops.append(op)
        check = dict(start)  # re-solve from the records
        for op in ops:
            apply(check, op)
        if check != owner:
            raise GenerationError("internal: simulation mismatch")
        return {"people": people, "start": start, "ops": ops, "solution": owner}

    def prompt(self, puzzle: dict[str, Any]) -> str:
        start = "\n".join(f"- {p} has the {puzzle['start'][p]}." for p in puzzle["people"])
        ops = "\n".join(f"{i}. {render(op)}" for i, op in enumerate(puzzle["ops"], 1))
        example = ", ".join(f'"{p}": "..."' for p in puzzle["people"][:2])
        return (
            "Each person below starts with one item. Then the exchanges happen in order. When an "
            "exchange names an item (\"whoever holds the lamp\"), it means the person holding that item "
            "at that moment. In a pass round, everyone named gives their item to the next person in the "
            "list and the last gives to the first, all at the same time.\n\n"
            f"Start:\n{start}\n\nExchanges:\n{ops}\n\n"
            "Who holds which item at the end? Answer with a JSON object mapping every person to their "
            "item, e.g. {" + example + ", ...}"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        got = parse_ownership(answer)
        gold: dict[str, str] = puzzle["solution"]
        norm_gold = {p.lower(): i.lower() for p, i in gold.items()}
        norm_got: dict[str, str] = {}
        for p, i in got.items():
            key = p.strip().lower()
            if key in norm_got:
                return Score.fail(f"{p} is listed twice", format_ok=True)
            norm_got[key] = i.strip().lower().removeprefix("the ").strip()
        if norm_got == norm_gold:
            return Score.ok()
        unknown = sorted(set(norm_got) - set(norm_gold))
        if unknown:
            return Score.fail(f"{unknown[0]!r} is not one of the people", format_ok=True)
        missing = sorted(set(norm_gold) - set(norm_got))
        if missing:
            return Score.fail(f"no item given for {missing[0]!r}", format_ok=True)
        bad_items = sorted(set(norm_got.values()) - set(norm_gold.values()))
        if bad_items:
            return Score.fail(f"{bad_items[0]!r} is not one of the items", format_ok=True)
        if len(set(norm_got.values())) != len(norm_got):
            return Score.fail("an item is given to two people", format_ok=True)
        wrong = sorted(p for p in norm_gold if norm_got[p] != norm_gold[p])
        return Score.fail(f"{len(wrong)} person(s) hold a different item at the end, e.g. {wrong[0]}",
                          format_ok=True)

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        import json

        return json.dumps(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        if "ops" not in puzzle:
            return None
        owner = dict(puzzle["start"])
        lines = []
        for i, op in enumerate(puzzle["ops"], 1):
            apply(owner, op)
            lines.append(f"After {i}: " + ", ".join(f"{p} {owner[p]}" for p in puzzle["people"]))
        return "\n".join(lines)

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        import json

        people = list(puzzle["solution"])
        items = list(puzzle["solution"].values())
        rng.shuffle(items)
        return json.dumps(dict(zip(people, items)))

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        gold = metadata.get("owns_after", answer)
        try:
            owner = gold if isinstance(gold, dict) else parse_ownership(str(gold))
        except AnswerParseError:
            return None
        if not owner or not all(isinstance(k, str) and isinstance(v, str) for k, v in owner.items()):
            return None
        return {"solution": {k.strip(): v.strip() for k, v in owner.items()}, "source": "synlogic"}


def parse_ownership(answer: str) -> dict[str, str]:
    """A JSON object {person: item}, or a literal tuple/list of (person, item) pairs."""
    text = strip_fences(answer).strip()
    if not text:
        raise AnswerParseError('empty answer; expected a JSON object like {"Alice": "kite"}')
    if text.startswith("{"):
        data = parse_json(text)
        if not isinstance(data, dict):
            raise AnswerParseError('expected a JSON object like {"Alice": "kite"}')
        pairs = list(data.items())
    elif text[0] in "([":
        if len(text) > 5000 or text.count("(") + text.count("[") > 200:
            raise AnswerParseError("answer too long or too deeply nested for a list of pairs")
        try:
            data = ast.literal_eval(text)  # literals only: never runs code
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise AnswerParseError("not a JSON object or a literal list of (person, item) pairs") from None
        if not isinstance(data, (tuple, list)) or not all(
                isinstance(p, (tuple, list)) and len(p) == 2 for p in data):
            raise AnswerParseError("expected (person, item) pairs")
        pairs = [tuple(p) for p in data]
    else:
        raise AnswerParseError('expected a JSON object like {"Alice": "kite"}')
    out: dict[str, str] = {}
    for p, i in pairs:
        if not isinstance(p, str) or not isinstance(i, str):
            raise AnswerParseError("people and items must be strings")
        if p in out:
            raise AnswerParseError(f"{p!r} is listed twice")
        out[p] = i
    return out
