"""Nonogram (task 39): fill a grid so each row's and column's runs of filled cells match the clues.

Verifier CC: recompute the runs of the answer and compare with every clue, so any grid meeting the
clues passes. With ``line_solvable`` the generator keeps only grids that line-by-line deduction solves
completely (so the solution is unique); otherwise the planted grid is one of possibly several.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic
from .solvers import ensure_reference


@dataclass
class Knobs:
    h: int = 7
    w: int = 7
    density: float = 0.6       # chance a cell of the planted picture is filled
    line_solvable: bool = True  # keep only pictures that pure line deduction solves (unique solution)

    def __post_init__(self) -> None:
        if not (2 <= self.h <= 20 and 2 <= self.w <= 20):
            raise ValueError("nonogram: h and w must be in 2..20")
        if not 0.0 < self.density < 1.0:
            raise ValueError("nonogram: density must be in (0, 1)")


def runs(line: list[int]) -> list[int]:
    out, k = [], 0
    for v in line:
        if v:
            k += 1
        elif k:
            out.append(k)
            k = 0
    if k:
        out.append(k)
    return out


def solve_line(clue: list[int], line: list[int]) -> list[int] | None:
    """Cells forced by the clue given a partial line (-1 unknown, 0, 1); None on contradiction."""
    n, k = len(line), len(clue)
    # fits[s][L]: cells s..s+L-1 can all be filled
    def fits(s: int, length: int) -> bool:
        return s + length <= n and all(line[x] != 0 for x in range(s, s + length))

    fwd = [[False] * (n + 2) for _ in range(k + 1)]
    fwd[0][0] = True
    for i in range(n + 1):
        for j in range(k + 1):
            if not fwd[j][i]:
                continue
            if i < n and line[i] != 1:
                fwd[j][i + 1] = True
            if j < k and fits(i, clue[j]):
                e = i + clue[j]
                if e == n:
                    fwd[j + 1][n] = True
                elif line[e] != 1:
                    fwd[j + 1][e + 1] = True
    bwd = [[False] * (n + 2) for _ in range(k + 1)]
    bwd[k][n] = True
    for i in range(n - 1, -1, -1):
        for j in range(k, -1, -1):
            ok = line[i] != 1 and bwd[j][i + 1]
            if not ok and j < k and fits(i, clue[j]):
                e = i + clue[j]
                ok = (e == n and j + 1 == k) or (e < n and line[e] != 1 and bwd[j + 1][e + 1])
            bwd[j][i] = ok
    if not bwd[0][0]:
        return None
    can0, can1 = [False] * n, [False] * n
    for i in range(n):
        if line[i] != 1 and any(fwd[j][i] and bwd[j][i + 1] for j in range(k + 1)):
            can0[i] = True
    for j in range(k):
        length = clue[j]
        for s in range(n - length + 1):
            if not fwd[j][s] or not fits(s, length):
                continue
            e = s + length
            if (e == n and j + 1 == k) or (e < n and line[e] != 1 and bwd[j + 1][e + 1]):
                for x in range(s, e):
                    can1[x] = True
                if e < n:
                    can0[e] = True  # the separator after the run
    out = []
    for i in range(n):
        if can0[i] and can1[i]:
            out.append(-1)
        elif can1[i]:
            out.append(1)
        elif can0[i]:
            out.append(0)
        else:
            return None
    return out


def _describe(kind: str, i: int, clue: list[int], old: list[int], new: list[int]) -> str:
    filled = [str(j + 1) for j in range(len(new)) if new[j] == 1 and old[j] != 1]
    empty = [str(j + 1) for j in range(len(new)) if new[j] == 0 and old[j] != 0]
    def cells(xs: list[str]) -> str:
        return ("cell " if len(xs) == 1 else "cells ") + ", ".join(xs)
    parts = ([f"{cells(filled)} filled"] if filled else []) + ([f"{cells(empty)} empty"] if empty else [])
    return f"{kind} {i + 1} (clue {' '.join(map(str, clue)) or '0'}): {'; '.join(parts)}."


def line_solve(rows: list[list[int]], cols: list[list[int]], trace: list[str] | None = None) -> list[list[int]] | None:
    """Repeated line deduction; the grid when it is fully determined, else None.

    trace, when given, collects one line of text per line-deduction step that changed something.
    """
    h, w = len(rows), len(cols)
    g = [[-1] * w for _ in range(h)]
    changed = True
    while changed:
        changed = False
        for r in range(h):
            new = solve_line(rows[r], g[r])
            if new is None:
                return None
            if new != g[r]:
                if trace is not None:
                    trace.append(_describe("Row", r, rows[r], g[r], new))
                g[r], changed = new, True
        for c in range(w):
            col = [g[r][c] for r in range(h)]
            new = solve_line(cols[c], col)
            if new is None:
                return None
            if new != col:
                if trace is not None:
                    trace.append(_describe("Column", c, cols[c], col, new))
                changed = True
                for r in range(h):
                    g[r][c] = new[r]
    if any(v < 0 for row in g for v in row):
        return None
    return g


class Nonogram(LogicTask):
    task_name = "nonogram"
    description = "Nonogram: fill cells so each row's and column's runs match the clues."
    answer_format = "JSON 0/1 grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"h": 4, "w": 4, "density": 0.6},
        1: {"h": 5, "w": 5, "density": 0.6},
        2: {"h": 7, "w": 7, "density": 0.55},
        3: {"h": 10, "w": 10, "density": 0.55},
        4: {"h": 12, "w": 12, "density": 0.5},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        for _ in range(500):
            sol = [[1 if rng.random() < k.density else 0 for _ in range(k.w)] for _ in range(k.h)]
            if not any(map(any, sol)):
                continue
            rows = [runs(row) for row in sol]
            cols = [runs([sol[r][c] for r in range(k.h)]) for c in range(k.w)]
            if not k.line_solvable or line_solve(rows, cols) == sol:
                break
        else:
            raise RuntimeError("nonogram: no line-solvable picture found; lower the size or raise density")
        puzzle = {"h": k.h, "w": k.w, "rows": rows, "cols": cols, "solution": sol}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]

        def fmt(cl: list[int]) -> str:
            return " ".join(map(str, cl)) if cl else "0"
        rows = "\n".join(f"row {i + 1}: {fmt(c)}" for i, c in enumerate(p["rows"]))
        cols = "\n".join(f"column {i + 1}: {fmt(c)}" for i, c in enumerate(p["cols"]))
        return (
            f"Solve this {h}x{w} nonogram. Fill cells (1 = filled, 0 = empty) so that, read left to right, each "
            "row's consecutive runs of filled cells have exactly the lengths of its clue, in that order, separated "
            "by at least one empty cell; the same holds for each column read top to bottom. A clue of 0 means the "
            "line is empty.\n\n"
            f"Row clues (top to bottom):\n{rows}\n\nColumn clues (left to right):\n{cols}\n\n"
            f"Answer with the grid as a JSON list of {h} rows of {w} values 0 or 1, for a 2x3 puzzle with row clues "
            "'2' and '1 1' and column clues '1', '1', '2' e.g.\n[[0,1,1],\n[1,0,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w = p["h"], p["w"]
        grid = parse_grid(answer, h, w, allowed={0, 1})
        for r in range(h):
            got = runs(grid[r])
            if got != p["rows"][r]:
                return Score.fail(f"row {r + 1} has runs {got}, clue is {p['rows'][r]}", format_ok=True)
        for c in range(w):
            got = runs([grid[r][c] for r in range(h)])
            if got != p["cols"][c]:
                return Score.fail(f"column {c + 1} has runs {got}, clue is {p['cols'][c]}", format_ok=True)
        return Score.ok("every row and column matches its clue")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        trace: list[str] = []
        solved = line_solve(p["rows"], p["cols"], trace) == p["solution"]
        lines = ["Line by line: the cells every placement of a line's runs fills are filled, the cells none of "
                 "them reaches are empty (cells counted from 1, rows top to bottom, columns left to right)."]
        lines += [f"- {t}" for t in trace[:16]]
        if len(trace) > 16:
            lines.append(f"- ... {len(trace) - 16} more line steps the same way.")
        if not solved:
            lines.append("Line deduction stops before the grid is full; I try a value in an undecided cell and "
                         "keep the choice that leaves every line consistent.")
        lines.append("Every row and column now matches its clue.")
        return "\n".join(lines)


register_logic(Nonogram)
