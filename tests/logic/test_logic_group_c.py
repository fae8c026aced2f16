"""Group C logic tasks: sudoku, futoshiki, skyscraper_puzzle, calcudoko, survo, binario, kukurasu,
nonogram, numbrix, zebra_puzzle, space_reasoning_tree.

For each task: the reference scores 1 over levels 0..4 x 10 seeds; three kinds of wrong answers
score 0 with a reason (a rule broken, a given changed, malformed or truncated JSON); and where an
instance has several solutions, a second solution found here by a small brute-force solver that
does not use the task's code scores 1 (CC verifiers never compare with one stored grid).
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

from m1gym import get_env

GROUP_C = ["sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko", "survo", "binario", "kukurasu", "nonogram",
           "numbrix", "zebra_puzzle", "space_reasoning_tree"]
GRID_TASKS = ["sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko", "survo", "binario", "kukurasu",
              "nonogram", "numbrix"]


def env_of(task: str):
    return get_env(f"logic/{task}")


def score(task: str, t, answer_text: str):
    return env_of(task).score(t, f"<think>work</think><answer>{answer_text}</answer>")


def grid_json(grid) -> str:
    return json.dumps(grid)


# ---- reference sweep ---------------------------------------------------------------------------

@pytest.mark.parametrize("task", GROUP_C)
def test_reference_scores_one_levels_0_to_4(task):
    env = env_of(task)
    for level in range(5):
        for seed in range(10):
            t = env.generate(seed, level)
            s = env.score(t, env.reference(t))
            assert s.reward == 1.0, f"{task} level {level} seed {seed}: {s.reason}"
            assert "<answer>" in t.prompt_text and "e.g." in t.prompt_text


@pytest.mark.parametrize("task", GROUP_C)
def test_levels_grow(task):
    """The instance (puzzle data) grows from level 0 to level 4."""
    env = env_of(task)
    small = sum(len(json.dumps(env.generate(s, 0).answer)) for s in range(5))
    big = sum(len(json.dumps(env.generate(s, 4).answer)) for s in range(5))
    assert big > 1.5 * small, f"{task}: level 4 instances are not larger than level 0 instances"


# ---- three kinds of wrong answers --------------------------------------------------------------

def _first_hidden(grid, blank=0):
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if v == blank:
                return r, c
    return None


def _first_given(grid, blank=0):
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if v != blank:
                return r, c
    return None


def rule_broken(task: str, p: dict):
    sol = [list(row) for row in p["solution"]] if task != "zebra_puzzle" else None
    if task in ("sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko"):
        r, c = _first_hidden(p["grid"]) or (0, 0)
        sol[r][c] = sol[r][c] % p["n"] + 1  # the row now repeats a value
        return grid_json(sol)
    if task == "binario":
        r, c = _first_hidden(p["grid"], -1)
        sol[r][c] = 1 - sol[r][c]  # row no longer balanced
        return grid_json(sol)
    if task == "survo":
        r, c = _first_hidden(p["grid"])
        sol[r][c] += 1  # sums and multiset both broken
        return grid_json(sol)
    if task in ("kukurasu", "nonogram"):
        sol[0][0] = 1 - sol[0][0]
        return grid_json(sol)
    if task == "numbrix":
        hidden = [(r, c) for r in range(p["n"]) for c in range(p["n"]) if p["grid"][r][c] == 0]
        (a, b), (c, d) = hidden[0], hidden[-1]
        sol[a][b], sol[c][d] = sol[c][d], sol[a][b]
        return grid_json(sol)
    if task == "zebra_puzzle":
        s = p["solution"]
        houses = [{a: s[a][h] for a in p["attributes"]} for h in range(p["houses"])]
        houses[0]["name"], houses[1]["name"] = houses[1]["name"], houses[0]["name"]
        return json.dumps(houses)
    if task == "space_reasoning_tree":
        extra = sorted(set(p["parent"]) - set(p["solution"]) - {p["target"]})[0]
        return json.dumps(p["solution"] + [extra])
    raise AssertionError(task)


def given_changed(task: str, p: dict):
    """Change a given (or, for clue-only puzzles, an answer that fits a neighbouring puzzle)."""
    if task in ("sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko", "survo", "numbrix", "binario"):
        blank = -1 if task == "binario" else 0
        grid = [list(row) for row in p["grid"]]
        sol = [list(row) for row in p["solution"]]
        pos = _first_given(grid, blank)
        if pos is None:  # no givens shown: change the first cell instead
            pos = (0, 0)
        r, c = pos
        if task == "binario":
            sol[r][c] = 1 - sol[r][c]
        elif task == "survo":
            sol[r][c] += 1
        else:
            top = p["n"] * p["n"] if task == "numbrix" else p["n"]
            sol[r][c] = sol[r][c] % top + 1
        return grid_json(sol)
    if task in ("kukurasu", "nonogram"):  # transposed answer: clue positions checked, not just counts
        sol = p["solution"]
        return grid_json([list(col) for col in zip(*sol)][:p["h"]] if p["h"] == p["w"] else sol[::-1])
    if task == "zebra_puzzle":  # houses in reverse order
        s = p["solution"]
        return json.dumps([{a: s[a][h] for a in p["attributes"]} for h in reversed(range(p["houses"]))])
    if task == "space_reasoning_tree":  # drop one cousin
        return json.dumps(p["solution"][:-1])
    raise AssertionError(task)


@pytest.mark.parametrize("task", GROUP_C)
def test_wrong_answers_score_zero(task):
    env = env_of(task)
    for level in (0, 2, 4):
        for seed in range(3):
            t = env.generate(seed, level)
            p = t.answer
            ref_text = env.solution_text(p)
            if not p.get("solvable", True):  # binario "no solution" instance: covered below
                continue
            for kind, text in (("rule broken", rule_broken(task, p)), ("given changed", given_changed(task, p)),
                               ("truncated", ref_text[: len(ref_text) // 2]),
                               ("malformed", ref_text.replace("[", "(").replace("]", ")")),
                               ("wrong shape", "[[1]]")):
                if text == ref_text:
                    continue  # e.g. a symmetric nonogram transposes to itself
                s = score(task, t, text)
                assert s.reward == 0.0, f"{task} L{level} s{seed}: {kind} answer scored 1: {text[:80]}"
                assert s.reason and not s.reason.startswith("verifier error"), (task, kind, s.reason)
            trunc = score(task, t, ref_text[: len(ref_text) // 2])
            assert trunc.format_ok is False, f"{task}: a truncated answer should be a format failure"


def test_rule_reasons_name_the_rule():
    t = env_of("futoshiki").generate(0, 1)
    s = score("futoshiki", t, rule_broken("futoshiki", t.answer))
    assert "repeats" in s.reason or "given" in s.reason
    t = env_of("binario").generate(0, 2)
    sol = [list(r) for r in t.answer["solution"]]
    sol[0], sol[1] = sol[1], sol[0]  # swapping rows keeps balance; changes givens or columns
    assert score("binario", t, grid_json(sol)).reward == 0.0


# ---- alternative solutions score 1 (independent brute force) -----------------------------------

def latin_squares(n: int):
    for rows in itertools.product(list(itertools.permutations(range(1, n + 1))), repeat=n):
        if all(len({rows[r][c] for r in range(n)}) == n for c in range(n)):
            yield [list(r) for r in rows]


LATIN4 = list(latin_squares(4))


def seen_count(line):
    top = count = 0
    for h in line:
        if h > top:
            top, count = h, count + 1
    return count


def alternatives(task: str, p: dict):
    """Every solution of a small instance, found without the task's own code."""
    if task == "sudoku":
        out = []
        for g in LATIN4:
            boxes_ok = all(len({g[br + i][bc + j] for i in range(2) for j in range(2)}) == 4
                           for br in (0, 2) for bc in (0, 2))
            if boxes_ok and all(v == 0 or g[r][c] == v for r, row in enumerate(p["grid"]) for c, v in enumerate(row)):
                out.append(g)
        return out
    if task == "futoshiki":
        return [g for g in LATIN4 if all(g[a][b] < g[c][d] for a, b, c, d in p["inequalities"])
                and all(v == 0 or g[r][c] == v for r, row in enumerate(p["grid"]) for c, v in enumerate(row))]
    if task == "skyscraper_puzzle":
        cl = p["clues"]

        def ok(g):
            cols = [[g[r][c] for r in range(4)] for c in range(4)]
            return all((not cl["left"][i] or seen_count(g[i]) == cl["left"][i])
                       and (not cl["right"][i] or seen_count(g[i][::-1]) == cl["right"][i])
                       and (not cl["top"][i] or seen_count(cols[i]) == cl["top"][i])
                       and (not cl["bottom"][i] or seen_count(cols[i][::-1]) == cl["bottom"][i]) for i in range(4))
        return [g for g in LATIN4 if ok(g)
                and all(v == 0 or g[r][c] == v for r, row in enumerate(p["grid"]) for c, v in enumerate(row))]
    if task == "calcudoko":
        def cage_ok(g, cg):
            vals = [g[r][c] for r, c in cg["cells"]]
            t, op = cg["target"], cg["op"]
            if op == "+":
                return sum(vals) == t
            if op == "=":
                return vals == [t]
            if op == "-":
                return max(vals) - min(vals) == t
            raise AssertionError(op)
        return [g for g in LATIN4 if all(cage_ok(g, cg) for cg in p["cages"])
                and all(v == 0 or g[r][c] == v for r, row in enumerate(p["grid"]) for c, v in enumerate(row))]
    if task == "survo":
        blanks = [(r, c) for r in range(p["h"]) for c in range(p["w"]) if p["grid"][r][c] == 0]
        out = []
        for perm in sorted(set(itertools.permutations(p["numbers"]))):
            g = [list(row) for row in p["grid"]]
            for (r, c), v in zip(blanks, perm):
                g[r][c] = v
            if [sum(row) for row in g] == p["row_sums"] and \
                    [sum(g[r][c] for r in range(p["h"])) for c in range(p["w"])] == p["col_sums"]:
                out.append(g)
        return out
    if task == "binario":
        n = p["n"]
        rows = [r for r in itertools.product((0, 1), repeat=n)
                if sum(r) == n // 2 and not any(r[i] == r[i + 1] == r[i + 2] for i in range(n - 2))]
        out = []
        for g in itertools.permutations(rows, n):
            cols = [tuple(g[r][c] for r in range(n)) for c in range(n)]
            if len(set(cols)) == n and all(c in rows for c in cols) and \
                    all(v < 0 or g[r][c] == v for r, row in enumerate(p["grid"]) for c, v in enumerate(row)):
                out.append([list(r) for r in g])
        return out
    if task == "kukurasu":
        h, w = p["h"], p["w"]
        per_row = [[list(b) for b in itertools.product((0, 1), repeat=w)
                    if sum(c + 1 for c in range(w) if b[c]) == p["row_sums"][r]] for r in range(h)]
        return [[list(row) for row in g] for g in itertools.product(*per_row)
                if [sum(r + 1 for r in range(h) if g[r][c]) for c in range(w)] == p["col_sums"]]
    if task == "nonogram":
        h, w = p["h"], p["w"]

        def runs(line):
            return [len(m) for m in re.findall("1+", "".join(map(str, line)))]
        out = []
        for bitsv in itertools.product((0, 1), repeat=h * w):
            g = [list(bitsv[r * w:(r + 1) * w]) for r in range(h)]
            if all(runs(g[r]) == p["rows"][r] for r in range(h)) and \
                    all(runs([g[r][c] for r in range(h)]) == p["cols"][c] for c in range(w)):
                out.append(g)
        return out
    if task == "numbrix":
        n = p["n"]
        fixed = {v: (r, c) for r, row in enumerate(p["grid"]) for c, v in enumerate(row) if v}
        out = []

        def walk(path):
            if len(path) == n * n:
                g = [[0] * n for _ in range(n)]
                for i, (r, c) in enumerate(path):
                    g[r][c] = i + 1
                out.append(g)
                return
            r, c = path[-1]
            for a, b in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                nxt = len(path) + 1
                if 0 <= a < n and 0 <= b < n and (a, b) not in path and fixed.get(nxt, (a, b)) == (a, b) \
                        and not any(pos == (a, b) and v != nxt for v, pos in fixed.items()):
                    walk(path + [(a, b)])
        walk([fixed[1]])
        return out
    raise AssertionError(task)


SMALL = {
    "sudoku": (0, {"givens": 4, "unique": False}),
    "futoshiki": (0, {"n": 4, "signs": 2, "givens": 0, "unique": False}),
    "skyscraper_puzzle": (0, {"n": 4, "clue_density": 0.25, "unique": False}),
    "calcudoko": (0, {"n": 4, "max_cage": 3, "ops": "+-", "unique": False}),
    "survo": (0, {"h": 3, "w": 3, "blanks": 5}),
    "binario": (0, {"n": 4, "mask_rate": 0.9, "unique": False}),
    "kukurasu": (0, {"h": 6, "w": 6, "fill_prob": 0.5}),
    "nonogram": (0, {"h": 3, "w": 3, "line_solvable": False}),
    "numbrix": (0, {"n": 4, "givens_rate": 0.0}),
}


@pytest.mark.parametrize("task", GRID_TASKS)
def test_alternative_solution_scores_one(task):
    env = env_of(task)
    level, knobs = SMALL[task]
    found_multi = 0
    for seed in range(40):
        t = env.generate(seed, level, **knobs)
        sols = alternatives(task, t.answer)
        assert t.answer["solution"] in sols, f"{task} seed {seed}: brute force misses the planted solution"
        others = [g for g in sols if g != t.answer["solution"]]
        for g in others[:3]:
            s = score(task, t, grid_json(g))
            assert s.reward == 1.0, f"{task} seed {seed}: valid alternative scored 0 ({s.reason}): {g}"
        found_multi += bool(others)
        if found_multi >= 3:
            break
    assert found_multi >= 3, f"{task}: no multi-solution instances among 40 seeds; test knobs too tight"


@pytest.mark.parametrize("task", ["sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko", "binario"])
def test_unique_instances_are_unique(task):
    """With unique=True (the level tables), brute force finds exactly the planted solution."""
    env = env_of(task)
    knobs = {"binario": {"n": 4, "mask_rate": 0.9}}.get(task, {} if task == "sudoku" else {"n": 4})
    for seed in range(5):
        t = env.generate(seed, 0, **knobs)
        assert alternatives(task, t.answer) == [t.answer["solution"]], f"{task} seed {seed}"


# ---- zebra: uniqueness by brute force; lenient formatting --------------------------------------

def zebra_brute(p: dict) -> list[dict]:
    n, attrs = p["houses"], p["attributes"]
    rel = {"same": lambda a, b: a == b, "not_same": lambda a, b: a != b, "left_of": lambda a, b: a + 1 == b,
           "next_to": lambda a, b: abs(a - b) == 1, "before": lambda a, b: a < b}
    out = []
    for combo in itertools.product(*[list(itertools.permutations(p["values"][a])) for a in attrs]):
        where = {(a, v): i for a, perm in zip(attrs, combo) for i, v in enumerate(perm)}
        good = True
        for cl in p["clues"]:
            x = where[tuple(cl["x"])]
            if cl["kind"] == "at":
                good = x == cl["house"]
            elif cl["kind"] == "not_at":
                good = x != cl["house"]
            else:
                good = rel[cl["kind"]](x, where[tuple(cl["y"])])
            if not good:
                break
        if good:
            out.append({a: list(perm) for a, perm in zip(attrs, combo)})
    return out


def test_zebra_unique_by_brute_force_and_lenient_format():
    env = env_of("zebra_puzzle")
    for level in (0, 1, 2):
        for seed in range(3):
            t = env.generate(seed, level)
            p = t.answer
            assert zebra_brute(p) == [p["solution"]], f"level {level} seed {seed}: not unique"
            houses = [{a.upper(): "  " + p["solution"][a][h].upper() for a in reversed(p["attributes"])}
                      for h in range(p["houses"])]
            assert score("zebra_puzzle", t, json.dumps(houses)).reward == 1.0


# ---- space_reasoning_tree: cousins recomputed from the prompt text ------------------------------

def test_tree_cousins_from_prompt_text_and_order_free():
    env = env_of("space_reasoning_tree")
    for level in range(5):
        for seed in range(4):
            t = env.generate(seed, level)
            parent = {}
            for a, b in re.findall(r"The (.+?) directly contains the (.+?)\.", t.prompt_text):
                parent[b] = a
            for b, a in re.findall(r"The (.+?) is directly inside the (.+?)\.", t.prompt_text):
                parent[b] = a
            x = re.search(r"List all cousins of the (.+?)\. ", t.prompt_text).group(1)
            cont = parent[x]
            uncles = {u for u, g in parent.items() if g == parent.get(cont) and u != cont}
            expect = sorted(c for c, pc in parent.items() if pc in uncles)
            assert sorted(t.answer["solution"]) == expect
            assert score("space_reasoning_tree", t, json.dumps(list(reversed(expect)))).reward == 1.0
            assert score("space_reasoning_tree", t, ", ".join(e.upper() for e in expect)).reward == 1.0
            dup = score("space_reasoning_tree", t, json.dumps(expect + expect[:1]))
            assert dup.reward == 0.0 and "more than once" in dup.reason


# ---- reasoning text (SFT data) agrees with the solution ----------------------------------------

@pytest.mark.parametrize("task", ["sudoku", "futoshiki", "skyscraper_puzzle", "calcudoko", "binario"])
def test_reasoning_steps_agree_with_solution(task):
    env = env_of(task)
    steps = 0
    for level in range(5):
        for seed in range(3):
            t = env.generate(seed, level)
            if not t.answer.get("solvable", True):
                continue
            text = env.reasoning(t.answer)
            for r, c, v in re.findall(r"R(\d+)C(\d+) = (\d+)", text):
                assert t.answer["solution"][int(r) - 1][int(c) - 1] == int(v), (task, level, seed, r, c, v)
                steps += 1
    assert steps > 20, f"{task}: reasoning shows almost no deduction steps"


def test_nonogram_reasoning_lines_agree_with_solution():
    env = env_of("nonogram")
    for seed in range(5):
        t = env.generate(seed, 2)
        sol = t.answer["solution"]
        for kind, i, _, rest in re.findall(r"(Row|Column) (\d+) \(clue ([\d ]+)\): (.*)\.", env.reasoning(t.answer)):
            line = sol[int(i) - 1] if kind == "Row" else [row[int(i) - 1] for row in sol]
            for part in rest.split("; "):
                val = 1 if part.endswith("filled") else 0
                for j in re.findall(r"\d+", part):
                    assert line[int(j) - 1] == val


def test_zebra_reasoning_steps_agree_with_solution():
    env = env_of("zebra_puzzle")
    steps = 0
    for level in range(4):
        for seed in range(3):
            t = env.generate(seed, level)
            sol = t.answer["solution"]
            for value, attr, house in re.findall(r": (\w+) \((\w+)\) is in house (\d+)\.", env.reasoning(t.answer)):
                assert sol[attr][int(house) - 1] == value
                steps += 1
    assert steps > 10


def test_binario_no_solution_instances():
    env = env_of("binario")
    unsolvable = 0
    for seed in range(30):
        t = env.generate(seed, 0, n=4, mask_rate=0.6, no_solution_rate=1.0)
        p = t.answer
        assert "no solution" in t.prompt_text
        if p["solvable"]:
            assert score("binario", t, "no solution").reward == 0.0
            continue
        unsolvable += 1
        assert alternatives("binario", p) == [], f"seed {seed}: brute force finds a grid"
        assert score("binario", t, "No solution.").reward == 1.0
        any_grid = [[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
        s = score("binario", t, grid_json(any_grid))
        assert s.reward == 0.0 and "no solution" in s.reason
    assert unsolvable >= 3
    # levels 3-4 mix in unsolvable instances; their reference scores 1 and a grid answer scores 0
    mixed = [env.generate(seed, 3) for seed in range(40)]
    flagged = [t for t in mixed if not t.answer["solvable"]]
    assert 0 < len(flagged) < len(mixed)
    for t in flagged[:3]:
        assert env.score(t, env.reference(t)).reward == 1.0
