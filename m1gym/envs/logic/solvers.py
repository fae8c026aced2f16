"""Small generic solvers shared by the grid logic tasks (not a task module).

- :func:`solve_units`: cells taking values 1..k, groups of cells ("units") all-different, an optional
  domain hook for extra rules; bitmask domains, minimum-remaining-values search, stops after
  ``limit`` solutions, raises :class:`SearchBudget` past ``max_nodes``. Latin squares, sudoku,
  futoshiki, skyscrapers and cage puzzles are all this plus a hook.
- :func:`random_fill`: a random complete assignment (random Latin square / sudoku grid).
- :func:`make_unique`: add givens from a planted solution until a solver finds no other solution.
- :func:`latin_units` / :func:`sudoku_units`: the unit lists of those grids.
- :func:`ensure_reference`: the generator's self-check (the reference answer must score 1).

Everything is deterministic given the ``random.Random`` passed in; nothing touches global state.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

Restrict = Callable[[list, int, int], int]


class SearchBudget(RuntimeError):
    """The search visited more than ``max_nodes`` nodes."""


def bits(mask: int) -> list[int]:
    """Values whose bit is set in ``mask`` (bit v means value v)."""
    out = []
    v = 0
    while mask:
        if mask & 1:
            out.append(v)
        mask >>= 1
        v += 1
    return out


def latin_units(n: int) -> list[list[int]]:
    """Rows then columns of an n x n grid, cells numbered r * n + c."""
    rows = [[r * n + c for c in range(n)] for r in range(n)]
    cols = [[r * n + c for r in range(n)] for c in range(n)]
    return rows + cols


def sudoku_units(box_h: int, box_w: int) -> list[list[int]]:
    """Rows, columns and boxes of a sudoku with boxes of box_h rows x box_w columns."""
    n = box_h * box_w
    boxes = []
    for br in range(0, n, box_h):
        for bc in range(0, n, box_w):
            boxes.append([(br + i) * n + bc + j for i in range(box_h) for j in range(box_w)])
    return latin_units(n) + boxes


def solve_units(ncells: int, nvals: int, units: Sequence[Sequence[int]], fixed: dict[int, int] | None = None,
                *, restrict: Restrict | None = None, final: Callable[[list], bool] | None = None,
                limit: int = 2, max_nodes: int = 200_000, rng: random.Random | None = None) -> list[list[int]]:
    """Up to ``limit`` solutions (lists of values, index = cell) of an all-different-units problem.

    restrict(assign, cell, mask) -> mask narrows a cell's candidate bitmask given the partial
    assignment (0 = empty); it must never remove a value that some solution uses there.
    final(assign) -> bool rejects complete assignments (rules the hook cannot see early).
    rng shuffles the value order (random fills); without it the search is deterministic.
    """
    fixed = fixed or {}
    cell_units: list[list[int]] = [[] for _ in range(ncells)]
    for ui, unit in enumerate(units):
        for c in unit:
            cell_units[c].append(ui)
    used = [0] * len(units)
    assign = [0] * ncells
    for c, v in sorted(fixed.items()):
        if not 1 <= v <= nvals:
            return []
        for u in cell_units[c]:
            if used[u] >> v & 1:
                return []
            used[u] |= 1 << v
        assign[c] = v
    full = (1 << (nvals + 1)) - 2
    empties = [c for c in range(ncells) if not assign[c]]
    sols: list[list[int]] = []
    nodes = 0

    def rec() -> None:
        nonlocal nodes
        best, best_mask, best_count = -1, 0, nvals + 1
        for c in empties:
            if assign[c]:
                continue
            m = full
            for u in cell_units[c]:
                m &= ~used[u]
            if restrict is not None and m:
                m = restrict(assign, c, m)
            k = m.bit_count()
            if k < best_count:
                best, best_mask, best_count = c, m, k
                if k <= 1:
                    break
        if best < 0:
            if final is None or final(assign):
                sols.append(assign[:])
            return
        if best_count == 0:
            return
        nodes += 1
        if nodes > max_nodes:
            raise SearchBudget(f"more than {max_nodes} search nodes")
        vals = bits(best_mask)
        if rng is not None:
            rng.shuffle(vals)
        us = cell_units[best]
        for v in vals:
            b = 1 << v
            assign[best] = v
            for u in us:
                used[u] |= b
            rec()
            for u in us:
                used[u] &= ~b
            assign[best] = 0
            if len(sols) >= limit:
                return

    rec()
    return sols


def random_fill(ncells: int, nvals: int, units: Sequence[Sequence[int]], rng: random.Random,
                restrict: Restrict | None = None, max_nodes: int = 50_000, tries: int = 20) -> list[int]:
    """A random complete assignment (e.g. a random Latin square), restarting when a search stalls."""
    for _ in range(tries):
        try:
            sols = solve_units(ncells, nvals, units, restrict=restrict, limit=1, max_nodes=max_nodes, rng=rng)
        except SearchBudget:
            continue
        if sols:
            return sols[0]
    raise RuntimeError("random_fill: no complete assignment found")


def make_unique(solution: Sequence[Any], givens: set[int], solve2: Callable[[set[int]], list],
                rng: random.Random, max_rounds: int = 400) -> set[int]:
    """Grow ``givens`` (cell indices whose planted value is shown) until the puzzle is unique.

    solve2(givens) returns up to two solutions (sequences indexed like ``solution``) or raises
    SearchBudget. Each round adds one planted value where another solution disagrees (or a random
    hidden cell when the search ran out of budget), so the loop always ends.
    """
    givens = set(givens)
    for _ in range(max_rounds):
        try:
            sols = solve2(givens)
        except SearchBudget:
            sols = None
        if sols is not None and len(sols) <= 1:
            return givens
        hidden = [i for i in range(len(solution)) if i not in givens]
        if not hidden:
            return givens
        diff = []
        if sols:
            for s in sols:
                diff = [i for i in hidden if s[i] != solution[i]]
                if diff:
                    break
        givens.add(rng.choice(diff or hidden))
    return givens


def reduce_givens(givens: set[int], target: int, solve2: Callable[[set[int]], list], rng: random.Random,
                  max_checks: int = 200) -> set[int]:
    """Drop givens (random order) while the puzzle stays unique, until ``target`` remain or none can go."""
    givens = set(givens)
    order = sorted(givens)
    rng.shuffle(order)
    for i in order[:max_checks]:
        if len(givens) <= target:
            break
        givens.discard(i)
        try:
            ok = len(solve2(givens)) == 1
        except SearchBudget:
            ok = False
        if not ok:
            givens.add(i)
    return givens


def pick_givens(solution: Sequence[Any], target: int, rng: random.Random,
                solve2: Callable[[set[int]], list] | None = None, max_checks: int = 200) -> set[int]:
    """Cells of a planted solution to show: ``target`` random ones; with ``solve2`` (see
    ``make_unique``) grown until exactly one solution remains, then reduced back towards ``target``."""
    cells = list(range(len(solution)))
    rng.shuffle(cells)
    shown = set(cells[:target])
    if solve2 is not None:
        shown = make_unique(solution, shown, solve2, rng)
        shown = reduce_givens(shown, target, solve2, rng, max_checks=max_checks)
    return shown


def grid_rows(flat: Sequence[Any], n: int) -> list:
    """The n rows of an n x n grid stored flat (row-major)."""
    return [flat[r * n:(r + 1) * n] for r in range(n)]


def shown_grid(flat: Sequence[Any], n: int, shown: set[int], blank: Any = 0) -> list[list[Any]]:
    """The puzzle grid: the flat solution's values at ``shown`` cells, ``blank`` elsewhere."""
    return [[flat[r * n + c] if r * n + c in shown else blank for c in range(n)] for r in range(n)]


def given_cells(grid: list[list[Any]], blank: Any = 0) -> dict[int, Any]:
    """The shown cells of a square puzzle grid by flat index (the inverse of ``shown_grid``)."""
    n = len(grid)
    return {r * n + c: v for r, row in enumerate(grid) for c, v in enumerate(row) if v != blank}


def ensure_reference(task_obj: Any, puzzle: dict) -> dict:
    """Re-check a freshly generated puzzle: its reference answer must pass the task's own check."""
    verdict = task_obj.check(puzzle, task_obj.solution_text(puzzle))
    if verdict.reward != 1.0:
        raise RuntimeError(f"{task_obj.task_name}: generated instance fails its own check: {verdict.reason}")
    return puzzle


def latin_error(grid: list[list[int]], n: int) -> str | None:
    """First Latin-square violation (values 1..n, no repeats in a row or column), or None."""
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if not 1 <= v <= n:
                return f"cell ({r},{c}) holds {v}, outside 1..{n}"
        if len(set(row)) != n:
            return f"row {r} repeats a value"
    for c in range(n):
        if len({grid[r][c] for r in range(n)}) != n:
            return f"column {c} repeats a value"
    return None


def givens_error(grid: list[list[Any]], givens: list[list[Any]], blank: Any = 0) -> str | None:
    """First given cell that the answer changed, or None."""
    for r, row in enumerate(givens):
        for c, v in enumerate(row):
            if v != blank and grid[r][c] != v:
                return f"cell ({r},{c}) is given as {v} but the answer has {grid[r][c]}"
    return None


def solve_latin_lines(n: int, fixed: dict[int, int], line_cands: dict[int, list[tuple[int, ...]]], *,
                      limit: int = 2, max_nodes: int = 2_000) -> list[list[int]]:
    """Latin squares (cells r * n + c, values 1..n) whose lines each match one of their candidates.

    line_cands maps a line (0..n-1 = rows left to right, n..2n-1 = columns top to bottom) to the
    value tuples allowed there (e.g. the permutations matching a skyscraper clue); lines not in it
    only obey the Latin rule. Propagation: naked and hidden singles plus filtering each line's
    candidates by the cell domains, to a fixpoint; then branching on a smallest domain.
    """
    lines = [[r * n + c for c in range(n)] for r in range(n)] + [[r * n + c for r in range(n)] for c in range(n)]
    full = (1 << (n + 1)) - 2
    dom = [full] * (n * n)
    for c, v in fixed.items():
        dom[c] = 1 << v
    sols: list[list[int]] = []
    nodes = 0

    def propagate(dom: list[int], cands: dict) -> bool:
        changed = True
        while changed:
            changed = False
            for li, cells in enumerate(lines):
                # naked singles: a fixed value leaves the other cells of the line
                fixed_mask = 0
                for x in cells:
                    d = dom[x]
                    if d & (d - 1) == 0:
                        if d == 0 or fixed_mask & d:
                            return False
                        fixed_mask |= d
                for x in cells:
                    d = dom[x]
                    if d & (d - 1):
                        nd = d & ~fixed_mask
                        if nd != d:
                            if nd == 0:
                                return False
                            dom[x] = nd
                            changed = True
                # hidden singles: a value with one place left in the line goes there
                for v in range(1, n + 1):
                    b = 1 << v
                    where = [x for x in cells if dom[x] & b]
                    if not where:
                        return False
                    if len(where) == 1 and dom[where[0]] != b:
                        dom[where[0]] = b
                        changed = True
                entry = cands.get(li)
                if entry is not None:
                    cl, seen = entry
                    ds = [dom[x] for x in cells]
                    if ds == seen:
                        continue
                    keep = cl
                    for i in range(n):
                        if ds[i] != seen[i]:
                            d = ds[i]
                            keep = [p for p in keep if d >> p[i] & 1]
                    if not keep:
                        return False
                    for i, x in enumerate(cells):
                        u = 0
                        for p in keep:
                            u |= 1 << p[i]
                        u &= ds[i]
                        if u != ds[i]:
                            ds[i] = dom[x] = u
                            changed = True
                    cands[li] = (keep, ds)
        return True

    def rec(dom: list[int], cands: dict) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes:
            raise SearchBudget(f"more than {max_nodes} search nodes")
        if not propagate(dom, cands):
            return
        best, best_k = -1, n + 1
        for x in range(n * n):
            k = dom[x].bit_count()
            if 1 < k < best_k:
                best, best_k = x, k
        if best < 0:
            sols.append([dom[x].bit_length() - 1 for x in range(n * n)])
            return
        for v in bits(dom[best]):
            d2 = dom[:]
            d2[best] = 1 << v
            rec(d2, dict(cands))
            if len(sols) >= limit:
                return

    rec(dom, {k: (list(v), [full] * n) for k, v in line_cands.items()})
    return sols


def singles_trace(ncells: int, nvals: int, units: Sequence[Sequence[int]], unit_names: Sequence[str],
                  fixed: dict[int, int], cell_name: Callable[[int], str], *, restrict: Restrict | None = None,
                  max_steps: int = 12) -> tuple[list[str], int]:
    """Human-style deduction steps (naked and hidden singles), for reference reasoning text.

    Returns up to ``max_steps`` lines like "R2C3 = 4 (only candidate)" and how many cells singles
    alone filled in total (they are sound, so every placement agrees with a unique solution).
    """
    assign = [0] * ncells
    for c, v in fixed.items():
        assign[c] = v
    cell_units: list[list[int]] = [[] for _ in range(ncells)]
    for ui, unit in enumerate(units):
        for c in unit:
            cell_units[c].append(ui)
    full = (1 << (nvals + 1)) - 2
    lines: list[str] = []
    placed = 0
    while True:
        used = [0] * len(units)
        for ui, unit in enumerate(units):
            for c in unit:
                if assign[c]:
                    used[ui] |= 1 << assign[c]
        cand = {}
        for c in range(ncells):
            if not assign[c]:
                m = full
                for u in cell_units[c]:
                    m &= ~used[u]
                if restrict is not None:
                    m = restrict(assign, c, m)
                cand[c] = m
        step = None
        for c, m in cand.items():
            if m and m & (m - 1) == 0:
                step = (c, m.bit_length() - 1, "only candidate left")
                break
        if step is None:
            for ui, unit in enumerate(units):
                for v in range(1, nvals + 1):
                    if used[ui] >> v & 1:
                        continue
                    where = [c for c in unit if not assign[c] and cand[c] >> v & 1]
                    if len(where) == 1:
                        step = (where[0], v, f"only place for {v} in {unit_names[ui]}")
                        break
                if step:
                    break
        if step is None:
            return lines, placed
        c, v, why = step
        assign[c] = v
        placed += 1
        if len(lines) < max_steps:
            lines.append(f"{cell_name(c)} = {v} ({why}).")


def latin_unit_names(n: int) -> list[str]:
    return [f"row {r + 1}" for r in range(n)] + [f"column {c + 1}" for c in range(n)]


def trace_reasoning(intro: str, lines: list[str], placed: int, empty: int, outro: str) -> str:
    """Reasoning text from a singles trace: intro, the first steps, how far singles got, outro."""
    out = [intro] + [f"- {ln}" for ln in lines]
    if placed > len(lines):
        out.append(f"- ... {placed - len(lines)} more cells follow the same way.")
    if placed < empty:
        out.append(f"Singles fill {placed} of the {empty} empty cells; for the rest I try the candidates of the "
                   "most constrained cell and keep the choice that leads to no contradiction.")
    out.append(outro)
    return "\n".join(out)
