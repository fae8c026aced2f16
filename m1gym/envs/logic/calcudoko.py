"""Calcudoko / KenKen (task 4): a Latin square split into cages, each with a target and an operation.

Cage rules: '+' the cells sum to the target, '*' they multiply to it, '-' (two cells) the larger
minus the smaller equals it, '/' (two cells) the larger divided by the smaller equals it exactly,
'=' (one cell) the cell holds the target. Verifier CC: any Latin square meeting every cage and given
passes. The generator plants a random Latin square, cuts it into random connected cages, and adds
givens until a solver proves the solution unique.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import prod

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic, show_grid
from .solvers import (ensure_reference, given_cells, givens_error, grid_rows, latin_error, latin_unit_names,
                      latin_units, pick_givens, random_fill, shown_grid, singles_trace, solve_units, trace_reasoning)

OPS = "+-*/"


@dataclass
class Knobs:
    n: int = 5          # grid side, values 1..n
    max_cage: int = 3   # largest cage size
    ops: str = "+-*/"   # operations cages may use ('-' and '/' only on two-cell cages)
    givens: int = 0     # target number of given cells (more are kept when needed for uniqueness)
    unique: bool = True

    def __post_init__(self) -> None:
        if not 3 <= self.n <= 9:
            raise ValueError("calcudoko: n must be in 3..9")
        if not 1 <= self.max_cage <= 6:
            raise ValueError("calcudoko: max_cage must be in 1..6")
        if not self.ops or any(o not in OPS for o in self.ops):
            raise ValueError(f"calcudoko: ops must be a non-empty subset of {OPS!r}")


def cage_value(op: str, vals: list[int]) -> int | None:
    """The value of a cage under its operation, None when the operation does not apply."""
    if op == "+":
        return sum(vals)
    if op == "*":
        return prod(vals)
    if op == "=":
        return vals[0] if len(vals) == 1 else None
    if len(vals) != 2:
        return None
    hi, lo = max(vals), min(vals)
    if op == "-":
        return hi - lo
    if op == "/":
        return hi // lo if hi % lo == 0 else None
    return None


def _cages(n: int, max_cage: int, rng: random.Random) -> list[list[int]]:
    owner = [-1] * (n * n)
    cages: list[list[int]] = []
    order = list(range(n * n))
    rng.shuffle(order)
    for start in order:
        if owner[start] >= 0:
            continue
        size = rng.randint(2, max_cage) if max_cage >= 2 and rng.random() > 0.08 else 1
        cage = [start]
        owner[start] = len(cages)
        while len(cage) < size:
            frontier = sorted({nb for x in cage for nb in _nbrs(n, x) if owner[nb] < 0})
            if not frontier:
                break
            nxt = rng.choice(frontier)
            owner[nxt] = len(cages)
            cage.append(nxt)
        cages.append(sorted(cage))
    return cages


def _nbrs(n: int, x: int) -> list[int]:
    r, c = divmod(x, n)
    return [a * n + b for a, b in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)) if 0 <= a < n and 0 <= b < n]


def _restrict_fn(n: int, cages: list[dict]):
    of_cell: dict[int, dict] = {}
    for cg in cages:
        for x in cg["cells"]:
            of_cell[x] = cg

    def fits(assign: list, cell: int, v: int) -> bool:
        cg = of_cell[cell]
        op, t, cells = cg["op"], cg["target"], cg["cells"]
        vals = [v if x == cell else assign[x] for x in cells]
        missing = vals.count(0)
        known = [a for a in vals if a]
        if op == "=":
            return v == t
        if op == "+":
            s = sum(known)
            return s + missing <= t <= s + missing * n if missing else s == t
        if op == "*":
            p = prod(known)
            return t % p == 0 if missing else p == t
        if missing:  # two-cell '-' or '/' with the partner empty: some partner value must exist
            if op == "-":
                return v + t <= n or v - t >= 1
            return v * t <= n or v % t == 0
        return cage_value(op, known) == t

    def restrict(assign: list, cell: int, mask: int) -> int:
        out = 0
        m, v = mask >> 1, 1
        while m:
            if m & 1 and fits(assign, cell, v):
                out |= 1 << v
            m >>= 1
            v += 1
        return out

    return restrict


class Calcudoko(LogicTask):
    task_name = "calcudoko"
    description = "Calcudoko (KenKen): a Latin square whose cages meet arithmetic targets."
    answer_format = "JSON grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "max_cage": 2, "ops": "+-"},
        1: {"n": 5, "max_cage": 3, "ops": "+-*"},
        2: {"n": 6, "max_cage": 3, "ops": "+-*/"},
        3: {"n": 7, "max_cage": 3, "ops": "+-*/"},
        4: {"n": 8, "max_cage": 3, "ops": "+-*/"},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        units = latin_units(n)
        sol = random_fill(n * n, n, units, rng)
        cages = []
        for cells in _cages(n, k.max_cage, rng):
            vals = [sol[x] for x in cells]
            if len(cells) == 1:
                op = "="
            else:
                choices = [o for o in k.ops if (len(cells) == 2 or o in "+*")
                           and cage_value(o, vals) is not None]
                op = rng.choice(choices or ["+"])
            cages.append({"cells": [list(divmod(x, n)) for x in cells], "op": op, "target": cage_value(op, vals),
                          "_flat": cells})
        restrict = _restrict_fn(n, [{"cells": c["_flat"], "op": c["op"], "target": c["target"]} for c in cages])

        def solve2(g: set[int]) -> list:
            return solve_units(n * n, n, units, {i: sol[i] for i in g}, restrict=restrict, limit=2, max_nodes=3_000)
        shown = pick_givens(sol, k.givens, rng, solve2 if k.unique else None, max_checks=10)
        for c in cages:
            del c["_flat"]
        puzzle = {"n": n, "cages": cages, "grid": shown_grid(sol, n, shown), "givens": len(shown),
                  "solution": grid_rows(sol, n)}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n = p["n"]
        lines = []
        for i, cg in enumerate(p["cages"]):
            cells = ", ".join(f"R{r + 1}C{c + 1}" for r, c in cg["cells"])
            rule = (f"holds {cg['target']}" if cg["op"] == "=" else f"{cg['target']}{cg['op']}")
            lines.append(f"cage {i + 1}: {rule} over {cells}")
        shown = any(v for row in p["grid"] for v in row)
        grid_part = f"Given cells (. = empty):\n{show_grid(p['grid'])}\n\n" if shown else ""
        return (
            f"Solve this {n}x{n} Calcudoko (KenKen) puzzle. Fill every cell with a number from 1 to {n} so that each "
            f"row and each column contains every number 1..{n} exactly once, and every cage meets its rule. A cage "
            "'T+' means its cells sum to T; 'T*' means they multiply to T; 'T-' (two cells) means the larger minus "
            "the smaller is T; 'T/' (two cells) means the larger divided by the smaller is exactly T; 'holds T' "
            "means the single cell is T. Numbers may repeat inside a cage if they are in different rows and "
            "columns. RrCc means row r, column c, counted from 1 at the top left."
            + (" Given cells must stay unchanged." if shown else "") + "\n\n"
            + "\n".join(lines) + "\n\n" + grid_part
            + f"Answer with the completed grid as a JSON list of {n} rows of {n} integers, for a 3x3 puzzle e.g.\n"
            "[[1,2,3],\n[3,1,2],\n[2,3,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n = p["n"]
        grid = parse_grid(answer, n, n)
        err = latin_error(grid, n) or givens_error(grid, p["grid"])
        if err:
            return Score.fail(err, format_ok=True)
        for i, cg in enumerate(p["cages"]):
            vals = [grid[r][c] for r, c in cg["cells"]]
            got = cage_value(cg["op"], vals)
            if got != cg["target"]:
                return Score.fail(f"cage {i + 1} ({cg['target']}{cg['op']}) is not met by {vals}", format_ok=True)
        return Score.ok("Latin square meeting every cage")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        n = p["n"]
        fixed = given_cells(p["grid"])
        cages = [{"cells": [r * n + c for r, c in cg["cells"]], "op": cg["op"], "target": cg["target"]}
                 for cg in p["cages"]]
        lines, placed = singles_trace(n * n, n, latin_units(n), latin_unit_names(n), fixed,
                                      lambda x: f"R{x // n + 1}C{x % n + 1}", restrict=_restrict_fn(n, cages))
        return trace_reasoning(
            f"RrCc is row r, column c. Each row and column needs 1..{n} once; each cage keeps only the numbers "
            "that can still reach its target with its operation:",
            lines, placed, n * n - len(fixed), f"The filled grid meets all {len(p['cages'])} cages.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (calcudoko_verifier.py / generator): ``metadata`` holds ``grid_size`` and
        ``regions`` ({"cells": ["(1,1)", "(1,2)"] 1-based, "target", "operator" in + - * ÷}); the gold
        answer is "[[1 2 3,2 3 1,3 1 2]]". SynLogic also forbids a repeated number inside a region,
        which our check does not test, so a row maps only when every region lies in one row or one
        column (there the Latin rule already forbids repeats). Kept only when the gold grid passes."""
        import re as _re

        from .synlogic import gold_int_grid, scores_gold

        ops = {"+": "+", "-": "-", "−": "-", "*": "*", "×": "*", "x": "*", "/": "/", "÷": "/"}
        sol = gold_int_grid(answer)
        n = int(metadata.get("grid_size") or (len(sol) if sol else 0))
        if sol is None or len(sol) != n:
            return None
        cages = []
        for reg in metadata["regions"]:
            cells = []
            for cell in reg["cells"]:
                nums = [int(x) for x in _re.findall(r"\d+", cell)] if isinstance(cell, str) else list(cell)
                if len(nums) != 2:
                    return None
                cells.append([int(nums[0]) - 1, int(nums[1]) - 1])
            op = ops.get(str(reg["operator"]).strip())
            if op is None or len({r for r, _ in cells}) > 1 and len({c for _, c in cells}) > 1:
                return None
            cages.append({"cells": cells, "op": op, "target": int(reg["target"])})
        puzzle = {"n": n, "cages": cages, "grid": [[0] * n for _ in range(n)], "givens": 0, "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Calcudoko)
