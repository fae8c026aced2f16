"""Shared base of the logic tasks: knobs, level table, seeded generation, safe answer parsing.

A task module holds only its puzzle logic:

    @dataclass
    class Knobs:
        n: int = 4

    class Sudoku(LogicTask):
        task_name = "sudoku"
        description = "..."
        answer_format = "JSON grid"
        Knobs = Knobs
        level_table = {0: {"n": 4}, 1: {...}, ...}

        def build(self, rng, knobs) -> dict: ...            # JSON-able; re-solved before return
        def prompt(self, puzzle) -> str: ...                # rules, format example (no answer tag text)
        def check(self, puzzle, answer: str) -> Score: ...  # rule check; raise AnswerParseError on junk
        def solution_text(self, puzzle) -> str: ...        # the reference answer as the model writes it
        def reasoning(self, puzzle) -> str | None: ...      # optional short step-by-step text

    register_logic(Sudoku)

Optional hooks: ``random_answer(puzzle, rng)`` (a random answer in the right shape, the baseline of
``m1gym logic calibrate``), ``from_synlogic(question, answer, metadata)`` (classmethod: the puzzle
dict for a SynLogic row, so ``m1gym logic import-synlogic`` can map that task; see synlogic.py) and
``synlogic_names`` (extra SynLogic task keys). Tasks whose ``meta.accept_boxed`` is true (imported
rows whose prompt asks for ``\\boxed{}``) also take a final ``\\boxed{...}`` as the answer.

The base turns these into generate / score / reference, adds the answer-tag instruction to the
prompt, draws every instance from its own seeded RNG, and turns any parse error into reward 0
with a reason. Nothing here or in a task module ever evaluates model output as code.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from typing import Any, ClassVar

from ...core import Environment, Score, Task, reference_response
from ...registry import register
from ...verifiers.extract import extract_answer

ANSWER_INSTRUCTION = (
    "\n\nThink step by step if you like, then give only the final answer inside "
    "<answer>...</answer>, in exactly the format shown."
)
#: answers longer than this are rejected before parsing (a 1 MB answer is garbage, not a grid)
MAX_ANSWER_CHARS = 20_000
#: generators retry with a fresh RNG draw this many times before giving up
MAX_GENERATION_ATTEMPTS = 200


class AnswerParseError(ValueError):
    """The answer text could not be parsed into the expected structure."""


class GenerationError(RuntimeError):
    """A generator could not build a valid instance for the given knobs."""


class LogicTask(Environment):
    kind = "rule"
    levels: ClassVar[tuple[int, ...]] = (0, 1, 2, 3, 4)
    task_name: ClassVar[str] = ""
    Knobs: ClassVar[type] = type(None)
    level_table: ClassVar[dict[int, dict[str, Any]]] = {}
    default_level: ClassVar[int] = 0

    # ---- to implement in task modules ---------------------------------------------------------
    def build(self, rng: random.Random, knobs: Any) -> dict[str, Any]:
        """One puzzle (a JSON-able dict) drawn from the instance's private ``rng`` at these knobs:
        the name ``MathFamily.build`` has too. ``make_puzzle``, its name before, still works."""
        if type(self).make_puzzle is not LogicTask.make_puzzle:
            return self.make_puzzle(rng, knobs)
        raise NotImplementedError(f"{type(self).__name__} must implement build(rng, knobs)")

    def make_puzzle(self, rng: random.Random, knobs: Any) -> dict[str, Any]:
        """The older name of ``build``: a task that defines it instead is built with it."""
        return self.build(rng, knobs)

    def prompt(self, puzzle: dict[str, Any]) -> str:
        raise NotImplementedError

    def check(self, puzzle: dict[str, Any], answer: str) -> Score:
        raise NotImplementedError

    def solution_text(self, puzzle: dict[str, Any]) -> str:
        raise NotImplementedError

    def reasoning(self, puzzle: dict[str, Any]) -> str | None:
        return None

    # ---- optional hooks --------------------------------------------------------------------------
    #: SynLogic ``data_source`` names (besides ``task_name``) whose rows this task can import
    synlogic_names: ClassVar[tuple[str, ...]] = ()

    def random_answer(self, puzzle: dict[str, Any], rng: random.Random) -> str | None:
        """A random answer in the right shape (calibration baseline); None = use a generic one."""
        return None

    @classmethod
    def from_synlogic(cls, question: str, answer: Any, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """The puzzle dict for a SynLogic row (its question text, gold ``answer`` and ``metadata``),
        such that ``check`` scores against it; None when this task's SynLogic rows do not map."""
        return None

    # ---- provided --------------------------------------------------------------------------------
    def knobs_for(self, level: int, **overrides: Any) -> Any:
        if level not in self.level_table:
            raise ValueError(f"{self.name}: level {level} not in level table {sorted(self.level_table)}")
        values = {**self.level_table[level], **overrides}
        names = {f.name for f in dataclasses.fields(self.Knobs)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"{self.name}: unknown knob(s) {unknown}; known: {sorted(names)}")
        return self.Knobs(**values)

    def generate(self, seed: int, level: int | None = None, **knobs: Any) -> Task:
        level = self.default_level if level is None else int(level)
        k = self.knobs_for(level, **knobs)
        rng = self.rng(seed, level, json.dumps(knobs, sort_keys=True))
        puzzle = self.build(rng, k)
        meta = {"level": level, "knobs": dataclasses.asdict(k), "seed": seed, "task": self.task_name,
                "source": "m1gym"}
        key = f"{seed}|{level}|{json.dumps(knobs, sort_keys=True)}"
        return self.make_task(key, self.prompt(puzzle) + ANSWER_INSTRUCTION, puzzle, meta)

    def _score(self, task: Task, response: str) -> Score:
        # imported rows (SynLogic) whose original prompt asks for \\boxed{} also accept that form
        answer = extract_answer(response, boxed=bool(task.meta.get("accept_boxed")))
        if answer is None:
            return Score.fail("no final answer: expected <answer>...</answer> after the reasoning")
        if len(answer) > MAX_ANSWER_CHARS:
            return Score.fail(f"answer too long ({len(answer)} chars > {MAX_ANSWER_CHARS})")
        if not isinstance(task.answer, dict):
            return Score.fail("task has no puzzle data in 'answer'; was it produced by this env?")
        try:
            result = self.check(task.answer, answer)
        except AnswerParseError as exc:
            return Score.fail(f"unparseable answer: {exc}"[:300], format_ok=False)
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            # malformed task data or an answer of a wrong shape that slipped through parsing
            return Score.fail(f"answer does not fit the puzzle: {type(exc).__name__}: {exc}"[:300])
        result.format_ok = result.format_ok or result.reward > 0
        return result

    def reference(self, task: Task) -> str:
        return reference_response(self.solution_text(task.answer), self.reasoning(task.answer))


def register_logic(cls: type[LogicTask]) -> type[LogicTask]:
    """Register a logic task class as ``logic/<task_name>``."""
    cls.name = f"logic/{cls.task_name}"
    register(cls.name, cls)
    return cls


# ---- safe parsing helpers ------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```$", re.DOTALL)


def strip_fences(text: str) -> str:
    text = text.strip()
    m = _FENCE_RE.match(text)
    return m.group(1).strip() if m else text


def parse_json(text: str) -> Any:
    """JSON value from the answer (code fences allowed). Never evaluates anything."""
    text = strip_fences(text)
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerParseError("answer too long")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise AnswerParseError(f"not valid JSON ({exc.__class__.__name__})") from None


def is_int(x: Any) -> bool:
    """An int that is not a bool (JSON true/false must not pass as 1/0)."""
    return isinstance(x, int) and not isinstance(x, bool)


def parse_grid(text: str, h: int | None = None, w: int | None = None, *, allowed: set | None = None,
               cast: type = int) -> list[list[Any]]:
    """A rectangular grid: JSON list of lists. ``cast=int`` requires integers; ``cast=str`` strings."""
    grid = parse_json(text)
    if not isinstance(grid, list) or not grid or not all(isinstance(r, list) for r in grid):
        raise AnswerParseError("expected a JSON list of rows, e.g. [[1,2],[2,1]]")
    if h is not None and len(grid) != h:
        raise AnswerParseError(f"expected {h} rows, got {len(grid)}")
    width = len(grid[0]) if w is None else w
    for i, row in enumerate(grid):
        if len(row) != width:
            raise AnswerParseError(f"row {i} has {len(row)} cells, expected {width}")
        for cell in row:
            if cast is int and not is_int(cell):
                raise AnswerParseError(f"row {i} holds a non-integer cell {cell!r}")
            if cast is str and not isinstance(cell, str):
                raise AnswerParseError(f"row {i} holds a non-string cell {cell!r}")
            if allowed is not None and cell not in allowed:
                raise AnswerParseError(f"row {i} holds {cell!r}, allowed: {sorted(map(str, allowed))}")
    return grid


def parse_coords(text: str, h: int | None = None, w: int | None = None) -> list[tuple[int, int]]:
    """A list of [r, c] pairs (JSON). Bounds checked when h, w are given."""
    data = parse_json(text)
    if not isinstance(data, list):
        raise AnswerParseError("expected a JSON list of [row, col] pairs, e.g. [[0,1],[2,3]]")
    out = []
    for item in data:
        if not (isinstance(item, list) and len(item) == 2 and all(is_int(v) for v in item)):
            raise AnswerParseError(f"{item!r} is not a [row, col] pair of integers")
        r, c = item
        if h is not None and not (0 <= r < h and 0 <= c < (w if w is not None else h)):
            raise AnswerParseError(f"coordinate {item} is outside the grid")
        out.append((r, c))
    return out


def parse_int_list(text: str) -> list[int]:
    """Integers from a JSON list or a comma/space separated list ("3, 7")."""
    text = strip_fences(text)
    if text.startswith("["):
        data = parse_json(text)
        if not isinstance(data, list) or not all(is_int(v) for v in data):
            raise AnswerParseError("expected a list of integers")
        return data
    if not text:
        return []
    parts = [p for p in re.split(r"[,\s]+", text) if p]
    if not all(re.fullmatch(r"[-+]?\d{1,18}", p) for p in parts):
        raise AnswerParseError("expected integers separated by commas")
    return [int(p) for p in parts]


def parse_str_list(text: str) -> list[str]:
    """Strings from a JSON list, or a comma separated list."""
    text = strip_fences(text)
    if text.startswith("["):
        data = parse_json(text)
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise AnswerParseError("expected a JSON list of strings")
        return [v.strip() for v in data]
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_map(text: str, *, value_type: type = str) -> dict[str, Any]:
    """A JSON object with string keys and values of ``value_type``."""
    data = parse_json(text)
    if not isinstance(data, dict):
        raise AnswerParseError('expected a JSON object, e.g. {"Alice": "apple"}')
    for k, v in data.items():
        if value_type is int and not is_int(v):
            raise AnswerParseError(f"value for {k!r} must be an integer")
        if value_type is str and not isinstance(v, str):
            raise AnswerParseError(f"value for {k!r} must be a string")
    return data


def parse_int(text: str) -> int:
    text = strip_fences(text).strip().rstrip(".")
    if not re.fullmatch(r"[-+]?\d{1,30}", text):
        raise AnswerParseError(f"expected one integer, got {text[:40]!r}")
    return int(text)


def count_score(answer: str, gold: int) -> Score:
    """A one-integer count answer against the gold count (says which way a wrong count is off)."""
    value = parse_int(answer)
    if value == gold:
        return Score.ok()
    return Score.fail(f"{value} is {'too many' if value > gold else 'too few'}", format_ok=True)


def grid_text(grid: list[list[Any]]) -> str:
    """Compact one-row-per-line JSON, the format shown in prompts and references."""
    return "[" + ",\n".join(json.dumps(row) for row in grid) + "]"


def show_grid(grid: list[list[Any]], blank: Any = 0, blank_char: str = ".") -> str:
    """Plain-text grid for prompts."""
    return "\n".join(" ".join(blank_char if v == blank else str(v) for v in row) for row in grid)


def parse_cell_grid(text: str, h: int, w: int, *, pyish: bool = False) -> list[list[str]]:
    """A rectangular h x w JSON grid whose cells are strings or integers, normalised to stripped
    strings (so ``3`` and ``"3"`` read the same). Used by grids that mix numbers and symbols.
    ``pyish=True`` also accepts Python literal spelling (see ``parse_pyish``)."""
    grid = parse_pyish(text) if pyish else parse_json(text)
    if not isinstance(grid, list) or not all(isinstance(r, list) for r in grid):
        raise AnswerParseError('expected a JSON list of rows, e.g. [["1","X"],["X","2"]]')
    if len(grid) != h:
        raise AnswerParseError(f"expected {h} rows, got {len(grid)}")
    out = []
    for i, row in enumerate(grid):
        if len(row) != w:
            raise AnswerParseError(f"row {i} has {len(row)} cells, expected {w}")
        cells = []
        for cell in row:
            if is_int(cell):
                cells.append(str(cell))
            elif isinstance(cell, str) and len(cell) <= 8:
                cells.append(cell.strip())
            else:
                raise AnswerParseError(f"row {i} holds {str(cell)[:20]!r}; cells must be short strings or integers")
        out.append(cells)
    return out


_PYISH_SAFE = re.compile(r"[\[\]{}()\s,:'\"A-Za-z0-9_.+\-↑↓←→↖↗↙↘]*")


def parse_pyish(text: str) -> Any:
    """A JSON value, also accepting Python literal spelling of lists, tuples and dicts of numbers and
    simple strings (single quotes, parentheses, trailing commas, an optional ``name = `` prefix), as
    answers to SynLogic-style prompts are written. The text is converted character by character and
    read as JSON; nothing is evaluated."""
    text = strip_fences(text)
    m = re.match(r"[A-Za-z_]\w*\s*=\s*", text)
    if m:
        text = text[m.end():]
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        pass
    if len(text) > MAX_ANSWER_CHARS or not _PYISH_SAFE.fullmatch(text):
        raise AnswerParseError("expected a JSON or Python-literal list/dict of numbers and short strings")
    conv = text.replace("'", '"').replace("(", "[").replace(")", "]")
    conv = re.sub(r",\s*([\]}])", r"\1", conv)
    return parse_json(conv)
