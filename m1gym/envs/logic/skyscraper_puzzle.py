"""Skyscrapers (task 23): a Latin square of building heights with visibility clues on the borders.

A clue outside a row or column says how many buildings are visible from that side (a building hides
every lower one behind it). Verifier CC: any Latin square matching every shown clue and given passes.
The generator plants a random Latin square, shows a share of its clues, and adds givens until a
solver proves the solution unique.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic, show_grid
from .solvers import (ensure_reference, given_cells, givens_error, grid_rows, latin_error, latin_unit_names,
                      latin_units, pick_givens, random_fill, shown_grid, singles_trace, solve_latin_lines,
                      trace_reasoning)

SIDES = ("top", "bottom", "left", "right")


@dataclass
class Knobs:
    n: int = 5                  # grid side, heights 1..n
    clue_density: float = 0.75  # share of the 4n border clues shown
    givens: int = 0             # target number of given cells (more are kept when needed for uniqueness)
    unique: bool = True

    def __post_init__(self) -> None:
        if not 3 <= self.n <= 9:
            raise ValueError("skyscraper_puzzle: n must be in 3..9")
        if not 0.0 <= self.clue_density <= 1.0:
            raise ValueError("skyscraper_puzzle: clue_density must be in [0, 1]")


def visible(seq: list[int]) -> int:
    count, top = 0, 0
    for h in seq:
        if h > top:
            count, top = count + 1, h
    return count


def side_lines(n: int) -> dict[str, list[list[int]]]:
    """For each side, the cell indices of each line as seen from that side."""
    return {
        "top": [[r * n + c for r in range(n)] for c in range(n)],
        "bottom": [[r * n + c for r in reversed(range(n))] for c in range(n)],
        "left": [[r * n + c for c in range(n)] for r in range(n)],
        "right": [[r * n + c for c in reversed(range(n))] for r in range(n)],
    }


@lru_cache(maxsize=16)
def _perms(n: int) -> tuple[tuple[tuple[int, ...], int, int], ...]:
    """Every ordering of heights 1..n with its visible counts from the start and from the end."""
    return tuple((p, visible(list(p)), visible(list(reversed(p))))
                 for p in itertools.permutations(range(1, n + 1)))


def line_candidates(n: int, clues: dict[str, list[int]]) -> dict[int, list[tuple[int, ...]]]:
    """Allowed tuples for every clued line (rows 0..n-1 left to right, columns n..2n-1 top to bottom)."""
    out = {}
    for i in range(n):
        for li, a, b in ((i, clues["left"][i], clues["right"][i]), (n + i, clues["top"][i], clues["bottom"][i])):
            if a or b:
                out[li] = [p for p, va, vb in _perms(n) if (not a or va == a) and (not b or vb == b)]
    return out


def _restrict_fn(n: int, clues: dict[str, list[int]]):
    lines = side_lines(n)
    watch: list[list[tuple[list[int], int]]] = [[] for _ in range(n * n)]
    static = [(1 << (n + 1)) - 2] * (n * n)
    for side in SIDES:
        for i, clue in enumerate(clues[side]):
            if clue:
                seq = lines[side][i]
                for d, cell in enumerate(seq):
                    watch[cell].append((seq, clue))
                    # a cell d steps in from a clue k sees at most d earlier buildings rise: h <= n - k + 1 + d
                    cap = n - clue + 1 + d
                    if cap < n:
                        static[cell] &= (1 << (cap + 1)) - 1

    def line_ok(assign: list, seq: list[int], clue: int, cell: int, v: int) -> bool:
        vis, top = 0, 0
        for x in seq:
            h = v if x == cell else assign[x]
            if h == 0:
                return vis <= clue
            if h > top:
                vis, top = vis + 1, h
                if top == n:
                    return vis == clue
        return vis == clue

    def restrict(assign: list, cell: int, mask: int) -> int:
        mask &= static[cell]
        if not watch[cell]:
            return mask
        out = 0
        m, v = mask >> 1, 1
        while m:
            if m & 1 and all(line_ok(assign, seq, clue, cell, v) for seq, clue in watch[cell]):
                out |= 1 << v
            m >>= 1
            v += 1
        return out

    return restrict


class SkyscraperPuzzle(LogicTask):
    task_name = "skyscraper_puzzle"
    description = "Skyscrapers: a Latin square of heights matching how many buildings are visible from each side."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "clue_density": 1.0, "givens": 0},
        1: {"n": 4, "clue_density": 0.6, "givens": 0},
        2: {"n": 5, "clue_density": 0.7, "givens": 0},
        3: {"n": 6, "clue_density": 0.7, "givens": 0},
        4: {"n": 7, "clue_density": 0.6, "givens": 0},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        units = latin_units(n)
        sol = random_fill(n * n, n, units, rng)
        lines = side_lines(n)
        all_clues = {s: [visible([sol[x] for x in seq]) for seq in lines[s]] for s in SIDES}
        slots = [(s, i) for s in SIDES for i in range(n)]
        keep = set(rng.sample(slots, round(k.clue_density * len(slots))))
        clues = {s: [all_clues[s][i] if (s, i) in keep else 0 for i in range(n)] for s in SIDES}
        cands = line_candidates(n, clues)

        def solve2(g: set[int]) -> list:
            return solve_latin_lines(n, {i: sol[i] for i in g}, cands, limit=2, max_nodes=300)
        shown = pick_givens(sol, k.givens, rng, solve2 if k.unique else None, max_checks=10)
        puzzle = {"n": n, "grid": shown_grid(sol, n, shown), "clues": clues, "givens": len(shown),
                  "solution": grid_rows(sol, n)}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n, cl = p["n"], p["clues"]

        def fmt(xs: list[int]) -> str:
            return " ".join(str(x) if x else "-" for x in xs)
        shown = any(v for row in p["grid"] for v in row)
        grid_part = f"\nGiven heights (. = empty):\n{show_grid(p['grid'])}\n" if shown else ""
        return (
            f"Solve this {n}x{n} Skyscrapers puzzle. Place a building of height 1 to {n} in every cell so that "
            f"each row and each column contains every height 1..{n} exactly once. A clue outside the grid tells "
            "how many buildings are visible when looking along that row or column from that side: a building is "
            "visible when it is taller than every building in front of it. '-' means no clue."
            + (" Given heights must stay unchanged." if shown else "") + "\n\n"
            f"Top clues (columns 1..{n}, looking down): {fmt(cl['top'])}\n"
            f"Bottom clues (columns 1..{n}, looking up): {fmt(cl['bottom'])}\n"
            f"Left clues (rows 1..{n}, looking right): {fmt(cl['left'])}\n"
            f"Right clues (rows 1..{n}, looking left): {fmt(cl['right'])}\n"
            f"{grid_part}\n"
            f"Answer with the heights as a JSON list of {n} rows (top to bottom) of {n} integers, for a 3x3 "
            "puzzle e.g.\n[[1,2,3],\n[3,1,2],\n[2,3,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n = p["n"]
        grid = parse_grid(answer, n, n)
        err = latin_error(grid, n) or givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        flat = [v for row in grid for v in row]
        lines = side_lines(n)
        for side in SIDES:
            for i, clue in enumerate(p["clues"][side]):
                if clue:
                    seen = visible([flat[x] for x in lines[side][i]])
                    if seen != clue:
                        what = "column" if side in ("top", "bottom") else "row"
                        return Score.fail(f"{side} clue of {what} {i + 1} is {clue} but {seen} buildings are "
                                          "visible", format_ok=True)
        return Score.ok("Latin square matching every visibility clue")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        n = p["n"]
        fixed = given_cells(p["grid"])
        lines, placed = singles_trace(n * n, n, latin_units(n), latin_unit_names(n), fixed,
                                      lambda x: f"R{x // n + 1}C{x % n + 1}", restrict=_restrict_fn(n, p["clues"]))
        return trace_reasoning(
            f"RrCc is row r, column c. A clue of 1 puts the {n} next to it; a clue of {n} forces 1..{n} in order; "
            f"a clue k caps the cell d steps in at height {n}-k+1+d; a line whose visible count is already "
            "settled rules out heights that would change it:",
            lines, placed, n * n - len(fixed), "The filled grid matches every visibility clue.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (skyscraper_puzzle_verifier.py): ``metadata`` holds ``n`` and the clue lists
        ``top`` / ``bottom`` (per column) and ``left`` / ``right`` (per row); the gold answer is the
        grid in a python block. Same rules as here; kept only when the gold grid passes."""
        from .synlogic import gold_int_grid, scores_gold

        n = int(metadata["n"])
        clues = {s: [int(v) for v in metadata[s]] for s in SIDES}
        sol = gold_int_grid(answer, n)
        if sol is None or any(len(v) != n for v in clues.values()):
            return None
        puzzle = {"n": n, "grid": [[0] * n for _ in range(n)], "clues": clues, "givens": 0, "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(SkyscraperPuzzle)
