"""Star Battle: place k stars in every row, column and region; stars never touch.

The generator draws a random valid star placement, then grows the regions around it (k = 1: one
region per star; k = 2: one region per star, then adjacent regions paired by a random perfect
matching), so every instance is solvable; the verifier checks every rule (any valid placement passes).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, is_int, parse_coords, \
    parse_pyish, register_logic

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Knobs:
    n: int = 5  #: grid side = number of regions
    k: int = 1  #: stars per row, column and region (1 or 2)


def _place(rng: random.Random, n: int, k: int) -> list[tuple[int, int]] | None:
    """A random placement of k non-touching stars per row and column (bounded backtracking)."""
    combos = [c for c in itertools.combinations(range(n), k) if all(b - a > 1 for a, b in zip(c, c[1:]))]
    col_count = [0] * n
    rows: list = []
    budget = [20000]

    def rec(r: int, prev: tuple) -> bool:
        if r == n:
            return all(x == k for x in col_count)
        budget[0] -= 1
        if budget[0] < 0:
            return False
        opts = combos[:]
        rng.shuffle(opts)
        rows_left = n - r - 1
        for cs in opts:
            if any(col_count[c] >= k for c in cs) or any(abs(c - p) <= 1 for c in cs for p in prev):
                continue
            for c in cs:
                col_count[c] += 1
            # every column must still be able to reach k stars
            if all(k - x <= rows_left for x in col_count) or r == n - 1:
                rows.append(cs)
                if rec(r + 1, cs):
                    return True
                rows.pop()
            for c in cs:
                col_count[c] -= 1
        return False

    if not rec(0, ()):
        return None
    return [(r, c) for r, cs in enumerate(rows) for c in cs]


def parse_one_based(text: str, n: int) -> list[tuple[int, int]]:
    """SynLogic answer style: a dict region -> list of 1-based (row, col) cells (Python or JSON
    spelling, code fences allowed), or a plain list of 1-based cells. Returns 0-based cells."""
    data = parse_pyish(text)
    cells = [c for v in data.values() for c in (v if isinstance(v, list) else [None])] \
        if isinstance(data, dict) else data
    if not isinstance(cells, list):
        raise AnswerParseError("expected {region: [(row, col), ...]} with 1-based rows and columns")
    out = []
    for item in cells:
        if not (isinstance(item, list) and len(item) == 2 and all(is_int(v) for v in item)):
            raise AnswerParseError(f"{str(item)[:30]} is not a (row, col) pair of integers")
        r, c = item[0] - 1, item[1] - 1
        if not (0 <= r < n and 0 <= c < n):
            raise AnswerParseError(f"cell {item} is outside the grid (rows and columns count from 1)")
        out.append((r, c))
    return out


class StarPlacementPuzzle(LogicTask):
    task_name = "star_placement_puzzle"
    description = "Star Battle: k stars in every row, column and region, no two stars touching"
    answer_format = "JSON list of star cells [[r,c], ...], 0-based"
    Knobs = Knobs
    level_table = {
        0: {"n": 5, "k": 1},
        1: {"n": 6, "k": 1},
        2: {"n": 8, "k": 1},
        3: {"n": 9, "k": 2},
        4: {"n": 10, "k": 2},
    }

    def build(self, rng: random.Random, kn: Knobs) -> dict:
        n, k = kn.n, kn.k
        if k not in (1, 2) or not (4 if k == 1 else 6) <= n <= len(LETTERS):
            raise ValueError(f"star_placement_puzzle: need k in (1, 2) and {4 if k == 1 else 6} <= n <= "
                             f"{len(LETTERS)}, got n={n}, k={k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            stars = _place(rng, n, k)
            if stars is None:
                continue
            region = [[-1] * n for _ in range(n)]
            frontier = []
            for i, (r, c) in enumerate(stars):
                region[r][c] = i
                frontier.append((r, c))
            while frontier:
                j = rng.randrange(len(frontier))
                r, c = frontier[j]
                opts = [(r + dr, c + dc) for dr, dc in ORTH
                        if 0 <= r + dr < n and 0 <= c + dc < n and region[r + dr][c + dc] < 0]
                if not opts:
                    frontier[j] = frontier[-1]
                    frontier.pop()
                    continue
                rr, cc = rng.choice(opts)
                region[rr][cc] = region[r][c]
                frontier.append((rr, cc))
            if k == 2:
                pairing = self._pair_regions(rng, region, len(stars))
                if pairing is None:
                    continue
                region = [[pairing[v] for v in row] for row in region]
            order: dict = {}
            for row in region:
                for v in row:
                    order.setdefault(v, len(order))
            region = [[order[v] for v in row] for row in region]
            puzzle = {"n": n, "k": k, "regions": region, "solution": sorted([list(s) for s in stars])}
            if self.check(puzzle, self.solution_text(puzzle)).reward == 1.0:
                return puzzle
        raise GenerationError(f"star_placement_puzzle: no instance for {kn}")

    @staticmethod
    def _pair_regions(rng: random.Random, region: list, m: int) -> dict | None:
        n = len(region)
        adj: list[set] = [set() for _ in range(m)]
        for r in range(n):
            for c in range(n):
                for dr, dc in ((1, 0), (0, 1)):
                    rr, cc = r + dr, c + dc
                    if rr < n and cc < n and region[r][c] != region[rr][cc]:
                        adj[region[r][c]].add(region[rr][cc])
                        adj[region[rr][cc]].add(region[r][c])
        mate: dict = {}
        budget = [5000]

        def rec() -> bool:
            free = [v for v in range(m) if v not in mate]
            if not free:
                return True
            budget[0] -= 1
            if budget[0] < 0:
                return False
            v = min(free, key=lambda x: (sum(1 for y in adj[x] if y not in mate), x))
            opts = sorted(y for y in adj[v] if y not in mate)
            rng.shuffle(opts)
            for y in opts:
                mate[v], mate[y] = y, v
                if rec():
                    return True
                del mate[v], mate[y]
            return False

        if not rec():
            return None
        return {v: min(v, mate[v]) for v in range(m)}

    def prompt(self, p: dict) -> str:
        n, k, reg = p["n"], p["k"], p["regions"]
        rows = "\n".join(" ".join(LETTERS[v] for v in row) for row in reg)
        star = "star" if k == 1 else "stars"
        return (
            f"Star Battle puzzle on a {n}x{n} grid divided into {n} regions; each letter names a region:\n"
            f"{rows}\n\n"
            f"Place stars so that every row, every column and every region contains exactly {k} {star}, "
            "and no two stars touch each other, not even diagonally.\n\n"
            "Rows and columns are numbered from 0, starting at the top-left. Answer with the list of star "
            "cells [row, col] as JSON. Example format: [[0,1],[1,3],[2,0]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n, k, reg = p["n"], p["k"], p["regions"]
        stars = parse_one_based(answer, n) if p.get("one_based") else parse_coords(answer, n, n)
        s = set(stars)
        if len(s) != len(stars):
            return Score.fail("a star is listed twice", format_ok=True)
        for r, c in stars:
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if (dr or dc) and (r + dr, c + dc) in s:
                        return Score.fail(f"stars [{r},{c}] and [{r + dr},{c + dc}] touch", format_ok=True)
        rows, cols, regs = [0] * n, [0] * n, [0] * n
        for r, c in stars:
            rows[r] += 1
            cols[c] += 1
            regs[reg[r][c]] += 1
        for name, counts in (("row", rows), ("column", cols)):
            for i, x in enumerate(counts):
                if x != k:
                    return Score.fail(f"{name} {i} has {x} stars, needs {k}", format_ok=True)
        for i, x in enumerate(regs):
            if x != k:
                return Score.fail(f"region {LETTERS[i]} has {x} stars, needs {k}", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        n, k = p["n"], p["k"]
        return json.dumps([[r, c] for r in range(n) for c in sorted(rng.sample(range(n), k))])

    def solution_text(self, p: dict) -> str:
        if p.get("one_based"):  # imported SynLogic row: its answer style, region -> 1-based cells
            labels = p["region_labels"]
            by_region: dict = {}
            for r, c in p["solution"]:
                by_region.setdefault(labels[p["regions"][r][c]], []).append([r + 1, c + 1])
            return json.dumps(dict(sorted(by_region.items())))
        return "[" + ",".join(f"[{r},{c}]" for r, c in p["solution"]) + "]"

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows: ``metadata`` holds ``n``, ``k`` and ``region_grid`` (rows of region labels);
        the answer is a dict region -> list of 1-based (row, col) cells, as SynLogic prompts ask. The
        row maps only when its gold answer passes this task's rule check."""
        n, k = int(metadata["n"]), int(metadata["k"])
        grid = [list(row) if isinstance(row, str) else [str(x) for x in row] for row in metadata["region_grid"]]
        if len(grid) != n or any(len(row) != n for row in grid) or k not in (1, 2):
            return None
        labels: list[str] = []
        for row in grid:
            for x in row:
                if x not in labels:
                    labels.append(x)
        if len(labels) != n or n > len(LETTERS):
            return None
        puzzle = {"n": n, "k": k, "regions": [[labels.index(x) for x in row] for row in grid],
                  "region_labels": labels, "one_based": True, "solution": []}
        text = answer if isinstance(answer, str) else json.dumps(answer)
        try:
            stars = parse_one_based(text, n)
        except AnswerParseError:
            return None
        puzzle["solution"] = sorted([list(x) for x in stars])
        if cls().check(puzzle, text).reward != 1.0:
            return None
        return puzzle

    def reasoning(self, p: dict) -> str:
        reg = p["regions"]
        lines = [f"row {r}: star at column {c} (region {LETTERS[reg[r][c]]})" for r, c in p["solution"]]
        return (f"Each row, column and region needs exactly {p['k']} star(s) and stars may not touch. "
                "Going row by row:\n" + "\n".join(lines) + "\nAll columns and regions get their count and no "
                "two stars are neighbours.")


register_logic(StarPlacementPuzzle)
