"""Survo (task 28): fill the blanks of a number matrix from a multiset so rows and columns hit their sums.

Verifier CC: any filling that keeps the shown numbers, uses exactly the given multiset in the blanks
and meets every row and column sum passes (several fillings can exist; each one scores 1).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic
from .solvers import ensure_reference, givens_error


@dataclass
class Knobs:
    h: int = 4            # rows
    w: int = 4            # columns
    blanks: int = 6       # hidden cells
    max_value: int = 20   # cell values are drawn from 1..max_value

    def __post_init__(self) -> None:
        if not (2 <= self.h <= 8 and 2 <= self.w <= 8):
            raise ValueError("survo: h and w must be in 2..8")
        if not 1 <= self.blanks <= self.h * self.w:
            raise ValueError("survo: blanks must be in 1..h*w")
        if not 2 <= self.max_value <= 999:
            raise ValueError("survo: max_value must be in 2..999")


class Survo(LogicTask):
    task_name = "survo"
    description = "Survo: place a multiset of numbers into the blanks so every row and column sum is met."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"h": 3, "w": 3, "blanks": 3, "max_value": 9},
        1: {"h": 3, "w": 4, "blanks": 5, "max_value": 15},
        2: {"h": 4, "w": 4, "blanks": 7, "max_value": 20},
        3: {"h": 5, "w": 5, "blanks": 11, "max_value": 30},
        4: {"h": 6, "w": 6, "blanks": 17, "max_value": 50},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        sol = [[rng.randint(1, k.max_value) for _ in range(k.w)] for _ in range(k.h)]
        cells = [(r, c) for r in range(k.h) for c in range(k.w)]
        hidden = set(rng.sample(cells, k.blanks))
        grid = [[0 if (r, c) in hidden else sol[r][c] for c in range(k.w)] for r in range(k.h)]
        pool = sorted(sol[r][c] for r, c in hidden)
        puzzle = {"h": k.h, "w": k.w, "grid": grid, "numbers": pool,
                  "row_sums": [sum(row) for row in sol],
                  "col_sums": [sum(sol[r][c] for r in range(k.h)) for c in range(k.w)],
                  "solution": sol}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        width = max(len(str(x)) for x in p["row_sums"] + p["col_sums"]) + 1
        rows = []
        for r in range(h):
            cells = ["_" if v == 0 else str(v) for v in p["grid"][r]]
            rows.append(" ".join(x.rjust(width) for x in cells) + " | " + str(p["row_sums"][r]))
        rows.append("-" * (len(rows[0]) - 1))
        rows.append(" ".join(str(x).rjust(width) for x in p["col_sums"]))
        return (
            f"Complete this {h}x{w} Survo puzzle. Each _ is a blank. Put the numbers "
            f"{', '.join(map(str, p['numbers']))} into the blanks, each number used exactly as many times as it "
            "is listed, so that every row adds up to the sum after its | and every column adds up to the sum "
            "below it. Shown numbers stay unchanged.\n\n"
            + "\n".join(rows) + "\n\n"
            f"Answer with the completed {h}x{w} grid (without the sums) as a JSON list of {h} rows of {w} "
            "integers, for a 2x2 puzzle e.g.\n[[3,5],\n[2,7]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w = p["h"], p["w"]
        grid = parse_grid(answer, h, w)
        err = givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        used = Counter(grid[r][c] for r in range(h) for c in range(w) if p["grid"][r][c] == 0)
        if used != Counter(p["numbers"]):
            return Score.fail(f"the blanks hold {sorted(used.elements())}, not the given numbers "
                              f"{p['numbers']}", format_ok=True)
        for r in range(h):
            if sum(grid[r]) != p["row_sums"][r]:
                return Score.fail(f"row {r + 1} sums to {sum(grid[r])}, not {p['row_sums'][r]}", format_ok=True)
        for c in range(w):
            s = sum(grid[r][c] for r in range(h))
            if s != p["col_sums"][c]:
                return Score.fail(f"column {c + 1} sums to {s}, not {p['col_sums'][c]}", format_ok=True)
        return Score.ok("every row and column sum is met with the given numbers")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        steps = []
        h, w = p["h"], p["w"]
        for r in range(h):
            blanks = [c for c in range(w) if p["grid"][r][c] == 0]
            if len(blanks) == 1:
                c = blanks[0]
                known = sum(v for v in p["grid"][r] if v)
                steps.append(f"Row {r + 1} has one blank: {p['row_sums'][r]} - {known} = {p['solution'][r][c]}.")
        steps.append("The remaining blanks take the leftover numbers so that each row and column sum is met; "
                     "I check every sum at the end.")
        return "\n".join(steps)

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (survo_verifier.py): ``metadata`` holds ``n``, ``original_matrix`` (n x n, 0 =
        blank; the last column holds row sums and the last row column sums) and ``candidate_numbers``
        (the numbers for the blanks); the gold answer is the full matrix. Read here as an n x n grid
        whose every row and column sums to twice its sum cell, which equals SynLogic's rule while the
        sum cells are given; rows with a blank sum cell do not map. Kept only when the gold passes."""
        from .synlogic import gold_int_grid, scores_gold

        n = int(metadata["n"])
        grid = gold_int_grid(metadata["original_matrix"], n)
        sol = gold_int_grid(answer, n)
        if grid is None or sol is None or len(grid[0]) != n or len(sol[0]) != n:
            return None
        if any(grid[i][n - 1] == 0 or grid[n - 1][i] == 0 for i in range(n)):
            return None
        puzzle = {"h": n, "w": n, "grid": grid, "numbers": sorted(int(v) for v in metadata["candidate_numbers"]),
                  "row_sums": [2 * grid[r][n - 1] for r in range(n)],
                  "col_sums": [2 * grid[n - 1][c] for c in range(n)], "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Survo)
