"""Single-turn SWE environments: ``swe/bugfix``, ``swe/localize``, ``swe/testgen``.

All three read SWE-bench instances (``load(path)``: .json / .jsonl / .parquet) and ship the bundled
samples (``examples(n)``). ``Task.answer`` is the instance (gold patch and test patch included, never
shown in the prompt); the prompt holds the issue and the repository's code where it is available:
every file for a bundled sample; for a SWE-bench instance with a local clone (``repos_dir`` or
$M1GYM_SWE_REPOS), the files the gold patch edits ("oracle" context) for bug fixing and test writing,
and the list of Python files for localisation; otherwise the issue alone.

swe/bugfix    answer: a unified diff. Graded in a fresh container (see grading.py): reward 1 iff every
              FAIL_TO_PASS and PASS_TO_PASS test passes.
swe/localize  answer: JSON {"files": [...], "functions": ["path::name", "path::Class.method"]}.
              Gold: the files the gold patch edits and the base-commit functions whose lines it edits
              (patches.gold_locations; functions need the base source: a sample or a local clone,
              else only files are located). reward = mean of the F1 over files and the F1 over
              functions (the file F1 alone when no function is located); correct = both sets exact.
              A function entry also names its file. Pure set arithmetic: kind "rule", no container.
swe/testgen   answer: a unified diff that adds or edits test files only. reward 1 iff its tests fail
              (or error) on the buggy code and all pass with the gold patch (two fresh containers).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from ...core import Environment, Score, Task, TaskFormatError
from ...registry import register
from ...verifiers.extract import answer_region, answer_tags
from .grading import Grade, Grader
from .instance import Instance, load_instances, samples
from .patches import extract_patch, gold_locations, is_test_path, touched_paths
from .repo_source import base_files

MAX_CONTEXT_CHARS = 60_000
MAX_LISTED_FILES = 2_000


def _fence(text: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


NO_FILES_SHOWN = "(The repository's files are not shown.)\n"


def _files_block(files: dict[str, str] | None) -> str:
    if not files:
        return ""
    total = sum(len(v) for v in files.values())
    if total > MAX_CONTEXT_CHARS:
        listing = "\n".join(sorted(files)[:MAX_LISTED_FILES])
        return f"Repository files (contents omitted, {total} characters):\n{listing}\n"
    parts = [f"[{path}]\n{_fence(text)}" for path, text in sorted(files.items())]
    return "Repository files at the base commit:\n\n" + "\n\n".join(parts) + "\n"


def _instance(task: Task) -> Instance:
    if not isinstance(task.answer, dict):
        raise TaskFormatError("swe task answer must be the SWE instance object")
    return Instance.from_dict(task.answer, f"task {task.id}")


class _SWEBase(Environment):
    kind = "sandbox"
    procedural = False
    version = "1"
    task_type = ""

    def __init__(self, *, repos_dir: str | None = None, test_timeout: float = 300.0, auto_build: bool = True,
                 grader: Grader | None = None, **config: Any):
        super().__init__(repos_dir=repos_dir, test_timeout=test_timeout, auto_build=auto_build, **config)
        self.repos_dir = repos_dir
        self._grader = grader
        self._grader_args = {"test_timeout": test_timeout, "auto_build": auto_build}

    @property
    def grader(self) -> Grader:
        if self._grader is None:
            from .image_builder import ImageBuilder, shared_builder

            builder = ImageBuilder(repos_dir=self.repos_dir) if self.repos_dir else shared_builder()
            self._grader = Grader(builder=builder, **self._grader_args)
        return self._grader

    # ---- tasks --------------------------------------------------------------------------------
    def context(self, inst: Instance) -> str:
        raise NotImplementedError

    def instructions(self) -> str:
        raise NotImplementedError

    def answer_for(self, inst: Instance) -> Any:
        return inst.to_dict()

    def task_for(self, inst: Instance, source: str) -> Task:
        prompt = (f"{self.intro()}\n\n<issue>\n{inst.problem_statement.strip()}\n</issue>\n\n"
                  f"Repository: {inst.repo} (commit {inst.base_commit[:12]})\n\n{self.context(inst)}\n"
                  f"{self.instructions()}")
        meta = {"instance_id": inst.instance_id, "repo": inst.repo, "version": inst.version, "source": source,
                "task_type": self.task_type}
        if inst.image:
            meta["image"] = inst.image
        return self.make_task(inst.instance_id, prompt, self.answer_for(inst), meta)

    def intro(self) -> str:
        return "You are working in a Python repository with an open issue."

    def load(self, path: str) -> Iterable[Task]:
        return [self.task_for(inst, str(path)) for inst in load_instances(path)]

    def examples(self, n: int = 5, seed: int = 0) -> list[Task]:
        bundled = samples()
        if not bundled:
            return []
        order = bundled[seed % len(bundled):] + bundled[: seed % len(bundled)]
        return [self.task_for(inst, "m1gym samples") for inst in order[:max(0, n)]]

    def _files(self, inst: Instance, paths: list[str] | None) -> dict[str, str] | None:
        try:
            return base_files(inst, self.repos_dir, paths)
        except Exception:  # noqa: BLE001 - the context is a courtesy; a broken clone gives none
            return None

    def _files_context(self, inst: Instance, paths: list[str]) -> str:
        """A bundled sample shows its whole repository; other instances show ``paths`` at the base commit."""
        if inst.sample:
            return _files_block(self._files(inst, None))
        files = self._files(inst, paths)
        return _files_block(files) if files else NO_FILES_SHOWN


def _new_file(path: str, text: str) -> str:
    lines = text.splitlines(True)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join("+" + ln for ln in lines))


def _diff_answer(patch: str) -> str:
    return f"<answer>\n```diff\n{patch}```\n</answer>"


#: a pytest plugin that reports every test passed (the universal cheat a patch could plant)
_FORCE_PASS = ("import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
               "    out = yield\n    out.get_result().outcome = 'passed'\n")

#: swe/bugfix probe candidates: patches that fix nothing but try to make the tests report a pass
BUGFIX_PROBES = {
    "patch: conftest forcing passes": _new_file("conftest.py", _FORCE_PASS),
    "patch: pytest.ini loading a plugin": _new_file("pytest.ini", "[pytest]\naddopts = -p m1gym_probe\n")
    + _new_file("m1gym_probe.py", _FORCE_PASS),
}

#: swe/testgen probe candidates: tests that tell the fixed tree from the buggy one by anything but behaviour
TESTGEN_PROBES = {
    "tests: the gold patch file exists": _new_file(
        "tests/test_m1gym_probe.py", "import glob\n\n\ndef test_probe():\n"
        "    assert glob.glob('/work/**/*gold*', recursive=True)\n"),
    "tests: some file is newer": _new_file(
        "tests/test_m1gym_probe.py", "import os\n\n\ndef test_probe():\n"
        "    times = {os.stat(os.path.join(d, f)).st_mtime for d, _, fs in os.walk('.') for f in fs}\n"
        "    assert len(times) > 1\n"),
    "tests: the tree differs from git HEAD": _new_file(
        "tests/test_m1gym_probe.py", "import subprocess\n\n\ndef test_probe():\n"
        "    assert subprocess.run(['git', 'diff', '--quiet', 'HEAD']).returncode == 1\n"),
}


def _score_from_grade(grade: Grade, format_ok: bool) -> Score:
    return Score(reward=1.0 if grade.resolved else 0.0, correct=grade.resolved, format_ok=format_ok,
                 reason=grade.reason, details=grade.details())


class SWEBugfixEnv(_SWEBase):
    name = "swe/bugfix"
    task_type = "bugfix"
    description = "resolve a GitHub-style issue with a patch; graded by the repository's tests in a Docker sandbox"
    answer_format = "a unified diff (git diff) in a ```diff block inside <answer>...</answer>"

    def context(self, inst: Instance) -> str:
        return self._files_context(inst, touched_paths(inst.patch))

    def instructions(self) -> str:
        return ("Write a patch that resolves the issue. Answer with a unified diff against the repository root "
                "(paths a/... and b/..., as `git diff` prints them) in a ```diff block inside <answer>...</answer>. "
                "The repository's tests, including new ones for this issue, are run after your patch is applied; "
                "edits to test files are discarded.")

    def reference(self, task: Task) -> str:
        inst = _instance(task)
        return f"<answer>\n```diff\n{inst.patch}```\n</answer>"

    def probe_responses(self, task: Task) -> dict[str, str]:
        base = getattr(super(), "probe_responses", None)  # the universal-answer probe (m1gym/probe.py)
        out = dict(base(task)) if base else {}
        out.update({label: _diff_answer(p) for label, p in BUGFIX_PROBES.items()})
        return out

    def _score(self, task: Task, response: str) -> Score:
        inst = _instance(task)
        patch = extract_patch(response)
        return _score_from_grade(self.grader.grade_patch(inst, patch), patch is not None)


class SWETestgenEnv(_SWEBase):
    name = "swe/testgen"
    task_type = "testgen"
    description = "write tests that reproduce an issue: they must fail on the buggy code and pass with the fix"
    answer_format = "a unified diff that only adds or edits test files, in a ```diff block inside <answer>"

    def context(self, inst: Instance) -> str:
        return self._files_context(inst, touched_paths(inst.patch)
                                   + [p for p in touched_paths(inst.test_patch) if is_test_path(p)])

    def instructions(self) -> str:
        return ("Do not fix the issue. Write tests that reproduce it: they must fail on the current code and pass "
                "once the issue is fixed. Answer with a unified diff that only adds or edits test files "
                "(test_*.py, *_test.py, conftest.py, or files under tests/) in a ```diff block inside "
                "<answer>...</answer>.")

    def reference(self, task: Task) -> str:
        inst = _instance(task)
        return f"<answer>\n```diff\n{inst.test_patch}```\n</answer>"

    def probe_responses(self, task: Task) -> dict[str, str]:
        base = getattr(super(), "probe_responses", None)  # the universal-answer probe (m1gym/probe.py)
        out = dict(base(task)) if base else {}
        out.update({label: _diff_answer(p) for label, p in TESTGEN_PROBES.items()})
        return out

    def _score(self, task: Task, response: str) -> Score:
        inst = _instance(task)
        patch = extract_patch(response)
        return _score_from_grade(self.grader.grade_tests(inst, patch), patch is not None)


# ---- localisation ----------------------------------------------------------------------------------

def _norm_path(p: str) -> str:
    p = p.strip().strip("`'\"").replace("\\", "/")
    for prefix in ("./", "a/", "b/"):
        if p.startswith(prefix):
            p = p[len(prefix):]
    return p


def parse_locations(text: str | None) -> tuple[set[str], set[str]] | None:
    """(files, functions) from a JSON object {"files": [...], "functions": [...]} or, failing that, from
    lines naming ``path.py`` / ``path.py::name``. Function entries add their file. None: nothing found."""
    if not text:
        return None
    data: Any = None
    candidates = [text] + re.findall(r"```(?:json)?\s*\n(.*?)```", text, re.S)
    for cand in reversed(candidates):
        try:
            data = json.loads(cand.strip())
            break
        except (json.JSONDecodeError, ValueError, RecursionError):
            continue
    files: set[str] = set()
    funcs: set[str] = set()
    if isinstance(data, dict):
        raw_files = data.get("files", [])
        raw_funcs = data.get("functions", [])
        for f in raw_files if isinstance(raw_files, list) else []:
            if isinstance(f, str) and f.strip():
                files.add(_norm_path(f))
        for f in raw_funcs if isinstance(raw_funcs, list) else []:
            if isinstance(f, dict):
                path, name = f.get("file"), f.get("function") or f.get("name")
                f = f"{path}::{name}" if isinstance(path, str) and isinstance(name, str) else None
            if isinstance(f, str) and "::" in f:
                path, _, name = f.partition("::")
                path, name = _norm_path(path), name.strip().replace("::", ".")
                if path and name:
                    funcs.add(f"{path}::{name}")
                    files.add(path)
    elif data is None:
        for token in re.findall(r"[\w./-]+\.py(?:::[\w.]+)?", text):
            path, _, name = token.partition("::")
            files.add(_norm_path(path))
            if name:
                funcs.add(f"{_norm_path(path)}::{name}")
    else:
        return None
    return (files, funcs) if files or funcs else None


def f1(pred: set[str], gold: set[str]) -> float:
    if not pred or not gold:
        return 1.0 if pred == gold else 0.0
    tp = len(pred & gold)
    return 0.0 if tp == 0 else 2 * tp / (len(pred) + len(gold))


class SWELocalizeEnv(_SWEBase):
    name = "swe/localize"
    kind = "rule"  # scoring compares sets; no container runs
    task_type = "localize"
    description = "locate the files and functions an issue's fix must edit; F1 against the gold patch"
    answer_format = '<answer>{"files": ["path.py"], "functions": ["path.py::func", "path.py::Class.method"]}</answer>'

    def answer_for(self, inst: Instance) -> Any:
        paths = touched_paths(inst.patch)
        return {**inst.to_dict(), "locations": gold_locations(inst.patch, self._files(inst, paths))}

    def context(self, inst: Instance) -> str:
        if inst.sample:
            return _files_block(self._files(inst, None))
        from .repo_source import find_clone, git_ls_files

        clone = find_clone(inst, self.repos_dir)
        if clone is not None:
            try:
                listing = [p for p in git_ls_files(clone, inst.base_commit) if p.endswith(".py")]
            except Exception:  # noqa: BLE001
                listing = []
            if listing:
                return "Python files at the base commit:\n" + "\n".join(listing[:MAX_LISTED_FILES]) + "\n"
        return NO_FILES_SHOWN

    def instructions(self) -> str:
        return ("Do not fix the issue. Name the files and the functions that a fix must edit. Answer with JSON "
                'inside <answer>...</answer>: {"files": ["path/to/file.py"], "functions": '
                '["path/to/file.py::function", "path/to/file.py::Class.method"]}.')

    @staticmethod
    def _gold(task: Task) -> dict[str, list[str]]:
        loc = task.answer.get("locations") if isinstance(task.answer, dict) else None
        if not isinstance(loc, dict) or not isinstance(loc.get("files"), list):
            inst = _instance(task)
            loc = gold_locations(inst.patch, None)
        return {"files": list(loc.get("files", [])), "functions": list(loc.get("functions", []))}

    def reference(self, task: Task) -> str:
        return "<answer>" + json.dumps(self._gold(task)) + "</answer>"

    def _score(self, task: Task, response: str) -> Score:
        gold = self._gold(task)
        region = answer_region(response)
        if region is None:
            return Score.fail("unclosed <think> block: no answer")
        tags = answer_tags(region)
        parsed = parse_locations(tags[-1] if tags else region)
        if parsed is None:
            return Score.fail('no locations found: answer with {"files": [...], "functions": ["path::name"]}')
        files, funcs = parsed
        gf, gfn = set(gold["files"]), set(gold["functions"])
        f_files = f1(files, gf)
        if gfn:
            f_funcs = f1(funcs, gfn)
            reward = (f_files + f_funcs) / 2
            correct = files == gf and funcs == gfn
            reason = f"files F1 {f_files:.2f}, functions F1 {f_funcs:.2f}"
        else:
            f_funcs = None
            reward, correct = f_files, files == gf
            reason = f"files F1 {f_files:.2f} (the fix edits no function)"
        details = {"files": sorted(files), "functions": sorted(funcs), "gold": gold, "files_f1": f_files,
                   "functions_f1": f_funcs}
        return Score(reward=round(reward, 6), correct=correct, format_ok=True,
                     reason=("exact: " if correct else "") + reason, details=details)


register("swe/bugfix", SWEBugfixEnv)
register("swe/localize", SWELocalizeEnv)
register("swe/testgen", SWETestgenEnv)
