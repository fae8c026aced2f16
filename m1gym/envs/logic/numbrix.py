"""Numbrix (task 19): write 1..n*n in the grid so consecutive numbers are orthogonal neighbours.

The numbers trace a Hamiltonian path. Verifier CC: any grid holding each of 1..n*n once, with every
consecutive pair adjacent and the givens kept, passes. The generator draws a random Hamiltonian path
(backbite moves from a serpentine path) and shows a share of its numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic
from .solvers import ensure_reference, givens_error


@dataclass
class Knobs:
    n: int = 5
    givens_rate: float = 0.35  # share of the cells whose number is shown (1 and n*n always shown)

    def __post_init__(self) -> None:
        if not 2 <= self.n <= 12:
            raise ValueError("numbrix: n must be in 2..12")
        if not 0.0 <= self.givens_rate <= 1.0:
            raise ValueError("numbrix: givens_rate must be in [0, 1]")


def _nbrs(n: int, cell: tuple[int, int]) -> list[tuple[int, int]]:
    r, c = cell
    return [(a, b) for a, b in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)) if 0 <= a < n and 0 <= b < n]


def random_path(n: int, rng: random.Random, moves: int | None = None) -> list[tuple[int, int]]:
    """A random Hamiltonian path of the n x n grid: backbite moves applied to a serpentine path."""
    path = [(r, c if r % 2 == 0 else n - 1 - c) for r in range(n) for c in range(n)]
    if rng.random() < 0.5:
        path = [(c, r) for r, c in path]
    for _ in range(moves if moves is not None else 20 * n * n):
        if rng.random() < 0.5:
            path.reverse()
        end = path[-1]
        pos = {cell: i for i, cell in enumerate(path)}  # small grids: rebuilding is cheap enough
        x = rng.choice(_nbrs(n, end))
        i = pos[x]
        if i == len(path) - 2:
            continue
        path = path[:i + 1] + path[i + 1:][::-1]
    return path


class Numbrix(LogicTask):
    task_name = "numbrix"
    description = "Numbrix: place 1..n*n so consecutive numbers are orthogonally adjacent."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"n": 3, "givens_rate": 0.45},
        1: {"n": 4, "givens_rate": 0.4},
        2: {"n": 5, "givens_rate": 0.35},
        3: {"n": 6, "givens_rate": 0.3},
        4: {"n": 7, "givens_rate": 0.22},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        path = random_path(n, rng)
        sol = [[0] * n for _ in range(n)]
        for i, (r, c) in enumerate(path):
            sol[r][c] = i + 1
        show = {0, n * n - 1} | set(rng.sample(range(n * n), round(k.givens_rate * n * n)))
        grid = [[0] * n for _ in range(n)]
        for i in show:
            r, c = path[i]
            grid[r][c] = i + 1
        puzzle = {"n": n, "grid": grid, "solution": sol}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n = p["n"]
        width = len(str(n * n))
        shown = "\n".join(" ".join(("." if v == 0 else str(v)).rjust(width) for v in row) for row in p["grid"])
        return (
            f"Solve this {n}x{n} Numbrix puzzle. Write every number from 1 to {n * n} exactly once in the grid so "
            "that each pair of consecutive numbers (1 and 2, 2 and 3, ...) sits in cells that share a side "
            "(up, down, left or right; not diagonal). The numbers already shown must stay where they are; "
            ". marks an empty cell.\n\n"
            f"{shown}\n\n"
            f"Answer with the completed grid as a JSON list of {n} rows of {n} integers, for a 2x2 puzzle e.g.\n"
            "[[1,2],\n[4,3]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n = p["n"]
        grid = parse_grid(answer, n, n)
        where: dict[int, tuple[int, int]] = {}
        for r in range(n):
            for c in range(n):
                v = grid[r][c]
                if not 1 <= v <= n * n:
                    return Score.fail(f"cell ({r},{c}) holds {v}, outside 1..{n * n}", format_ok=True)
                if v in where:
                    return Score.fail(f"{v} appears more than once", format_ok=True)
                where[v] = (r, c)
        err = givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        for v in range(1, n * n):
            (a, b), (c, d) = where[v], where[v + 1]
            if abs(a - c) + abs(b - d) != 1:
                return Score.fail(f"{v} and {v + 1} are not orthogonal neighbours", format_ok=True)
        return Score.ok("1..n*n form a path of orthogonal steps through every cell, givens kept")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        n = p["n"]
        given = sorted(v for row in p["grid"] for v in row if v)
        gaps = [f"{a}->{b}" for a, b in zip(given, given[1:]) if b > a + 1]
        return (f"The givens are {', '.join(map(str, given))}. Each gap between consecutive givens "
                f"({', '.join(gaps[:8])}{', ...' if len(gaps) > 8 else ''}) must be bridged by a walk of exactly "
                "that many orthogonal steps through empty cells; the walk length and parity fix the routes, and "
                f"no cell may be left unreachable. The completed path visits all {n * n} cells.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (numbrix_verifier.py): ``metadata["grid"]`` is the n x n question grid (numbers,
        "X" blank); the gold answer is the filled grid. Same rules as here; kept only when it passes."""
        from .synlogic import gold_int_grid, scores_gold

        raw = metadata["grid"]
        n = len(raw)
        if not all(isinstance(r, list) and len(r) == n for r in raw):
            return None
        grid = [[int(v) if str(v).strip().isdigit() else 0 for v in row] for row in raw]
        sol = gold_int_grid(answer, n)
        if sol is None or len(sol[0]) != n:
            return None
        puzzle = {"n": n, "grid": grid, "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Numbrix)
