"""Arrow Maze: fill the blank cells with arrows so that each number's rays total that number.

A ray of a number cell starts at its neighbour in one of the 8 directions and continues while the
cells hold the arrow pointing in that direction (away from the number). Rules: every blank cell
gets one of the 8 arrows; each number equals the summed length of its 8 rays; every arrow lies on
some number's ray. The generator covers the grid with random rays grown from random number cells
(so it is solvable by construction), then reveals some arrows as hints. The verifier recomputes the
rays, so any valid filling passes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, \
    parse_cell_grid, register_logic

DIRS = {"↑": (-1, 0), "↓": (1, 0), "←": (0, -1), "→": (0, 1),
        "↖": (-1, -1), "↗": (-1, 1), "↙": (1, -1), "↘": (1, 1)}
ARROW_OF = {v: k for k, v in DIRS.items()}


@dataclass
class Knobs:
    h: int = 5
    w: int = 5
    number_rate: float = 0.2  #: fraction of cells that hold numbers
    prefill: float = 0.3      #: fraction of arrow cells revealed as hints


def ray_lengths(g: list[list[str]], r: int, c: int) -> dict[str, int]:
    h, w = len(g), len(g[0])
    out = {}
    for a, (dr, dc) in DIRS.items():
        n = 0
        rr, cc = r + dr, c + dc
        while 0 <= rr < h and 0 <= cc < w and g[rr][cc] == a:
            n += 1
            rr += dr
            cc += dc
        out[a] = n
    return out


def grid_text(grid: list[list]) -> str:
    """One row per line, arrows written as themselves (not \\u escapes)."""
    return "[" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in grid) + "]"


class ArrowMaze(LogicTask):
    task_name = "arrow_maze"
    description = "Arrow Maze: fill arrows so the rays leaving each number total that number"
    answer_format = "JSON grid: numbers kept, every other cell one of ↑ ↓ ← → ↖ ↗ ↙ ↘"
    Knobs = Knobs
    level_table = {
        0: {"h": 4, "w": 4, "number_rate": 0.25, "prefill": 0.5},
        1: {"h": 5, "w": 5, "number_rate": 0.22, "prefill": 0.35},
        2: {"h": 6, "w": 6, "number_rate": 0.2, "prefill": 0.25},
        3: {"h": 7, "w": 7, "number_rate": 0.18, "prefill": 0.15},
        4: {"h": 9, "w": 9, "number_rate": 0.15, "prefill": 0.08},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        h, w = k.h, k.w
        if h < 2 or w < 2 or not 0 < k.number_rate < 1 or not 0 <= k.prefill < 1:
            raise ValueError(f"arrow_maze: need h, w >= 2, 0 < number_rate < 1, 0 <= prefill < 1, got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            cells = [(r, c) for r in range(h) for c in range(w)]
            rng.shuffle(cells)
            n_num = max(1, round(k.number_rate * h * w))
            g = [[""] * w for _ in range(h)]  # "" uncovered, "N" number, else arrow
            for r, c in cells[:n_num]:
                g[r][c] = "N"
            for x in cells[n_num:]:
                if g[x[0]][x[1]]:
                    continue
                cands = []
                for a, (dr, dc) in DIRS.items():
                    # walk from x backwards (against the arrow) to find a number
                    rr, cc = x[0] - dr, x[1] - dc
                    path = []
                    while 0 <= rr < h and 0 <= cc < w and g[rr][cc] in ("", a):
                        path.append((rr, cc))
                        rr -= dr
                        cc -= dc
                    if 0 <= rr < h and 0 <= cc < w and g[rr][cc] == "N":
                        cands.append((a, path))
                if not cands:
                    g[x[0]][x[1]] = "N"
                    continue
                a, path = rng.choice(cands)
                g[x[0]][x[1]] = a
                for rr, cc in path:
                    g[rr][cc] = a
            sol: list[list] = [row[:] for row in g]
            zero = False
            for r in range(h):
                for c in range(w):
                    if g[r][c] == "N":
                        total = sum(ray_lengths(g, r, c).values())
                        zero = zero or total == 0
                        sol[r][c] = total
            if zero:
                continue
            arrows = [(r, c) for r in range(h) for c in range(w) if isinstance(sol[r][c], str)]
            rng.shuffle(arrows)
            shown = set(arrows[:round(k.prefill * len(arrows))])
            givens = [[sol[r][c] if (isinstance(sol[r][c], int) or (r, c) in shown) else "" for c in range(w)]
                      for r in range(h)]
            puzzle = {"h": h, "w": w, "givens": givens, "solution": sol}
            if self.check(puzzle, grid_text(sol)).reward == 1.0:
                return puzzle
        raise GenerationError(f"arrow_maze: no instance for {k}")

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        rows = "\n".join(" ".join(str(v) if v != "" else "." for v in row) for row in p["givens"])
        return (
            f"Arrow Maze on a {h}x{w} grid. Numbers are fixed, some arrows are given as hints, and '.' is a "
            f"blank cell:\n{rows}\n\n"
            "Fill every blank cell with one of the 8 arrows ↑ ↓ ← → ↖ ↗ ↙ ↘ (up, down, left, right and the "
            "four diagonals). A ray of a number starts at the number's neighbour in one of the 8 directions and "
            "continues in a straight line as long as the cells hold the arrow pointing in that same direction "
            "(away from the number); its length is the number of such cells. Rules:\n"
            "1. Each number equals the total length of its rays in all 8 directions.\n"
            "2. Every arrow lies on a ray of some number: following it backwards over cells with the same "
            "arrow leads to a number.\n"
            "3. Given arrows stay as they are.\n\n"
            "Answer with the full grid as a JSON list of rows, numbers as numbers and arrows as strings. "
            "Example format for a 2x3 grid: [[1,\"→\",\"↓\"],[\"↑\",2,\"↓\"]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w, givens = p["h"], p["w"], p["givens"]
        g = parse_cell_grid(answer, h, w, pyish=bool(p.get("synlogic")))
        for r in range(h):
            for c in range(w):
                v, giv = g[r][c], givens[r][c]
                if isinstance(giv, int):
                    if v != str(giv):
                        return Score.fail(f"cell ({r},{c}) must keep its number {giv}", format_ok=True)
                    g[r][c] = "N"
                elif v not in DIRS:
                    if v.isdigit():
                        return Score.fail(f"cell ({r},{c}) has a number {v} that is not given", format_ok=True)
                    raise AnswerParseError(f"cell ({r},{c}) holds {v!r}; use one of ↑ ↓ ← → ↖ ↗ ↙ ↘")
                elif giv and v != giv:
                    return Score.fail(f"cell ({r},{c}) must keep its given arrow {giv}", format_ok=True)
        covered: set = set()
        for r in range(h):
            for c in range(w):
                if g[r][c] != "N":
                    continue
                rays = ray_lengths(g, r, c)
                total = sum(rays.values())
                if total != givens[r][c]:
                    return Score.fail(f"number {givens[r][c]} at ({r},{c}) has rays of total length {total}",
                                      format_ok=True)
                for a, n in rays.items():
                    dr, dc = DIRS[a]
                    for i in range(1, n + 1):
                        covered.add((r + i * dr, c + i * dc))
        for r in range(h):
            for c in range(w):
                if g[r][c] != "N" and (r, c) not in covered:
                    return Score.fail(f"arrow at ({r},{c}) is not on any number's ray", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        arrows = sorted(DIRS)
        return grid_text([[v if v != "" else rng.choice(arrows) for v in row] for row in p["givens"]])

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows: ``metadata["maze"]`` is the question grid (numbers as digit strings, "X"
        blank, given arrows); the rules are the same as here. The answer grid may be written in
        Python or JSON spelling. The row maps only when its gold answer passes this task's check."""
        maze = metadata["maze"]
        if not (isinstance(maze, list) and maze and all(isinstance(row, list) for row in maze)):
            return None
        h, w = len(maze), len(maze[0])
        givens: list[list] = []
        for row in maze:
            if len(row) != w:
                return None
            out = []
            for x in row:
                x = str(x).strip()
                if x.isdigit():
                    out.append(int(x))
                elif x == "X":
                    out.append("")
                elif x in DIRS:
                    out.append(x)
                else:
                    return None
            givens.append(out)
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        try:
            sol = parse_cell_grid(text, h, w, pyish=True)
        except AnswerParseError:
            return None
        solution = [[int(v) if v.isdigit() else v for v in row] for row in sol]
        puzzle = {"h": h, "w": w, "givens": givens, "solution": solution, "synlogic": True}
        if cls().check(puzzle, grid_text(solution)).reward != 1.0:
            return None
        return puzzle

    def reasoning(self, p: dict) -> str:
        sol = p["solution"]
        lines = []
        for r in range(p["h"]):
            for c in range(p["w"]):
                if isinstance(sol[r][c], int):
                    rays = {a: n for a, n in ray_lengths(sol, r, c).items() if n}
                    parts = " + ".join(f"{n}{a}" for a, n in rays.items())
                    lines.append(f"{sol[r][c]} at ({r},{c}) = {parts}")
        return ("Every blank cell must extend a ray that runs straight back to a number, and each number's "
                "rays must add up to it:\n" + "\n".join(lines))


register_logic(ArrowMaze)
