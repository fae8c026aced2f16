"""object_counting: count the items of one category that the narrator owns after a short story.

The story lists what the narrator has (counts written as words), what other people have
(distractors that must not be counted), and at higher levels events that change the narrator's
counts (gave away, lost, bought, received). The generator keeps the narrator's inventory as a
table, recomputes the answer from the event records, and emits only instances whose answer is a
single integer. Verifier: exact integer match.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import GenerationError, LogicTask, count_score, register_logic

CATEGORIES: dict[str, list[tuple[str, str]]] = {
    "musical instruments": [("piano", "pianos"), ("flute", "flutes"), ("violin", "violins"),
                            ("trumpet", "trumpets"), ("drum", "drums"), ("clarinet", "clarinets"),
                            ("trombone", "trombones"), ("accordion", "accordions"), ("cello", "cellos")],
    "fruits": [("apple", "apples"), ("banana", "bananas"), ("peach", "peaches"), ("plum", "plums"),
               ("orange", "oranges"), ("nectarine", "nectarines"), ("strawberry", "strawberries"),
               ("grape", "grapes"), ("raspberry", "raspberries")],
    "vegetables": [("carrot", "carrots"), ("potato", "potatoes"), ("onion", "onions"),
                   ("cabbage", "cabbages"), ("yam", "yams"), ("head of broccoli", "heads of broccoli"),
                   ("stalk of celery", "stalks of celery"), ("garlic bulb", "garlic bulbs"),
                   ("cauliflower", "cauliflowers")],
    "animals": [("goat", "goats"), ("rabbit", "rabbits"), ("cat", "cats"), ("dog", "dogs"),
                ("pig", "pigs"), ("donkey", "donkeys"), ("snail", "snails"), ("frog", "frogs"),
                ("mouse", "mice")],
    "vehicles": [("car", "cars"), ("bicycle", "bicycles"), ("motorcycle", "motorcycles"),
                 ("truck", "trucks"), ("scooter", "scooters"), ("bus", "buses"), ("tractor", "tractors"),
                 ("boat", "boats")],
}
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"]
OTHERS = ["my brother", "my sister", "my neighbour", "my friend Sam", "my aunt", "my cousin Lee"]


def amount(n: int, noun: tuple[str, str]) -> str:
    if n == 1:
        art = "an" if noun[0][0] in "aeiou" else "a"
        return f"{art} {noun[0]}"
    return f"{NUMBER_WORDS[n]} {noun[1]}"


@dataclass
class Knobs:
    n_items: int = 5         # distinct item kinds the narrator owns
    max_count: int = 2       # most of one kind (<= 6)
    n_distractors: int = 0   # sentences about other people's things
    n_events: int = 0        # gave away / lost / bought / received events


@register_logic
class ObjectCounting(LogicTask):
    task_name = "object_counting"
    description = "count the narrator's items of one category in a short story"
    answer_format = "one integer"
    Knobs = Knobs
    synlogic_names = ("object_counting",)
    level_table = {
        0: {"n_items": 4, "max_count": 2, "n_distractors": 0, "n_events": 0},
        1: {"n_items": 6, "max_count": 3, "n_distractors": 1, "n_events": 0},
        2: {"n_items": 8, "max_count": 4, "n_distractors": 2, "n_events": 1},
        3: {"n_items": 11, "max_count": 5, "n_distractors": 3, "n_events": 3},
        4: {"n_items": 15, "max_count": 6, "n_distractors": 5, "n_events": 5},
    }

    def build(self, rng: random.Random, knobs: Knobs) -> dict[str, Any]:
        cats = sorted(CATEGORIES)
        target = rng.choice(cats)
        pool = [(c, noun) for c in cats for noun in CATEGORIES[c]]
        n_target = max(1, min(len(CATEGORIES[target]), round(knobs.n_items * rng.uniform(0.4, 0.6))))
        mine = rng.sample(CATEGORIES[target], n_target)
        others_pool = [p for p in pool if p[0] != target]
        mine_all = [(target, noun) for noun in mine] + rng.sample(others_pool, knobs.n_items - n_target)
        rng.shuffle(mine_all)
        inventory = {noun[0]: [cat, noun, rng.randint(1, max(1, knobs.max_count))] for cat, noun in mine_all}
        sentences = ["I have " + _join([amount(v[2], v[1]) for v in inventory.values()]) + "."]
        for _ in range(knobs.n_distractors):
            cat, noun = rng.choice(pool)
            who = rng.choice(OTHERS)
            sentences.append(f"{who[0].upper() + who[1:]} has {amount(rng.randint(1, 4), noun)}.")
        initial = {k: v[2] for k, v in inventory.items()}
        current = dict(initial)
        events = []
        for _ in range(knobs.n_events):
            key = rng.choice(sorted(inventory))
            noun = inventory[key][1]
            have = current[key]
            if have > 1 and rng.random() < 0.55:
                k = rng.randint(1, have - 1)
                verb = rng.choice(["I gave away", "I lost", "I sold"])
                what = f"one of my {noun[1]}" if k == 1 else f"{NUMBER_WORDS[k]} of my {noun[1]}"
                events.append({"item": key, "delta": -k})
            else:
                k = rng.randint(1, 2)
                verb = rng.choice(["I bought", "I was given"])
                what = f"{NUMBER_WORDS[k]} more {noun[1] if k > 1 else noun[0]}"
                events.append({"item": key, "delta": k})
            sentences.append(f"{verb} {what}.")
            current[key] += events[-1]["delta"]
        final = dict(initial)  # re-solve from the event records
        for e in events:
            final[e["item"]] += e["delta"]
        if final != current or min(final.values()) < 1:
            raise GenerationError("internal: inventory mismatch")
        total = sum(final[k] for k, v in inventory.items() if v[0] == target)
        counted = {k: final[k] for k, v in inventory.items() if v[0] == target}
        return {"story": " ".join(sentences), "category": target, "solution": total, "counted": counted}

    def prompt(self, puzzle: dict[str, Any]) -> str:
        return (
            f"{puzzle['story']} How many {puzzle['category']} do I have now?\n\n"
            "Count only the narrator's own items (not other people's), after every change in the story. "
            "Answer with one integer. Example format: 7"
        )

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        return count_score(answer, int(puzzle["solution"]))

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        return str(puzzle["solution"])

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        counted = puzzle.get("counted")
        if not counted:
            return None
        parts = " + ".join(f"{n} ({k})" for k, n in counted.items())
        return f"My {puzzle['category']} after the changes: {parts} = {puzzle['solution']}."

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str:
        return str(rng.randint(0, max(3, 2 * int(puzzle["solution"]))))

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return {"solution": int(str(answer).strip()), "source": "synlogic"}
        except (TypeError, ValueError):
            return None


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", and " + parts[-1]
