"""Futoshiki (task 11): a Latin square with inequality signs between some neighbouring cells.

Verifier CC: any Latin square that keeps the givens and satisfies every sign passes. The generator
plants a random Latin square, draws signs from it, then adds givens until a solver proves the
solution unique and removes givens again while it stays unique (down to the ``givens`` knob).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic, show_grid
from .solvers import (ensure_reference, given_cells, givens_error, grid_rows, latin_error, latin_unit_names,
                      latin_units, pick_givens, random_fill, shown_grid, singles_trace, solve_units, trace_reasoning)


@dataclass
class Knobs:
    n: int = 5          # grid side, values 1..n
    signs: int = 6      # inequality signs between neighbouring cells
    givens: int = 2     # target number of given cells (more are kept when needed for uniqueness)
    unique: bool = True

    def __post_init__(self) -> None:
        if not 3 <= self.n <= 9:
            raise ValueError("futoshiki: n must be in 3..9")
        if not 0 <= self.signs <= 2 * self.n * (self.n - 1):
            raise ValueError(f"futoshiki: signs must be in 0..{2 * self.n * (self.n - 1)}")
        if not 0 <= self.givens <= self.n * self.n:
            raise ValueError("futoshiki: givens must be in 0..n*n")


def cell_name(r: int, c: int) -> str:
    return f"R{r + 1}C{c + 1}"


def _restrict_fn(n: int, ineqs: list[list[int]]):
    """Domain hook: a cell smaller than a neighbour holding w can only take values below w, etc."""
    lt: dict[int, list[int]] = {}   # cell -> cells it must be smaller than
    gt: dict[int, list[int]] = {}   # cell -> cells it must be larger than
    for r1, c1, r2, c2 in ineqs:
        a, b = r1 * n + c1, r2 * n + c2
        lt.setdefault(a, []).append(b)
        gt.setdefault(b, []).append(a)
    top = 1 << n

    def restrict(assign: list, cell: int, mask: int) -> int:
        for o in lt.get(cell, ()):
            w = assign[o]
            mask &= ((1 << w) - 1) if w else ~top
        for o in gt.get(cell, ()):
            w = assign[o]
            mask &= ~((1 << (w + 1)) - 1) if w else ~2
        return mask

    return restrict


class Futoshiki(LogicTask):
    task_name = "futoshiki"
    description = "Futoshiki: a Latin square whose neighbouring cells obey given < signs."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "signs": 5, "givens": 3},
        1: {"n": 5, "signs": 7, "givens": 2},
        2: {"n": 6, "signs": 10, "givens": 2},
        3: {"n": 7, "signs": 16, "givens": 1},
        4: {"n": 8, "signs": 22, "givens": 0},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        units = latin_units(n)
        sol = random_fill(n * n, n, units, rng)
        pairs = [(r, c, r, c + 1) for r in range(n) for c in range(n - 1)]
        pairs += [(r, c, r + 1, c) for r in range(n - 1) for c in range(n)]
        ineqs = []
        for r1, c1, r2, c2 in rng.sample(pairs, k.signs):
            if sol[r1 * n + c1] < sol[r2 * n + c2]:
                ineqs.append([r1, c1, r2, c2])
            else:
                ineqs.append([r2, c2, r1, c1])
        ineqs.sort()
        restrict = _restrict_fn(n, ineqs)

        def solve2(g: set[int]) -> list:
            return solve_units(n * n, n, units, {i: sol[i] for i in g}, restrict=restrict, limit=2, max_nodes=4_000)
        shown = pick_givens(sol, k.givens, rng, solve2 if k.unique else None, max_checks=12)
        puzzle = {"n": n, "grid": shown_grid(sol, n, shown), "inequalities": ineqs, "givens": len(shown),
                  "solution": grid_rows(sol, n)}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n = p["n"]
        signs = "\n".join(f"{cell_name(a, b)} < {cell_name(c, d)}" for a, b, c, d in p["inequalities"]) or "(none)"
        return (
            f"Solve this {n}x{n} Futoshiki puzzle. Fill every empty cell (shown as .) with a number from 1 to {n} "
            f"so that each row and each column contains every number 1..{n} exactly once, every inequality below "
            "holds, and the given numbers stay unchanged. RrCc means row r, column c, counted from 1 at the top "
            "left.\n\n"
            f"Grid:\n{show_grid(p['grid'])}\n\nInequalities:\n{signs}\n\n"
            f"Answer with the completed grid as a JSON list of {n} rows of {n} integers, for a 3x3 puzzle e.g.\n"
            "[[1,2,3],\n[2,3,1],\n[3,1,2]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n = p["n"]
        grid = parse_grid(answer, n, n)
        err = latin_error(grid, n) or givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        for a, b, c, d in p["inequalities"]:
            if not grid[a][b] < grid[c][d]:
                return Score.fail(f"inequality {cell_name(a, b)} < {cell_name(c, d)} is broken "
                                  f"({grid[a][b]} vs {grid[c][d]})", format_ok=True)
        return Score.ok("Latin square, every inequality holds, givens kept")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        n = p["n"]
        fixed = given_cells(p["grid"])
        lines, placed = singles_trace(n * n, n, latin_units(n), latin_unit_names(n), fixed,
                                      lambda x: cell_name(*divmod(x, n)), restrict=_restrict_fn(n, p["inequalities"]))
        return trace_reasoning(
            f"Each row and column needs 1..{n} once; a cell smaller than a neighbour cannot hold {n} (or anything "
            "not below the neighbour's value), a larger one cannot hold 1. Candidates after these eliminations:",
            lines, placed, n * n - len(fixed), f"All {len(p['inequalities'])} inequalities hold in the filled grid.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (futoshiki_verifier.py / generator): ``metadata`` holds ``grid_size``,
        ``prefilled_coords`` (0-based [r, c]) and ``constraints`` ([[r1, c1], [r2, c2], "<" or ">"],
        0-based); the gold answer is the solved grid. The givens are the gold values at the prefilled
        coordinates (the question shows exactly those). Kept only when the gold grid passes."""
        from .synlogic import gold_int_grid, scores_gold

        n = int(metadata["grid_size"])
        sol = gold_int_grid(answer, n)
        if sol is None or not 3 <= n <= 9:
            return None
        grid = [[0] * n for _ in range(n)]
        for r, c in metadata.get("prefilled_coords") or []:
            grid[int(r)][int(c)] = sol[int(r)][int(c)]
        ineqs = []
        for a, b, sign in metadata.get("constraints") or []:
            (r1, c1), (r2, c2) = (int(x) for x in a), (int(x) for x in b)
            if sign == "<":
                ineqs.append([r1, c1, r2, c2])
            elif sign == ">":
                ineqs.append([r2, c2, r1, c1])
            else:
                return None
        puzzle = {"n": n, "grid": grid, "inequalities": sorted(ineqs), "solution": sol,
                  "givens": sum(1 for row in grid for v in row if v)}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Futoshiki)
