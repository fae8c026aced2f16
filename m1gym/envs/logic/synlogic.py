"""Import SynLogic-format rows as m1gym Tasks, so that data in that format is scored by our verifiers.

Input: JSONL (one object per line), a JSON list, or Parquet. Each row needs

- the task key: ``data_source`` (or ``task`` / ``task_name`` / ``game``, or the same keys inside
  ``extra_info``); case, spaces, hyphens and a ``prefix/`` are ignored (``SynLogic/Word Sorting`` ->
  ``word_sorting``);
- ``prompt``: a string or a list of chat messages (``[{"role": "user", "content": ...}]``);
- ``extra_info`` (a dict or a JSON string) holding the gold answer and metadata, either directly
  (``answer``, ``metadata``) or inside ``game_data_str`` (a JSON string of ``{question, answer,
  metadata}``; ``metadata`` may again be a JSON string). ``reward_model.ground_truth`` is read as
  that game data when it is a JSON object, else as the gold answer; a top-level ``answer`` is the
  last fallback.

Each row becomes a Task of ``logic/<task>`` whose ``answer`` is the puzzle dict the task's ``check``
scores against, built by the task class's ``from_synlogic(question, answer, metadata)`` hook. The
original prompt text is kept; when it does not mention ``<answer>``, one line is appended asking for
the final answer inside ``<answer>...</answer>``, and ``meta.accept_boxed`` makes the verifier also
accept a final ``\\boxed{...}`` (SynLogic prompts ask for that form in several tasks).
Task ids are stable: a hash of the task key, prompt and gold answer.

Which SynLogic tasks map (the gold answer fits our verifier without the original generator's data):

| SynLogic task | maps | gold taken from | our verifier |
|---|---|---|---|
| boolean_expressions | yes | ``answer`` letters ("A,C") | set of letters |
| dyck_language | yes | ``metadata.full_sequence`` (else ``answer``) | exact sequence; prefix kept from ``metadata.question_sequence`` |
| dyck_language_errors | yes | ``metadata.is_valid`` / ``metadata.first_error_pos`` (else ``answer``) | exact integer, -1 = valid |
| dyck_language_reasoning_errors | yes | ``metadata.error_indices`` | set of thought numbers, "none" when empty |
| goods_exchange | yes | ``metadata.owns_after`` (tuple-of-pairs text or a map) | exact person -> item map; tuple-literal answers accepted |
| object_counting | yes | ``answer`` (integer) | exact integer |
| object_properties | yes | ``answer`` (integer) | exact integer |
| word_sorting | yes | ``answer`` (comma separated words) | exact ordered list |
| word_sorting_mistake | yes | ``answer`` (step number, or none/"No") | exact step or No |
| every other task | only where the task module defines ``from_synlogic`` | | |

Grid and placement puzzles (sudoku, futoshiki, arrow_maze, campsite, ...) are rule-checked against
their own puzzle dicts (givens, clues, regions); a SynLogic row stores those in a task-specific
layout, so they map only once their module implements ``from_synlogic``. ``m1gym logic
import-synlogic --list`` prints the live table of mapped tasks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from typing import Any, Iterable, Iterator

from ...core import Task
from .base import LogicTask

#: the 35 tasks of the public SynLogic release
SYNLOGIC_TASKS = (
    "arrow_maze", "boolean_expressions", "buggy_tables", "calcudoko", "campsite", "cipher",
    "cryptarithm", "dyck_language", "dyck_language_errors", "dyck_language_reasoning_errors",
    "futoshiki", "game_of_24", "goods_exchange", "kukurasu", "math_path", "minesweeper", "norinori",
    "number_wall", "numbrix", "object_counting", "object_properties", "operation",
    "skyscraper_puzzle", "space_reasoning", "space_reasoning_tree", "star_placement_puzzle",
    "sudoku", "survo", "time_sequence", "web_of_lies", "word_sorting", "word_sorting_mistake",
    "wordscapes", "zebra_puzzle", "arc_agi",
)

ANSWER_LINE = "\n\nGive the final answer inside <answer>...</answer>."


class SynLogicFormatError(ValueError):
    """The file or a row is not in a SynLogic-like format."""


@dataclasses.dataclass
class ImportReport:
    rows: int = 0
    converted: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)   # reason -> count
    examples: dict = dataclasses.field(default_factory=dict)        # reason -> first row index

    def text(self) -> str:
        lines = [f"{self.rows} rows read, {sum(self.converted.values())} converted"]
        for task, n in sorted(self.converted.items()):
            lines.append(f"  {task:<34} {n}")
        if self.skipped:
            lines.append(f"{sum(self.skipped.values())} skipped:")
            for reason, n in self.skipped.most_common():
                lines.append(f"  {n:>6}  {reason} (first at row {self.examples[reason]})")
        return "\n".join(lines)


# ---- reading ---------------------------------------------------------------------------------

def read_rows(path: str) -> Iterator[dict[str, Any]]:
    """Rows of a .jsonl / .json / .parquet file, as plain dicts."""
    if path.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is a dependency
            raise SynLogicFormatError("reading Parquet needs pyarrow: pip install pyarrow") from None
        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise SynLogicFormatError(f"{path}: not a readable Parquet file ({exc.__class__.__name__})") from None
        yield from table.to_pylist()
        return
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise SynLogicFormatError(f"cannot read {path}: {exc.strerror}") from None
    with fh:
        head = fh.read(1)
        while head and head.isspace():
            head = fh.read(1)
        if head == "[":
            try:
                data = json.loads(head + fh.read())
            except json.JSONDecodeError as exc:
                raise SynLogicFormatError(f"{path}: not valid JSON ({exc})") from None
            for row in data:
                yield row
            return
        fh.seek(0)
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                raise SynLogicFormatError(
                    f"{path}:{lineno}: not a JSON line; expected JSONL rows or a .parquet file") from None


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "["):
            try:
                return json.loads(s)
            except json.JSONDecodeError:
                return value
    return value


def normalise_key(key: str) -> str:
    key = key.strip().split("/")[-1].lower()
    key = re.sub(r"[\s\-]+", "_", key)
    return re.sub(r"^synlogic_", "", key)


def row_fields(row: dict[str, Any]) -> tuple[str | None, str, str, Any, dict[str, Any]]:
    """(task key, prompt text, question text, gold answer, metadata) of one row."""
    extra = _maybe_json(row.get("extra_info")) or {}
    if not isinstance(extra, dict):
        extra = {}
    rm = _maybe_json(row.get("reward_model"))
    truth = _maybe_json(rm.get("ground_truth")) if isinstance(rm, dict) else None
    game = _maybe_json(extra.get("game_data_str") or extra.get("game_data") or row.get("game_data_str")) or {}
    if not isinstance(game, dict) or not game:
        # some exports keep the game data (question/answer/metadata) in reward_model.ground_truth
        game = truth if isinstance(truth, dict) and ({"answer", "metadata"} & set(truth)) else {}
    key = None
    for source in (row, extra, game):
        for k in ("data_source", "task", "task_name", "game"):
            if isinstance(source.get(k), str) and source.get(k).strip():
                key = source[k]
                break
        if key:
            break
    prompt = row.get("prompt")
    if isinstance(prompt, (list, tuple)):
        prompt_text = "\n\n".join(str(m.get("content", "")) for m in prompt if isinstance(m, dict))
    elif isinstance(prompt, str):
        prompt_text = prompt
    else:
        prompt_text = str(game.get("question") or row.get("question") or "")
    question = str(game.get("question") or row.get("question") or prompt_text)
    answer = None
    for source, k in ((game, "answer"), (extra, "answer"), (row, "answer")):
        if source.get(k) not in (None, ""):
            answer = source[k]
            break
    if answer is None and truth not in (None, "") and not isinstance(truth, dict):
        answer = truth
    metadata = _maybe_json(game.get("metadata", extra.get("metadata", row.get("metadata")))) or {}
    if not isinstance(metadata, dict):
        metadata = {}
    return (normalise_key(key) if key else None), prompt_text, question, answer, metadata


# ---- converting -------------------------------------------------------------------------------

def _task_classes() -> dict[str, type]:
    """SynLogic key -> registered logic task class, for classes that define ``from_synlogic``."""
    from ...registry import get_spec
    from .calibrate import logic_task_names

    out: dict[str, type] = {}
    default = LogicTask.from_synlogic.__func__
    for name in logic_task_names():
        cls = get_spec(name).factory
        hook = getattr(cls, "from_synlogic", None)
        if not isinstance(cls, type) or getattr(hook, "__func__", default) is default:
            continue
        for key in (getattr(cls, "task_name", name[6:]), *getattr(cls, "synlogic_names", ())):
            out[normalise_key(key)] = cls
    return out


def mapped_tasks() -> list[str]:
    return sorted({c.task_name for c in _task_classes().values()})


def convert_row(row: Any, index: int = 0, classes: dict[str, type] | None = None) -> tuple[Task | None, str]:
    """(Task, "") for a row that maps, else (None, reason)."""
    if not isinstance(row, dict):
        return None, "row is not a JSON object"
    classes = _task_classes() if classes is None else classes
    key, prompt_text, question, answer, metadata = row_fields(row)
    if not key:
        return None, "no task key (data_source / task)"
    cls = classes.get(key)
    if cls is None:
        return None, (f"task {key!r} has no SynLogic mapping" if key in SYNLOGIC_TASKS
                      else f"unknown task {key!r}")
    if not prompt_text.strip():
        return None, "row has no prompt"
    try:
        puzzle = cls.from_synlogic(question, answer, metadata)
    except Exception as exc:  # a malformed row must not stop the import
        puzzle = None
        reason = f"{key}: gold answer not understood ({type(exc).__name__})"
    else:
        reason = f"{key}: no gold answer in the expected form"
    if not isinstance(puzzle, dict):
        return None, reason
    from ...registry import make

    env = make(f"logic/{cls.task_name}")
    text = prompt_text if "<answer>" in prompt_text else prompt_text.rstrip() + ANSWER_LINE
    gold = json.dumps(puzzle, sort_keys=True, default=str)
    digest = hashlib.sha256(f"{key}\x1f{prompt_text}\x1f{gold}".encode()).hexdigest()[:16]
    meta = {"source": "synlogic", "synlogic_task": key, "row": index, "accept_boxed": True,
            "level": None, "difficulty": _maybe_json(row.get("difficulty") or metadata.get("difficulty"))}
    task = env.make_task(f"synlogic|{digest}", text, puzzle, meta)
    return task, ""


def import_rows(rows: Iterable[Any], tasks: Iterable[str] | None = None) -> tuple[list[Task], ImportReport]:
    classes = _task_classes()
    wanted = {normalise_key(t.removeprefix("logic/")) for t in tasks} if tasks else None
    report = ImportReport()
    out: list[Task] = []
    for i, row in enumerate(rows):
        report.rows += 1
        task, reason = convert_row(row, i, classes)
        if task is not None and wanted is not None and task.env.removeprefix("logic/") not in wanted:
            task, reason = None, "task not selected (--tasks)"
        if task is None:
            report.skipped[reason] += 1
            report.examples.setdefault(reason, i)
            continue
        report.converted[task.env] += 1
        out.append(task)
    return out, report


def import_synlogic(path: str, out_path: str | None = None,
                    tasks: Iterable[str] | None = None) -> tuple[list[Task], ImportReport]:
    """Read ``path``, convert the rows that map, and write them as JSONL to ``out_path``."""
    converted, report = import_rows(read_rows(path), tasks)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            for t in converted:
                fh.write(t.to_json() + "\n")
    return converted, report
