"""math/dataset: math problems loaded from JSONL or Parquet files, scored by answer equivalence.

    env = m1gym.make("math/dataset", preset="gsm8k")
    tasks = list(env.load("train.jsonl"))

Presets (``preset="auto"`` picks the first whose fields a file's first row has):

    math    problem, solution (the answer is the last \\boxed{} of the solution)   MATH, DAPO-style
    gsm8k   question, answer (the answer ends in "#### n"; the text before is the solution)
    verl    prompt (chat messages), reward_model.ground_truth, data_source         verl parquet
    plain   problem, answer (optional solution)

A prompt that asks for the final answer after ``####`` (verl's GSM8K preprocessing: "Let's think step
by step and output the final answer after \"####\".") marks its task (``meta["answer_marker"]``),
and a response to that task may give its answer as GSM8K does, on a line ``#### 72`` after the
think block (exactly one such marker; ``<answer>`` and ``\boxed{}`` still count first). Tasks whose
prompt did not ask for it never take an answer from ``####``.

A custom mapping overrides or replaces a preset: ``fields={"problem": "q", "answer": "a",
"solution": "worked"}``; dotted names reach into nested objects (``reward_model.ground_truth``).
Nothing in a row is ever evaluated; a missing file or field is a clear error naming the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any, Iterable, Iterator

from ...core import Score, Task
from ...registry import register
from ...verifiers.extract import answer_region, answer_tags, boxed_all, last_boxed
from .base import ANSWER_INSTRUCTION, MathEnv

PRESETS: dict[str, dict[str, str]] = {
    "math": {"problem": "problem", "solution": "solution"},
    "gsm8k": {"problem": "question", "answer": "answer"},
    "verl": {"prompt": "prompt", "answer": "reward_model.ground_truth"},
    "plain": {"problem": "problem", "answer": "answer"},
}
#: the order ``auto`` tries presets in (more specific layouts first)
AUTO_ORDER = ("verl", "math", "gsm8k", "plain")
EXAMPLES_PATH = os.path.join(os.path.dirname(__file__), "data", "examples.jsonl")
PRESET_HELP = ", ".join(f"{k} ({', '.join(v.values())})" for k, v in PRESETS.items())


class DatasetError(ValueError):
    """A dataset file cannot be read with the requested layout (message names the fix)."""


_GSM_CALC = re.compile(r"<<[^<>]*>>")


def _get(row: dict[str, Any], dotted: str) -> Any:
    cur: Any = row
    for part in dotted.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return None
    return cur


def _has(row: dict[str, Any], dotted: str) -> bool:
    return _get(row, dotted) is not None


def read_rows(path: str) -> Iterator[dict[str, Any]]:
    """Rows of a .jsonl / .json / .parquet file as dicts."""
    if not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"dataset path must be a file path, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DatasetError(f"dataset file {path!r} does not exist; pass the path of a .jsonl or .parquet file")
    if os.path.isdir(path):
        raise DatasetError(f"{path!r} is a directory; pass one .jsonl or .parquet file inside it")
    lower = path.lower()
    if lower.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
            raise DatasetError("reading Parquet needs pyarrow: pip install pyarrow") from exc
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise DatasetError(f"{path!r} is not a readable Parquet file: {exc}") from None
        for batch in pf.iter_batches(batch_size=1024):
            yield from batch.to_pylist()
        return
    if lower.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path!r} is not valid JSON ({exc}); use JSON Lines (.jsonl) for one row per line") from None
        if isinstance(data, dict):
            data = data.get("data", data.get("rows"))
        if not isinstance(data, list):
            raise DatasetError(f"{path!r}: expected a JSON list of rows (or use .jsonl)")
        for row in data:
            yield row
        return
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: not a JSON object ({exc.msg}); each line of a .jsonl file "
                                   "must be one JSON object") from None


def resolve_fields(row: dict[str, Any], preset: str | None, fields: dict[str, str] | None) -> tuple[str, dict[str, str]]:
    """(preset name, field mapping) for a file whose first row is ``row``."""
    preset = (preset or "auto").lower()
    if preset != "auto" and preset not in PRESETS and not fields:
        raise DatasetError(f"unknown preset {preset!r}; choose auto or one of: {PRESET_HELP}; "
                           "or pass fields={'problem': ..., 'answer': ...}")
    if preset == "auto":
        found = next((name for name in AUTO_ORDER
                      if all(_has(row, f) for f in PRESETS[name].values())), None)
        if found is None and not fields:
            raise DatasetError(f"cannot tell the layout of this file: its first row has fields {sorted(row)}; "
                               f"pass preset= one of: {PRESET_HELP}; or fields={{'problem': ..., 'answer': ...}}")
        preset = found or "custom"
    mapping = dict(PRESETS.get(preset, {}))
    if fields:
        unknown = set(fields) - {"problem", "prompt", "answer", "solution", "id", "source"}
        if unknown:
            raise DatasetError(f"unknown field role(s) {sorted(unknown)}; roles are problem, prompt, answer, "
                               "solution, id, source")
        mapping.update(fields)
    if "problem" not in mapping and "prompt" not in mapping:
        raise DatasetError("the field mapping needs 'problem' (a text field) or 'prompt' (chat messages)")
    if "answer" not in mapping and "solution" not in mapping:
        raise DatasetError("the field mapping needs 'answer', or 'solution' with a \\boxed{} answer")
    return preset, mapping


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)  # several accepted answers / a list answer
    return None


MARKER = "####"
#: a prompt asking for the answer after "####" (verl: 'output the final answer after "####"')
_ASKS_FOR_MARKER = re.compile(r"final answer\b[^.\n]{0,60}" + MARKER, re.IGNORECASE)
_MAX_MARKED_ANSWER = 200


def asks_for_marker(prompt_text: str) -> bool:
    return bool(_ASKS_FOR_MARKER.search(prompt_text))


def marked_answer(response: str) -> tuple[str | None, str]:
    """The answer given as ``#### x`` (the rest of that line) in the answer region, or (None, why)."""
    region = answer_region(response)
    if region is None:
        return None, "think block never closed (truncated response?)"
    count = region.count(MARKER)
    if count != 1:
        return None, (f"{count} '{MARKER}' answers; expected exactly one" if count else
                      f"no final answer: expected <answer>...</answer>, \\boxed{{...}} or a '{MARKER} n' line")
    line = region.split(MARKER, 1)[1].split("\n", 1)[0].strip().rstrip(".").strip()
    if line.startswith("$"):
        line = line[1:].strip()
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", line):
        line = line.replace(",", "")
    if not line or len(line) > _MAX_MARKED_ANSWER:
        return None, f"empty or over-long answer after '{MARKER}'"
    return line, "ok"


def gsm8k_split(answer: str) -> tuple[str, str | None]:
    """GSM8K 'answer' field -> (solution text, final answer after ####)."""
    if "####" not in answer:
        return answer, None
    body, final = answer.rsplit("####", 1)
    final = final.strip().replace(",", "").rstrip(".")
    return _GSM_CALC.sub("", body).strip(), final or None


class MathDataset(MathEnv):
    name = "math/dataset"
    description = "math problems from JSONL/Parquet files (MATH, GSM8K, verl, plain presets), answer equivalence"
    levels = ()
    procedural = False
    version = "1"

    def _extract_for(self, task: Task, response: str) -> tuple[str | None, Score | None]:
        answer, failed = self._extract(response)
        meta = task.meta if isinstance(task.meta, dict) else {}
        if failed is None or meta.get("answer_marker") != MARKER:
            return answer, failed
        region = answer_region(response)
        if region is None or answer_tags(region) or boxed_all(region) or not failed.reason.startswith("format: no final answer"):
            return answer, failed  # a broken think block or a bad tag/boxed answer: that verdict stands
        marked, why = marked_answer(response)
        if marked is None:
            return None, Score.fail(f"format: {why}", format_ok=False)
        return marked, None

    def examples(self, n: int = 5, seed: int = 0) -> list[Task]:
        """Tasks from the small bundled file (plain preset), for checks and demos."""
        tasks = list(self._iter(EXAMPLES_PATH, "plain", None, None, False))
        start = seed % len(tasks)
        return [tasks[(start + i) % len(tasks)] for i in range(n)]

    def load(self, path: str, *, preset: str | None = None, fields: dict[str, str] | None = None,
             limit: int | None = None, skip_invalid: bool | None = None) -> Iterable[Task]:
        """Tasks from a file. Rows without a usable answer raise (or are skipped with skip_invalid=True)."""
        preset = preset or self.config.get("preset")
        fields = fields or self.config.get("fields")
        skip = self.config.get("skip_invalid", False) if skip_invalid is None else skip_invalid
        limit = limit if limit is not None else self.config.get("limit")
        return list(self._iter(path, preset, fields, limit, skip))

    def _iter(self, path: str, preset: str | None, fields: dict[str, str] | None, limit: int | None,
              skip: bool) -> Iterator[Task]:
        rows = read_rows(path)
        mapping: dict[str, str] | None = None
        chosen = ""
        count = 0
        for index, row in enumerate(rows):
            if limit is not None and count >= limit:
                return
            if not isinstance(row, dict):
                raise DatasetError(f"{path}: row {index} is a {type(row).__name__}, expected a JSON object")
            if mapping is None:
                chosen, mapping = resolve_fields(row, preset, fields)
            try:
                task = self._row_task(row, index, chosen, mapping, os.path.basename(os.fspath(path)))
            except DatasetError:
                if skip:
                    continue
                raise
            count += 1
            yield task

    def _row_task(self, row: dict[str, Any], index: int, preset: str, mapping: dict[str, str], source: str) -> Task:
        where = f"{source} row {index}"
        missing = [f for role, f in mapping.items() if role in ("problem", "prompt") and not _has(row, f)]
        if missing:
            raise DatasetError(f"{where}: missing field {missing[0]!r} (preset {preset}); fields present: "
                               f"{sorted(row)}; pass fields={{'problem': ...}} to map another name")
        solution = _text(_get(row, mapping["solution"])) if "solution" in mapping else None
        answer = _text(_get(row, mapping["answer"])) if "answer" in mapping else None
        if preset == "gsm8k" or (answer is not None and "####" in answer):
            body, final = gsm8k_split(answer or "")
            if final is None:
                raise DatasetError(f"{where}: GSM8K answer has no '#### n' final line")
            solution, answer = solution or body, final
        if answer is None and solution is not None:
            answer = last_boxed(solution)
            if answer is None:
                raise DatasetError(f"{where}: the solution has no \\boxed{{}} answer; map an 'answer' field instead")
        if answer is None or not answer.strip():
            field = mapping.get("answer", mapping.get("solution"))
            raise DatasetError(f"{where}: missing or empty answer field {field!r}; fields present: {sorted(row)}")
        if "prompt" in mapping:
            prompt = _get(row, mapping["prompt"])
            if isinstance(prompt, str):
                messages = [{"role": "user", "content": prompt}]
            elif isinstance(prompt, list) and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in prompt):
                messages = [{"role": str(m.get("role", "user")), "content": m["content"]} for m in prompt]
            else:
                raise DatasetError(f"{where}: field {mapping['prompt']!r} must be a string or a list of "
                                   "{role, content} messages")
            problem_text = "\n\n".join(m["content"] for m in messages if m["role"] == "user")
        else:
            problem = _text(_get(row, mapping["problem"]))
            if not problem or not problem.strip():
                raise DatasetError(f"{where}: empty problem field {mapping['problem']!r}")
            problem_text = problem
            messages = [{"role": "user", "content": problem.strip() + ANSWER_INSTRUCTION}]
        row_id = _text(_get(row, mapping["id"])) if "id" in mapping else None
        key = row_id or hashlib.sha256(f"{problem_text}\x1f{answer}".encode()).hexdigest()
        meta: dict[str, Any] = {"source": _text(_get(row, mapping["source"])) if "source" in mapping else source,
                                "row": index, "preset": preset}
        if preset == "verl" or _has(row, "data_source"):
            meta["data_source"] = _text(row.get("data_source"))
        for extra, name in (("level", "difficulty"), ("type", "type"), ("subject", "subject")):
            if isinstance(row.get(extra), (str, int)):
                meta[name] = row[extra]  # a dataset's "level" is its own label, not our 0-4 level
        if solution:
            meta["solution"] = solution.strip()
        if asks_for_marker("\n".join(m["content"] for m in messages)):
            meta["answer_marker"] = MARKER  # the prompt asks for "#### n": accept that answer form
        task = self.make_task(key, "", answer.strip(), meta)
        task.prompt = messages
        return task


register(MathDataset.name, MathDataset)
