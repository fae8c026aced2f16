"""Campsite (Tents and Trees): place one tent next to each tree.

Rules: every tree gets exactly one tent on an orthogonally adjacent cell (tents and trees can be
paired one-to-one), tents never touch each other, not even diagonally, and each row and column
holds the stated number of tents. The verifier checks every rule, the tent/tree pairing by a
bipartite matching, so any valid placement passes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, LogicTask, grid_text, parse_cell_grid, register_logic, GenerationError, \
    MAX_GENERATION_ATTEMPTS

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))
AROUND = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)


@dataclass
class Knobs:
    h: int = 5           #: rows
    w: int = 5           #: columns
    density: float = 0.12  #: target fraction of cells holding a tree (as many tents)


def _matching(tents: list[tuple[int, int]], trees: set[tuple[int, int]]) -> int:
    """Size of a maximum tent-tree matching (orthogonal adjacency), by augmenting paths."""
    match_tree: dict[tuple[int, int], tuple[int, int]] = {}

    def augment(t, seen):
        r, c = t
        for dr, dc in ORTH:
            tr = (r + dr, c + dc)
            if tr in trees and tr not in seen:
                seen.add(tr)
                if tr not in match_tree or augment(match_tree[tr], seen):
                    match_tree[tr] = t
                    return True
        return False

    return sum(1 for t in tents if augment(t, set()))


class Campsite(LogicTask):
    task_name = "campsite"
    description = "Tents and trees: one tent beside each tree, tents never touch, row/column tent counts"
    answer_format = 'JSON grid of "T" (tree), "X" (tent), "." (empty)'
    Knobs = Knobs
    level_table = {
        0: {"h": 4, "w": 4, "density": 0.2},
        1: {"h": 5, "w": 5, "density": 0.16},
        2: {"h": 6, "w": 6, "density": 0.17},
        3: {"h": 8, "w": 8, "density": 0.18},
        4: {"h": 10, "w": 10, "density": 0.19},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        h, w = k.h, k.w
        if h < 2 or w < 2 or not 0 < k.density <= 0.3:
            raise ValueError(f"campsite: need h, w >= 2 and 0 < density <= 0.3, got {k}")
        target = max(2, round(k.density * h * w))
        for _ in range(MAX_GENERATION_ATTEMPTS):
            tents: set = set()
            trees: set = set()
            cells = [(r, c) for r in range(h) for c in range(w)]
            rng.shuffle(cells)
            for t in cells:
                if len(tents) >= target:
                    break
                if t in trees or any((t[0] + dr, t[1] + dc) in tents for dr, dc in AROUND):
                    continue
                opts = [(t[0] + dr, t[1] + dc) for dr, dc in ORTH]
                opts = [p for p in opts if 0 <= p[0] < h and 0 <= p[1] < w and p not in trees and p not in tents
                        and not any((p[0] + dr, p[1] + dc) in tents for dr, dc in ORTH)]
                # the tree goes on a free side neighbour that no earlier tent touches side by side
                if not opts:
                    continue
                tents.add(t)
                trees.add(rng.choice(opts))
            if len(tents) < target:
                continue
            sol = [["." for _ in range(w)] for _ in range(h)]
            for r, c in trees:
                sol[r][c] = "T"
            for r, c in tents:
                sol[r][c] = "X"
            puzzle = {
                "h": h, "w": w,
                "trees": sorted([list(t) for t in trees]),
                "row_counts": [sum(1 for c in range(w) if sol[r][c] == "X") for r in range(h)],
                "col_counts": [sum(1 for r in range(h) if sol[r][c] == "X") for c in range(w)],
                "solution": sol,
            }
            if self.check(puzzle, grid_text(sol)).reward == 1.0:  # re-solve: the construction is valid
                return puzzle
        raise GenerationError(f"campsite: no instance for {k}")

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        trees = {tuple(t) for t in p["trees"]}
        rows = "\n".join(" ".join("T" if (r, c) in trees else "." for c in range(w)) + f"   {p['row_counts'][r]}"
                         for r in range(h))
        cols = " ".join(str(x) for x in p["col_counts"])
        return (
            f"Campsite puzzle on a {h}x{w} grid. 'T' is a tree, '.' an empty cell.\n"
            "Place tents ('X') on empty cells so that:\n"
            "1. Every tree has exactly one tent of its own on an orthogonally adjacent cell (up, down, left or "
            "right): tents and trees can be paired one-to-one, each pair orthogonally adjacent. So there are as "
            "many tents as trees.\n"
            "2. No two tents touch each other, not even diagonally.\n"
            "3. Each row and each column holds exactly the number of tents given for it.\n\n"
            f"Grid (the number after each row is that row's tent count):\n{rows}\n"
            f"Column tent counts (left to right): {cols}\n\n"
            "Answer with the full grid as a JSON list of rows, keeping every 'T', writing 'X' for a tent and "
            "'.' for an empty cell. Example format for a 2x3 grid: [[\"T\",\"X\",\".\"],[\".\",\".\",\".\"]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w = p["h"], p["w"]
        tent = p.get("tent", "X")  # imported SynLogic rows write tents as "C", any other mark is empty
        g = parse_cell_grid(answer, h, w, pyish=tent != "X")
        trees = {tuple(t) for t in p["trees"]}
        tents = []
        for r in range(h):
            for c in range(w):
                v = g[r][c]
                if tent == "X" and v not in ("T", "X", "."):
                    raise AnswerParseError(f"cell ({r},{c}) holds {v!r}; use 'T', 'X' or '.'")
                if (v == "T") != ((r, c) in trees):
                    return Score.fail(f"cell ({r},{c}): trees must stay exactly where given", format_ok=True)
                if v == tent:
                    tents.append((r, c))
        for r in range(h):
            n = sum(1 for c in range(w) if g[r][c] == tent)
            if n != p["row_counts"][r]:
                return Score.fail(f"row {r} has {n} tents, needs {p['row_counts'][r]}", format_ok=True)
        for c in range(w):
            n = sum(1 for r in range(h) if g[r][c] == tent)
            if n != p["col_counts"][c]:
                return Score.fail(f"column {c} has {n} tents, needs {p['col_counts'][c]}", format_ok=True)
        tent_set = set(tents)
        for r, c in tents:
            for dr, dc in AROUND:
                if (r + dr, c + dc) in tent_set:
                    return Score.fail(f"tents at ({r},{c}) and ({r + dr},{c + dc}) touch", format_ok=True)
        if len(tents) != len(trees):
            return Score.fail(f"{len(tents)} tents for {len(trees)} trees", format_ok=True)
        m = _matching(tents, trees)
        if m != len(trees):
            return Score.fail(f"tents cannot be paired one-to-one with adjacent trees ({m} of {len(trees)} pairs)",
                              format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        trees = {tuple(t) for t in p["trees"]}
        free = [(r, c) for r in range(p["h"]) for c in range(p["w"]) if (r, c) not in trees]
        tents = set(rng.sample(free, min(len(trees), len(free))))
        return grid_text([["T" if (r, c) in trees else "X" if (r, c) in tents else "." for c in range(p["w"])]
                          for r in range(p["h"])])

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows: ``metadata`` holds ``grid`` (trees "T"), ``n`` rows, ``m`` columns,
        ``row_constraints`` and ``col_constraints``; answers mark tents "C". The row maps only when
        its gold answer passes this task's rule check."""
        grid = [list(row) if isinstance(row, str) else [str(x) for x in row] for row in metadata["grid"]]
        h, w = int(metadata["n"]), int(metadata["m"])
        rows, cols = [int(x) for x in metadata["row_constraints"]], [int(x) for x in metadata["col_constraints"]]
        if len(grid) != h or any(len(row) != w for row in grid) or len(rows) != h or len(cols) != w:
            return None
        puzzle = {"h": h, "w": w, "trees": [[r, c] for r in range(h) for c in range(w) if grid[r][c] == "T"],
                  "row_counts": rows, "col_counts": cols, "tent": "C", "solution": None}
        text = answer if isinstance(answer, str) else json.dumps(answer)
        try:
            sol = parse_cell_grid(text, h, w, pyish=True)
        except AnswerParseError:
            return None
        puzzle["solution"] = sol
        if cls().check(puzzle, text).reward != 1.0:
            return None
        return puzzle

    def reasoning(self, p: dict) -> str:
        sol = p["solution"]
        pairs = []
        for r, c in (tuple(t) for t in p["trees"]):
            for dr, dc in ORTH:
                rr, cc = r + dr, c + dc
                if 0 <= rr < p["h"] and 0 <= cc < p["w"] and sol[rr][cc] == "X":
                    pairs.append(f"tree ({r},{c}) -> tent ({rr},{cc})")
                    break
        return ("Each tree needs its own orthogonal neighbour tent; tents may not touch, and the row/column "
                "counts must hold. A placement that satisfies everything:\n" + "\n".join(pairs) +
                "\nRow counts " + str(p["row_counts"]) + " and column counts " + str(p["col_counts"]) + " check out.")


register_logic(Campsite)
