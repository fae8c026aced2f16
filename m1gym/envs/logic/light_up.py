"""Light Up (Akari): place bulbs so every white cell is lit, bulbs never see each other.

A bulb lights its own cell and every white cell in its row and column up to the first wall. Rules:
every white cell is lit; no bulb is lit by another bulb; a numbered wall has exactly that many bulbs
on its orthogonal neighbours. The generator lays random walls, places bulbs greedily on unlit cells
(which never see each other) until all is lit, then numbers a share of the walls from that
placement. The verifier simulates the illumination and checks the numbers, so any valid placement
passes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, parse_coords, register_logic

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass
class Knobs:
    h: int = 5
    w: int = 5
    wall_ratio: float = 0.2      #: fraction of cells that are walls
    numbered_ratio: float = 0.6  #: fraction of walls that show their bulb count


def _rays(grid: list[str], r: int, c: int):
    h, w = len(grid), len(grid[0])
    for dr, dc in ORTH:
        rr, cc = r + dr, c + dc
        while 0 <= rr < h and 0 <= cc < w and grid[rr][cc] == ".":
            yield rr, cc
            rr += dr
            cc += dc


class LightUp(LogicTask):
    task_name = "light_up"
    description = "Akari: bulbs light every white cell, never see each other, numbered walls exact"
    answer_format = "JSON list of bulb cells [[r,c], ...], 0-based"
    Knobs = Knobs
    level_table = {
        0: {"h": 4, "w": 4, "wall_ratio": 0.2, "numbered_ratio": 0.8},
        1: {"h": 5, "w": 5, "wall_ratio": 0.2, "numbered_ratio": 0.7},
        2: {"h": 6, "w": 6, "wall_ratio": 0.2, "numbered_ratio": 0.6},
        3: {"h": 8, "w": 8, "wall_ratio": 0.18, "numbered_ratio": 0.6},
        4: {"h": 10, "w": 10, "wall_ratio": 0.17, "numbered_ratio": 0.55},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        h, w = k.h, k.w
        if h < 2 or w < 2 or not 0 < k.wall_ratio < 0.6 or not 0 <= k.numbered_ratio <= 1:
            raise ValueError(f"light_up: need h, w >= 2, 0 < wall_ratio < 0.6, 0 <= numbered_ratio <= 1, got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            cells = [(r, c) for r in range(h) for c in range(w)]
            rng.shuffle(cells)
            walls = set(cells[:max(1, round(k.wall_ratio * h * w))])
            grid = ["".join("#" if (r, c) in walls else "." for c in range(w)) for r in range(h)]
            lit: set = set()
            bulbs = []
            for x in cells:
                if x in walls or x in lit:
                    continue
                bulbs.append(x)
                lit.add(x)
                lit.update(_rays(grid, *x))
            bulb_set = set(bulbs)
            wall_list = sorted(walls)
            rng.shuffle(wall_list)
            numbered = wall_list[:round(k.numbered_ratio * len(wall_list))]
            rows = [list(row) for row in grid]
            for r, c in numbered:
                rows[r][c] = str(sum(1 for dr, dc in ORTH if (r + dr, c + dc) in bulb_set))
            puzzle = {"h": h, "w": w, "grid": ["".join(row) for row in rows],
                      "solution": sorted([list(b) for b in bulbs])}
            if self.check(puzzle, self.solution_text(puzzle)).reward == 1.0:
                return puzzle
        raise GenerationError(f"light_up: no instance for {k}")

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        rows = "\n".join(" ".join(row) for row in p["grid"])
        return (
            f"Light Up (Akari) puzzle on a {h}x{w} grid. '.' is a white cell, '#' a plain wall, and a digit "
            "0-4 a wall with a number.\n"
            f"{rows}\n\n"
            "Place light bulbs on white cells. A bulb lights its own cell and every white cell in the same row "
            "and column, in all four directions, up to the first wall. Rules:\n"
            "1. Every white cell is lit.\n"
            "2. No bulb may be lit by another bulb (two bulbs never see each other along a row or column "
            "without a wall between them).\n"
            "3. A numbered wall has exactly that many bulbs on its orthogonal neighbours (up, down, left, "
            "right). Plain walls '#' have no constraint.\n\n"
            "Rows and columns are numbered from 0, starting at the top-left. Answer with the list of bulb cells "
            "[row, col] as JSON. Example format: [[0,0],[1,3],[2,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w = p["h"], p["w"]
        rows = p["grid"]
        plain = ["".join("." if ch == "." else "#" for ch in row) for row in rows]
        bulbs = parse_coords(answer, h, w)
        bset = set(bulbs)
        if len(bset) != len(bulbs):
            return Score.fail("a bulb is listed twice", format_ok=True)
        for r, c in bulbs:
            if plain[r][c] != ".":
                return Score.fail(f"[{r},{c}] is a wall; bulbs go on white cells", format_ok=True)
        lit: set = set()
        for r, c in sorted(bulbs):
            for x in _rays(plain, r, c):
                if x in bset:
                    return Score.fail(f"bulbs [{r},{c}] and [{x[0]},{x[1]}] see each other", format_ok=True)
                lit.add(x)
            lit.add((r, c))
        for r in range(h):
            for c in range(w):
                ch = rows[r][c]
                if ch == "." and (r, c) not in lit:
                    return Score.fail(f"white cell [{r},{c}] is not lit", format_ok=True)
                if ch.isdigit():
                    n = sum(1 for dr, dc in ORTH if (r + dr, c + dc) in bset)
                    if n != int(ch):
                        return Score.fail(f"wall [{r},{c}] shows {ch} but has {n} adjacent bulbs", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        white = [[r, c] for r in range(p["h"]) for c in range(p["w"]) if p["grid"][r][c] == "."]
        return json.dumps(rng.sample(white, rng.randint(1, max(1, len(white) // 3))))

    def solution_text(self, p: dict) -> str:
        return "[" + ",".join(f"[{r},{c}]" for r, c in p["solution"]) + "]"

    def reasoning(self, p: dict) -> str:
        rows = p["grid"]
        zeros = [f"[{r},{c}]" for r in range(p["h"]) for c in range(p["w"]) if rows[r][c] == "0"]
        lines = ["A 0 wall forbids bulbs next to it" + (f" ({', '.join(zeros)})." if zeros else " (none here).")]
        lines.append("Numbered walls fix how many neighbours hold bulbs; every other white cell must be lit by "
                     "some bulb, and bulbs may not see each other.")
        lines.append("Bulbs: " + ", ".join(f"[{r},{c}]" for r, c in p["solution"]) +
                     ". Every white cell is lit, no two bulbs see each other, and each number matches.")
        return "\n".join(lines)


register_logic(LightUp)
