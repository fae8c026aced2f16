"""Norinori: shade dominoes so that every region holds exactly two shaded cells.

Rules: the grid is divided into regions; shade cells so that each region contains exactly two
shaded cells and every shaded cell is orthogonally adjacent to exactly one other shaded cell (the
shaded cells form dominoes that do not touch each other side by side). The verifier checks EVERY
region, including regions the answer does not touch (an uncovered region is a failure).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, is_int, parse_json, \
    register_logic

ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass
class Knobs:
    n: int = 5               #: grid side
    region_size: float = 5.0  #: mean cells per region (fewer, larger regions are harder)


def parse_dominoes(text: str, n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    data = parse_json(text)
    if not isinstance(data, list):
        raise AnswerParseError("expected a JSON list of dominoes, e.g. [[[0,0],[0,1]], [[2,3],[3,3]]]")
    out = []
    for d in data:
        if not (isinstance(d, list) and len(d) == 2 and all(
                isinstance(p, list) and len(p) == 2 and all(is_int(v) for v in p) for p in d)):
            raise AnswerParseError(f"{str(d)[:40]} is not a domino [[r1,c1],[r2,c2]]")
        a, b = tuple(d[0]), tuple(d[1])
        for r, c in (a, b):
            if not (0 <= r < n and 0 <= c < n):
                raise AnswerParseError(f"cell [{r},{c}] is outside the {n}x{n} grid")
        out.append((a, b))
    return out


class Norinori(LogicTask):
    task_name = "norinori"
    description = "Norinori: shade dominoes so every region has exactly two shaded cells"
    answer_format = "JSON list of dominoes [[[r1,c1],[r2,c2]], ...], 0-based"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "region_size": 4.0},
        1: {"n": 5, "region_size": 5.0},
        2: {"n": 6, "region_size": 6.0},
        3: {"n": 8, "region_size": 6.5},
        4: {"n": 10, "region_size": 7.0},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        n_regions = max(2, round(n * n / k.region_size)) if k.region_size > 0 else 0
        if n < 2 or not 2 <= n_regions <= len(LETTERS) or k.region_size < 3:
            raise ValueError(f"norinori: need n >= 2, region_size >= 3 and at most {len(LETTERS)} regions, got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            shaded: dict = {}
            dominoes = []
            cells = [(r, c) for r in range(n) for c in range(n)]
            rng.shuffle(cells)
            for a in cells:
                if len(dominoes) >= n_regions:
                    break
                dirs = list(ORTH)
                rng.shuffle(dirs)
                for dr, dc in dirs:
                    b = (a[0] + dr, a[1] + dc)
                    if not (0 <= b[0] < n and 0 <= b[1] < n):
                        continue
                    if a in shaded or b in shaded:
                        continue
                    # neither cell may touch another domino side by side
                    if any((x[0] + er, x[1] + ec) in shaded for x in (a, b) for er, ec in ORTH):
                        continue
                    shaded[a] = shaded[b] = len(dominoes)
                    dominoes.append((a, b))
                    break
            if len(dominoes) < n_regions:
                continue
            region = [[-1] * n for _ in range(n)]
            frontier = []
            for i, (a, b) in enumerate(dominoes):
                for r, c in (a, b):
                    region[r][c] = i
                    frontier.append((r, c))
            # grow the regions over unshaded cells in random order
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
            order: dict = {}
            for row in region:
                for v in row:
                    order.setdefault(v, len(order))
            region = [[order[v] for v in row] for row in region]
            puzzle = {"n": n, "regions": region,
                      "solution": sorted([[list(a), list(b)] for a, b in dominoes])}
            if self.check(puzzle, self.solution_text(puzzle)).reward == 1.0:
                return puzzle
        raise GenerationError(f"norinori: no instance for {k}")

    def prompt(self, p: dict) -> str:
        n, reg = p["n"], p["regions"]
        rows = "\n".join(" ".join(LETTERS[v] for v in row) for row in reg)
        return (
            f"Norinori puzzle on a {n}x{n} grid divided into regions; each letter names a region:\n{rows}\n\n"
            "Shade some cells so that:\n"
            "1. Every region contains exactly two shaded cells (every region, none may be left out).\n"
            "2. Every shaded cell is orthogonally adjacent (up/down/left/right) to exactly one other shaded "
            "cell, so the shaded cells form dominoes (1x2 pieces) and no two dominoes touch side by side "
            "(touching diagonally is allowed). A domino may lie in one region or span two regions.\n\n"
            "Rows and columns are numbered from 0, starting at the top-left. Answer with the list of dominoes, "
            "each as its two cells [row, col], as JSON. Example format: [[[0,0],[0,1]], [[2,3],[3,3]]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n, reg = p["n"], p["regions"]
        doms = parse_dominoes(answer, n)
        shaded: set = set()
        for a, b in doms:
            if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
                return Score.fail(f"domino {list(a)}-{list(b)}: its two cells are not orthogonally adjacent",
                                  format_ok=True)
            for x in (a, b):
                if x in shaded:
                    return Score.fail(f"cell {list(x)} is used twice", format_ok=True)
                shaded.add(x)
        for r, c in sorted(shaded):
            k = sum(1 for dr, dc in ORTH if (r + dr, c + dc) in shaded)
            if k != 1:
                return Score.fail(f"shaded cell [{r},{c}] touches {k} shaded cells, must touch exactly 1",
                                  format_ok=True)
        n_regions = 1 + max(max(row) for row in reg)
        counts = [0] * n_regions
        for r, c in shaded:
            counts[reg[r][c]] += 1
        for i, k in enumerate(counts):  # every region, covered or not
            if k != 2:
                return Score.fail(f"region {LETTERS[i]} has {k} shaded cells, needs exactly 2", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        n = p["n"]
        want = 1 + max(max(row) for row in p["regions"])
        used: set = set()
        doms = []
        for _ in range(20 * want):
            if len(doms) >= want:
                break
            a = (rng.randrange(n), rng.randrange(n))
            dr, dc = rng.choice(ORTH)
            b = (a[0] + dr, a[1] + dc)
            if 0 <= b[0] < n and 0 <= b[1] < n and a not in used and b not in used:
                used.update((a, b))
                doms.append([list(a), list(b)])
        return json.dumps(doms)

    def solution_text(self, p: dict) -> str:
        return "[" + ", ".join(f"[[{a[0]},{a[1]}],[{b[0]},{b[1]}]]" for a, b in p["solution"]) + "]"

    def reasoning(self, p: dict) -> str:
        reg = p["regions"]
        lines = []
        for a, b in p["solution"]:
            ra, rb = LETTERS[reg[a[0]][a[1]]], LETTERS[reg[b[0]][b[1]]]
            where = f"inside region {ra}" if ra == rb else f"across regions {ra} and {rb}"
            lines.append(f"domino {a}-{b} {where}")
        return ("Each region needs exactly two shaded cells and shaded cells pair up into non-touching "
                "dominoes. Choosing:\n" + "\n".join(lines) +
                "\nEvery region now has two shaded cells and no dominoes touch side by side.")


register_logic(Norinori)
