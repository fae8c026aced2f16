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

Which tasks map. Field names are those SynLogic's public verifiers and generators read
(``games/tasks/<task>/scripts/<task>_verifier.py`` and the generators beside them). A row is kept
only when its gold answer, put in our answer format, passes our verifier; other rows are skipped with
a reason in the import report. Where our verifier reads a different spelling than the SynLogic
prompt asks for (tuples, ``[[1 2,2 1]]`` rows, "X"/"1" cells, a ``python`` block), one more line
says which form to write (``ANSWER_FORMATS``).

| task | maps | gold / puzzle taken from | our verifier; notes |
|---|---|---|---|
| arc_agi | yes | ``answer`` grid | exact grid |
| arrow_maze | yes | ``metadata.maze``; ``answer`` grid | rule check |
| boolean_expressions | yes | ``answer`` letters ("A,C") | set of letters |
| buggy_tables | yes | ``answer`` (two decimals) | number within half a cent of the gold |
| calcudoko | partly | ``metadata.grid_size``, ``regions`` (1-based "(r,c)" cells, + - * ÷); ``answer`` "[[1 2,2 1]]" | rule check; SynLogic also forbids repeats inside a region, which our check does not test, so only rows whose regions each lie in one row or column map |
| campsite | yes | ``metadata.grid``/``n``/``m``/``row_constraints``/``col_constraints`` | rule check |
| cipher | yes | ``answer`` "[[TEXT]]" | letters A-Z in order |
| cryptarithm | yes | ``answer`` digit equation; ``metadata.letter_words`` / ``operators`` (else the letter equation in the question) | any digit assignment that makes the equation true (SynLogic: string match) |
| dyck_language | yes | ``metadata.full_sequence`` (else ``answer``) | exact sequence; prefix kept from ``metadata.question_sequence`` |
| dyck_language_errors | yes | ``metadata.is_valid`` / ``metadata.first_error_pos`` (else ``answer``) | exact integer, -1 = valid |
| dyck_language_reasoning_errors | yes | ``metadata.error_indices`` | set of thought numbers, "none" when empty |
| futoshiki | yes | ``metadata.grid_size``, ``prefilled_coords``, ``constraints`` (0-based); ``answer`` grid | rule check; givens = gold values at the prefilled cells |
| game_of_24 | yes | ``metadata.numbers``/``operators``/``result``; ``answer`` or our search | exact value + multiset of numbers (SynLogic compared the value with itself); only + - * / |
| goods_exchange | yes | ``metadata.owns_after`` (tuple-of-pairs text or a map) | exact person -> item map; tuple-literal answers accepted |
| kukurasu | yes | ``metadata.n``/``m``/``row_sums``/``col_sums``; ``answer`` "1"/"X" grid | rule check; answers as 1/0 |
| math_path | yes | ``metadata.query_expr`` / ``ref_expr`` | any digits making the equation true (no leading zeros) |
| minesweeper | partly | ``metadata.revealed_grid`` ("X" hidden), ``current_mines`` | our complete forced-mine set; rows map only when SynLogic's counting-rule gold equals it |
| norinori | no | | SynLogic answers are 1-based tuples and its grids hold pre-shaded "X" cells outside every region; our verifier reads 0-based JSON dominoes and every cell must be in a region |
| number_wall | yes | ``metadata.grid``/``n``; answer "A"/"X" grid | rule check plus SynLogic's no-diagonal-contact rule |
| numbrix | yes | ``metadata.grid`` ("X" blank); ``answer`` grid | rule check |
| object_counting | yes | ``answer`` (integer) | exact integer |
| object_properties | yes | ``answer`` (integer) | exact integer |
| operation | partly | ``answer`` | exact number; symbolic golds (math-verify expressions) do not map |
| skyscraper_puzzle | yes | ``metadata.n``/``top``/``bottom``/``left``/``right``; ``answer`` grid | rule check |
| space_reasoning | yes | ``answer`` (item) | exact item name |
| space_reasoning_tree | yes | ``answer`` (comma separated) | set of items |
| star_placement_puzzle | yes | ``metadata.n``/``k``/``region_grid``; answer 1-based cells | rule check |
| sudoku | yes | ``metadata.original_sudoku`` ("X"/0 blank); ``answer`` tuple text or ``complete_sudoku`` | rule check |
| survo | partly | ``metadata.n``/``original_matrix``/``candidate_numbers``; ``answer`` matrix | rule check on the whole matrix; rows with a blank sum cell do not map |
| time_sequence | yes | ``metadata.records.answers.answer_maxLen`` / ``answer_nums`` | exact [minutes, count] |
| web_of_lies | yes | ``answer`` yes/no list | exact ordered yes/no list |
| word_sorting | yes | ``answer`` (comma separated words) | exact ordered list |
| word_sorting_mistake | yes | ``answer`` (step number, or none/"No") | exact step or No |
| wordscapes | partly | ``metadata.grid`` ("X" letter, "0" empty), ``across_words``, ``down_words``; ``answer`` grid | positional check (every slot reads a listed word, each once; SynLogic only looked for each word anywhere in a row/column); our check does not bind words to a direction, so rows map only when across and down words have different lengths and the gold passes |
| zebra_puzzle | no | | SynLogic's gold is an external JSON table compared as a whole; our verifier needs the attribute value lists and clue set in its own structure, which the row does not carry |
| binario | no | | not a SynLogic task |
| hitori | no | | not a SynLogic task |
| knights_and_knaves | no | | not a SynLogic task |
| light_up | no | | not a SynLogic task |
| nonogram | no | | not a SynLogic task |
| sliding_puzzle | no | | not a SynLogic task |

``m1gym logic import-synlogic --list`` prints the live list of mapped tasks.
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



# ---- helpers for task modules' ``from_synlogic`` hooks ----------------------------------------

#: the answer form our verifier reads, added to an imported prompt where SynLogic asks for a
#: spelling that verifier does not parse (tuples, "[[1 2,2 1]]" rows, "X"/"1" cells, ...)
ANSWER_FORMATS = {
    "sudoku": "the completed grid as a JSON list of rows of integers, e.g. [[1,2],[2,1]]",
    "futoshiki": "the completed grid as a JSON list of rows of integers, e.g. [[1,2],[2,1]]",
    "calcudoko": "the completed grid as a JSON list of rows of integers, e.g. [[1,2],[2,1]]",
    "skyscraper_puzzle": "the completed grid as a JSON list of rows of integers, e.g. [[1,2],[2,1]]",
    "numbrix": "the completed grid as a JSON list of rows of integers, e.g. [[1,2],[4,3]]",
    "survo": "the whole completed matrix (sums included) as a JSON list of rows of integers",
    "kukurasu": "the grid as a JSON list of rows with 1 for a shaded cell and 0 otherwise, e.g. [[1,0],[0,1]]",
    "minesweeper": "the mines as a JSON list of [row, col] pairs (0-based), e.g. [[0,1],[2,3]]",
    "arc_agi": "the output grid as a JSON list of rows of integers, e.g. [[0,1],[1,0]]",
    "game_of_24": "only the expression, e.g. (8 - 2) * 4",
    "math_path": "only the completed equation, e.g. 12 + 35 = 47",
    "cryptarithm": "only the equation in digits, e.g. 12 + 35 = 47",
    "web_of_lies": "the answers as comma separated yes/no, e.g. yes, no, yes",
    "time_sequence": "the two integers as a JSON list [minutes, count]",
    "space_reasoning_tree": "the items comma separated, e.g. apple, box",
    "wordscapes": 'the grid as a JSON list of rows of one-letter strings, "#" for an empty cell',
}


def gold_value(answer: Any) -> Any:
    """The gold answer as data: lists pass through; text is read as JSON or a Python-style literal
    (tuples, single quotes, a ``python`` code fence); None when it is neither."""
    from .base import AnswerParseError, parse_pyish

    if isinstance(answer, (list, dict)):
        return answer
    if not isinstance(answer, str) or not answer.strip():
        return None
    text = answer.strip()
    fence = re.search(r"```[a-zA-Z]*\s*\n?(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    try:
        return parse_pyish(text)
    except AnswerParseError:
        return None


def gold_int_grid(answer: Any, n_rows: int | None = None) -> list[list[int]] | None:
    """An integer grid from a gold answer: a list of lists, JSON / Python-literal text, or SynLogic's
    ``[[1 2 3,2 3 1,3 1 2]]`` rows (spaces between cells, commas between rows)."""
    grid = gold_value(answer)
    if grid is None and isinstance(answer, str):
        m = re.fullmatch(r"\s*\[\[([\d\s,]*)\]\]\s*", answer)
        if m:
            grid = [[int(x) for x in row.split()] for row in m.group(1).split(",")]
    if not (isinstance(grid, list) and grid and all(isinstance(r, list) and r for r in grid)):
        return None
    out = []
    for row in grid:
        cells = []
        for v in row:
            if isinstance(v, bool):
                return None
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                v = int(v)
            if not isinstance(v, int):
                return None
            cells.append(v)
        out.append(cells)
    if n_rows is not None and len(out) != n_rows:
        return None
    return out if all(len(r) == len(out[0]) for r in out) else None


def scores_gold(cls: type, puzzle: dict[str, Any], answer_text: str) -> dict[str, Any] | None:
    """``puzzle`` when ``answer_text`` (the gold answer in our format) passes the task's check."""
    try:
        ok = cls().check(puzzle, answer_text).reward == 1.0
    except (ValueError, KeyError, TypeError, IndexError):
        ok = False
    return puzzle if ok else None

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
    if cls.task_name in ANSWER_FORMATS:
        text += f"\nWrite the final answer as {ANSWER_FORMATS[cls.task_name]}."
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
