"""Kukurasu (task 14): shade cells so weighted row and column sums match the clues.

A shaded cell in column j (counted from 1) adds j to its row's sum; a shaded cell in row i adds i to
its column's sum. Verifier CC: any 0/1 grid meeting every clue passes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic
from .solvers import ensure_reference


@dataclass
class Knobs:
    h: int = 5              # rows
    w: int = 5              # columns
    fill_prob: float = 0.4  # chance that a cell of the planted solution is shaded

    def __post_init__(self) -> None:
        if not (2 <= self.h <= 12 and 2 <= self.w <= 12):
            raise ValueError("kukurasu: h and w must be in 2..12")
        if not 0.0 < self.fill_prob < 1.0:
            raise ValueError("kukurasu: fill_prob must be in (0, 1)")


def row_sums(grid: list[list[int]]) -> list[int]:
    return [sum(c + 1 for c, v in enumerate(row) if v) for row in grid]


def col_sums(grid: list[list[int]]) -> list[int]:
    return [sum(r + 1 for r in range(len(grid)) if grid[r][c]) for c in range(len(grid[0]))]


class Kukurasu(LogicTask):
    task_name = "kukurasu"
    description = "Kukurasu: shade cells so position-weighted row and column sums equal the clues."
    answer_format = "JSON 0/1 grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"h": 3, "w": 3, "fill_prob": 0.45},
        1: {"h": 4, "w": 4, "fill_prob": 0.4},
        2: {"h": 5, "w": 5, "fill_prob": 0.4},
        3: {"h": 6, "w": 7, "fill_prob": 0.4},
        4: {"h": 8, "w": 8, "fill_prob": 0.35},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        while True:  # an empty grid would make the all-zero answer trivially right
            sol = [[1 if rng.random() < k.fill_prob else 0 for _ in range(k.w)] for _ in range(k.h)]
            if any(map(any, sol)):
                break
        puzzle = {"h": k.h, "w": k.w, "row_sums": row_sums(sol), "col_sums": col_sums(sol), "solution": sol}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        return (
            f"Solve this {h}x{w} Kukurasu puzzle. Shade some cells (1 = shaded, 0 = empty). Rows are numbered 1..{h} "
            f"from the top and columns 1..{w} from the left. A shaded cell in column j adds j to its row's total, "
            "and a shaded cell in row i adds i to its column's total. Every row total and every column total must "
            "equal its clue (a clue of 0 means the line has no shaded cell).\n\n"
            f"Row clues (rows 1..{h}): {p['row_sums']}\n"
            f"Column clues (columns 1..{w}): {p['col_sums']}\n\n"
            f"Answer with the grid as a JSON list of {h} rows of {w} values 0 or 1, for a 2x3 puzzle with row "
            "clues [4, 2] and column clues [1, 2, 1] e.g.\n[[1,0,1],\n[0,1,0]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w = p["h"], p["w"]
        grid = parse_grid(answer, h, w, allowed={0, 1})
        rs, cs = row_sums(grid), col_sums(grid)
        for r in range(h):
            if rs[r] != p["row_sums"][r]:
                return Score.fail(f"row {r + 1} totals {rs[r]}, clue is {p['row_sums'][r]}", format_ok=True)
        for c in range(w):
            if cs[c] != p["col_sums"][c]:
                return Score.fail(f"column {c + 1} totals {cs[c]}, clue is {p['col_sums'][c]}", format_ok=True)
        return Score.ok("every weighted row and column total matches its clue")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        lines = []
        for r, row in enumerate(p["solution"]):
            cols = [c + 1 for c, v in enumerate(row) if v]
            lines.append(f"Row {r + 1}: clue {p['row_sums'][r]} = " + (" + ".join(map(str, cols)) if cols else "0")
                         + " (columns shaded).")
        lines.append("Each column total then matches its clue as well.")
        return "\n".join(lines)

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (kukurasu_verifier.py): ``metadata`` holds ``n`` rows, ``m`` columns,
        ``row_sums`` and ``col_sums`` (weights are 1-based column / row numbers, as here); the gold
        grid marks shaded cells "1" and others "X" (read here as 1 / 0). Kept only when it passes."""
        from .synlogic import gold_value, scores_gold

        h, w = int(metadata["n"]), int(metadata["m"])
        grid = gold_value(answer)
        if not (isinstance(grid, list) and len(grid) == h and all(isinstance(r, list) and len(r) == w for r in grid)):
            return None
        cells = {"1": 1, "X": 0, "x": 0, "0": 0}
        if any(str(v).strip() not in cells for row in grid for v in row):
            return None
        sol = [[cells[str(v).strip()] for v in row] for row in grid]
        puzzle = {"h": h, "w": w, "row_sums": [int(v) for v in metadata["row_sums"]],
                  "col_sums": [int(v) for v in metadata["col_sums"]], "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Kukurasu)
