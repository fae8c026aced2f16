"""Minesweeper deduction: list every hidden cell that must be a mine.

The board shows some revealed cells with their counts of neighbouring mines; the total number of
mines is not given. A hidden cell is a *forced mine* when it is a mine in every arrangement of mines
consistent with all the shown numbers. The gold set is the complete set of forced mines, computed
by a full solver (exhaustive backtracking over each connected group of constrained hidden cells,
bounded; instances the bound cannot settle are discarded), not only the simple counting rule.
The answer is compared as a set; coordinates are read from the final answer only.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, parse_coords, register_logic

AROUND = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)
#: backtracking nodes allowed per instance before the generator gives up on it
SOLVER_BUDGET = 200_000


class SolverBudgetExceeded(RuntimeError):
    pass


@dataclass
class Knobs:
    h: int = 6
    w: int = 6
    density: float = 0.18      #: fraction of cells that hold mines
    reveal: float = 0.55       #: fraction of safe cells shown
    min_forced: int = 1        #: at least this many forced mines
    need_deep: bool = False    #: require a forced mine the one-number counting rule misses


def _neighbours(h, w, r, c):
    for dr, dc in AROUND:
        rr, cc = r + dr, c + dc
        if 0 <= rr < h and 0 <= cc < w:
            yield rr, cc


def constraints(board: list[str]) -> list[tuple[list[tuple[int, int]], int]]:
    """(hidden neighbour cells, mines among them) for each revealed number with hidden neighbours."""
    h, w = len(board), len(board[0])
    out = []
    for r in range(h):
        for c in range(w):
            ch = board[r][c]
            if ch.isdigit():
                hid = [x for x in _neighbours(h, w, r, c) if board[x[0]][x[1]] == "?"]
                if hid:
                    out.append((hid, int(ch)))
    return out


def forced_mines(board: list[str], budget: int = SOLVER_BUDGET) -> set[tuple[int, int]]:
    """Every hidden cell that is a mine in all arrangements consistent with the numbers.

    Raises SolverBudgetExceeded past ``budget`` search nodes, ValueError if no arrangement exists."""
    cons = constraints(board)
    var_index: dict = {}
    for cells, _ in cons:
        for x in cells:
            var_index.setdefault(x, len(var_index))
    n = len(var_index)
    cvars = [[var_index[x] for x in cells] for cells, _ in cons]
    targets = [t for _, t in cons]
    of_var: list[list[int]] = [[] for _ in range(n)]
    for ci, vs in enumerate(cvars):
        for v in vs:
            of_var[v].append(ci)
    # connected components of variables through shared constraints
    comp = [-1] * n
    comps = []
    for v0 in range(n):
        if comp[v0] >= 0:
            continue
        stack, members = [v0], []
        comp[v0] = len(comps)
        while stack:
            v = stack.pop()
            members.append(v)
            for ci in of_var[v]:
                for u in cvars[ci]:
                    if comp[u] < 0:
                        comp[u] = len(comps)
                        stack.append(u)
        comps.append(members)
    nodes = [budget]
    value = [-1] * n
    csum = [0] * len(cons)
    cfree = [len(vs) for vs in cvars]

    def solve(order: list[int], i: int) -> bool:
        if i == len(order):
            return True
        nodes[0] -= 1
        if nodes[0] < 0:
            raise SolverBudgetExceeded
        v = order[i]
        if value[v] >= 0:  # fixed by the caller
            return solve(order, i + 1)
        for val in (0, 1):
            ok = True
            for ci in of_var[v]:
                s = csum[ci] + val
                f = cfree[ci] - 1
                if s > targets[ci] or s + f < targets[ci]:
                    ok = False
                    break
            if not ok:
                continue
            value[v] = val
            for ci in of_var[v]:
                csum[ci] += val
                cfree[ci] -= 1
            if solve(order, i + 1):
                return True
            for ci in of_var[v]:
                csum[ci] -= val
                cfree[ci] += 1
            value[v] = -1
        return False

    def find(order: list[int], fixed: dict[int, int]) -> list[int] | None:
        for i in range(len(value)):
            value[i] = -1
        for ci in range(len(cons)):
            csum[ci], cfree[ci] = 0, len(cvars[ci])
        for v, val in fixed.items():
            value[v] = val
            for ci in of_var[v]:
                csum[ci] += val
                cfree[ci] -= 1
                if csum[ci] > targets[ci] or csum[ci] + cfree[ci] < targets[ci]:
                    return None
        if solve(order, 0):
            return value[:]
        return None

    inv = {i: x for x, i in var_index.items()}
    forced: set = set()
    for members in comps:
        order = sorted(members)
        first = find(order, {})
        if first is None:
            raise ValueError("no mine arrangement fits the numbers")
        cand = {v for v in members if first[v] == 1}
        while cand:
            v = min(cand)
            sol = find(order, {v: 0})
            if sol is None:
                forced.add(inv[v])
                cand.discard(v)
            else:
                cand = {u for u in cand if sol[u] == 1}
    return forced


def simple_rule_mines(board: list[str]) -> set[tuple[int, int]]:
    """Mines found by the one-number counting rule (a number equal to its hidden neighbour count)."""
    out: set = set()
    for cells, t in constraints(board):
        if t == len(cells):
            out.update(cells)
    return out


class Minesweeper(LogicTask):
    task_name = "minesweeper"
    description = "Minesweeper deduction: list every hidden cell that must be a mine"
    answer_format = "JSON list of [r,c] cells, 0-based"
    Knobs = Knobs
    level_table = {
        0: {"h": 4, "w": 4, "density": 0.15, "reveal": 0.8, "min_forced": 1},
        1: {"h": 5, "w": 5, "density": 0.16, "reveal": 0.7, "min_forced": 2},
        2: {"h": 6, "w": 6, "density": 0.18, "reveal": 0.6, "min_forced": 2, "need_deep": True},
        3: {"h": 8, "w": 8, "density": 0.18, "reveal": 0.55, "min_forced": 3, "need_deep": True},
        4: {"h": 10, "w": 10, "density": 0.2, "reveal": 0.5, "min_forced": 4, "need_deep": True},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        h, w = k.h, k.w
        if h < 2 or w < 2 or not 0 < k.density < 0.5 or not 0 < k.reveal <= 1:
            raise ValueError(f"minesweeper: need h, w >= 2, 0 < density < 0.5, 0 < reveal <= 1, got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            cells = [(r, c) for r in range(h) for c in range(w)]
            rng.shuffle(cells)
            n_mines = max(1, round(k.density * h * w))
            mines = set(cells[:n_mines])
            safe = cells[n_mines:]
            shown = set(safe[:max(1, round(k.reveal * len(safe)))])
            board = []
            for r in range(h):
                row = []
                for c in range(w):
                    if (r, c) in shown:
                        row.append(str(sum(1 for x in _neighbours(h, w, r, c) if x in mines)))
                    else:
                        row.append("?")
                board.append("".join(row))
            try:
                forced = forced_mines(board)
            except SolverBudgetExceeded:
                continue
            if len(forced) < k.min_forced:
                continue
            if k.need_deep and not (forced - simple_rule_mines(board)):
                continue
            assert forced <= mines
            puzzle = {"h": h, "w": w, "board": board, "forced": sorted([list(x) for x in forced])}
            if self.check(puzzle, self.solution_text(puzzle)).reward == 1.0:
                return puzzle
        raise GenerationError(f"minesweeper: no instance for {k}")

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        rows = "\n".join(" ".join(row) for row in p["board"])
        return (
            f"Minesweeper board, {h}x{w}. A digit is a revealed safe cell showing how many of its up to 8 "
            "neighbours (including diagonals) hold a mine; '?' is a hidden cell that may or may not hold a "
            "mine. The total number of mines is not known.\n"
            f"{rows}\n\n"
            "List every hidden cell that is certainly a mine, that is, a mine in every arrangement of mines "
            "consistent with all the numbers. List all of them and nothing else (no cells that could be "
            "safe).\n\n"
            "Rows and columns are numbered from 0, starting at the top-left. Answer with a JSON list of "
            "[row, col] cells. Example format: [[0,2],[3,1]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        got = set(parse_coords(answer, p["h"], p["w"]))
        gold = {tuple(x) for x in p["forced"]}
        missing = sorted(gold - got)
        extra = sorted(got - gold)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing)} forced mine(s) missing")
            if extra:
                parts.append(f"{len(extra)} listed cell(s) are not certain mines")
            return Score.fail(", ".join(parts), format_ok=True, missing=len(missing), extra=len(extra))
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        hidden = [[r, c] for r in range(p["h"]) for c in range(p["w"]) if p["board"][r][c] == "?"]
        return json.dumps([x for x in hidden if rng.random() < 0.3])

    def solution_text(self, p: dict) -> str:
        return "[" + ",".join(f"[{r},{c}]" for r, c in p["forced"]) + "]"

    def reasoning(self, p: dict) -> str:
        board = p["board"]
        h, w = p["h"], p["w"]
        simple = simple_rule_mines(board)
        lines = []
        for x in (tuple(v) for v in p["forced"]):
            if x in simple:
                num = next((r, c) for cells, t in constraints(board) if t == len(cells) and x in cells
                           for r in range(h) for c in range(w)
                           if board[r][c].isdigit() and x in [(r + dr, c + dc) for dr, dc in AROUND])
                lines.append(f"[{x[0]},{x[1]}]: the {board[num[0]][num[1]]} at [{num[0]},{num[1]}] has exactly that "
                             "many hidden neighbours, so all of them are mines.")
                continue
            # cite the numbers within two steps of the cell when they alone force it
            local = ["".join(ch if not ch.isdigit() or max(abs(r - x[0]), abs(c - x[1])) <= 2 else "."
                             for c, ch in enumerate(row)) for r, row in enumerate(board)]
            try:
                local_ok = x in forced_mines(local, budget=20_000)
            except (SolverBudgetExceeded, ValueError):
                local_ok = False
            if local_ok:
                nums = [f"{local[r][c]} at [{r},{c}]" for r in range(h) for c in range(w) if local[r][c].isdigit()
                        and any((r + dr, c + dc) in _hidden_near(local, x) for dr, dc in AROUND)]
                lines.append(f"[{x[0]},{x[1]}]: if it were safe, the numbers {', '.join(nums[:6])} could not all "
                             "be satisfied, so it is a mine.")
            else:
                lines.append(f"[{x[0]},{x[1]}]: assuming it safe leaves no arrangement that satisfies all the "
                             "numbers, so it is a mine.")
        if not lines:
            lines.append("No hidden cell is a mine in every consistent arrangement.")
        lines.append("Every other hidden cell is safe in at least one arrangement consistent with all numbers.")
        return "\n".join(lines)

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (minesweeper generator / verifier): ``metadata["revealed_grid"]`` shows counts
        as digit strings and hidden cells as "X" (no mine total is given); the gold
        ``metadata["current_mines"]`` (0-based [r, c]) holds the mines SynLogic's counting rule finds.
        Our gold is the complete set of forced mines from our solver; a row maps only when the two
        sets agree, so rows whose SynLogic gold misses deducible mines are skipped."""
        raw = metadata["revealed_grid"]
        h = len(raw)
        if not h or not all(isinstance(r, (list, str)) and len(r) == len(raw[0]) for r in raw):
            return None
        board = []
        for row in raw:
            cells = [str(v).strip() for v in row]
            if not all(v == "X" or (len(v) == 1 and v.isdigit()) for v in cells):
                return None
            board.append("".join("?" if v == "X" else v for v in cells))
        try:
            forced = forced_mines(board)
        except SolverBudgetExceeded:
            return None
        gold = {(int(r), int(c)) for r, c in metadata["current_mines"]}
        if not gold or gold != forced:
            return None
        return {"h": h, "w": len(board[0]), "board": board, "forced": sorted([list(x) for x in forced])}


def _hidden_near(board: list[str], x: tuple[int, int]) -> set[tuple[int, int]]:
    """Hidden cells within two steps of x (the neighbourhood whose numbers the reasoning cites)."""
    return {(r, c) for r in range(len(board)) for c in range(len(board[0]))
            if board[r][c] == "?" and max(abs(r - x[0]), abs(c - x[1])) <= 1}


register_logic(Minesweeper)
