"""Sliding puzzle (8-puzzle 3x3, 15-puzzle 4x4): give a shortest move sequence to the goal.

Moves name the direction the blank moves (U, D, L, R). The verifier replays the moves (SIM): an
illegal move or a final board other than the goal scores 0; a solution reaching the goal scores 1
when its length is at most the optimal length + ``slack`` (a knob, 0 at every level: any extra
moves make a path at least 2 longer than optimal, so slack 0 means "optimal"). Suboptimal
solutions score 0 with ``details["partial"] = optimal / length`` for shaped rewards. Optimal
lengths come from a bidirectional breadth-first search (3x3) or IDA* with Manhattan distance plus
linear conflicts (4x4, kept to scramble depths it settles quickly). Some instances at higher levels
are unsolvable (two tiles swapped, wrong permutation parity); their answer is ``no solution``.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

MAX_MOVES = 300
#: IDA* node budget per instance (the generator discards instances it cannot settle within it)
IDA_BUDGET = 400_000


@dataclass
class Knobs:
    size: int = 3              #: 3 (8-puzzle) or 4 (15-puzzle)
    min_opt: int = 4           #: optimal solution length band, inclusive
    max_opt: int = 8
    slack: int = 0             #: extra moves over optimal that still score 1
    unsolvable_rate: float = 0.0  #: share of unsolvable instances (answer "no solution")


def goal_state(n: int) -> tuple[int, ...]:
    return tuple(list(range(1, n * n)) + [0])


def neighbours(state: tuple[int, ...], n: int):
    """(move letter, next state) pairs; the letter is the direction the blank moves."""
    z = state.index(0)
    r, c = divmod(z, n)
    for m, dr, dc in (("U", -1, 0), ("D", 1, 0), ("L", 0, -1), ("R", 0, 1)):
        rr, cc = r + dr, c + dc
        if 0 <= rr < n and 0 <= cc < n:
            j = rr * n + cc
            s = list(state)
            s[z], s[j] = s[j], 0
            yield m, tuple(s)


def apply_moves(state: tuple[int, ...], n: int, moves: str) -> tuple[int, ...] | None:
    s = list(state)
    z = s.index(0)
    for i, m in enumerate(moves):
        r, c = divmod(z, n)
        dr, dc = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}[m]
        rr, cc = r + dr, c + dc
        if not (0 <= rr < n and 0 <= cc < n):
            return None
        j = rr * n + cc
        s[z], s[j] = s[j], 0
        z = j
    return tuple(s)


def solvable(state: tuple[int, ...], n: int) -> bool:
    tiles = [t for t in state if t]
    inv = sum(1 for i in range(len(tiles)) for j in range(i + 1, len(tiles)) if tiles[i] > tiles[j])
    if n % 2 == 1:
        return inv % 2 == 0
    blank_row_from_bottom = n - state.index(0) // n
    return (inv + blank_row_from_bottom) % 2 == 1


_INV = {"U": "D", "D": "U", "L": "R", "R": "L"}


def bfs_solve(start: tuple[int, ...], n: int, max_depth: int = 40) -> str | None:
    """Shortest move string by bidirectional breadth-first search."""
    goal = goal_state(n)
    if start == goal:
        return ""
    fwd = {start: ""}
    bwd = {goal: ""}
    f_front, b_front = [start], [goal]
    depth = 0
    while f_front and b_front and depth <= max_depth:
        depth += 1
        if len(f_front) <= len(b_front):
            nxt = []
            for s in f_front:
                for m, t in neighbours(s, n):
                    if t in fwd:
                        continue
                    fwd[t] = fwd[s] + m
                    if t in bwd:
                        back = bwd[t]
                        return fwd[t] + "".join(_INV[x] for x in reversed(back))
                    nxt.append(t)
            f_front = nxt
        else:
            nxt = []
            for s in b_front:
                for m, t in neighbours(s, n):
                    if t in bwd:
                        continue
                    bwd[t] = bwd[s] + m
                    if t in fwd:
                        return fwd[t] + "".join(_INV[x] for x in reversed(bwd[t]))
                    nxt.append(t)
            b_front = nxt
    return None


def _lis(seq: list[int]) -> int:
    """Length of the longest increasing subsequence (lines hold at most 4 tiles)."""
    best: list[int] = []
    for x in seq:
        i = 0
        while i < len(best) and best[i] < x:
            i += 1
        if i == len(best):
            best.append(x)
        else:
            best[i] = x
    return len(best)


def _row_conflict(b: list[int], n: int, r: int) -> int:
    line = [(t - 1) % n for t in b[r * n:(r + 1) * n] if t and (t - 1) // n == r]
    return 2 * (len(line) - _lis(line))


def _col_conflict(b: list[int], n: int, c: int) -> int:
    line = [(t - 1) // n for t in b[c::n] if t and (t - 1) % n == c]
    return 2 * (len(line) - _lis(line))


def _heuristic(state, n) -> int:
    """Manhattan distance plus linear conflicts (admissible: 2 moves per tile that must leave a line)."""
    h = 0
    for i, t in enumerate(state):
        if t:
            r, c = divmod(i, n)
            gr, gc = divmod(t - 1, n)
            h += abs(r - gr) + abs(c - gc)
    b = list(state)
    return h + sum(_row_conflict(b, n, r) + _col_conflict(b, n, r) for r in range(n))


def ida_solve(start: tuple[int, ...], n: int, budget: int = IDA_BUDGET, max_len: int = 80) -> str | None:
    """Optimal move string by IDA* (incremental Manhattan + linear conflicts); None when the node
    budget runs out or no solution of at most ``max_len`` moves exists."""
    b = list(start)
    z = b.index(0)
    man = sum(abs(i // n - (t - 1) // n) + abs(i % n - (t - 1) % n) for i, t in enumerate(b) if t)
    rowc = [_row_conflict(b, n, r) for r in range(n)]
    colc = [_col_conflict(b, n, c) for c in range(n)]
    lc = [sum(rowc) + sum(colc)]
    path: list[str] = []
    nodes = [0]
    steps = (("U", -n, -1, 0), ("D", n, 1, 0), ("L", -1, 0, -1), ("R", 1, 0, 1))

    def search(z: int, g: int, man: int, bound: int, prev: str) -> int:
        nodes[0] += 1
        if nodes[0] > budget:
            raise TimeoutError
        f = g + man + lc[0]
        if f > bound:
            return f
        if man == 0:
            return -1
        best = 10 ** 9
        zr, zc = divmod(z, n)
        for m, dz, dr, dc in steps:
            if prev == _INV[m]:
                continue
            rr, cc = zr + dr, zc + dc
            if not (0 <= rr < n and 0 <= cc < n):
                continue
            j = z + dz
            t = b[j]
            gr, gc = divmod(t - 1, n)
            # tile t moves from (rr, cc) to (zr, zc)
            dman = (abs(zr - gr) + abs(zc - gc)) - (abs(rr - gr) + abs(cc - gc))
            b[z], b[j] = t, 0
            if dr:  # vertical tile move: only the conflicts of rows rr and zr change
                o1, o2 = rowc[rr], rowc[zr]
                a1, a2 = _row_conflict(b, n, rr), _row_conflict(b, n, zr)
                rowc[rr], rowc[zr] = a1, a2
            else:   # horizontal tile move: only columns cc and zc change
                o1, o2 = colc[cc], colc[zc]
                a1, a2 = _col_conflict(b, n, cc), _col_conflict(b, n, zc)
                colc[cc], colc[zc] = a1, a2
            dlc = a1 + a2 - o1 - o2
            lc[0] += dlc
            path.append(m)
            res = search(j, g + 1, man + dman, bound, m)
            if res == -1:
                return -1
            path.pop()
            lc[0] -= dlc
            if dr:
                rowc[rr], rowc[zr] = o1, o2
            else:
                colc[cc], colc[zc] = o1, o2
            b[z], b[j] = 0, t
            if res < best:
                best = res
        return best

    bound = man + lc[0]
    try:
        while bound <= max_len:
            res = search(z, 0, man, bound, "")
            if res == -1:
                return "".join(path)
            if res >= 10 ** 9:
                return None
            bound = res
    except TimeoutError:
        return None
    return None


def optimal_solution(start: tuple[int, ...], n: int, max_len: int = 80) -> str | None:
    return bfs_solve(start, n, max_len) if n == 3 else ida_solve(start, n, max_len=max_len)


def parse_moves(text: str) -> str:
    t = text.strip().strip("`").strip().rstrip(".").strip()
    if re.fullmatch(r"(?i)no\s+solution", t):
        return "no solution"
    moves = re.sub(r"[\s,;]+", "", t).upper()
    if not re.fullmatch(r"[UDLR]*", moves):
        raise AnswerParseError("expected a move string of U, D, L, R (e.g. \"ULDR\") or \"no solution\"")
    if len(moves) > MAX_MOVES:
        raise AnswerParseError(f"more than {MAX_MOVES} moves")
    return moves


class SlidingPuzzle(LogicTask):
    task_name = "sliding_puzzle"
    description = "8/15-puzzle: a shortest move sequence of the blank to reach the goal, or 'no solution'"
    # universal-answer probe: "no solution" is a real answer (unsolvable boards, as in SynLogic)
    chance_level = 0.20
    chance_reason = "no solution (an unsolvable board) answers ~6% of tasks, ~10% at level 1"
    answer_format = 'move string of U/D/L/R (blank moves), e.g. "ULDR", or "no solution"'
    Knobs = Knobs
    level_table = {
        0: {"size": 3, "min_opt": 3, "max_opt": 6},
        1: {"size": 3, "min_opt": 8, "max_opt": 12, "unsolvable_rate": 0.1},
        2: {"size": 3, "min_opt": 14, "max_opt": 20, "unsolvable_rate": 0.1},
        3: {"size": 4, "min_opt": 14, "max_opt": 20, "unsolvable_rate": 0.1},
        4: {"size": 4, "min_opt": 24, "max_opt": 30, "unsolvable_rate": 0.1},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.size
        if n not in (3, 4):
            raise ValueError("sliding_puzzle: size must be 3 or 4")
        if not 1 <= k.min_opt <= k.max_opt or k.max_opt > (31 if n == 3 else 34) or k.slack < 0:
            raise ValueError(f"sliding_puzzle: need 1 <= min_opt <= max_opt <= {31 if n == 3 else 34} "
                             f"(4x4 optimal lengths are searched by IDA*), slack >= 0; got {k}")
        goal = goal_state(n)
        for _ in range(MAX_GENERATION_ATTEMPTS):
            s = goal
            prev = ""
            walk = rng.randint(k.min_opt, k.max_opt + 6)
            for _ in range(walk):
                opts = [(m, t) for m, t in neighbours(s, n) if not prev or _INV[m] != prev]
                prev, s = rng.choice(opts)
            sol = optimal_solution(s, n, max_len=k.max_opt)
            if sol is None or not (k.min_opt <= len(sol) <= k.max_opt):
                continue
            board = list(s)
            if rng.random() < k.unsolvable_rate:
                tiles = [i for i, t in enumerate(board) if t]
                i, j = rng.sample(tiles, 2)
                board[i], board[j] = board[j], board[i]
                puzzle = {"size": n, "board": board, "solvable": False, "optimal": None, "solution": "no solution",
                          "slack": k.slack}
            else:
                puzzle = {"size": n, "board": board, "solvable": True, "optimal": len(sol), "solution": sol,
                          "slack": k.slack}
            if solvable(tuple(board), n) != puzzle["solvable"]:
                continue
            if self.check(puzzle, puzzle["solution"]).reward == 1.0:
                return puzzle
        raise GenerationError(f"sliding_puzzle: no instance for {k}")

    def prompt(self, p: dict) -> str:
        n, b = p["size"], p["board"]
        width = 2 if n == 4 else 1
        rows = "\n".join(" ".join(str(t).rjust(width) if t else "_".rjust(width) for t in b[r * n:(r + 1) * n])
                         for r in range(n))
        goal = "\n".join(" ".join(str(t).rjust(width) if t else "_".rjust(width)
                                  for t in goal_state(n)[r * n:(r + 1) * n]) for r in range(n))
        slack = p.get("slack", 0)
        extra = f" (up to {slack} extra moves over the shortest are accepted)" if slack else ""
        return (
            f"Sliding puzzle on a {n}x{n} board; '_' is the blank.\nStart:\n{rows}\n\nGoal:\n{goal}\n\n"
            "A move slides the blank one step up (U), down (D), left (L) or right (R), swapping it with the tile "
            "there; the blank can never leave the board. Give a shortest sequence of moves that turns the start "
            f"into the goal{extra}: any correct sequence with more moves than the shortest one scores 0. If the "
            "goal cannot be reached at all, answer exactly: no solution\n\n"
            "Answer with the moves as one string of letters. Example format: ULDRRD"
        )

    def check(self, p: dict, answer: str) -> Score:
        moves = parse_moves(answer)
        n = p["size"]
        if moves == "no solution":
            if p["solvable"]:
                return Score.fail("the puzzle is solvable", format_ok=True)
            return Score.ok("correctly identified as unsolvable")
        if not p["solvable"]:
            return Score.fail("the puzzle is unsolvable (tile permutation has the wrong parity)", format_ok=True)
        end = apply_moves(tuple(p["board"]), n, moves)
        if end is None:
            return Score.fail("a move pushes the blank off the board", format_ok=True)
        goal = goal_state(n)
        if end != goal:
            placed = sum(1 for a, b in zip(end, goal) if a and a == b)
            return Score.fail("the moves do not reach the goal", format_ok=True,
                              partial=0.0, tiles_in_place=placed)
        opt = p["optimal"]
        if len(moves) <= opt + p.get("slack", 0):
            return Score.ok(moves=len(moves), optimal=opt)
        return Score.fail(f"reaches the goal in {len(moves)} moves, but {opt} suffice", format_ok=True,
                          partial=round(opt / len(moves), 4), moves=len(moves), optimal=opt)

    def random_answer(self, p: dict, rng: random.Random) -> str:
        if rng.random() < 0.1:
            return "no solution"
        return "".join(rng.choice("UDLR") for _ in range(p["optimal"] or 10))

    def solution_text(self, p: dict) -> str:
        return p["solution"]

    def reasoning(self, p: dict) -> str:
        n = p["size"]
        if not p["solvable"]:
            return ("Count inversions of the tiles (read row by row, blank skipped)" +
                    (" plus the blank's row from the bottom" if n % 2 == 0 else "") +
                    ": the parity is wrong for the goal, so no sequence of moves reaches it.")
        s = tuple(p["board"])
        steps = []
        for m in p["solution"]:
            s2 = apply_moves(s, n, m)
            steps.append(f"{m} (tile {s[s2.index(0)]} slides)")
            s = s2
        return (f"A breadth-first/IDA* search finds a shortest solution of {p['optimal']} moves: " +
                ", ".join(steps) + ". The board is then the goal.")


register_logic(SlidingPuzzle)
