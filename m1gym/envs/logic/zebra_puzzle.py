"""Zebra / Einstein puzzle (task 34): houses in a row, attributes, clues with exactly one solution.

Verifier EM (after lower-casing and trimming) against the planted table; this is sound because the
generator proves uniqueness: it adds true clues until a constraint solver that counts up to two
solutions finds one, then drops every clue that is not needed for that. A wrong answer is also told
which clue it breaks, when it breaks one.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, LogicTask, parse_json, register_logic
from .solvers import SearchBudget, ensure_reference

ATTRIBUTES: dict[str, list[str]] = {
    "name": ["Alice", "Bob", "Carol", "David", "Eric", "Fiona", "Grace"],
    "color": ["red", "green", "blue", "yellow", "white", "purple", "orange"],
    "pet": ["cat", "dog", "bird", "fish", "horse", "rabbit", "turtle"],
    "drink": ["tea", "coffee", "milk", "water", "juice", "soda", "cocoa"],
    "job": ["doctor", "teacher", "engineer", "artist", "pilot", "chef", "farmer"],
    "sport": ["tennis", "soccer", "chess", "golf", "swimming", "cycling", "boxing"],
}
PHRASE = {
    "name": "{v}", "color": "the person in the {v} house", "pet": "the person who keeps a {v}",
    "drink": "the person who drinks {v}", "job": "the {v}", "sport": "the person who plays {v}",
}
#: clue kinds and the relation they put on house positions a (first item) and b (second item)
RELATIONS = {
    "same": lambda a, b: a == b,
    "not_same": lambda a, b: a != b,
    "left_of": lambda a, b: a + 1 == b,
    "next_to": lambda a, b: abs(a - b) == 1,
    "before": lambda a, b: a < b,
}


@dataclass
class Knobs:
    houses: int = 4
    attributes: int = 3
    position_clues: float = 0.25  # share of candidate clues that pin an item to a house ("is in house k")
    prune: bool = True            # drop clues not needed for uniqueness (harder puzzles)

    def __post_init__(self) -> None:
        if not 2 <= self.houses <= 7:
            raise ValueError("zebra_puzzle: houses must be in 2..7")
        if not 1 <= self.attributes <= len(ATTRIBUTES):
            raise ValueError(f"zebra_puzzle: attributes must be in 1..{len(ATTRIBUTES)}")


def solve(n: int, attrs: list[str], values: dict[str, list[str]], clues: list[dict], *, limit: int = 2,
          max_nodes: int = 5_000) -> list[dict[str, list[str]]]:
    """Up to ``limit`` solutions {attribute: values in house order}; forward checking + AC on clues."""
    var_index = {(a, v): i for i, (a, v) in enumerate((a, v) for a in attrs for v in values[a])}
    nv = len(var_index)
    full = (1 << n) - 1
    dom0 = [full] * nv
    binary: list[tuple[int, int, object]] = []
    for cl in clues:
        x = var_index[tuple(cl["x"])]
        if cl["kind"] == "at":
            dom0[x] &= 1 << cl["house"]
        elif cl["kind"] == "not_at":
            dom0[x] &= ~(1 << cl["house"])
        else:
            y = var_index[tuple(cl["y"])]
            rel = RELATIONS[cl["kind"]]
            # support masks: sup_xy[a] = positions of y compatible with x at a (and the reverse)
            sup_xy = [sum(1 << b for b in range(n) if rel(a, b)) for a in range(n)]
            sup_yx = [sum(1 << a for a in range(n) if rel(a, b)) for b in range(n)]
            binary.append((x, y, sup_xy))
            binary.append((y, x, sup_yx))
    groups = [[var_index[(a, v)] for v in values[a]] for a in attrs]
    sols: list = []
    nodes = 0

    def propagate(dom: list[int]) -> bool:
        changed = True
        while changed:
            changed = False
            for x, y, sup in binary:
                dx, dy = dom[x], dom[y]
                keep = 0
                for a in range(n):
                    if dx >> a & 1 and dy & sup[a]:
                        keep |= 1 << a
                if keep != dx:
                    if not keep:
                        return False
                    dom[x], changed = keep, True
            for g in groups:
                fixed = 0
                for x in g:
                    d = dom[x]
                    if d & (d - 1) == 0:
                        if not d or fixed & d:
                            return False
                        fixed |= d
                for x in g:
                    d = dom[x]
                    if d & (d - 1):
                        nd = d & ~fixed
                        if nd != d:
                            if not nd:
                                return False
                            dom[x], changed = nd, True
                for pos in range(n):
                    where = [x for x in g if dom[x] >> pos & 1]
                    if not where:
                        return False
                    if len(where) == 1 and dom[where[0]] != 1 << pos:
                        dom[where[0]], changed = 1 << pos, True
        return True

    def rec(dom: list[int]) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes:
            raise SearchBudget(f"more than {max_nodes} search nodes")
        if not propagate(dom):
            return
        best, best_k = -1, n + 1
        for x in range(nv):
            k = dom[x].bit_count()
            if 1 < k < best_k:
                best, best_k = x, k
        if best < 0:
            sol = {a: [""] * n for a in attrs}
            for (a, v), x in var_index.items():
                sol[a][dom[x].bit_length() - 1] = v
            sols.append(sol)
            return
        for pos in range(n):
            if dom[best] >> pos & 1:
                d2 = dom[:]
                d2[best] = 1 << pos
                rec(d2)
                if len(sols) >= limit:
                    return

    rec(dom0)
    return sols


def clue_holds(cl: dict, where: dict[tuple[str, str], int]) -> bool:
    a = where[tuple(cl["x"])]
    if cl["kind"] == "at":
        return a == cl["house"]
    if cl["kind"] == "not_at":
        return a != cl["house"]
    return RELATIONS[cl["kind"]](a, where[tuple(cl["y"])])


def clue_text(cl: dict) -> str:
    x = PHRASE[cl["x"][0]].format(v=cl["x"][1])
    if cl["kind"] == "at":
        return f"{x} lives in house {cl['house'] + 1}."
    if cl["kind"] == "not_at":
        return f"{x} does not live in house {cl['house'] + 1}."
    y = PHRASE[cl["y"][0]].format(v=cl["y"][1])
    return {
        "same": f"{x} is {y}." if cl["x"][0] == "name" else f"{x} and {y} live in the same house.",
        "not_same": f"{x} and {y} live in different houses.",
        "left_of": f"{x} lives directly left of {y}.",
        "next_to": f"{x} and {y} live next to each other.",
        "before": f"{x} lives somewhere to the left of {y}.",
    }[cl["kind"]]


class ZebraPuzzle(LogicTask):
    task_name = "zebra_puzzle"
    description = "Zebra (Einstein) puzzle: deduce every house's attributes from clues with a unique solution."
    answer_format = "JSON list of houses"
    version = "1"
    Knobs = Knobs
    level_table = {
        0: {"houses": 3, "attributes": 2, "position_clues": 0.35},
        1: {"houses": 3, "attributes": 3, "position_clues": 0.3},
        2: {"houses": 4, "attributes": 3, "position_clues": 0.25},
        3: {"houses": 5, "attributes": 4, "position_clues": 0.15},
        4: {"houses": 6, "attributes": 5, "position_clues": 0.1},
    }

    def _random_clue(self, rng: random.Random, k: Knobs, attrs: list[str], sol: dict[str, list[str]]) -> dict:
        n = k.houses
        a = rng.choice(attrs)
        pa = rng.randrange(n)
        x = [a, sol[a][pa]]
        if rng.random() < k.position_clues:
            if rng.random() < 0.6:
                return {"kind": "at", "x": x, "house": pa}
            return {"kind": "not_at", "x": x, "house": rng.choice([h for h in range(n) if h != pa])}
        kinds = ["same", "not_same", "left_of", "next_to", "before"] if len(attrs) > 1 else \
            ["left_of", "next_to", "before", "not_same"]
        for _ in range(20):
            kind = rng.choice(kinds)
            b = rng.choice([t for t in attrs if t != a] if kind == "same" and len(attrs) > 1 else attrs)
            pb = {"same": pa}.get(kind)
            if kind == "left_of":
                pb = pa + 1
            elif kind == "next_to":
                pb = pa + rng.choice([-1, 1])
            elif kind == "before":
                pb = rng.randrange(pa + 1, n) if pa + 1 < n else None
            elif kind == "not_same":
                pb = rng.choice([h for h in range(n) if h != pa])
            if pb is None or not 0 <= pb < n:
                continue
            y = [b, sol[b][pb]]
            if y == x:
                continue
            return {"kind": kind, "x": x, "y": y}
        return {"kind": "at", "x": x, "house": pa}

    def build(self, rng: random.Random, k: Knobs) -> dict:
        n = k.houses
        attrs = ["name"] + sorted(rng.sample([a for a in ATTRIBUTES if a != "name"], k.attributes - 1))
        values = {a: sorted(rng.sample(ATTRIBUTES[a], n)) for a in attrs}
        sol = {a: rng.sample(values[a], n) for a in attrs}
        clues: list[dict] = []
        seen: set[str] = set()

        def add(cl: dict) -> None:
            key = repr(sorted(cl.items()))
            if key not in seen:
                seen.add(key)
                clues.append(cl)
        while len(clues) < n * len(attrs) // 2:
            add(self._random_clue(rng, k, attrs, sol))
        # grow until unique: each new clue is true in the planted table and false in another solution
        for _ in range(200):
            try:
                found = solve(n, attrs, values, clues)
            except SearchBudget:
                add(self._random_clue(rng, k, attrs, sol))
                continue
            if len(found) == 1:
                break
            other = next(f for f in found if f != sol)
            where = {(a, v): other[a].index(v) for a in attrs for v in values[a]}
            for _ in range(300):
                cl = self._random_clue(rng, k, attrs, sol)
                if not clue_holds(cl, where):
                    break
            add(cl)
        else:
            raise RuntimeError("zebra_puzzle: no unique clue set found")
        if k.prune:
            order = list(range(len(clues)))
            rng.shuffle(order)
            dropped: set[int] = set()
            for i in order:
                trial = [c for j, c in enumerate(clues) if j != i and j not in dropped]
                try:
                    if len(solve(n, attrs, values, trial)) == 1:
                        dropped.add(i)
                except SearchBudget:
                    pass
            clues = [c for j, c in enumerate(clues) if j not in dropped]
        rng.shuffle(clues)
        found = solve(n, attrs, values, clues, max_nodes=100_000)
        if found != [sol]:
            raise RuntimeError("zebra_puzzle: generated clues do not have the planted unique solution")
        puzzle = {"houses": n, "attributes": attrs, "values": values, "clues": clues, "solution": sol}
        return ensure_reference(self, puzzle)

    def prompt(self, p: dict) -> str:
        n, attrs = p["houses"], p["attributes"]
        vals = "\n".join(f"- {a}: {', '.join(p['values'][a])}" for a in attrs)
        clues = "\n".join(f"{i + 1}. {clue_text(c)[0].upper() + clue_text(c)[1:]}" for i, c in enumerate(p["clues"]))
        example = [{a: f"<{a} in house {h}>" for a in attrs} for h in (1, 2)]
        return (
            f"There are {n} houses in a row, numbered 1 to {n} from left to right. Each house has one person, and "
            f"each of the following attributes takes each of its values in exactly one house:\n{vals}\n\n"
            "\"Directly left of\" means in the house with the number one lower; \"next to\" means in an adjacent "
            "house; \"somewhere to the left\" means in any lower-numbered house.\n\n"
            f"Clues:\n{clues}\n\n"
            "The clues have exactly one solution. Answer with a JSON list of the houses from 1 to "
            f"{n}, each an object giving every attribute ({', '.join(attrs)}), e.g. for two houses:\n"
            + json.dumps(example)
        )

    def check(self, p: dict, answer: str) -> Score:
        n, attrs = p["houses"], p["attributes"]
        data = parse_json(answer)
        if not isinstance(data, list) or len(data) != n:
            raise AnswerParseError(f"expected a JSON list of {n} house objects")
        table: dict[str, list[str]] = {a: [] for a in attrs}
        for h, house in enumerate(data):
            if not isinstance(house, dict):
                raise AnswerParseError(f"house {h + 1} is not a JSON object")
            norm = {str(key).strip().lower(): val for key, val in house.items()}
            if set(norm) != set(attrs):
                raise AnswerParseError(f"house {h + 1} must give exactly the attributes {attrs}")
            for a in attrs:
                if not isinstance(norm[a], str):
                    raise AnswerParseError(f"house {h + 1}: {a} must be a string")
                table[a].append(norm[a].strip().lower())
        gold = {a: [v.lower() for v in p["solution"][a]] for a in attrs}
        if table == gold:
            return Score.ok("matches the unique solution")
        for a in attrs:
            if sorted(table[a]) != sorted(v.lower() for v in p["values"][a]):
                return Score.fail(f"attribute {a} must use each of {p['values'][a]} exactly once", format_ok=True)
        where = {(a, v): table[a].index(v.lower()) for a in attrs for v in p["values"][a]}
        for i, cl in enumerate(p["clues"]):
            if not clue_holds(cl, where):
                return Score.fail(f"clue {i + 1} is broken: {clue_text(cl)}", format_ok=True)
        return Score.fail("not the unique solution", format_ok=True)

    def solution_text(self, p: dict) -> str:
        sol = p["solution"]
        return json.dumps([{a: sol[a][h] for a in p["attributes"]} for h in range(p["houses"])])

    def reasoning(self, p: dict) -> str:
        sol, attrs, n = p["solution"], p["attributes"], p["houses"]
        lines = ["I track the houses each item can still be in; each attribute uses every value once."]
        lines += deduction_trace(p)
        lines.append("The table:")
        for h in range(n):
            lines.append(f"House {h + 1}: " + ", ".join(f"{a} {sol[a][h]}" for a in attrs) + ".")
        lines.append("Every clue holds for this table.")
        return "\n".join(lines)


def deduction_trace(p: dict, max_lines: int = 14) -> list[str]:
    """Readable propagation steps: which clue or exclusion fixes which item in which house."""
    n, attrs, values = p["houses"], p["attributes"], p["values"]
    items = [(a, v) for a in attrs for v in values[a]]
    dom = {it: (1 << n) - 1 for it in items}
    fixed: set = set()
    lines: list[str] = []

    def note(it: tuple, why: str) -> None:
        if it not in fixed and dom[it] & (dom[it] - 1) == 0 and dom[it]:
            fixed.add(it)
            if len(lines) < max_lines:
                lines.append(f"- {why}: {it[1]} ({it[0]}) is in house {dom[it].bit_length()}.")

    for i, cl in enumerate(p["clues"]):
        it = tuple(cl["x"])
        if cl["kind"] == "at":
            dom[it] &= 1 << cl["house"]
            note(it, f"clue {i + 1}")
        elif cl["kind"] == "not_at":
            dom[it] &= ~(1 << cl["house"])
            note(it, f"clue {i + 1}")
    changed = True
    while changed:
        changed = False
        for i, cl in enumerate(p["clues"]):
            if cl["kind"] in ("at", "not_at"):
                continue
            rel = RELATIONS[cl["kind"]]
            x, y = tuple(cl["x"]), tuple(cl["y"])
            for u, w, fwd in ((x, y, True), (y, x, False)):
                keep = 0
                for a in range(n):
                    if dom[u] >> a & 1 and any(dom[w] >> b & 1 and (rel(a, b) if fwd else rel(b, a))
                                               for b in range(n)):
                        keep |= 1 << a
                if keep != dom[u] and keep:
                    dom[u], changed = keep, True
                    note(u, f"clue {i + 1}")
        for a in attrs:
            group = [(a, v) for v in values[a]]
            taken = 0
            for it in group:
                if dom[it] & (dom[it] - 1) == 0:
                    taken |= dom[it]
            for it in group:
                if dom[it] & (dom[it] - 1) and dom[it] & ~taken != dom[it] and dom[it] & ~taken:
                    dom[it] &= ~taken
                    changed = True
                    note(it, f"the other houses already have their {a}")
            for h in range(n):
                where = [it for it in group if dom[it] >> h & 1]
                if len(where) == 1 and dom[where[0]] != 1 << h:
                    dom[where[0]], changed = 1 << h, True
                    note(where[0], f"house {h + 1} has no other {a} left")
    if len(fixed) > len(lines):
        lines.append(f"- ... {len(fixed) - len(lines)} more items are fixed the same way.")
    if len(fixed) < len(items):
        lines.append("- The remaining items need case analysis: trying each option left for the most constrained "
                     "item, all but one lead to a clue being broken.")
    return lines


register_logic(ZebraPuzzle)
