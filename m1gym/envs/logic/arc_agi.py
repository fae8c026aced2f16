"""ARC-style grid transformation: infer a rule from demonstration pairs, apply it to a test grid.

Rules are compositions of four stages, applied in this order: a rotation/reflection (the 8
symmetries of the square), gravity (coloured cells slide down/up/left/right), a resize (scale each
cell to 2x2, tile the grid 2x2, or mirror-tile it), and a recolouring (a permutation of the
colours 1-9; 0 is the background and stays). Levels raise the number of non-trivial stages, the grid
size and the number of colours.

The generator re-solves every instance: it enumerates every program of the rule space (all 160
structural combinations, colour map inferred from the demonstrations), keeps those consistent with
all demonstrations, and emits the instance only when all of them give the same test output (adding
demonstrations while they disagree). So the expected output is unique within the rule space and the
verifier compares grids exactly (EM).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from ...core import Score
from .base import GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, grid_text, parse_grid, register_logic

Grid = list[list[int]]


def _rot90(g: Grid) -> Grid:
    return [list(r) for r in zip(*g[::-1])]


GEOMS = {
    "identity": lambda g: [row[:] for row in g],
    "rotate 90 degrees clockwise": _rot90,
    "rotate 180 degrees": lambda g: [row[::-1] for row in g[::-1]],
    "rotate 90 degrees counter-clockwise": lambda g: [list(r) for r in zip(*g)][::-1],
    "mirror left-right": lambda g: [row[::-1] for row in g],
    "mirror top-bottom": lambda g: [row[:] for row in g[::-1]],
    "transpose (swap rows and columns)": lambda g: [list(r) for r in zip(*g)],
    # anti-diagonal reflection = transpose, then rotate 180 degrees
    "reflect across the anti-diagonal": lambda g: [row[::-1] for row in [list(r) for r in zip(*g)][::-1]],
}


def _fall_down(g: Grid) -> Grid:
    h, w = len(g), len(g[0])
    out = [[0] * w for _ in range(h)]
    for c in range(w):
        col = [g[r][c] for r in range(h) if g[r][c]]
        for i, v in enumerate(reversed(col)):
            out[h - 1 - i][c] = v
    return out


def _fall_up(g: Grid) -> Grid:
    return _fall_down(g[::-1])[::-1]


def _fall_right(g: Grid) -> Grid:
    return [[0] * (len(row) - len([v for v in row if v])) + [v for v in row if v] for row in g]


def _fall_left(g: Grid) -> Grid:
    return [[v for v in row if v] + [0] * (len(row) - len([v for v in row if v])) for row in g]


GRAVITY = {
    "none": lambda g: g,
    "coloured cells fall down": _fall_down,
    "coloured cells fall up": _fall_up,
    "coloured cells slide left": _fall_left,
    "coloured cells slide right": _fall_right,
}

RESIZE = {
    "none": lambda g: g,
    "scale every cell up to a 2x2 block": lambda g: [[v for v in row for _ in (0, 1)] for row in g for _ in (0, 1)],
    "tile the grid 2x2": lambda g: [row + row for row in g] * 2,
    "mirror-tile: grid | mirrored grid, and that block mirrored below":
        lambda g: (lambda top: top + top[::-1])([row + row[::-1] for row in g]),
}


@dataclass
class Knobs:
    min_size: int = 3
    max_size: int = 5
    colours: int = 3          #: colours used besides the background 0
    stages: int = 1           #: non-trivial stages in the rule (1..4)
    demos: int = 3            #: demonstration pairs shown at first
    max_demos: int = 5        #: up to this many when needed to pin the rule down
    density: float = 0.4      #: share of coloured cells


def run_program(prog: tuple[str, str, str], g: Grid) -> Grid:
    geom, grav, res = prog
    return RESIZE[res](GRAVITY[grav](GEOMS[geom](g)))


def infer_colours(pairs: list[tuple[Grid, Grid]]) -> dict[int, int] | None:
    """The colour map sending each structural result to its output, or None if none exists."""
    cmap: dict[int, int] = {0: 0}
    for got, want in pairs:
        if len(got) != len(want) or len(got[0]) != len(want[0]):
            return None
        for rg, rw in zip(got, want):
            for a, b in zip(rg, rw):
                x = cmap.setdefault(a, b)
                if x != b:
                    return None
    targets = [v for k, v in cmap.items() if k]
    if len(set(targets)) != len(targets) or 0 in targets:
        return None  # recolourings are permutations of 1-9
    return cmap


def all_programs():
    for geom in GEOMS:
        for grav in GRAVITY:
            for res in RESIZE:
                yield geom, grav, res


def predictions(demos: list[tuple[Grid, Grid]], test: Grid) -> set[str] | None:
    """Distinct test outputs over every program consistent with the demos; None when some
    consistent program cannot map a test colour (the demos do not pin the rule down)."""
    outs: set[str] = set()
    geo_cache = {geom: [f(d[0]) for d in demos] + [f(test)] for geom, f in GEOMS.items()}
    for geom in GEOMS:
        for grav, fg in GRAVITY.items():
            mid = [fg(x) for x in geo_cache[geom]]
            for res, fr in RESIZE.items():
                structural = [fr(x) for x in mid]
                cmap = infer_colours([(structural[i], demos[i][1]) for i in range(len(demos))])
                if cmap is None:
                    continue
                t = structural[-1]
                if any(v not in cmap for row in t for v in row):
                    return None
                outs.add(grid_text([[cmap[v] for v in row] for row in t]))
    return outs


class ArcAgi(LogicTask):
    task_name = "arc_agi"
    description = "ARC-style grid transformation: infer the rule from examples, apply it to the test grid"
    answer_format = "JSON grid of integers 0-9"
    Knobs = Knobs
    level_table = {
        0: {"min_size": 3, "max_size": 4, "colours": 2, "stages": 1, "demos": 3},
        1: {"min_size": 3, "max_size": 5, "colours": 3, "stages": 2, "demos": 3},
        2: {"min_size": 4, "max_size": 6, "colours": 4, "stages": 2, "demos": 3},
        3: {"min_size": 5, "max_size": 7, "colours": 5, "stages": 3, "demos": 3},
        4: {"min_size": 6, "max_size": 9, "colours": 6, "stages": 4, "demos": 3, "max_demos": 6},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        if not 1 <= k.stages <= 4:
            raise ValueError("arc_agi: stages must be 1..4")
        if not 1 <= k.colours <= 9 or not 2 <= k.min_size <= k.max_size <= 15 or not 1 <= k.demos <= k.max_demos:
            raise ValueError(f"arc_agi: need 1 <= colours <= 9, 2 <= min_size <= max_size <= 15, "
                             f"1 <= demos <= max_demos; got {k}")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            kinds = rng.sample(["geom", "gravity", "resize", "colour"], k.stages)
            geom = rng.choice(list(GEOMS)[1:]) if "geom" in kinds else "identity"
            grav = rng.choice(list(GRAVITY)[1:]) if "gravity" in kinds else "none"
            res = rng.choice(list(RESIZE)[1:]) if "resize" in kinds else "none"
            palette = rng.sample(range(1, 10), k.colours)
            cmap = {0: 0}
            if "colour" in kinds:
                perm = palette[:]
                while perm == palette:
                    perm = rng.sample(range(1, 10), k.colours) if rng.random() < 0.5 else rng.sample(palette, len(palette))
                cmap.update(zip(palette, perm))
            else:
                cmap.update({c: c for c in palette})
            prog = (geom, grav, res)

            def make_input() -> Grid:
                h = rng.randint(k.min_size, k.max_size)
                w = rng.randint(k.min_size, k.max_size)
                if rng.random() < 0.3:
                    w = h  # square grids too
                g = [[rng.choice(palette) if rng.random() < k.density else 0 for _ in range(w)] for _ in range(h)]
                if all(v == 0 for row in g for v in row):
                    g[0][0] = palette[0]
                return g

            def apply(g: Grid) -> Grid:
                return [[cmap[v] for v in row] for row in run_program(prog, g)]

            test_in = make_input()
            test_out = apply(test_in)
            if test_out == test_in:
                continue
            demos = []
            while len(demos) < k.demos:
                x = make_input()
                y = apply(x)
                if y != x:
                    demos.append((x, y))
            preds = predictions(demos, test_in)
            while (preds is None or len(preds) > 1) and len(demos) < k.max_demos:
                x = make_input()
                demos.append((x, apply(x)))
                preds = predictions(demos, test_in)
            if preds is None or preds != {grid_text(test_out)}:
                continue
            puzzle = {
                "train": [{"input": x, "output": y} for x, y in demos],
                "test_input": test_in,
                "test_output": test_out,
                "rule": {"geometry": geom, "gravity": grav, "resize": res,
                         "recolour": {str(a): b for a, b in sorted(cmap.items()) if a and a != b}},
            }
            if self.check(puzzle, grid_text(test_out)).reward == 1.0:
                return puzzle
        raise GenerationError(f"arc_agi: no instance for {k}")

    def prompt(self, p: dict) -> str:
        def show(g: Grid) -> str:
            return "\n".join(" ".join(str(v) for v in row) for row in g)

        parts = []
        for i, pair in enumerate(p["train"], 1):
            parts.append(f"Example {i}\nInput:\n{show(pair['input'])}\nOutput:\n{show(pair['output'])}")
        return (
            "Each example below maps an input grid to an output grid by the same transformation. Cells hold "
            "colours 0-9, where 0 is the background. The transformation is a composition of simple steps, such "
            "as rotating or reflecting the grid, letting the coloured cells fall or slide to one side, scaling "
            "or tiling the grid, and recolouring (swapping or replacing colours).\n\n" + "\n\n".join(parts) +
            f"\n\nTest input:\n{show(p['test_input'])}\n\n"
            "Apply the same transformation to the test input. Answer with the output grid as a JSON list of rows "
            "of integers. Example format: [[0,1,2],[3,0,0]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        want = p["test_output"]
        got = parse_grid(answer, allowed=set(range(10)))
        if len(got) != len(want) or len(got[0]) != len(want[0]):
            return Score.fail(f"output has shape {len(got)}x{len(got[0])}, expected {len(want)}x{len(want[0])}",
                              format_ok=True)
        wrong = sum(1 for ra, rb in zip(got, want) for a, b in zip(ra, rb) if a != b)
        if wrong:
            total = len(want) * len(want[0])
            return Score.fail(f"{wrong} of {total} cells differ from the expected output", format_ok=True,
                              cell_accuracy=round(1 - wrong / total, 4))
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        """The copy-the-input baseline, with each cell recoloured at random a fifth of the time."""
        colours = sorted({v for row in p["test_input"] for v in row})
        return grid_text([[rng.choice(colours) if rng.random() < 0.2 else v for v in row] for row in p["test_input"]])

    def solution_text(self, p: dict) -> str:
        return grid_text(p["test_output"])

    def reasoning(self, p: dict) -> str:
        rule = p["rule"]
        steps = []
        if rule["geometry"] != "identity":
            steps.append(rule["geometry"])
        if rule["gravity"] != "none":
            steps.append(rule["gravity"])
        if rule["resize"] != "none":
            steps.append(rule["resize"])
        if rule["recolour"]:
            steps.append("recolour " + ", ".join(f"{a}->{b}" for a, b in rule["recolour"].items()))
        return ("Comparing the examples, every output is the input after these steps, in order: " +
                "; ".join(steps) + ". It holds for all examples, so apply it to the test input.")

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (arc_agi verifier): the gold ``answer`` is the test output grid (a list of
        lists or its JSON text), compared exactly, as here."""
        from .synlogic import gold_int_grid

        grid = gold_int_grid(answer)
        if grid is None or any(not 0 <= v <= 9 for row in grid for v in row):
            return None
        return {"test_output": grid, "test_input": grid, "source": "synlogic"}


register_logic(ArcAgi)
