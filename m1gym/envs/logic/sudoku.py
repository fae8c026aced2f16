"""Sudoku (task 27): fill the grid so every row, column and box holds 1..n once.

Verifier CC: any grid that keeps the givens and satisfies every rule passes, so a puzzle with
several solutions is never scored against one stored grid. The generator plants a random full
grid, hides cells and then adds givens back until a solver finds exactly one solution (unique=True).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic, show_grid
from .solvers import (ensure_reference, given_cells, givens_error, grid_rows, latin_error, latin_unit_names,
                      pick_givens, random_fill, shown_grid, singles_trace, solve_units, sudoku_units, trace_reasoning)


@dataclass
class Knobs:
    box_h: int = 3        # rows per box
    box_w: int = 3        # columns per box; grid side n = box_h * box_w
    givens: int = 36      # cells shown before uniqueness repair (the final count can be a little higher)
    unique: bool = True   # add givens until exactly one solution exists

    def __post_init__(self) -> None:
        n = self.box_h * self.box_w
        if not (1 <= self.box_h <= 4 and 1 <= self.box_w <= 4 and n >= 2):
            raise ValueError("sudoku: box_h and box_w must be in 1..4 with n = box_h * box_w >= 2")
        if not 0 <= self.givens <= n * n:
            raise ValueError(f"sudoku: givens must be in 0..{n * n}")


class Sudoku(LogicTask):
    task_name = "sudoku"
    description = "Sudoku: fill an n x n grid so each row, column and box holds 1..n exactly once."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"box_h": 2, "box_w": 2, "givens": 8},
        1: {"box_h": 2, "box_w": 3, "givens": 16},
        2: {"box_h": 3, "box_w": 3, "givens": 40},
        3: {"box_h": 3, "box_w": 3, "givens": 30},
        4: {"box_h": 3, "box_w": 3, "givens": 22},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.box_h * k.box_w
        units = sudoku_units(k.box_h, k.box_w)
        sol = random_fill(n * n, n, units, rng)

        def solve2(g: set[int]) -> list:
            return solve_units(n * n, n, units, {i: sol[i] for i in g}, limit=2, max_nodes=20_000)
        shown = pick_givens(sol, k.givens, rng, solve2 if k.unique else None)
        puzzle = {"n": n, "box_h": k.box_h, "box_w": k.box_w, "grid": shown_grid(sol, n, shown),
                  "solution": grid_rows(sol, n), "givens": len(shown)}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n, bh, bw = p["n"], p["box_h"], p["box_w"]
        return (
            f"Solve this {n}x{n} sudoku. Fill every empty cell (shown as .) with a number from 1 to {n} so that "
            f"each row, each column and each of the {n} boxes of {bh} rows x {bw} columns contains every number "
            f"1..{n} exactly once. Keep the given numbers unchanged.\n\n"
            f"{show_grid(p['grid'])}\n\n"
            f"Answer with the completed grid as a JSON list of {n} rows of {n} integers, for a 4x4 sudoku e.g.\n"
            "[[1,2,3,4],\n[3,4,1,2],\n[2,1,4,3],\n[4,3,2,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n, bh, bw = p["n"], p["box_h"], p["box_w"]
        grid = parse_grid(answer, n, n)
        err = latin_error(grid, n) or givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        for br in range(0, n, bh):
            for bc in range(0, n, bw):
                vals = {grid[br + i][bc + j] for i in range(bh) for j in range(bw)}
                if len(vals) != n:
                    return Score.fail(f"box at rows {br}..{br + bh - 1}, columns {bc}..{bc + bw - 1} "
                                      "repeats a value", format_ok=True)
        return Score.ok("every row, column and box holds 1..n once and the givens are kept")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        n, bh, bw = p["n"], p["box_h"], p["box_w"]
        fixed = given_cells(p["grid"])
        names = latin_unit_names(n) + [f"box {b + 1}" for b in range(n)]
        lines, placed = singles_trace(n * n, n, sudoku_units(bh, bw), names, fixed,
                                      lambda x: f"R{x // n + 1}C{x % n + 1}")
        return trace_reasoning(
            f"RrCc is row r, column c. For each empty cell I remove the numbers already in its row, column and box:",
            lines, placed, n * n - len(fixed), f"Every row, column and box now holds 1..{n} once.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (sudoku_verifier.py): ``metadata["original_sudoku"]`` is the 9x9 question grid
        (0 or "X" blank); the gold answer is the solved grid as tuple text (or
        ``metadata["complete_sudoku"]``). Same rules as here; kept only when the gold grid passes."""
        from .synlogic import gold_int_grid, scores_gold

        original = metadata.get("original_sudoku") or metadata.get("puzzle_grid")
        if not (isinstance(original, list) and original and all(isinstance(r, list) for r in original)):
            return None
        n = len(original)
        boxes = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
        if n not in boxes or any(len(r) != n for r in original):
            return None
        grid = [[int(v) if str(v).strip().isdigit() else 0 for v in row] for row in original]
        sol = gold_int_grid(answer, n) or gold_int_grid(metadata.get("complete_sudoku"), n)
        if sol is None:
            return None
        bh, bw = boxes[n]
        puzzle = {"n": n, "box_h": bh, "box_w": bw, "grid": grid, "solution": sol,
                  "givens": sum(1 for row in grid for v in row if v)}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Sudoku)
