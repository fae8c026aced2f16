"""Group D logic tasks: arrow_maze, campsite, norinori, number_wall, star_placement_puzzle, minesweeper,
hitori, light_up, wordscapes, sliding_puzzle, arc_agi.

For each task: the reference scores 1 over levels 0..4 x 10 seeds; three kinds of wrong answers
score 0 with a reason (a rule broken, a given changed, malformed or truncated); where instances
can have several solutions, other solutions found here by small brute-force solvers that do not
use the task's code score 1. Regressions from LOGIC_TASKS.md: every norinori region is checked,
wordscapes checks slot positions, minesweeper's gold set comes from complete deduction and only
the final answer's coordinates count, sliding_puzzle replays moves and requires optimal length.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import deque

import pytest

from m1gym import get_env
from m1gym.envs.logic import minesweeper as ms
from m1gym.envs.logic import sliding_puzzle as sp

GROUP_D = ["arrow_maze", "campsite", "norinori", "number_wall", "star_placement_puzzle", "minesweeper", "hitori",
           "light_up", "wordscapes", "sliding_puzzle", "arc_agi"]
ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))
AROUND = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b]


def env_of(task: str):
    return get_env(f"logic/{task}")


def answer(task: str, t, text: str):
    return env_of(task).score(t, f"<think>work</think><answer>{text}</answer>")


def ref_answer(task: str, t) -> str:
    return env_of(task).solution_text(t.answer)


def with_puzzle(t, puzzle):
    t2 = copy.deepcopy(t)
    t2.answer = puzzle
    return t2


def assert_zero(s, *words):
    assert s.reward == 0.0 and s.reason, s
    for w in words:
        assert w in s.reason, s.reason


# ---- reference sweep ---------------------------------------------------------------------------

@pytest.mark.parametrize("task", GROUP_D)
def test_reference_scores_one_levels_0_to_4(task):
    env = env_of(task)
    for level in range(5):
        for seed in range(10):
            t = env.generate(seed, level)
            s = env.score(t, env.reference(t))
            assert s.reward == 1.0, f"{task} level {level} seed {seed}: {s.reason}"
            assert "<answer>" in t.prompt_text and "Example format" in t.prompt_text


@pytest.mark.parametrize("task", GROUP_D)
def test_truncated_and_malformed_score_zero(task):
    env = env_of(task)
    for level in (0, 2, 4):
        t = env.generate(3, level)
        text = ref_answer(task, t)
        for bad in (text[: len(text) // 2], text + "]]", "[[", "no idea", json.dumps({"grid": text})):
            if task == "sliding_puzzle" and bad.strip().upper() and set(bad.strip().upper()) <= set("UDLR"):
                continue  # a prefix of a move string is a move string; covered by the replay tests
            s = answer(task, t, bad)
            assert_zero(s)
        # an answer tag inside an unfinished think block is no final answer
        assert_zero(env.score(t, f"<think>... <answer>{text}</answer>"))


# ---- arrow_maze --------------------------------------------------------------------------------

ARROWS = {"↑": (-1, 0), "↓": (1, 0), "←": (0, -1), "→": (0, 1),
          "↖": (-1, -1), "↗": (-1, 1), "↙": (1, -1), "↘": (1, 1)}


def arrow_valid(givens, g) -> bool:
    """Independent arrow-maze rule check on a grid of ints and arrow strings."""
    h, w = len(g), len(g[0])
    covered = set()
    for r in range(h):
        for c in range(w):
            if isinstance(givens[r][c], int):
                total = 0
                for a, (dr, dc) in ARROWS.items():
                    rr, cc = r + dr, c + dc
                    while 0 <= rr < h and 0 <= cc < w and g[rr][cc] == a:
                        covered.add((rr, cc))
                        total += 1
                        rr, cc = rr + dr, cc + dc
                if total != givens[r][c]:
                    return False
    return all((r, c) in covered for r in range(h) for c in range(w) if not isinstance(givens[r][c], int))


def test_arrow_maze_wrong_answers():
    task = "arrow_maze"
    t = env_of(task).generate(5, 2)
    sol = t.answer["solution"]
    h, w = len(sol), len(sol[0])
    # a rule broken: the first arrow of some ray turned to point back at its number
    r, c, a = next((r, c, a) for r in range(h) for c in range(w) if isinstance(sol[r][c], int)
                   for a, (dr, dc) in ARROWS.items()
                   if 0 <= r + dr < h and 0 <= c + dc < w and sol[r + dr][c + dc] == a)
    dr, dc = ARROWS[a]
    back = next(b for b, v in ARROWS.items() if v == (-dr, -dc))
    g = copy.deepcopy(sol)
    g[r + dr][c + dc] = back
    if t.answer["givens"][r + dr][c + dc] == "":
        assert_zero(answer(task, t, json.dumps(g)), "rays")
    # a given changed: a number altered
    g = copy.deepcopy(sol)
    g[r][c] = sol[r][c] + 1
    assert_zero(answer(task, t, json.dumps(g)), "keep its number")
    # a cell that is not an arrow
    g = copy.deepcopy(sol)
    g[r + dr][c + dc] = "X"
    assert_zero(answer(task, t, json.dumps(g)))


def test_arrow_maze_alternative_solutions_score_one():
    env = env_of("arrow_maze")
    found_multi = False
    for seed in range(12):
        t = env.generate(seed, 0, h=3, w=3, prefill=0.3)
        givens = t.answer["givens"]
        blanks = [(r, c) for r in range(3) for c in range(3) if givens[r][c] == ""]
        if len(blanks) > 5:
            continue
        sols = []
        for combo in itertools.product(ARROWS, repeat=len(blanks)):
            g = copy.deepcopy(givens)
            for (r, c), a in zip(blanks, combo):
                g[r][c] = a
            if arrow_valid(givens, g):
                sols.append(g)
        assert sols, f"seed {seed}: the brute force found no solution"
        for g in sols:
            s = answer("arrow_maze", t, json.dumps(g, ensure_ascii=False))
            assert s.reward == 1.0, s.reason
        found_multi = found_multi or len(sols) > 1
    assert found_multi, "expected at least one 3x3 instance with several solutions"


# ---- campsite ----------------------------------------------------------------------------------

def campsite_valid(p, tents) -> bool:
    trees = [tuple(x) for x in p["trees"]]
    if len(tents) != len(trees):
        return False
    for r in range(p["h"]):
        if sum(1 for t in tents if t[0] == r) != p["row_counts"][r]:
            return False
    for c in range(p["w"]):
        if sum(1 for t in tents if t[1] == c) != p["col_counts"][c]:
            return False
    for a, b in itertools.combinations(tents, 2):
        if max(abs(a[0] - b[0]), abs(a[1] - b[1])) <= 1:
            return False
    for perm in itertools.permutations(trees):  # a one-to-one pairing by brute force
        if all(abs(t[0] - tr[0]) + abs(t[1] - tr[1]) == 1 for t, tr in zip(tents, perm)):
            return True
    return False


def campsite_grid(p, tents):
    g = [["." for _ in range(p["w"])] for _ in range(p["h"])]
    for r, c in p["trees"]:
        g[r][c] = "T"
    for r, c in tents:
        g[r][c] = "X"
    return json.dumps(g)


def test_campsite_wrong_answers():
    task = "campsite"
    t = env_of(task).generate(2, 2)
    p = t.answer
    tents = [(r, c) for r in range(p["h"]) for c in range(p["w"]) if p["solution"][r][c] == "X"]
    assert_zero(answer(task, t, campsite_grid(p, tents[1:])), "tents")              # a rule broken
    p2 = dict(p, trees=p["trees"][1:])                                               # a tree removed
    assert_zero(answer(task, t, campsite_grid(p2, tents)), "trees must stay")
    assert_zero(answer(task, t, campsite_grid(p, tents).replace('"X"', '"tent"', 1)))  # unknown symbol
    # two touching tents, row/col counts kept: build the puzzle by hand
    hand = {"h": 2, "w": 3, "trees": [[0, 0], [1, 2]], "row_counts": [1, 1], "col_counts": [0, 1, 1],
            "solution": [["T", "X", "."], [".", "X", "T"]]}
    assert_zero(answer(task, with_puzzle(t, hand), json.dumps([["T", ".", "X"], [".", "X", "T"]])), "touch")


def test_campsite_alternative_solutions_score_one():
    env = env_of("campsite")
    found_multi = False
    for seed in range(40):
        t = env.generate(seed, 0)
        p = t.answer
        trees = {tuple(x) for x in p["trees"]}
        free = [(r, c) for r in range(p["h"]) for c in range(p["w"]) if (r, c) not in trees]
        sols = [list(ts) for ts in itertools.combinations(free, len(trees)) if campsite_valid(p, list(ts))]
        assert sols
        for ts in sols:
            assert answer("campsite", t, campsite_grid(p, ts)).reward == 1.0
        found_multi = found_multi or len(sols) > 1
    assert found_multi


def test_campsite_matching_needed():
    # Both tents sit next to tree (1,1) only; tree (1,3) gets none. Counts, touching and "every tent
    # next to a tree" all hold, so only the one-to-one pairing catches it.
    t = env_of("campsite").generate(0, 0)
    hand = {"h": 3, "w": 4, "trees": [[1, 1], [1, 3]], "row_counts": [1, 0, 1], "col_counts": [0, 2, 0, 0],
            "solution": None}
    bad = [[".", "X", ".", "."], [".", "T", ".", "T"], [".", "X", ".", "."]]
    assert_zero(answer("campsite", with_puzzle(t, hand), json.dumps(bad)), "paired")


# ---- norinori ----------------------------------------------------------------------------------

def test_norinori_wrong_answers_and_every_region_checked():
    task = "norinori"
    env = env_of(task)
    for seed in range(10):
        t = env.generate(seed, 2)
        p = t.answer
        reg = p["regions"]
        doms = p["solution"]
        # regression: drop a domino lying inside one region; every other region stays at 2
        i = next((i for i, (a, b) in enumerate(doms) if reg[a[0]][a[1]] == reg[b[0]][b[1]]), None)
        if i is None:
            continue
        rest = doms[:i] + doms[i + 1:]
        assert_zero(answer(task, t, json.dumps(rest)), "has 0 shaded cells")
        # a rule broken: a domino whose cells are not adjacent
        a, b = doms[0]
        far = [a, [b[0], b[1]]]
        far[1] = [a[0], a[1] + 2] if a[1] + 2 < p["n"] else [a[0], a[1] - 2]
        assert_zero(answer(task, t, json.dumps([far] + doms[1:])), "not orthogonally adjacent")
        # outside the grid
        assert_zero(answer(task, t, json.dumps([[[0, 0], [0, -1]]] + doms[1:])), "outside")
    # an answer that satisfies the dominoes but leaves a region empty while others are full
    hand = {"n": 2, "regions": [[0, 0], [1, 1]], "solution": [[[0, 0], [0, 1]], [[1, 0], [1, 1]]]}
    t = with_puzzle(env.generate(0, 0), hand)
    assert_zero(answer(task, t, "[[[0,0],[0,1]]]"), "region B has 0")


def norinori_solutions(p):
    n, reg = p["n"], p["regions"]
    n_regions = 1 + max(max(row) for row in reg)
    cells = [(r, c) for r in range(n) for c in range(n)]
    doms = [(a, (a[0] + dr, a[1] + dc)) for a in cells for dr, dc in ((0, 1), (1, 0))
            if a[0] + dr < n and a[1] + dc < n]
    for combo in itertools.combinations(doms, n_regions):
        shaded = [x for d in combo for x in d]
        s = set(shaded)
        if len(s) != len(shaded):
            continue
        if any(sum((x[0] + dr, x[1] + dc) in s for dr, dc in ORTH) != 1 for x in s):
            continue
        counts = [0] * n_regions
        for r, c in s:
            counts[reg[r][c]] += 1
        if all(k == 2 for k in counts):
            yield [[list(a), list(b)] for a, b in combo]


def test_norinori_alternative_solutions_score_one():
    env = env_of("norinori")
    found_multi = False
    for seed in range(15):
        t = env.generate(seed, 0)
        sols = list(norinori_solutions(t.answer))
        assert sols
        for d in sols:
            assert answer("norinori", t, json.dumps(d)).reward == 1.0
        found_multi = found_multi or len(sols) > 1
    assert found_multi


# ---- number_wall -------------------------------------------------------------------------------

def number_wall_valid(givens, walls) -> bool:
    n = len(givens)
    for r in range(n - 1):
        for c in range(n - 1):
            if {(r, c), (r + 1, c), (r, c + 1), (r + 1, c + 1)} <= walls:
                return False
    seen = set()
    for r in range(n):
        for c in range(n):
            if (r, c) in walls or (r, c) in seen:
                continue
            comp, q = [], deque([(r, c)])
            seen.add((r, c))
            while q:
                x = q.popleft()
                comp.append(x)
                for dr, dc in ORTH:
                    y = (x[0] + dr, x[1] + dc)
                    if 0 <= y[0] < n and 0 <= y[1] < n and y not in walls and y not in seen:
                        seen.add(y)
                        q.append(y)
            nums = [givens[a][b] for a, b in comp if givens[a][b]]
            if len(nums) != 1 or nums[0] != len(comp):
                return False
    return True


def number_wall_grid(givens, walls):
    n = len(givens)
    return json.dumps([[givens[r][c] if givens[r][c] else ("#" if (r, c) in walls else ".") for c in range(n)]
                       for r in range(n)])


def test_number_wall_wrong_answers():
    task = "number_wall"
    t = env_of(task).generate(4, 2)
    p = t.answer
    sol, n = p["solution"], p["n"]
    walls = {(r, c) for r in range(n) for c in range(n) if sol[r][c] == "#"}
    # a rule broken: a wall turned into an island cell (an island grows or a numberless island appears)
    w0 = sorted(walls)[0]
    assert_zero(answer(task, t, number_wall_grid(p["givens"], walls - {w0})), "island")
    # a given changed
    g = copy.deepcopy(sol)
    r, c = next((r, c) for r in range(n) for c in range(n) if p["givens"][r][c])
    g[r][c] = p["givens"][r][c] + 1
    assert_zero(answer(task, t, json.dumps(g)), "keep its number")
    # 2x2 walls
    hand = {"n": 3, "givens": [[0, 0, 0], [0, 0, 0], [0, 0, 1]], "solution": None}
    t2 = with_puzzle(t, hand)
    assert_zero(answer(task, t2, json.dumps([["#", "#", "#"], ["#", "#", "#"], ["#", "#", 1]])), "2x2")
    assert_zero(answer(task, t2, json.dumps([["#", "?", "#"], ["#", "#", "#"], ["#", "#", 1]])), "use")


def test_number_wall_alternative_solutions_score_one():
    env = env_of("number_wall")
    found_multi = False
    for seed in range(20):
        t = env.generate(seed, 0)
        givens = t.answer["givens"]
        free = [(r, c) for r in range(4) for c in range(4) if not givens[r][c]]
        sols = []
        for mask in range(1 << len(free)):
            walls = {free[i] for i in range(len(free)) if mask >> i & 1}
            if number_wall_valid(givens, walls):
                sols.append(walls)
        assert sols
        for walls in sols:
            assert answer("number_wall", t, number_wall_grid(givens, walls)).reward == 1.0
        found_multi = found_multi or len(sols) > 1
    assert found_multi


# ---- star_placement_puzzle ---------------------------------------------------------------------

def test_star_placement_wrong_answers():
    task = "star_placement_puzzle"
    for level in (1, 3):
        t = env_of(task).generate(6, level)
        p = t.answer
        stars = [list(x) for x in p["solution"]]
        moved = copy.deepcopy(stars)
        r, c = moved[0]
        moved[0] = [r, next(x for x in range(p["n"]) if [r, x] not in stars and x != c)]
        assert_zero(answer(task, t, json.dumps(moved)))                                  # a rule broken
        assert_zero(answer(task, t, json.dumps(stars[:-1])))                               # a star missing
        assert_zero(answer(task, t, json.dumps(stars[:-1] + [[p["n"], 0]])), "outside")    # off the grid
        assert_zero(answer(task, t, json.dumps(stars + [stars[0]])), "twice")


def test_star_placement_alternative_solutions_score_one():
    env = env_of("star_placement_puzzle")
    found_multi = False
    for seed in range(30):
        t = env.generate(seed, 0)
        p = t.answer
        n, reg = p["n"], p["regions"]
        sols = []
        for perm in itertools.permutations(range(n)):
            if any(abs(perm[i] - perm[i + 1]) <= 1 for i in range(n - 1)):
                continue
            if len({reg[r][perm[r]] for r in range(n)}) == n:
                sols.append([[r, perm[r]] for r in range(n)])
        assert sols
        for s in sols:
            assert answer("star_placement_puzzle", t, json.dumps(s)).reward == 1.0
        found_multi = found_multi or len(sols) > 1
    assert found_multi


# ---- minesweeper -------------------------------------------------------------------------------

def brute_forced_mines(board):
    """Independent: enumerate every assignment of the constrained hidden cells."""
    h, w = len(board), len(board[0])
    hidden = sorted({(r + dr, c + dc) for r in range(h) for c in range(w) if board[r][c].isdigit()
                     for dr, dc in AROUND if 0 <= r + dr < h and 0 <= c + dc < w and board[r + dr][c + dc] == "?"})
    always = None
    for bits in itertools.product((0, 1), repeat=len(hidden)):
        mines = {x for x, b in zip(hidden, bits) if b}
        ok = all(int(board[r][c]) == sum((r + dr, c + dc) in mines for dr, dc in AROUND)
                 for r in range(h) for c in range(w) if board[r][c].isdigit())
        if ok:
            always = set(mines) if always is None else always & mines
    return always


def test_minesweeper_gold_is_complete_deduction():
    # "? ? ?" over "1 2 1": no number equals its hidden-neighbour count, yet both corners are forced
    board = ["???", "121"]
    assert ms.simple_rule_mines(board) == set()
    assert ms.forced_mines(board) == {(0, 0), (0, 2)}
    assert brute_forced_mines(board) == {(0, 0), (0, 2)}
    env = env_of("minesweeper")
    t = with_puzzle(env.generate(0, 0), {"h": 2, "w": 3, "board": board, "forced": [[0, 0], [0, 2]]})
    assert answer("minesweeper", t, "[[0,0],[0,2]]").reward == 1.0
    assert_zero(answer("minesweeper", t, "[]"), "missing")
    # generated instances: the solver's gold equals an independent brute force, and from level 2 up
    # every instance needs more than the one-number counting rule
    for level in (0, 1):
        for seed in range(10):
            p = env.generate(seed, level).answer
            assert {tuple(x) for x in p["forced"]} == brute_forced_mines(p["board"])
    for seed in range(5):
        p = env.generate(seed, 2).answer
        assert {tuple(x) for x in p["forced"]} - ms.simple_rule_mines(p["board"])


def test_minesweeper_wrong_answers_and_stray_coordinates():
    task = "minesweeper"
    env = env_of(task)
    t = env.generate(7, 2)
    p = t.answer
    gold = p["forced"]
    hidden = [[r, c] for r in range(p["h"]) for c in range(p["w"]) if p["board"][r][c] == "?" and [r, c] not in gold]
    shown = next([r, c] for r in range(p["h"]) for c in range(p["w"]) if p["board"][r][c] != "?")
    assert_zero(answer(task, t, json.dumps(gold[1:])), "missing")              # a forced mine left out
    assert_zero(answer(task, t, json.dumps(gold + [hidden[0]])), "not certain")  # a cell that may be safe
    assert_zero(answer(task, t, json.dumps(gold + [shown])), "not certain")      # a revealed cell
    assert_zero(answer(task, t, json.dumps(gold)[:-3]))                           # truncated
    # coordinates are read from the final answer only
    stray = f"<think>maybe {json.dumps(hidden)} are mines, or [[0,0]]</think>"
    assert env.score(t, stray + f"<answer>{json.dumps(gold)}</answer>").reward == 1.0
    assert env.score(t, f"Candidates: {json.dumps(hidden[:2])}.\n<answer>{json.dumps(gold)}</answer>").reward == 1.0
    assert_zero(env.score(t, f"<think>{json.dumps(gold)}</think><answer>[]</answer>"))
    # order and duplicates of the listing do not matter
    assert answer(task, t, json.dumps(list(reversed(gold)))).reward == 1.0


# ---- hitori ------------------------------------------------------------------------------------

def hitori_valid(g, shaded) -> bool:
    n = len(g)
    if any((r + dr, c + dc) in shaded for r, c in shaded for dr, dc in ORTH):
        return False
    for i in range(n):
        row = [g[i][j] for j in range(n) if (i, j) not in shaded]
        col = [g[j][i] for j in range(n) if (j, i) not in shaded]
        if len(set(row)) != len(row) or len(set(col)) != len(col):
            return False
    white = [(r, c) for r in range(n) for c in range(n) if (r, c) not in shaded]
    seen, q = {white[0]}, deque([white[0]])
    while q:
        x = q.popleft()
        for dr, dc in ORTH:
            y = (x[0] + dr, x[1] + dc)
            if 0 <= y[0] < n and 0 <= y[1] < n and y not in shaded and y not in seen:
                seen.add(y)
                q.append(y)
    return len(seen) == len(white)


def test_hitori_wrong_answers():
    task = "hitori"
    t = env_of(task).generate(8, 2)
    p = t.answer
    sol = [list(x) for x in p["solution"]]
    assert_zero(answer(task, t, json.dumps(sol[1:])), "unshaded")          # a duplicate left unshaded
    r, c = sol[0]
    nb = next([r + dr, c + dc] for dr, dc in ORTH if 0 <= r + dr < p["n"] and 0 <= c + dc < p["n"])
    assert_zero(answer(task, t, json.dumps(sol + [nb])), "share a side")   # adjacent shaded cells
    assert_zero(answer(task, t, json.dumps(sol + [[-1, 0]])), "outside")
    # shading that cuts the grid apart
    hand = {"n": 3, "grid": [[1, 2, 3], [2, 3, 1], [3, 1, 2]], "solution": []}
    assert_zero(answer(task, with_puzzle(t, hand), "[[0,1],[1,0]]"), "connected")


def test_hitori_alternative_solutions_score_one():
    env = env_of("hitori")
    found_multi = False
    for seed in range(20):
        t = env.generate(seed, 0)
        g = t.answer["grid"]
        cells = [(r, c) for r in range(4) for c in range(4)]
        sols = []
        for mask in range(1 << 16):
            if bin(mask).count("1") > 6:
                continue
            shaded = {cells[i] for i in range(16) if mask >> i & 1}
            if hitori_valid(g, shaded):
                sols.append(sorted(shaded))
        assert sols
        for s in sols:
            assert answer("hitori", t, json.dumps([list(x) for x in s])).reward == 1.0
        found_multi = found_multi or len(sols) > 1
        if found_multi and seed >= 3:
            break
    assert found_multi


# ---- light_up ----------------------------------------------------------------------------------

def light_up_valid(rows, bulbs) -> bool:
    h, w = len(rows), len(rows[0])
    lit = set()
    for r, c in bulbs:
        if rows[r][c] != ".":
            return False
        lit.add((r, c))
        for dr, dc in ORTH:
            rr, cc = r + dr, c + dc
            while 0 <= rr < h and 0 <= cc < w and rows[rr][cc] == ".":
                if (rr, cc) in bulbs:
                    return False
                lit.add((rr, cc))
                rr, cc = rr + dr, cc + dc
    for r in range(h):
        for c in range(w):
            if rows[r][c] == "." and (r, c) not in lit:
                return False
            if rows[r][c].isdigit() and int(rows[r][c]) != sum((r + dr, c + dc) in bulbs for dr, dc in ORTH):
                return False
    return True


def test_light_up_wrong_answers():
    task = "light_up"
    t = env_of(task).generate(9, 2)
    p = t.answer
    sol = [list(x) for x in p["solution"]]
    assert_zero(answer(task, t, json.dumps(sol[1:])))                           # a cell left dark
    wall = next([r, c] for r in range(p["h"]) for c in range(p["w"]) if p["grid"][r][c] != ".")
    assert_zero(answer(task, t, json.dumps(sol + [wall])), "wall")               # a bulb on a wall
    hand = {"h": 1, "w": 3, "grid": ["..1"], "solution": [[0, 1]]}
    t2 = with_puzzle(t, hand)
    assert answer(task, t2, "[[0,1]]").reward == 1.0
    assert_zero(answer(task, t2, "[[0,0],[0,1]]"), "see each other")
    hand = {"h": 1, "w": 3, "grid": ["1.."], "solution": [[0, 1]]}
    assert_zero(answer(task, with_puzzle(t, hand), "[[0,2]]"), "shows 1")       # a numbered wall ignored


def test_light_up_alternative_solutions_score_one():
    env = env_of("light_up")
    found_multi = False
    for seed in range(20):
        t = env.generate(seed, 0)
        rows = t.answer["grid"]
        white = [(r, c) for r in range(4) for c in range(4) if rows[r][c] == "."]
        sols = []
        for mask in range(1 << len(white)):
            bulbs = {white[i] for i in range(len(white)) if mask >> i & 1}
            if light_up_valid(rows, bulbs):
                sols.append(sorted(bulbs))
        assert sols
        for s in sols:
            assert answer("light_up", t, json.dumps([list(x) for x in s])).reward == 1.0
        found_multi = found_multi or len(sols) > 1
    assert found_multi


# ---- wordscapes --------------------------------------------------------------------------------

def test_wordscapes_wrong_answers():
    task = "wordscapes"
    env = env_of(task)
    t = env.generate(11, 2)
    p = t.answer
    sol = p["solution"]
    h, w = p["h"], p["w"]
    # a rule broken: one non-given letter changed so that no listed word reads there
    r, c = next((r, c) for r in range(h) for c in range(w) if p["layout"][r][c] == ".")
    g = copy.deepcopy(sol)
    g[r][c] = "Q" if sol[r][c] != "Q" else "X"
    assert_zero(answer(task, t, json.dumps(g)), "not a listed word")
    # a given changed: a blocked cell filled
    r, c = next((r, c) for r in range(h) for c in range(w) if sol[r][c] == "#")
    g = copy.deepcopy(sol)
    g[r][c] = "A"
    assert_zero(answer(task, t, json.dumps(g)), "blocked")
    # an open cell left blocked, and a two-letter cell
    r, c = next((r, c) for r in range(h) for c in range(w) if sol[r][c] != "#")
    g = copy.deepcopy(sol)
    g[r][c] = "#"
    assert_zero(answer(task, t, json.dumps(g)), "needs a letter")
    g[r][c] = "AB"
    assert_zero(answer(task, t, json.dumps(g)))


def test_wordscapes_positions_are_checked():
    env = env_of("wordscapes")
    base = env.generate(0, 0)
    # layout: across slots in rows 0 and 2, down slot in column 0
    hand = {"h": 3, "w": 3, "layout": ["...", ".##", "..."], "words": ["BAT", "BIT", "BOB"], "solution": None}
    t = with_puzzle(base, hand)
    # both orders of the interchangeable across words are valid
    assert answer("wordscapes", t, '[["B","A","T"],["O","#","#"],["B","I","T"]]').reward == 1.0
    assert answer("wordscapes", t, '[["B","I","T"],["O","#","#"],["B","A","T"]]').reward == 1.0
    # a word in the wrong slot: BOB written across, BAT down -> the slots read non-words
    assert_zero(answer("wordscapes", t, '[["B","O","B"],["A","#","#"],["T","I","T"]]'), "not a listed word")
    # one word used twice while another is missing
    assert_zero(answer("wordscapes", t, '[["B","A","T"],["O","#","#"],["B","A","T"]]'), "more than one slot")
    # a word that only appears inside a longer run does not fill a slot
    hand2 = {"h": 1, "w": 4, "layout": ["...."], "words": ["CAT"], "solution": None}
    assert_zero(answer("wordscapes", with_puzzle(base, hand2), '[["C","A","T","S"]]'), "not a listed word")
    # the reference grid with two same-length crossing words swapped fails
    for seed in range(20):
        t = env.generate(seed, 3)
        p = t.answer
        from m1gym.envs.logic.wordscapes import read_slot, slots
        plain = ["".join("#" if ch == "#" else "." for ch in row) for row in p["layout"]]
        sl = slots(plain)
        pair = next(((a, b) for a, b in itertools.combinations(sl, 2) if a[3] == b[3]
                     and read_slot(p["solution"], a) != read_slot(p["solution"], b)), None)
        if pair is None:
            continue
        a, b = pair
        g = copy.deepcopy(p["solution"])
        wa, wb = read_slot(g, a), read_slot(g, b)
        for (d, r, c, n), word in ((a, wb), (b, wa)):
            for i, ch in enumerate(word):
                if d == "across":
                    g[r][c + i] = ch
                else:
                    g[r + i][c] = ch
        words_read = sorted(read_slot(g, s) for s in sl)
        s = answer("wordscapes", t, json.dumps(g))
        assert (s.reward == 1.0) == (words_read == sorted(p["words"]) and all(
            g[r][c] == p["layout"][r][c] for r in range(p["h"]) for c in range(p["w"]) if p["layout"][r][c] not in ".#"))


# ---- sliding_puzzle ----------------------------------------------------------------------------

def plain_bfs_distance(start, n, limit=30):
    goal = sp.goal_state(n)
    seen = {start: 0}
    q = deque([start])
    while q:
        s = q.popleft()
        if s == goal:
            return seen[s]
        if seen[s] >= limit:
            continue
        for _, t in sp.neighbours(s, n):
            if t not in seen:
                seen[t] = seen[s] + 1
                q.append(t)
    return None


def test_sliding_puzzle_optimal_lengths_match_plain_bfs():
    env = env_of("sliding_puzzle")
    for level in (0, 1):
        for seed in range(8):
            p = env.generate(seed, level).answer
            if p["solvable"]:
                assert p["optimal"] == plain_bfs_distance(tuple(p["board"]), 3)
    # IDA* (Manhattan + linear conflicts) agrees with plain BFS: on 3x3 boards of level 2 and on
    # shallow 4x4 scrambles
    for seed in range(10):
        p = env.generate(seed, 2).answer
        if p["solvable"]:
            assert len(sp.ida_solve(tuple(p["board"]), 3)) == p["optimal"]
    import random
    rng = random.Random(5)
    for _ in range(6):
        s = sp.goal_state(4)
        for _ in range(rng.randint(6, 11)):
            s = rng.choice(list(sp.neighbours(s, 4)))[1]
        path = sp.ida_solve(s, 4)
        assert sp.apply_moves(s, 4, path) == sp.goal_state(4)
        assert len(path) == plain_bfs_distance(s, 4, 12)


def test_sliding_puzzle_replay_and_scoring():
    task = "sliding_puzzle"
    env = env_of(task)
    t = next(x for x in (env.generate(s, 1) for s in range(40)) if x.answer["solvable"])
    p = t.answer
    sol = p["solution"]
    assert answer(task, t, sol).reward == 1.0
    assert answer(task, t, " ".join(sol).lower()).reward == 1.0  # spacing and case tolerated
    # every other optimal sequence also scores 1 (found by enumerating shortest paths)
    n = p["size"]
    start = tuple(p["board"])
    paths = [""]
    for _ in range(p["optimal"]):
        paths = [x + m for x in paths for m in "UDLR" if sp.apply_moves(start, n, x + m) is not None
                 and plain_bfs_distance(sp.apply_moves(start, n, x + m), n, 30) == p["optimal"] - len(x) - 1]
    assert len(paths) >= 1
    for path in paths[:20]:
        assert answer(task, t, path).reward == 1.0
    # suboptimal: a legal detour of two extra moves reaches the goal but scores 0, partial credit shaped
    detour = None
    for i in range(len(sol) + 1):
        for a, b in ("UD", "DU", "LR", "RL"):
            cand = sol[:i] + a + b + sol[i:]
            if sp.apply_moves(start, n, cand) == sp.goal_state(n):
                detour = cand
                break
        if detour:
            break
    s = answer(task, t, detour)
    assert_zero(s, "suffice")
    assert 0 < s.details["partial"] < 1
    # wrong moves, an illegal move, and the wrong verdict
    assert_zero(answer(task, t, sol[:-1]), "do not reach")
    z = start.index(0)
    off = "U" if z < n else ("D" if z >= n * (n - 1) else ("L" if z % n == 0 else "R"))
    assert_zero(answer(task, t, off + sol), "off the board")
    assert_zero(answer(task, t, "no solution"), "solvable")
    assert_zero(answer(task, t, "UDXL"), "move string")
    assert_zero(answer(task, t, "U" * 400), "more than")


def test_sliding_puzzle_unsolvable_instances():
    env = env_of("sliding_puzzle")
    found = 0
    for seed in range(60):
        t = env.generate(seed, 3)
        p = t.answer
        assert sp.solvable(tuple(p["board"]), 4) == p["solvable"]
        if not p["solvable"]:
            found += 1
            assert answer("sliding_puzzle", t, "no solution").reward == 1.0
            assert answer("sliding_puzzle", t, "No solution.").reward == 1.0
            assert_zero(answer("sliding_puzzle", t, "ULDR"), "unsolvable")
    assert found


# ---- arc_agi -----------------------------------------------------------------------------------

def test_arc_agi_wrong_answers():
    task = "arc_agi"
    env = env_of(task)
    for level in (0, 4):
        t = env.generate(12, level)
        out = t.answer["test_output"]
        g = copy.deepcopy(out)
        g[0][0] = (g[0][0] + 1) % 10
        s = answer(task, t, json.dumps(g))
        assert_zero(s, "differ")
        assert 0 < s.details["cell_accuracy"] < 1
        assert_zero(answer(task, t, json.dumps(out[:-1])), "shape")
        assert_zero(answer(task, t, json.dumps([[10] * len(out[0])] * len(out))), "allowed")
        assert_zero(answer(task, t, json.dumps(t.answer["test_input"])))


def test_arc_agi_test_output_is_unique_in_rule_space():
    from m1gym.envs.logic import arc_agi
    env = env_of("arc_agi")
    for level in range(5):
        for seed in range(4):
            p = env.generate(seed, level).answer
            demos = [(d["input"], d["output"]) for d in p["train"]]
            preds = arc_agi.predictions(demos, p["test_input"])
            assert preds is not None and len(preds) == 1
            assert json.loads(next(iter(preds))) == p["test_output"]


# ---- knobs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("task,knobs,word", [
    ("arrow_maze", {"h": 1}, "h, w >= 2"), ("campsite", {"density": 0.9}, "density"),
    ("norinori", {"n": 30, "region_size": 3.0}, "regions"), ("number_wall", {"n": 1}, "n >= 2"),
    ("star_placement_puzzle", {"k": 3}, "k in (1, 2)"), ("minesweeper", {"density": 0.8}, "density"),
    ("hitori", {"n": 2}, "n >= 3"), ("light_up", {"wall_ratio": 0.0}, "wall_ratio"),
    ("wordscapes", {"h": 3}, "h, w >= 4"), ("sliding_puzzle", {"size": 5}, "size must be 3 or 4"),
    ("sliding_puzzle", {"max_opt": 60}, "max_opt"), ("arc_agi", {"colours": 12}, "colours"),
])
def test_bad_knobs_name_the_fix(task, knobs, word):
    with pytest.raises(ValueError) as exc:
        env_of(task).generate(0, 1, **knobs)
    assert word in str(exc.value)


def test_levels_rise_in_size():
    """Instances get bigger (or searches longer) from level 0 to level 4."""
    def size(task, t):
        p = t.answer
        if task == "sliding_puzzle":
            return (p["size"], p["optimal"] or 0)
        if task == "arc_agi":
            return sum(len(d["input"]) * len(d["input"][0]) for d in p["train"])
        return len(t.prompt_text)
    for task in GROUP_D:
        env = env_of(task)
        lo = sorted(size(task, env.generate(s, 0)) for s in range(6))
        hi = sorted(size(task, env.generate(s, 4)) for s in range(6))
        assert lo[3] < hi[3], f"{task}: level 4 is not larger than level 0"


@pytest.mark.parametrize("task", GROUP_D)
def test_random_answer_hook_has_the_right_shape(task):
    """The calibration baseline parses (wrong, not malformed) and almost never solves level 4."""
    import random
    env = env_of(task)
    rng = random.Random(0)
    wins = 0
    for seed in range(8):
        t = env.generate(seed, 4)
        s = answer(task, t, env.random_answer(t.answer, rng))
        assert not s.reason.startswith(("unparseable", "verifier error")), s.reason
        wins += s.reward
    assert wins <= 1


# ---- SynLogic rows -----------------------------------------------------------------------------

def _synlogic_row(task, answer, metadata):
    game = {"question": "q", "answer": answer, "metadata": metadata}
    return {"data_source": task, "prompt": [{"role": "user", "content": f"Solve this {task} puzzle."}],
            "extra_info": {"game_data_str": json.dumps(game)}}


def test_synlogic_star_placement_rows_map_and_score():
    from m1gym.envs.logic import synlogic
    t0 = env_of("star_placement_puzzle").generate(3, 1)
    p = t0.answer
    labels = "ABCDEFGHIJ"
    region_grid = ["".join(labels[v] for v in row) for row in p["regions"]]
    gold = {}
    for r, c in p["solution"]:
        gold.setdefault(labels[p["regions"][r][c]], []).append((r + 1, c + 1))
    gold_text = "```python\nstars = " + repr(gold) + "\n```"   # SynLogic's answer style, 1-based
    row = _synlogic_row("Star Placement Puzzle", gold_text, {"n": p["n"], "k": p["k"], "region_grid": region_grid})
    t, reason = synlogic.convert_row(row)
    assert t is not None, reason
    env = env_of("star_placement_puzzle")
    assert env.score(t, env.reference(t)).reward == 1.0
    assert env.score(t, f"<answer>{gold_text}</answer>").reward == 1.0
    shifted = {k: [(r - 1, c - 1) for r, c in v] for k, v in gold.items()}  # 0-based by mistake
    assert_zero(env.score(t, f"<answer>{shifted}</answer>"))
    # a row whose gold answer breaks the rules does not map
    bad = _synlogic_row("star_placement_puzzle", "{'A': [(1, 1)]}", {"n": p["n"], "k": p["k"], "region_grid": region_grid})
    assert synlogic.convert_row(bad)[0] is None


def test_synlogic_campsite_rows_map_and_score():
    from m1gym.envs.logic import synlogic
    t0 = env_of("campsite").generate(4, 1)
    p = t0.answer
    grid = [["T" if v == "T" else "X" for v in row] for row in p["solution"]]
    gold = [["C" if v == "X" else ("T" if v == "T" else "X") for v in row] for row in p["solution"]]
    meta = {"grid": grid, "n": p["h"], "m": p["w"], "row_constraints": p["row_counts"],
            "col_constraints": p["col_counts"]}
    t, reason = synlogic.convert_row(_synlogic_row("campsite", repr(gold), meta))
    assert t is not None, reason
    env = env_of("campsite")
    assert env.score(t, env.reference(t)).reward == 1.0
    assert env.score(t, f"<answer>{repr(gold)}</answer>").reward == 1.0
    no_tents = [["T" if v == "T" else "X" for v in row] for row in gold]
    assert_zero(env.score(t, f"<answer>{repr(no_tents)}</answer>"), "tents")
    assert synlogic.convert_row(_synlogic_row("campsite", repr(no_tents), meta))[0] is None


def test_synlogic_arrow_maze_rows_map_and_score():
    from m1gym.envs.logic import synlogic
    env = env_of("arrow_maze")
    p = env.generate(6, 1).answer
    maze = [[str(v) if isinstance(v, int) else (v or "X") for v in row] for row in p["givens"]]
    gold = [[str(v) for v in row] for row in p["solution"]]
    t, reason = synlogic.convert_row(_synlogic_row("arrow_maze", "```python\n" + repr(gold) + "\n```", {"maze": maze}))
    assert t is not None, reason
    assert env.score(t, env.reference(t)).reward == 1.0
    assert env.score(t, f"<answer>{repr(gold)}</answer>").reward == 1.0
    broken = copy.deepcopy(gold)
    r, c = next((r, c) for r in range(len(maze)) for c in range(len(maze[0])) if maze[r][c].isdigit())
    broken[r][c] = str(int(gold[r][c]) + 1)
    assert_zero(env.score(t, f"<answer>{repr(broken)}</answer>"), "keep its number")
    assert synlogic.convert_row(_synlogic_row("arrow_maze", repr(broken), {"maze": maze}))[0] is None


def test_synlogic_number_wall_rows_keep_the_diagonal_rule():
    from m1gym.envs.logic import synlogic
    env = env_of("number_wall")
    # two 1-islands touching diagonally: fine under our rules, not under SynLogic's
    diag = [[1, "A"], ["A", 1]]
    assert synlogic.convert_row(_synlogic_row("number_wall", repr(diag), {"grid": [[1, "X"], ["X", 1]], "n": 2}))[0] is None
    native = with_puzzle(env.generate(0, 0), {"n": 2, "givens": [[1, 0], [0, 1]], "solution": None})
    assert answer("number_wall", native, '[[1,"#"],["#",1]]').reward == 1.0
    # a row without diagonal contacts maps, and scores in SynLogic's symbols ("A" wall, "X" island)
    gold = [[3, "X", "X"], ["A", "A", "A"], [1, "A", 1]]
    grid = [[3, "X", "X"], ["X", "X", "X"], [1, "X", 1]]
    t, reason = synlogic.convert_row(_synlogic_row("number_wall", repr(gold), {"grid": grid, "n": 3}))
    assert t is not None, reason
    assert env.score(t, env.reference(t)).reward == 1.0
    assert env.score(t, f"<answer>{json.dumps(gold)}</answer>").reward == 1.0
    assert_zero(env.score(t, '<answer>[[3,".","."],["#","#","#"],[1,"#",1]]</answer>'))  # our symbols differ
    assert_zero(env.score(t, '<answer>[[3,"X","A"],["A","X","A"],[1,"A",1]]</answer>'), "island")
