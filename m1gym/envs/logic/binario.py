"""Binario / Takuzu (task 36): fill a grid with 0 and 1 under three line rules.

Rules: each row and column holds as many 0s as 1s; no three equal digits in a row horizontally or
vertically; no two rows are equal and no two columns are equal. Verifier CC (rules plus givens). The
generator plants a random valid grid, hides cells and adds givens back until a row-by-row solver
proves the solution unique (unique by construction).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from ...core import Score
from .base import LogicTask, grid_text, parse_grid, register_logic
from .solvers import SearchBudget, ensure_reference, givens_error, grid_rows, pick_givens, shown_grid


@dataclass
class Knobs:
    n: int = 6                # even side: 4, 6, 8, 10 (or 12)
    mask_rate: float = 0.65   # target share of hidden cells (fewer are hidden when needed for uniqueness)
    unique: bool = True
    no_solution_rate: float = 0.0  # share of instances made unsolvable (answer: "no solution")

    def __post_init__(self) -> None:
        if not 0.0 <= self.no_solution_rate <= 1.0:
            raise ValueError("binario: no_solution_rate must be in [0, 1]")
        if self.n % 2 or not 4 <= self.n <= 12:
            raise ValueError("binario: n must be even and in 4..12")
        if not 0.0 <= self.mask_rate <= 1.0:
            raise ValueError("binario: mask_rate must be in [0, 1]")


NO_SOLUTION = "no solution"


def partial_conflict(grid: list[list[int]]) -> bool:
    """A visible break of a rule among the filled cells (three equal in a row, more than half a digit)."""
    n = len(grid)
    for line in grid + [list(col) for col in zip(*grid)]:
        if line.count(0) > n // 2 or line.count(1) > n // 2:
            return True
        if any(line[j] >= 0 and line[j] == line[j + 1] == line[j + 2] for j in range(n - 2)):
            return True
    return False


@lru_cache(maxsize=8)
def valid_rows(n: int) -> tuple[tuple[int, ...], ...]:
    """Every line of length n with n/2 ones and no three equal digits in a row."""
    out = []
    for m in range(1 << n):
        row = tuple((m >> (n - 1 - i)) & 1 for i in range(n))
        if sum(row) == n // 2 and not any(row[i] == row[i + 1] == row[i + 2] for i in range(n - 2)):
            out.append(row)
    return tuple(out)


def solve(n: int, givens: dict[int, int], *, limit: int = 2, max_nodes: int = 2_000,
          rng: random.Random | None = None) -> list[list[int]]:
    """Up to ``limit`` complete grids (flat lists, cell r * n + c) agreeing with ``givens``.

    Lines 0..n-1 are rows, n..2n-1 columns; each keeps the valid lines still compatible with the
    known cells. Propagation filters candidates by known cells, fixes cells all candidates agree on,
    and removes a finished line from the candidates of its parallel lines (lines are distinct).
    Branching tries each candidate of the line with fewest candidates (shuffled when rng is given).
    """
    lines = [[r * n + c for c in range(n)] for r in range(n)] + [[r * n + c for r in range(n)] for c in range(n)]
    cell = [-1] * (n * n)
    for i, v in givens.items():
        cell[i] = v
    sols: list[list[int]] = []
    nodes = 0

    def propagate(cell: list[int], cands: list[list[tuple[int, ...]]]) -> bool:
        changed = True
        while changed:
            changed = False
            for li, cells in enumerate(lines):
                known = [(i, cell[x]) for i, x in enumerate(cells) if cell[x] >= 0]
                cl = cands[li]
                if len(known) == n:
                    t = tuple(v for _, v in known)
                    group = range(n) if li < n else range(n, 2 * n)
                    for other in group:  # finished lines must be distinct
                        if other != li and t in cands[other]:
                            if len(cands[other]) == 1:
                                return False
                            cands[other] = [x for x in cands[other] if x != t]
                            changed = True
                keep = [row for row in cl if all(row[i] == v for i, v in known)]
                if not keep:
                    return False
                if len(keep) != len(cl):
                    cands[li] = keep
                    changed = True
                for i, x in enumerate(cells):
                    if cell[x] < 0:
                        v = keep[0][i]
                        if all(row[i] == v for row in keep):
                            cell[x] = v
                            changed = True
        return True

    def rec(cell: list[int], cands: list[list[tuple[int, ...]]]) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes:
            raise SearchBudget(f"more than {max_nodes} search nodes")
        if not propagate(cell, cands):
            return
        open_lines = [(len(cl), li) for li, cl in enumerate(cands) if len(cl) > 1]
        if not open_lines:
            if min(cell) >= 0 and len({tuple(cell[x] for x in lines[li]) for li in range(n)}) == n \
                    and len({tuple(cell[x] for x in lines[li]) for li in range(n, 2 * n)}) == n:
                sols.append(cell[:])
            return
        _, li = min(open_lines)
        options = list(cands[li])
        if rng is not None:
            rng.shuffle(options)
        for row in options:
            c2 = cell[:]
            for i, x in enumerate(lines[li]):
                c2[x] = row[i]
            cands2 = cands[:]
            cands2[li] = [row]
            rec(c2, cands2)
            if len(sols) >= limit:
                return

    rec(cell, [list(valid_rows(n)) for _ in range(2 * n)])
    return sols


def rule_error(grid: list[list[int]]) -> str | None:
    n = len(grid)
    cols = [[grid[r][c] for r in range(n)] for c in range(n)]
    for kind, lines in (("row", grid), ("column", cols)):
        for i, line in enumerate(lines):
            if sum(line) != n // 2:
                return f"{kind} {i + 1} does not hold as many 0s as 1s"
            for j in range(n - 2):
                if line[j] == line[j + 1] == line[j + 2]:
                    return f"{kind} {i + 1} has three {line[j]}s in a row at positions {j + 1}..{j + 3}"
        seen: dict[tuple, int] = {}
        for i, line in enumerate(lines):
            t = tuple(line)
            if t in seen:
                return f"{kind}s {seen[t] + 1} and {i + 1} are equal"
            seen[t] = i
    return None


class Binario(LogicTask):
    task_name = "binario"
    description = "Binario (Takuzu): balanced 0/1 lines, no three equal in a row, all lines distinct."
    # universal-answer probe: "no solution" is a real answer (unsolvable instances, as in SynLogic)
    chance_level = 0.20
    chance_reason = "no solution (an unsolvable grid) answers ~6% of tasks, ~15% at levels 3-4"
    answer_format = "JSON 0/1 grid"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"n": 4, "mask_rate": 0.5},
        1: {"n": 6, "mask_rate": 0.6},
        2: {"n": 8, "mask_rate": 0.6},
        3: {"n": 10, "mask_rate": 0.65, "no_solution_rate": 0.15},
        4: {"n": 10, "mask_rate": 0.72, "no_solution_rate": 0.15},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.n
        sol = None
        for _ in range(50):
            try:
                found = solve(n, {}, limit=1, max_nodes=5_000, rng=rng)
            except SearchBudget:
                continue
            if found:
                sol = found[0]
                break
        if sol is None:
            raise RuntimeError("binario: could not draw a full grid")

        def solve2(g: set[int]) -> list:
            return solve(n, {i: sol[i] for i in g}, limit=2, max_nodes=3_000)
        target = n * n - round(k.mask_rate * n * n)
        shown = pick_givens(sol, target, rng, solve2 if k.unique else None, max_checks=20)
        puzzle = {"n": n, "grid": shown_grid(sol, n, shown, blank=-1), "givens": len(shown),
                  "solution": grid_rows(sol, n), "solvable": True, "may_be_unsolvable": k.no_solution_rate > 0}
        if k.no_solution_rate > 0 and rng.random() < k.no_solution_rate:
            self._make_unsolvable(puzzle, sol, shown, rng)
        return ensure_reference(self, puzzle)

    def _make_unsolvable(self, puzzle: dict, sol: list[int], shown: set[int], rng: random.Random) -> None:
        """Show one hidden cell with the wrong digit, where no rule is visibly broken yet, and prove with
        the solver that no grid fits (the planted solution is unique, so one wrong given kills it)."""
        n = puzzle["n"]
        hidden = sorted(set(range(n * n)) - shown)
        rng.shuffle(hidden)
        for x in hidden[:12]:
            grid = [list(row) for row in puzzle["grid"]]
            r, c = divmod(x, n)
            grid[r][c] = 1 - sol[x]
            if partial_conflict(grid):
                continue
            givens = {i: grid[i // n][i % n] for i in range(n * n) if grid[i // n][i % n] >= 0}
            try:
                if solve(n, givens, limit=1, max_nodes=3_000):
                    continue
            except SearchBudget:
                continue
            puzzle.update(grid=grid, givens=len(givens), solution=None, solvable=False)
            return

    def prompt(self, p: dict) -> str:
        n = p["n"]
        shown = "\n".join(" ".join("." if v < 0 else str(v) for v in row) for row in p["grid"])
        return (
            f"Solve this {n}x{n} Binario (Takuzu) puzzle. Fill every empty cell (.) with 0 or 1 so that:\n"
            f"1. every row and every column holds exactly {n // 2} zeros and {n // 2} ones;\n"
            "2. no row or column has three equal digits next to each other;\n"
            "3. no two rows are identical and no two columns are identical.\n"
            "The given digits stay unchanged."
            + (f" Some puzzles have no solution: then answer exactly: {NO_SOLUTION}" if p.get("may_be_unsolvable") else "")
            + "\n\n"
            f"{shown}\n\n"
            f"Answer with the completed grid as a JSON list of {n} rows of {n} values 0 or 1, for a 4x4 puzzle e.g.\n"
            "[[0,1,1,0],\n[1,0,0,1],\n[1,0,1,0],\n[0,1,0,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        n = p["n"]
        says_none = answer.strip().strip(".").strip().lower() == NO_SOLUTION
        if says_none:
            if p.get("solvable", True):
                return Score.fail("the puzzle has a solution", format_ok=True)
            return Score.ok("correctly reports that no grid satisfies the rules and givens")
        grid = parse_grid(answer, n, n, allowed={0, 1})
        if not p.get("solvable", True):
            err = givens_error(grid, p["grid"], blank=-1) or rule_error(grid) or "impossible grid"
            return Score.fail(f"the puzzle has no solution, and this grid breaks a rule: {err}", format_ok=True)
        err = givens_error(grid, p["grid"], blank=-1) or rule_error(grid)
        if err:
            return Score.fail(err, format_ok=True)
        return Score.ok("balanced, no triples, all lines distinct, givens kept")

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"]) if p.get("solvable", True) else NO_SOLUTION

    def reasoning(self, p: dict) -> str:
        if not p.get("solvable", True):
            return ("Applying the rules (no three equal digits in a row, balanced lines, distinct lines) and trying "
                    "every remaining option, each branch ends with a line that breaks a rule: no grid fits the "
                    f"givens, so the answer is '{NO_SOLUTION}'.")
        trace, filled, empty = simple_deductions(p["grid"])
        lines = ["RrCc is row r, column c. Rules used: two equal digits side by side get the other digit on both "
                 "ends; a gap between two equal digits gets the other digit; a line holding half of one digit "
                 "gets the other digit everywhere else."]
        lines += [f"- {t}" for t in trace[:16]]
        if len(trace) > 16:
            lines.append(f"- ... {len(trace) - 16} more cells the same way.")
        if filled < empty:
            lines.append(f"These rules fill {filled} of the {empty} empty cells; for the rest I compare each open "
                         "line's possible completions with the finished lines (no two lines may be equal) and "
                         "try the remaining options, keeping the one without a contradiction.")
        lines.append("Every line is balanced, has no three equal digits in a row, and all lines differ.")
        return "\n".join(lines)


def simple_deductions(grid: list[list[int]]) -> tuple[list[str], int, int]:
    """Pair, gap and count rules to a fixpoint; (steps as text, cells filled, cells empty at start)."""
    n = len(grid)
    g = [list(row) for row in grid]
    empty = sum(v < 0 for row in g for v in row)
    steps: list[str] = []
    changed = True
    while changed:
        changed = False
        for kind in ("row", "column"):
            for i in range(n):
                cells = [(i, j) if kind == "row" else (j, i) for j in range(n)]
                vals = [g[r][c] for r, c in cells]
                for j in range(n):
                    if vals[j] >= 0:
                        continue
                    why = None
                    for a, b in ((j + 1, j + 2), (j - 1, j - 2), (j - 1, j + 1)):
                        if 0 <= min(a, b) and max(a, b) < n and vals[a] >= 0 and vals[a] == vals[b]:
                            why = (1 - vals[a], "pair" if abs(a - b) == 1 else "gap")
                            break
                    if why is None:
                        for d in (0, 1):
                            if vals.count(d) == n // 2:
                                why = (1 - d, f"{kind} already has {n // 2} {d}s")
                                break
                    if why is not None:
                        v, reason = why
                        r, c = cells[j]
                        g[r][c] = vals[j] = v
                        changed = True
                        reason = {"pair": "next to two equal digits", "gap": "between two equal digits"}.get(reason,
                                                                                                         reason)
                        steps.append(f"R{r + 1}C{c + 1} = {v} ({reason}).")
    filled = empty - sum(v < 0 for row in g for v in row)
    return steps, filled, empty


register_logic(Binario)
