"""Space reasoning: locate items from relative positions, follow a walk, name the item at the end.

Items sit on the cells of a square grid; the prompt gives each located item's offset from another
one (a tree of relations, so every located position is determined), lists a few items whose
position is not given, and describes a walk. The answer is the item at the final cell, or
``unknown`` when no located item is there (an unlocated item might be). The generator re-derives
every position from the relation text data and replays the walk; the verifier is exact match
after normalisation (case, surrounding spaces, a leading "the", a final period).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

ITEMS = ["lamp", "vase", "clock", "chair", "mirror", "basket", "drum", "globe", "kite", "ladder", "bench",
         "statue", "barrel", "anchor", "bell", "candle", "fountain", "piano", "rug", "tent", "wagon", "crate"]
DIRS = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}


@dataclass
class Knobs:
    items: int = 3           # located items
    unknown_items: int = 1   # items mentioned without a position
    size: int = 5            # items lie on a size x size grid
    waypoints: int = 1       # walk segments before the final approach
    p_unknown: float = 0.2   # probability that the walk ends on a cell without a located item
    shuffle: bool = False    # relations listed in random order (not in derivation order)

    def __post_init__(self) -> None:
        if not 2 <= self.items <= len(ITEMS) - self.unknown_items or self.size * self.size < self.items + 1:
            raise ValueError("2 <= items <= number of names - unknown_items, and size*size > items")
        if self.waypoints < 0 or not 0 <= self.p_unknown <= 1:
            raise ValueError("waypoints >= 0 and p_unknown in [0, 1]")


def _steps(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''}"


def _offset_text(dx: int, dy: int) -> str:
    parts = []
    if dy:
        parts.append(f"{_steps(abs(dy))} {'north' if dy > 0 else 'south'}")
    if dx:
        parts.append(f"{_steps(abs(dx))} {'east' if dx > 0 else 'west'}")
    return " and ".join(parts)


def _positions(p: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Re-derive every located item's position from the relations (anchor at (0, 0))."""
    pos = {p["anchor"]: (0, 0)}
    pending = list(p["relations"])
    while pending:
        progress = False
        for rel in list(pending):
            if rel["of"] in pos:
                x, y = pos[rel["of"]]
                pos[rel["item"]] = (x + rel["dx"], y + rel["dy"])
                pending.remove(rel)
                progress = True
        if not progress:
            raise GenerationError("relations do not connect every item")
    return pos


def _walk(p: dict[str, Any], pos: dict[str, tuple[int, int]]) -> tuple[int, int]:
    x, y = pos[p["start"]]
    for move in p["walk"]:
        if move["kind"] == "to":
            x, y = pos[move["item"]]
        else:
            dx, dy = DIRS[move["dir"]]
            x, y = x + dx * move["n"], y + dy * move["n"]
    return x, y


def _norm(text: str) -> str:
    text = text.strip().strip("`*\"'").strip().rstrip(".").strip().lower()
    return re.sub(r"^(the|a|an)\s+", "", text)


class SpaceReasoning(LogicTask):
    task_name = "space_reasoning"
    description = "Locate items from relative positions, follow a walk, and name the item where it ends."
    answer_format = 'an item name, or "unknown"'
    Knobs = Knobs
    level_table = {
        0: {"items": 3, "unknown_items": 1, "size": 4, "waypoints": 0},
        1: {"items": 4, "unknown_items": 1, "size": 5, "waypoints": 1},
        2: {"items": 6, "unknown_items": 2, "size": 6, "waypoints": 2, "shuffle": True},
        3: {"items": 8, "unknown_items": 2, "size": 8, "waypoints": 3, "shuffle": True, "p_unknown": 0.3},
        4: {"items": 11, "unknown_items": 3, "size": 10, "waypoints": 5, "shuffle": True, "p_unknown": 0.3},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            names = rng.sample(ITEMS, k.items + k.unknown_items)
            located, hidden = names[:k.items], sorted(names[k.items:])
            cells = rng.sample([(x, y) for x in range(k.size) for y in range(k.size)], k.items)
            true_pos = dict(zip(located, cells))
            relations = []
            for i in range(1, k.items):
                parent = located[rng.randrange(i)]
                (x, y), (px, py) = true_pos[located[i]], true_pos[parent]
                relations.append({"item": located[i], "of": parent, "dx": x - px, "dy": y - py})
            if k.shuffle:
                rng.shuffle(relations)
            start = rng.choice(located)
            cur = true_pos[start]
            walk: list[dict[str, Any]] = []
            for _w in range(k.waypoints):
                if rng.random() < 0.35:
                    item = rng.choice([n for n in located if true_pos[n] != cur])
                    walk.append({"kind": "to", "item": item})
                    cur = true_pos[item]
                else:
                    d = rng.choice(sorted(DIRS))
                    n = rng.randint(1, max(1, k.size // 2))
                    walk.append({"kind": "move", "dir": d, "n": n})
                    cur = (cur[0] + DIRS[d][0] * n, cur[1] + DIRS[d][1] * n)
            empty = sorted(set((x, y) for x in range(k.size) for y in range(k.size)) - set(cells))
            if rng.random() < k.p_unknown and empty:
                target = rng.choice(empty)
            else:
                target = true_pos[rng.choice(located)]
            dx, dy = target[0] - cur[0], target[1] - cur[1]
            final = []
            if dx:
                final.append({"kind": "move", "dir": "east" if dx > 0 else "west", "n": abs(dx)})
            if dy:
                final.append({"kind": "move", "dir": "north" if dy > 0 else "south", "n": abs(dy)})
            rng.shuffle(final)
            walk += final
            if not walk:
                continue
            puzzle = {"anchor": located[0], "relations": relations, "unlocated": hidden, "start": start,
                      "walk": walk, "located": sorted(located)}
            # re-solve from the puzzle data alone
            pos = _positions(puzzle)
            end = _walk(puzzle, pos)
            at = [n for n, c in pos.items() if c == end]
            puzzle["solution"] = at[0] if at else "unknown"
            puzzle["end"] = list(end)
            return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        rels = [f"- The {r['item']} is {_offset_text(r['dx'], r['dy'])} of the {r['of']}." for r in p["relations"]]
        moves = []
        for m in p["walk"]:
            if m["kind"] == "to":
                moves.append(f"walk straight to the {m['item']}")
            else:
                moves.append(f"walk {_steps(m['n'])} {m['dir']}")
        walk = ", then ".join(moves)
        names = [f"the {h}" for h in p["unlocated"]]
        hidden = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (
            "Items stand on the cells of a square grid, at most one item per cell. One step moves to the "
            "neighbouring cell: north and south change the row, east and west the column. A walk may leave "
            "the area occupied by items; only the final cell matters.\n"
            "Known positions:\n" + "\n".join(rels) + "\n"
            f"There is also {hidden} somewhere on the grid; where is not known.\n\n"
            f"You start at the {p['start']}, then {walk}.\n\n"
            "Which item is at the cell where you end? If no item with a known position is there, "
            "answer unknown.\n"
            "Answer format: just the item name, for example: lamp (or: unknown)"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        got = _norm(answer)
        if not re.fullmatch(r"[a-z]+", got):
            raise AnswerParseError(f"expected one item name or 'unknown', got {answer.strip()[:40]!r}")
        if got != p["solution"]:
            return Score.fail(f"{got!r} is not what is at the final cell", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["solution"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        pos = _positions(p)
        coords = ", ".join(f"{n} ({x},{y})" for n, (x, y) in sorted(pos.items(), key=lambda t: t[0]))
        lines = [f"Put the {p['anchor']} at (0,0), x to the east and y to the north. Then: {coords}."]
        x, y = pos[p["start"]]
        lines.append(f"Start at the {p['start']} ({x},{y}).")
        for m in p["walk"]:
            if m["kind"] == "to":
                x, y = pos[m["item"]]
                lines.append(f"Go to the {m['item']}: ({x},{y}).")
            else:
                dx, dy = DIRS[m["dir"]]
                x, y = x + dx * m["n"], y + dy * m["n"]
                lines.append(f"{_steps(m['n'])} {m['dir']}: ({x},{y}).")
        what = f"the {p['solution']} is there" if p["solution"] != "unknown" else "no located item is there"
        lines.append(f"At ({x},{y}) {what}.")
        return "\n".join(lines)

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: any located item or unknown."""
        return rng.choice(p["located"] + ["unknown"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (space_reasoning verifier): the gold ``answer`` is one item name, compared
        case-insensitively with the final \\boxed{} answer; our check also drops a leading article."""
        gold = _norm(str(answer or ""))
        if not re.fullmatch(r"[a-z]+", gold):
            return None
        return {"solution": gold, "source": "synlogic"}


register_logic(SpaceReasoning)
