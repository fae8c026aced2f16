"""Space reasoning on a tree (task 25): nested containers; list the "cousins" of one item.

Items sit directly inside other items, forming a tree (the outermost item contains everything). The
cousins of X are the items directly inside some container C' that is not X's container C but sits
directly inside the same container as C. Verifier: set EM (order-free, case-insensitive, each item
once) against the cousins computed from the tree, which are unique.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, parse_str_list, register_logic
from .solvers import ensure_reference

NOUNS = ["box", "bag", "jar", "tin", "case", "crate", "basket", "pouch", "chest", "bowl", "drawer", "vase", "cup",
         "envelope", "tray", "bucket", "sack", "trunk", "wallet", "locket"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "silver", "golden", "purple", "orange", "brown", "pink"]


@dataclass
class Knobs:
    nodes: int = 12        # items in the tree
    max_children: int = 3  # most items directly inside one item
    mixed_phrasing: bool = True  # describe links both as "A contains B" and "B is inside A"

    def __post_init__(self) -> None:
        if not 5 <= self.nodes <= 80:
            raise ValueError("space_reasoning_tree: nodes must be in 5..80")
        if not 2 <= self.max_children <= 8:
            raise ValueError("space_reasoning_tree: max_children must be in 2..8")


def cousins(parent: dict[str, str | None], x: str) -> list[str]:
    p = parent.get(x)
    g = parent.get(p) if p is not None else None
    if g is None:
        return []
    uncles = [u for u, pu in parent.items() if pu == g and u != p]
    return sorted(c for c, pc in parent.items() if pc in uncles)


class SpaceReasoningTree(LogicTask):
    task_name = "space_reasoning_tree"
    description = "Nested containers form a tree; list every cousin of one item."
    answer_format = "JSON list of item names"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"nodes": 7, "max_children": 2, "mixed_phrasing": False},
        1: {"nodes": 10, "max_children": 3, "mixed_phrasing": False},
        2: {"nodes": 15, "max_children": 3},
        3: {"nodes": 24, "max_children": 4},
        4: {"nodes": 36, "max_children": 5},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        names = [f"{c} {n}" for c in COLOURS for n in NOUNS]
        for _ in range(200):
            items = rng.sample(names, k.nodes)
            parent: dict[str, str | None] = {items[0]: None}
            kids: dict[str, int] = {items[0]: 0}
            for it in items[1:]:
                host = rng.choice([h for h in items if h in kids and kids[h] < k.max_children])
                parent[it] = host
                kids[host] += 1
                kids[it] = 0
            candidates = [x for x in items if cousins(parent, x)]
            if candidates:
                break
        else:
            raise RuntimeError("space_reasoning_tree: no item with cousins; raise nodes")
        several = [x for x in candidates if len(cousins(parent, x)) >= 2]
        target = rng.choice(several or candidates)  # two or more cousins make guessing harder
        facts = []
        for child in items[1:]:
            host = parent[child]
            if k.mixed_phrasing and rng.random() < 0.5:
                facts.append(f"The {host} directly contains the {child}.")
            else:
                facts.append(f"The {child} is directly inside the {host}.")
        rng.shuffle(facts)
        puzzle = {"root": items[0], "parent": {c: parent[c] for c in sorted(items)}, "facts": facts,
                  "target": target, "solution": cousins(parent, target)}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        example = json.dumps(["red box", "blue jar"])
        return (
            "Some containers sit inside one another. Each item below is directly inside at most one other item, "
            f"and everything is ultimately inside the {p['root']}.\n\n"
            + "\n".join(p["facts"]) + "\n\n"
            "Call the item that directly holds X the container of X. The cousins of X are the items whose container "
            "is different from X's container but is directly inside the same item as X's container.\n\n"
            f"List all cousins of the {p['target']}. Answer with a JSON list of item names (any order, each "
            f"once, without 'the'), e.g. {example}"
        )

    def check(self, p: dict, answer: str) -> Score:
        got = [g.strip().lower().removeprefix("the ").strip() for g in parse_str_list(answer)]
        if len(set(got)) != len(got):
            return Score.fail("an item is listed more than once", format_ok=True)
        gold = {g.lower() for g in p["solution"]}
        unknown = sorted(set(got) - {x.lower() for x in p["parent"]})
        if unknown:
            return Score.fail(f"not an item of the puzzle: {unknown[0]!r}", format_ok=True)
        if set(got) == gold:
            return Score.ok("exactly the cousins")
        extra, missing = sorted(set(got) - gold), sorted(gold - set(got))
        reason = f"{extra[0]!r} is not a cousin" if extra else f"{len(missing)} cousin(s) missing"
        return Score.fail(reason, format_ok=True)

    def random_answer(self, p: dict, rng: random.Random) -> str:
        """Calibration baseline: as many random items (other than the target) as there are cousins."""
        pool = sorted(x for x in p["parent"] if x != p["target"])
        return json.dumps(rng.sample(pool, len(p["solution"])))

    def solution_text(self, p: dict) -> str:
        return json.dumps(p["solution"])

    def reasoning(self, p: dict) -> str:
        parent = p["parent"]
        x = p["target"]
        c = parent[x]
        g = parent[c]
        uncles = sorted(u for u, pu in parent.items() if pu == g and u != c)
        lines = [f"The {x} is directly inside the {c}, and the {c} is directly inside the {g}.",
                 f"Other items directly inside the {g}: {', '.join(uncles)}."]
        for u in uncles:
            inside = sorted(ch for ch, pc in parent.items() if pc == u)
            lines.append(f"Directly inside the {u}: {', '.join(inside) if inside else 'nothing'}.")
        lines.append(f"So the cousins are: {', '.join(p['solution'])}.")
        return "\n".join(lines)

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (space_reasoning_tree verifier): the gold ``answer`` is the comma separated set
        of items (answers in \\boxed{}), compared as a set, as here. The row has no tree data, so an item
        outside the gold set is reported as 'not an item of the puzzle' (still reward 0)."""
        if not isinstance(answer, str):
            return None
        items = [x.strip().lower().removeprefix("the ").strip() for x in answer.replace("，", ",").split(",")]
        if not items or not all(items) or len(set(items)) != len(items):
            return None
        return {"solution": items, "parent": {x: None for x in items}, "target": None, "source": "synlogic"}


register_logic(SpaceReasoningTree)
