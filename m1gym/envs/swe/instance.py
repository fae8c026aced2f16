"""SWE task instances: SWE-bench's fields, loaders for SWE-bench files, and the bundled samples.

An instance is the ground truth of every SWE task type; ``Task.answer`` holds ``Instance.to_dict()``
(the gold patch and the test patch included: the answer is hidden from the policy, the prompt never
shows either).

Fields (SWE-bench's, plus a few of ours, all optional):
    instance_id, repo, base_commit, problem_statement, patch (gold), test_patch, FAIL_TO_PASS,
    PASS_TO_PASS, version, environment_setup_commit, hints_text, created_at
    test_cmd      shell command that runs the tests from the repository root. A plain pytest
                  command (``[VAR=value ...] python -m pytest ARGS`` or ``pytest ARGS``) runs under
                  the grader's hardened runner (runner.py) with ARGS, the base commit's config and
                  the test files; another command must hold a ``{junitxml}`` placeholder and runs as
                  given (its JUnit report is trusted). Default ``python -m pytest -q``.
    image         an existing Docker image to grade in (e.g. one of SWE-bench's); nothing is built.
                  It must hold the repository at ``repo_dir`` at the base commit, ``python3``, ``git``
                  and ``patch``.
    repo_dir      where the repository lies in the image (default ``/testbed``).
    pip_packages  requirement strings installed in the (repo, version) environment image.
    sample        name of a bundled sample (its repository ships as package data).

Grading runs pytest and reads its JUnit report, so test ids are pytest node ids
(``tests/test_x.py::test_y``, or a bare test name when unique). Rows of SWE-bench's current harness
format (``eval_script`` and ``log_parser``, with an ``image`` whose tests run inside a conda env
through that script) and unittest/Django-style ids (``test_y (app.tests.XTests)``) are refused with
an error naming the fix: m1gym does not run SWE-bench's eval scripts or log parsers.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from ...core import TaskFormatError

SAMPLES_DIR = Path(__file__).with_name("samples")
DEFAULT_TEST_CMD = "python -m pytest -q -p no:cacheprovider"
DEFAULT_REPO_DIR = "/testbed"
REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch", "FAIL_TO_PASS")
#: fields of SWE-bench harness rows: the tests run through the row's script, read by its log parser
HARNESS_FIELDS = ("eval_script", "log_parser")
#: a unittest/Django test description, "test_name (module.Class)": never a pytest node id
_UNITTEST_ID = re.compile(r"^\w+ \([\w.]+\)")


def _refuse_harness_rows(data: dict[str, Any], where: str) -> None:
    harness = [k for k in HARNESS_FIELDS if data.get(k) not in (None, "")]
    if harness:
        parser = f" (log parser {str(data.get('log_parser'))[:60]!r})" if data.get("log_parser") else ""
        raise TaskFormatError(
            f"{where}: a SWE-bench harness row ({', '.join(harness)} set){parser}: its tests run through the row's "
            "eval_script inside the image's conda env and are read by SWE-bench's log parser, which m1gym does not "
            "run (it runs pytest and reads a JUnit report). Grade such rows with SWE-bench's harness, or drop "
            "eval_script, log_parser and image to grade a pytest repository in m1gym's own per-repo image")
    ids = [t for key in ("FAIL_TO_PASS", "PASS_TO_PASS") for t in _id_list(data.get(key))]
    odd = [t for t in ids if _UNITTEST_ID.match(t)]
    if odd:
        raise TaskFormatError(
            f"{where}: test id {odd[0]!r} is a unittest/Django description, not a pytest node id "
            "(path::name); m1gym grades by pytest's JUnit report, where it would never match. Give pytest node ids, "
            "or grade this repository with SWE-bench's harness")


def _id_list(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass
class Instance:
    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str
    test_patch: str
    FAIL_TO_PASS: list[str]
    PASS_TO_PASS: list[str] = field(default_factory=list)
    version: str = ""
    environment_setup_commit: str = ""
    hints_text: str = ""
    created_at: str = ""
    test_cmd: str = DEFAULT_TEST_CMD
    image: str = ""
    repo_dir: str = DEFAULT_REPO_DIR
    pip_packages: list[str] = field(default_factory=list)
    sample: str = ""

    @classmethod
    def from_dict(cls, data: Any, where: str = "instance") -> "Instance":
        if not isinstance(data, dict):
            raise TaskFormatError(f"{where}: a SWE instance must be a JSON object, got {type(data).__name__}")
        missing = [k for k in REQUIRED if data.get(k) in (None, "") and k != "FAIL_TO_PASS"]
        missing += ["FAIL_TO_PASS"] if data.get("FAIL_TO_PASS") is None else []
        if missing:
            raise TaskFormatError(f"{where}: SWE instance is missing field(s) {missing}; expected SWE-bench's "
                                  f"fields ({', '.join(REQUIRED)}, PASS_TO_PASS, version)")
        _refuse_harness_rows(data, where)
        kw: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in data or data[name] is None:
                continue
            value = data[name]
            if name in ("FAIL_TO_PASS", "PASS_TO_PASS", "pip_packages"):
                if isinstance(value, str):  # the SWE-bench dataset stores these lists as JSON text
                    try:
                        value = json.loads(value) if value.strip() else []
                    except json.JSONDecodeError:
                        raise TaskFormatError(f"{where}: field {name} is neither a list nor JSON text of one") from None
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise TaskFormatError(f"{where}: field {name} must be a list of strings")
            elif not isinstance(value, str):
                value = str(value)
            kw[name] = value
        inst = cls(**kw)
        if not inst.FAIL_TO_PASS:
            raise TaskFormatError(f"{where}: FAIL_TO_PASS is empty; an instance needs at least one test the fix makes pass")
        if not inst.test_cmd.strip():
            inst.test_cmd = DEFAULT_TEST_CMD
        if not inst.repo_dir.startswith("/"):
            raise TaskFormatError(f"{where}: repo_dir must be an absolute path in the image, got {inst.repo_dir!r}")
        return inst

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def test_files(self) -> list[str]:
        """Files the grader runs: every file named by a FAIL_TO_PASS/PASS_TO_PASS id, and the test
        files the test patch touches."""
        from .patches import is_test_path, touched_paths

        out = set()
        for test_id in self.FAIL_TO_PASS + self.PASS_TO_PASS:
            path = test_id.split("::", 1)[0]
            if "::" in test_id and path.endswith(".py"):
                out.add(path)
        out.update(p for p in touched_paths(self.test_patch) if is_test_path(p) and p.endswith(".py"))
        return sorted(out)


# ---- SWE-bench files --------------------------------------------------------------------------

def _records(path: str) -> Iterator[tuple[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise TaskFormatError(f"{path}: no such file; pass a SWE-bench .json, .jsonl or .parquet file")
    if p.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is a dependency
            raise TaskFormatError("reading .parquet needs pyarrow: pip install pyarrow") from None
        for i, row in enumerate(pq.read_table(p).to_pylist()):
            yield f"{path} row {i}", row
        return
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl" or (p.suffix != ".json" and not text.lstrip().startswith(("[", "{\n"))):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield f"{path}:{n}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TaskFormatError(f"{path}:{n}: not valid JSON ({exc}); expected one instance per line") from None
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaskFormatError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict) and "instance_id" not in data:
        data = data.get("instances", data.get("data", data))
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise TaskFormatError(f"{path}: expected a list of SWE-bench instances")
    for i, rec in enumerate(data):
        yield f"{path}[{i}]", rec


def load_instances(path: str | os.PathLike) -> list[Instance]:
    """Instances from a SWE-bench JSON list, JSONL file or Parquet file (errors name the record)."""
    out = [Instance.from_dict(rec, where) for where, rec in _records(str(path))]
    if not out:
        raise TaskFormatError(f"{path}: no instances in the file")
    return out


# ---- bundled samples --------------------------------------------------------------------------

def sample_names() -> list[str]:
    return sorted(p.name for p in SAMPLES_DIR.iterdir() if (p / "instance.json").is_file()) \
        if SAMPLES_DIR.is_dir() else []


def load_sample(name: str) -> Instance:
    d = SAMPLES_DIR / name
    if not (d / "instance.json").is_file():
        raise TaskFormatError(f"no bundled SWE sample {name!r}; known: {', '.join(sample_names())}")
    data = json.loads((d / "instance.json").read_text(encoding="utf-8"))
    data["patch"] = (d / "gold.patch").read_text(encoding="utf-8")
    data["test_patch"] = (d / "test.patch").read_text(encoding="utf-8")
    data["sample"] = name
    return Instance.from_dict(data, f"sample {name}")


def samples() -> list[Instance]:
    return [load_sample(n) for n in sample_names()]


_SKIP_PARTS = {"__pycache__", ".pytest_cache", ".git", ".mypy_cache"}


def sample_repo_dir(inst: Instance) -> Path | None:
    if not inst.sample:
        return None
    d = SAMPLES_DIR / inst.sample / "repo"
    return d if d.is_dir() else None


def iter_tree(root: Path) -> Iterable[Path]:
    """Files of a shipped repository tree, sorted, without caches."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part in _SKIP_PARTS for part in rel.parts) or p.suffix == ".pyc" or not p.is_file():
            continue
        yield p

