"""The problem format of the code environments.

A ``Problem`` is plain data (JSON round trip via ``to_dict``/``from_dict``):

    id, title, statement          text shown to the policy (with the first ``examples`` tests)
    mode                          "stdio": the program reads stdin, writes stdout
                                  "call": a Python function ``fn_name`` (module level, or a method of
                                  ``class Solution``) is called with each test's ``args``
    tests                         stdio: [{"input": str, "output": str}]
                                  call:  [{"args": [...], "expected": <JSON value>}]
    time_limit_s, memory_mb       per test: CPU seconds, and the data-segment limit of the program
    checker                       {"type": "tokens"} (default) | {"type": "exact"} |
                                  {"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6} |
                                  {"type": "program", "source": <python>}: run in the sandbox as
                                  ``checker.py input.txt output.txt answer.txt``; it accepts only by
                                  printing OK as its first token and exiting 0
    level, tags, source           difficulty 0..4, topics, where it came from
    solutions                     {"python": [...], "cpp": [...]}: reference programs
    wrong                         {"python": [...]}: known-wrong programs (tests of the tests)
    starter                       starter code shown in the prompt (call mode)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

MODES = ("stdio", "call")
CHECKERS = ("exact", "tokens", "float", "program")


class ProblemFormatError(ValueError):
    """A problem (or a problem file) is malformed; the message names the field and the fix."""


@dataclass
class Problem:
    id: str
    statement: str
    tests: list[dict[str, Any]]
    title: str = ""
    mode: str = "stdio"
    fn_name: str | None = None
    time_limit_s: float = 2.0
    memory_mb: int = 256
    checker: dict[str, Any] = field(default_factory=lambda: {"type": "tokens"})
    level: int = 0
    tags: list[str] = field(default_factory=list)
    source: str = ""
    examples: int = 2
    solutions: dict[str, list[str]] = field(default_factory=dict)
    wrong: dict[str, list[str]] = field(default_factory=dict)
    starter: str = ""

    def validate(self) -> "Problem":
        where = f"problem {self.id!r}"
        if not isinstance(self.id, str) or not self.id:
            raise ProblemFormatError("a problem needs a non-empty string 'id'")
        if self.mode not in MODES:
            raise ProblemFormatError(f"{where}: mode must be one of {MODES}, got {self.mode!r}")
        if not isinstance(self.tests, list) or not self.tests:
            raise ProblemFormatError(f"{where} has no tests; add at least one test to 'tests' "
                                     "(a problem without tests can not be judged)")
        for i, t in enumerate(self.tests):
            if self.mode == "stdio":
                if not (isinstance(t, dict) and isinstance(t.get("input"), str) and isinstance(t.get("output"), str)):
                    raise ProblemFormatError(f"{where}: test {i} must be {{'input': str, 'output': str}}")
            else:
                if not (isinstance(t, dict) and isinstance(t.get("args"), list) and "expected" in t):
                    raise ProblemFormatError(f"{where}: call-based test {i} must be {{'args': [...], 'expected': value}}")
        if self.mode == "call" and not (isinstance(self.fn_name, str) and self.fn_name.isidentifier()):
            raise ProblemFormatError(f"{where}: call-based problems need 'fn_name' (a Python identifier)")
        if not (isinstance(self.time_limit_s, (int, float)) and 0 < self.time_limit_s <= 60):
            raise ProblemFormatError(f"{where}: time_limit_s must be in (0, 60], got {self.time_limit_s!r}")
        if not (isinstance(self.memory_mb, int) and 16 <= self.memory_mb <= 8192):
            raise ProblemFormatError(f"{where}: memory_mb must be an int in [16, 8192], got {self.memory_mb!r}")
        ctype = (self.checker or {}).get("type")
        if ctype not in CHECKERS:
            raise ProblemFormatError(f"{where}: checker type must be one of {CHECKERS}, got {ctype!r}")
        if ctype == "program" and not isinstance(self.checker.get("source"), str):
            raise ProblemFormatError(f"{where}: a program checker needs 'source' (Python code)")
        if ctype == "program" and self.mode != "stdio":
            raise ProblemFormatError(f"{where}: checker programs are for stdio problems")
        if ctype == "float":
            for k in ("abs_tol", "rel_tol"):
                v = self.checker.get(k, 0.0)
                if not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
                    raise ProblemFormatError(f"{where}: checker {k} must be a finite number >= 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "statement": self.statement, "mode": self.mode,
            "fn_name": self.fn_name, "tests": self.tests, "time_limit_s": self.time_limit_s,
            "memory_mb": self.memory_mb, "checker": self.checker, "level": self.level, "tags": self.tags,
            "source": self.source, "examples": self.examples, "solutions": self.solutions, "wrong": self.wrong,
            "starter": self.starter,
        }

    @classmethod
    def from_dict(cls, d: Any) -> "Problem":
        if not isinstance(d, dict):
            raise ProblemFormatError(f"a problem must be a JSON object, got {type(d).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in d.items() if k in known}
        if "id" not in kw or "tests" not in kw:
            raise ProblemFormatError("a problem needs 'id' and 'tests' (see m1gym/envs/code/problem.py)")
        kw.setdefault("statement", "")
        return cls(**kw).validate()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    def reference_solution(self, language: str = "python") -> str | None:
        sols = self.solutions.get(language) or []
        return sols[0] if sols else None

    # ---- prompt ------------------------------------------------------------------------------
    def prompt(self) -> str:
        parts = []
        if self.title:
            parts.append(f"# {self.title}\n")
        parts.append(self.statement.strip())
        shown = self.tests[: max(0, self.examples)]
        if self.mode == "stdio":
            for i, t in enumerate(shown, 1):
                parts.append(f"\nExample {i}\nInput:\n```\n{t['input'].rstrip()}\n```\nOutput:\n```\n{t['output'].rstrip()}\n```")
            parts.append(f"\nLimits: {self.time_limit_s:g} s CPU time and {self.memory_mb} MB memory per test.")
            if self.checker.get("type") == "float":
                parts.append(f"Real numbers are accepted within absolute error {self.checker.get('abs_tol', 0):g} "
                             f"or relative error {self.checker.get('rel_tol', 0):g}.")
            parts.append("\nWrite a complete program that reads standard input and writes standard output, in "
                         "Python 3 or C++17. Put the final program in one fenced code block (```python or ```cpp) "
                         "inside <answer>...</answer>.")
        else:
            if self.starter:
                parts.append(f"\nStarter code:\n```python\n{self.starter.rstrip()}\n```")
            for i, t in enumerate(shown, 1):
                args = ", ".join(json.dumps(a) for a in t["args"])
                parts.append(f"\nExample {i}: {self.fn_name}({args}) returns {json.dumps(t['expected'])}")
            parts.append(f"\nLimits: {self.time_limit_s:g} s CPU time and {self.memory_mb} MB memory per call.")
            parts.append(f"\nWrite the Python 3 function `{self.fn_name}` (module level or a method of "
                         "`class Solution`). Put the final code in one fenced ```python block inside "
                         "<answer>...</answer>.")
        return "\n".join(parts)
