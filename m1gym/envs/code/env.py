"""``code/<set>`` environments: competitive-programming problems judged in the Docker sandbox.

Answer extraction (the one rule): take the answer region (text after the last ``</think>``), then
its last ``<answer>...</answer>`` block if there is one (else the whole region), and in that text
the **last fenced code block** (```lang ... ```). The fence's info string picks the language
(python/py/python3 -> Python 3, cpp/c++/cc/cxx -> C++17; no tag -> Python). When an answer block
holds no fence at all, its whole text is taken as Python code.

Scoring: reward 1 only when every test passes (verdict AC); the verdict, pass fraction and first
failing test are in ``details``. Bad submissions (no code, unknown language, oversized code) and an
unavailable sandbox give reward 0 with a one-line reason (the latter naming `m1gym sandbox doctor`).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Iterable, Sequence

from ...core import MAX_RESPONSE_CHARS, Environment, Score, Task, reference_response
from ...sandbox.base import SandboxError
from ...verifiers.extract import answer_region, answer_tags
from .judge import Judge, JudgeInputError, judge_error_reason
from .problem import Problem, ProblemFormatError

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)


def extract_code(response: str) -> tuple[str | None, str | None]:
    """(code, language tag) from a response, following the module's rule; (None, None) if none."""
    region = answer_region(response)
    if region is None:
        return None, None
    tags = answer_tags(region)
    text = tags[-1] if tags else region
    blocks = _FENCE_RE.findall(text)
    if blocks:
        lang, code = blocks[-1]
        return code, (lang.lower() or "python")
    if tags and text.strip():
        return text.strip("\n"), "python"
    return None, None


class CodeEnv(Environment):
    """A set of problems; ``generate(seed, level)`` picks one deterministically."""

    kind = "sandbox"
    description = "competitive programming (stdin/stdout and call-based), judged in the Docker sandbox"
    answer_format = "a program in a fenced ```python or ```cpp block inside <answer>...</answer>"
    version = "1"
    procedural = True

    def __init__(self, problems: Sequence[Problem] | None = None, *, problem_set: str | None = None,
                 sandbox=None, **config: Any):
        super().__init__(**config)
        if problems is None:
            from .problems import load_builtin_set

            problems = load_builtin_set(problem_set or "m1gym")
        self.problems = sorted(problems, key=lambda p: p.id)
        if not self.problems:
            raise ProblemFormatError("a code environment needs at least one problem")
        self._by_level: dict[int, list[Problem]] = {}
        for p in self.problems:
            self._by_level.setdefault(int(p.level), []).append(p)
        self.levels = tuple(sorted(self._by_level))
        self._sandbox = sandbox
        self._judge: Judge | None = None
        self._lock = threading.Lock()

    @property
    def judge(self) -> Judge:
        if self._judge is None:
            with self._lock:
                if self._judge is None:
                    self._judge = Judge(self._sandbox)
        return self._judge

    # ---- tasks --------------------------------------------------------------------------------
    def task_for(self, problem: Problem) -> Task:
        answer = problem.to_dict()
        answer.pop("statement", None)
        return self.make_task(problem.id, problem.prompt(), answer,
                              {"level": int(problem.level), "problem_id": problem.id, "tags": list(problem.tags),
                               "source": problem.source, "mode": problem.mode})

    def generate(self, seed: int, level: int | None = None, **knobs: Any) -> Task:
        if level is None:
            pool = self.problems
        elif level in self._by_level:
            pool = self._by_level[level]
        else:
            raise ValueError(f"{self.name}: no problems at level {level}; levels are {list(self.levels)}")
        return self.task_for(pool[self.rng(seed, level).randrange(len(pool))])

    def load(self, path: str) -> Iterable[Task]:
        from .loaders import load_problems

        for p in load_problems(path):
            yield self.task_for(p)

    def tasks(self) -> list[Task]:
        return [self.task_for(p) for p in self.problems]

    # ---- scoring ------------------------------------------------------------------------------
    @staticmethod
    def problem_of(task: Task) -> Problem:
        data = dict(task.answer or {})
        data.setdefault("statement", "")
        return Problem.from_dict(data)

    def _score(self, task: Task, response: str) -> Score:
        try:
            problem = self.problem_of(task)
        except ProblemFormatError as exc:
            return Score.fail(f"bad task: {exc}", format_ok=True)
        code, lang = extract_code(response)
        if code is None:
            if len(response) >= MAX_RESPONSE_CHARS:
                return Score.fail(f"response too long: over {MAX_RESPONSE_CHARS} characters it is cut to its tail, "
                                  "and no complete code block is left")
            return Score.fail("no code found: put the program in a fenced code block inside <answer>...</answer>")
        try:
            result = self.judge.judge(problem, code, lang or "python")
        except JudgeInputError as exc:
            return Score.fail(str(exc), format_ok=lang is not None)
        except SandboxError as exc:
            return Score.fail(judge_error_reason(exc), format_ok=True, sandbox_error=True)
        details = result.details()
        details["language"] = lang
        if result.accepted:
            return Score(reward=1.0, correct=True, format_ok=True, reason=result.summary(), details=details)
        return Score(reward=0.0, correct=False, format_ok=True, reason=result.summary(), details=details)

    def probe_responses(self, task: Task) -> dict[str, str]:
        """The universal-answer probe's constants (m1gym/probe_answers.py) plus programs that do nothing
        useful whatever the input, in the task's mode: for stdio a program that prints nothing,
        exits 0, or prints its input back (Python and C++); for call-based problems a function
        that returns None, 0, an empty list, or its first argument."""
        from ...probe_answers import default_probe_responses

        out = default_probe_responses(task, "rule")
        answer = task.answer if isinstance(task.answer, dict) else {}
        fn = answer.get("fn_name")
        if answer.get("mode") == "call" and isinstance(fn, str) and fn.isidentifier():
            programs = {"returns None": "return None", "returns 0": "return 0", "returns []": "return []",
                        "returns its first argument": "return args[0] if args else None"}
            for label, body in programs.items():
                code = f"def {fn}(*args):\n    {body}\n\nclass Solution:\n    {fn} = staticmethod({fn})\n"
                out[f"function: {label}"] = f"<answer>\n```python\n{code}```\n</answer>"
        else:
            programs = {
                "program: prints nothing": "```python\npass\n```",
                "program: exit 0": "```python\nimport sys\nsys.exit(0)\n```",
                "program: echoes input": "```python\nimport sys\nsys.stdout.write(sys.stdin.read())\n```",
                "program: C++ empty main": "```cpp\nint main() { return 0; }\n```",
                "program: C++ echoes input": "```cpp\n#include <iostream>\nint main() { std::cout << "
                                             "std::cin.rdbuf(); return 0; }\n```",
            }
            out.update({label: f"<answer>\n{code}\n</answer>" for label, code in programs.items()})
        return out

    def reference(self, task: Task) -> str:
        problem = self.problem_of(task)
        code = problem.reference_solution("python")
        if code is not None:
            return reference_response(f"\n```python\n{code.rstrip()}\n```\n")
        code = problem.reference_solution("cpp")
        if code is not None:
            return reference_response(f"\n```cpp\n{code.rstrip()}\n```\n")
        raise ValueError(f"problem {problem.id} ships no reference solution")


def _register_builtin_sets() -> None:
    """Every problem set shipped under ``data/`` as ``code/<set>`` (``code/m1gym``: this project's)."""
    from ...registry import register
    from .problems import builtin_sets, load_builtin_set

    for problem_set in builtin_sets():
        levels = sorted({int(p.level) for p in load_builtin_set(problem_set)})
        if levels:
            register(f"code/{problem_set}", CodeEnv, kind="sandbox", levels=levels, problem_set=problem_set,
                     description=f"competitive programming: the {problem_set} problem set, judged in the Docker sandbox")


_register_builtin_sets()
