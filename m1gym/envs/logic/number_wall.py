"""Number Wall (Nurikabe-like): split the grid into numbered islands and walls.

Rules: every island (orthogonally connected group of non-wall cells) holds exactly one number and
has exactly that many cells; walls never form a 2x2 block. (Walls need not be connected.) The
generator grows random islands, then breaks every 2x2 wall block by growing an island into it or
adding a 1-island, and numbers each island. The verifier checks the rules, so any valid split passes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, grid_text, \
    parse_cell_grid, register_logic

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass
class Knobs:
    n: int = 5
    max_island: int = 4       #: largest island size drawn at first
    island_rate: float = 0.12  #: islands seeded per cell


class NumberWall(LogicTask):
    task_name = "number_wall"
    description = "Number Wall: numbered islands of that size separated by walls, no 2x2 walls"
    answer_format = 'JSON grid: numbers kept, "#" wall, "." island cell'
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "max_island": 3, "island_rate": 0.2},
        1: {"n": 5, "max_island": 4, "island_rate": 0.16},
        2: {"n": 6, "max_island": 5, "island_rate": 0.14},
        3: {"n": 8, "max_island": 6, "island_rate": 0.12},
        4: {"n": 10, "max_island": 7, "island_rate": 0.1},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        if n < 2 or k.max_island < 1 or not 0 < k.island_rate <= 1:
            raise ValueError(f"number_wall: need n >= 2, max_island >= 1, 0 < island_rate <= 1, got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            isl = [[-1] * n for _ in range(n)]
            sizes: list[int] = []

            def free_for(cell, i):
                r, c = cell
                if isl[r][c] >= 0:
                    return False
                return all(isl[r + dr][c + dc] in (-1, i) for dr, dc in ORTH if 0 <= r + dr < n and 0 <= c + dc < n)

            cells = [(r, c) for r in range(n) for c in range(n)]
            rng.shuffle(cells)
            n_islands = max(1, round(k.island_rate * n * n))
            for seed in cells:
                if len(sizes) >= n_islands:
                    break
                i = len(sizes)
                if not free_for(seed, i):
                    continue
                isl[seed[0]][seed[1]] = i
                members = [seed]
                want = rng.randint(1, k.max_island)
                while len(members) < want:
                    opts = [(r + dr, c + dc) for r, c in members for dr, dc in ORTH
                            if 0 <= r + dr < n and 0 <= c + dc < n and free_for((r + dr, c + dc), i)]
                    if not opts:
                        break
                    x = rng.choice(sorted(set(opts)))
                    isl[x[0]][x[1]] = i
                    members.append(x)
                sizes.append(len(members))
            # break every 2x2 block of walls
            ok = True
            for _pass in range(4 * n * n):
                block = None
                for r in range(n - 1):
                    for c in range(n - 1):
                        if isl[r][c] < 0 and isl[r + 1][c] < 0 and isl[r][c + 1] < 0 and isl[r + 1][c + 1] < 0:
                            block = (r, c)
                            break
                    if block:
                        break
                if block is None:
                    break
                r0, c0 = block
                quad = [(r0, c0), (r0 + 1, c0), (r0, c0 + 1), (r0 + 1, c0 + 1)]
                rng.shuffle(quad)
                done = False
                for x in quad:
                    near = {isl[x[0] + dr][x[1] + dc] for dr, dc in ORTH
                            if 0 <= x[0] + dr < n and 0 <= x[1] + dc < n} - {-1}
                    if len(near) == 1:
                        i = near.pop()
                        isl[x[0]][x[1]] = i
                        sizes[i] += 1
                        done = True
                        break
                    if not near:
                        isl[x[0]][x[1]] = len(sizes)
                        sizes.append(1)
                        done = True
                        break
                if not done:
                    ok = False
                    break
            if not ok or any(isl[r][c] < 0 and isl[r + 1][c] < 0 and isl[r][c + 1] < 0 and isl[r + 1][c + 1] < 0
                             for r in range(n - 1) for c in range(n - 1)):
                continue
            members_of: dict = {}
            for r in range(n):
                for c in range(n):
                    if isl[r][c] >= 0:
                        members_of.setdefault(isl[r][c], []).append((r, c))
            givens = [[0] * n for _ in range(n)]
            sol = [["#" if isl[r][c] < 0 else "." for c in range(n)] for r in range(n)]
            for i in sorted(members_of):
                r, c = rng.choice(members_of[i])
                givens[r][c] = len(members_of[i])
                sol[r][c] = len(members_of[i])
            puzzle = {"n": n, "givens": givens, "solution": sol}
            if self.check(puzzle, grid_text(sol)).reward == 1.0:
                return puzzle
        raise GenerationError(f"number_wall: no instance for {k}")

    def prompt(self, p: dict) -> str:
        n = p["n"]
        rows = "\n".join(" ".join(str(v) if v else "." for v in row) for row in p["givens"])
        return (
            f"Number Wall puzzle on a {n}x{n} grid ('.' = undecided cell):\n{rows}\n\n"
            "Turn every undecided cell into a wall '#' or an island cell '.' so that:\n"
            "1. Every island (a group of non-wall cells connected through shared sides; numbered cells are "
            "island cells) contains exactly one number, and that number equals the island's size in cells.\n"
            "2. No 2x2 square consists only of walls.\n"
            "Walls do not need to be connected.\n\n"
            "Answer with the full grid as a JSON list of rows: keep every number as it is, write \"#\" for a "
            "wall and \".\" for an island cell without a number. Example format for a 2x3 grid: "
            "[[2,\".\",\"#\"],[\"#\",\"#\",1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n, givens = p["n"], p["givens"]
        wall, isle = p.get("wall", "#"), p.get("island", ".")
        g = parse_cell_grid(answer, n, n, pyish=wall != "#")
        for r in range(n):
            for c in range(n):
                v = g[r][c]
                if givens[r][c]:
                    if v != str(givens[r][c]):
                        return Score.fail(f"cell ({r},{c}) must keep its number {givens[r][c]}", format_ok=True)
                elif v not in (wall, isle):
                    if v.isdigit():
                        return Score.fail(f"cell ({r},{c}) has a number {v} that is not given", format_ok=True)
                    raise AnswerParseError(f"cell ({r},{c}) holds {v!r}; use {wall!r} or {isle!r}")
        for r in range(n - 1):
            for c in range(n - 1):
                if g[r][c] == g[r + 1][c] == g[r][c + 1] == g[r + 1][c + 1] == wall:
                    return Score.fail(f"2x2 block of walls at rows {r}-{r + 1}, columns {c}-{c + 1}", format_ok=True)
        island_of = [[-1] * n for _ in range(n)]
        n_islands = 0
        for r in range(n):
            for c in range(n):
                if g[r][c] == wall or island_of[r][c] >= 0:
                    continue
                stack = [(r, c)]
                island_of[r][c] = n_islands
                size, numbers = 0, []
                while stack:
                    x, y = stack.pop()
                    size += 1
                    if givens[x][y]:
                        numbers.append(givens[x][y])
                    for dr, dc in ORTH:
                        a, b = x + dr, y + dc
                        if 0 <= a < n and 0 <= b < n and island_of[a][b] < 0 and g[a][b] != wall:
                            island_of[a][b] = n_islands
                            stack.append((a, b))
                n_islands += 1
                if len(numbers) != 1:
                    return Score.fail(f"the island containing ({r},{c}) holds {len(numbers)} numbers, needs 1",
                                      format_ok=True)
                if numbers[0] != size:
                    return Score.fail(f"the island of number {numbers[0]} (through ({r},{c})) has {size} cells",
                                      format_ok=True)
        if p.get("no_diagonal_touch"):  # SynLogic's extra rule: different islands never touch diagonally
            for r in range(n - 1):
                for c in range(n - 1):
                    for (a, b), (x, y) in (((r, c), (r + 1, c + 1)), ((r, c + 1), (r + 1, c))):
                        i, j = island_of[a][b], island_of[x][y]
                        if i >= 0 and j >= 0 and i != j:
                            return Score.fail(f"islands at ({a},{b}) and ({x},{y}) touch diagonally", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        return grid_text([[v if v else rng.choice("#.") for v in row] for row in p["givens"]])

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows: ``metadata`` holds ``grid`` (numbers, "X" for blank) and ``n``; answers mark
        walls "A" and island cells "X", and SynLogic adds one rule, kept for these rows: two
        different islands may not touch diagonally. The row maps only when its gold answer passes."""
        grid, n = metadata["grid"], int(metadata["n"])
        if not (isinstance(grid, list) and len(grid) == n and all(isinstance(r, list) and len(r) == n for r in grid)):
            return None
        givens = [[int(v) if str(v).strip().isdigit() else 0 for v in row] for row in grid]
        text = answer if isinstance(answer, str) else json.dumps(answer)
        try:
            sol = parse_cell_grid(text, n, n, pyish=True)
        except AnswerParseError:
            return None
        solution = [[int(v) if v.isdigit() else v for v in row] for row in sol]
        puzzle = {"n": n, "givens": givens, "solution": solution, "wall": "A", "island": "X",
                  "no_diagonal_touch": True}
        if cls().check(puzzle, grid_text(solution)).reward != 1.0:
            return None
        return puzzle

    def reasoning(self, p: dict) -> str:
        n, g, sol = p["n"], p["givens"], p["solution"]
        seen: set = set()
        lines = []
        for r in range(n):
            for c in range(n):
                if not g[r][c]:
                    continue
                comp, stack = [], [(r, c)]
                seen.add((r, c))
                while stack:
                    x, y = stack.pop()
                    comp.append((x, y))
                    for dr, dc in ORTH:
                        a, b = x + dr, y + dc
                        if 0 <= a < n and 0 <= b < n and (a, b) not in seen and sol[a][b] != "#":
                            seen.add((a, b))
                            stack.append((a, b))
                cells = ", ".join(f"({a},{b})" for a, b in sorted(comp))
                lines.append(f"{g[r][c]} at ({r},{c}): island {cells}")
        return ("Each number grows into an island of exactly that size; islands may not touch side by side "
                "(that would merge them), every other cell is a wall, and each 2x2 square needs at least one "
                "island cell.\n" + "\n".join(lines) + "\nAll remaining cells are walls; no 2x2 wall block remains.")


register_logic(NumberWall)
