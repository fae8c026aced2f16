"""Hitori: shade cells so no number repeats in a row or column among the unshaded cells.

Rules: shaded cells never share a side; the unshaded cells form one orthogonally connected group;
no number appears twice among the unshaded cells of any row or column. The generator starts from a
random Latin square, shades a random non-adjacent set that keeps the rest connected, and writes a
duplicate of a number from the same row or column into each shaded cell. The verifier checks the
rules (including connectivity by BFS), so any valid shading passes.
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass

from ...core import Score
from .base import GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, parse_coords, register_logic, show_grid

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass
class Knobs:
    n: int = 5             #: grid side (numbers 1..n)
    density: float = 0.22  #: target fraction of shaded cells


def _connected(n: int, shaded: set) -> bool:
    start = next(((r, c) for r in range(n) for c in range(n) if (r, c) not in shaded), None)
    if start is None:
        return False
    seen = {start}
    q = deque([start])
    while q:
        r, c = q.popleft()
        for dr, dc in ORTH:
            x = (r + dr, c + dc)
            if 0 <= x[0] < n and 0 <= x[1] < n and x not in shaded and x not in seen:
                seen.add(x)
                q.append(x)
    return len(seen) == n * n - len(shaded)


def _latin(rng: random.Random, n: int) -> list[list[int]]:
    """A random Latin square: cell-by-cell randomised backtracking (bounded), falling back to a
    shuffled cyclic square."""
    g = [[0] * n for _ in range(n)]
    rows = [set() for _ in range(n)]
    cols = [set() for _ in range(n)]
    budget = [50 * n * n]

    def fill(i: int) -> bool:
        if i == n * n:
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        r, c = divmod(i, n)
        vals = [v for v in range(1, n + 1) if v not in rows[r] and v not in cols[c]]
        rng.shuffle(vals)
        for v in vals:
            g[r][c] = v
            rows[r].add(v)
            cols[c].add(v)
            if fill(i + 1):
                return True
            rows[r].discard(v)
            cols[c].discard(v)
        g[r][c] = 0
        return False

    if fill(0):
        return g
    perm_r, perm_c, syms = list(range(n)), list(range(n)), list(range(1, n + 1))
    rng.shuffle(perm_r)
    rng.shuffle(perm_c)
    rng.shuffle(syms)
    return [[syms[(perm_r[r] + perm_c[c]) % n] for c in range(n)] for r in range(n)]


class Hitori(LogicTask):
    task_name = "hitori"
    description = "Hitori: shade cells so rows/columns have no repeated unshaded number, shaded cells apart, rest connected"
    answer_format = "JSON list of shaded cells [[r,c], ...], 0-based"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "density": 0.2},
        1: {"n": 5, "density": 0.22},
        2: {"n": 6, "density": 0.25},
        3: {"n": 8, "density": 0.27},
        4: {"n": 9, "density": 0.3},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        if n < 3 or not 0 < k.density <= 0.35:
            raise ValueError(f"hitori: need n >= 3 and 0 < density <= 0.35, got {k}")
        target = max(2, round(k.density * n * n))
        for _ in range(MAX_GENERATION_ATTEMPTS):
            g = _latin(rng, n)
            shaded: set = set()
            cells = [(r, c) for r in range(n) for c in range(n)]
            rng.shuffle(cells)
            for x in cells:
                if len(shaded) >= target:
                    break
                if any((x[0] + dr, x[1] + dc) in shaded for dr, dc in ORTH):
                    continue
                shaded.add(x)
                if not _connected(n, shaded):
                    shaded.discard(x)
            if len(shaded) < max(2, target * 3 // 4):
                continue
            for r, c in sorted(shaded):
                vals = {g[r][j] for j in range(n) if (r, j) not in shaded} | \
                       {g[i][c] for i in range(n) if (i, c) not in shaded}
                g[r][c] = rng.choice(sorted(vals))
            puzzle = {"n": n, "grid": g, "solution": sorted([list(x) for x in shaded])}
            if self.check(puzzle, self.solution_text(puzzle)).reward == 1.0:
                return puzzle
        raise GenerationError(f"hitori: no instance for {k}")

    def prompt(self, p: dict) -> str:
        n = p["n"]
        return (
            f"Hitori puzzle on a {n}x{n} grid:\n{show_grid(p['grid'], blank=None)}\n\n"
            "Shade some cells so that:\n"
            "1. No number appears more than once among the unshaded cells of any row or any column.\n"
            "2. Shaded cells never share a side (they may touch diagonally).\n"
            "3. All unshaded cells form one group connected through shared sides.\n\n"
            "Rows and columns are numbered from 0, starting at the top-left. Answer with the list of shaded "
            "cells [row, col] as JSON. Example format: [[0,1],[2,0],[3,3]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n, g = p["n"], p["grid"]
        shaded = set(parse_coords(answer, n, n))
        for r, c in sorted(shaded):
            for dr, dc in ORTH:
                if (r + dr, c + dc) in shaded:
                    return Score.fail(f"shaded cells [{r},{c}] and [{r + dr},{c + dc}] share a side", format_ok=True)
        for r in range(n):
            seen: dict = {}
            for c in range(n):
                if (r, c) not in shaded:
                    v = g[r][c]
                    if v in seen:
                        return Score.fail(f"row {r}: number {v} is unshaded at columns {seen[v]} and {c}",
                                          format_ok=True)
                    seen[v] = c
        for c in range(n):
            seen = {}
            for r in range(n):
                if (r, c) not in shaded:
                    v = g[r][c]
                    if v in seen:
                        return Score.fail(f"column {c}: number {v} is unshaded at rows {seen[v]} and {r}",
                                          format_ok=True)
                    seen[v] = r
        if not _connected(n, shaded):
            return Score.fail("the unshaded cells are not all connected", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        n = p["n"]
        return json.dumps([[r, c] for r in range(n) for c in range(n) if rng.random() < 0.25])

    def solution_text(self, p: dict) -> str:
        return "[" + ",".join(f"[{r},{c}]" for r, c in p["solution"]) + "]"

    def reasoning(self, p: dict) -> str:
        g = p["grid"]
        lines = [f"shade [{r},{c}] (its {g[r][c]} repeats in its row or column)" for r, c in p["solution"]]
        return ("Repeated numbers in a row or column must be shaded until each line has no unshaded repeat, "
                "without shading neighbours or cutting the unshaded cells apart.\n" + "\n".join(lines) +
                "\nNo unshaded repeats remain, shaded cells are apart and the rest stays connected.")


register_logic(Hitori)
