"""LLM-written test suites for code problems that have none (or too few).

The judge model proposes test inputs; the problem's reference solution produces the expected
outputs in the sandbox; inputs that crash, time out or blow a limit are dropped (a bad input must
never become a test), duplicates are dropped, and the suite is saved in the code problem format.
Only stdio problems are supported: call-based problems need typed arguments, which the proposer
cannot be trusted to get right without a schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ...genrm.judges import Judge, JudgeUnavailable

MAX_INPUT_BYTES = 64 * 1024

PROMPT = """You write test inputs for a programming problem.

[Problem]
{statement}

[Example inputs]
{examples}

Write {n} new, valid test inputs that follow the input format exactly: small edge cases (minimum
sizes, equal values, extremes) and a few larger random-looking cases. Do not write outputs.
Answer with a JSON list of strings, one string per complete input (use \\n for line breaks),
inside <answer>...</answer>."""


class TestGenerationError(ValueError):
    pass


@dataclass
class TestGenReport:
    proposed: int = 0
    kept: int = 0
    dropped: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"proposed": self.proposed, "kept": self.kept, "dropped": self.dropped}


def parse_inputs(text: str) -> list[str]:
    """The JSON list of input strings from the judge's answer; TestGenerationError when there is none."""
    m = re.findall(r"<answer>(.*?)</answer>", text or "", re.DOTALL)
    body = (m[-1] if m else text or "").strip()
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", body)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        raise TestGenerationError("the judge's answer is not a JSON list of strings") from None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise TestGenerationError("the judge's answer must be a JSON list of strings")
    return data


def propose_inputs(judge: Judge, problem: Any, n: int) -> list[str]:
    examples = "\n---\n".join(t["input"] for t in problem.tests[: max(1, problem.examples)]) or "(none)"
    reply = judge.complete([{"role": "user", "content": PROMPT.format(statement=problem.statement, examples=examples,
                                                                       n=n)}], max_tokens=2048)
    return parse_inputs(reply.text)


def generate_tests(problem: Any, judge: Judge, n: int = 10, *, sandbox: Any = None, language: str = "python",
                   replace: bool = False) -> tuple[Any, TestGenReport]:
    """A copy of ``problem`` with the new tests appended (or replacing the old with ``replace``)."""
    from .judge import Judge as CodeJudge
    from .problem import Problem

    if problem.mode != "stdio":
        raise TestGenerationError(f"problem {problem.id!r} is call-based; test generation supports stdio problems")
    reference = problem.reference_solution(language)
    if not reference:
        raise TestGenerationError(f"problem {problem.id!r} has no {language} reference solution to compute outputs with")
    report = TestGenReport()
    try:
        inputs = propose_inputs(judge, problem, n)
    except JudgeUnavailable as exc:
        raise TestGenerationError(str(exc)) from None
    report.proposed = len(inputs)
    seen = {t["input"] for t in problem.tests}
    fresh = []
    for x in inputs:
        if not x.endswith("\n"):
            x += "\n"
        if len(x.encode()) > MAX_INPUT_BYTES:
            report.dropped.append({"input": x[:80], "reason": f"longer than {MAX_INPUT_BYTES} bytes"})
        elif x in seen:
            report.dropped.append({"input": x[:80], "reason": "duplicate"})
        else:
            seen.add(x)
            fresh.append(x)
    judge_ = CodeJudge(sandbox)
    limits = judge_.limits(problem)
    new_tests = []
    with judge_.sandbox.session(limits) as sess:
        if language == "cpp":
            sess.put({"main.cpp": reference})
            from ...sandbox.image import cxx_command
            from .judge import COMPILE_LIMITS

            cr = sess.run(cxx_command("main.cpp", "main"), limits=COMPILE_LIMITS)
            if not cr.ok:
                raise TestGenerationError(f"the reference solution of {problem.id!r} does not compile")
            cmd = ["./main"]
        else:
            sess.put({"main.py": reference})
            cmd = ["python3", "main.py"]
        for x in fresh:
            r = sess.run(cmd, stdin=x, limits=limits, python=language == "python")
            if not r.ok:
                why = f"reference solution {'hit the ' + r.killed + ' limit' if r.killed else 'exited ' + str(r.exit_code)}"
                report.dropped.append({"input": x[:80], "reason": why})
                continue
            new_tests.append({"input": x, "output": r.stdout.decode("utf-8", errors="replace")})
    report.kept = len(new_tests)
    data = problem.to_dict()
    data["tests"] = (new_tests if replace else [*problem.tests, *new_tests]) or problem.tests
    data["source"] = (problem.source + "+llm-tests").lstrip("+")
    return Problem.from_dict(data), report
