"""The competitive-programming judge: compile once, run every test in the sandbox, compare outside.

Verdicts (per test and overall, the overall verdict is the first failing test's):

    AC   accepted: exited 0, within limits, output matches
    WA   wrong answer (also: a call-based result that is missing, forged or not plain data)
    TLE  CPU time limit or wall limit (2 x time limit + 1 s) exceeded
    MLE  memory limit: the run's memory (all its processes, shared memory included) went over
         the limit, the kernel's OOM killer acted, or the program died of an allocation failure
    OLE  output limit exceeded (more than ``OUTPUT_LIMIT`` bytes): an addition to the usual six
    RE   killed by a signal or a non-zero exit status
    CE   compile error (C++), or a Python syntax error

The exit status alone never passes a test: a test passes only when the program exited 0 *and* its
output (stdio) or its framed result (call-based) compares equal on the host. Expected outputs
never enter the submission's container; a checker program runs in a separate, later session.
After a TLE the remaining tests are not run (they count as failed): ``pass_fraction`` is then a
lower bound. Reward is 1 only when every test passes.

Limits hold for a run as a whole, not per process: CPU time is what the container's cgroup
counted for every process of the run (children that are never waited for included), memory is the
run's anonymous + shared memory in the cgroup, and the container's memory ceiling is the problem's
limit plus ``RUN_OVERHEAD_MB`` (the agent and the program's files), so the kernel stops a run that
outgrows its limit between two of the agent's samples. Every process of a run is killed and reaped
before its verdict. Residual risk: the agent samples memory every 50 ms or so, so a spike shorter
than that may go up to the ceiling (about ``RUN_OVERHEAD_MB`` above the limit, less the agent's
share; for C++ problems under 192 MB the ceiling is ``CXX_CONTAINER_MIN_MB``, g++ needs it) and
pass; a sustained use above the limit never does.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ...sandbox.base import DOCTOR_HINT, Limits, RunResult, Sandbox, SandboxError
from ...sandbox.image import cxx_command
from .compare import compare_text, values_equal
from .problem import Problem

VERDICTS = ("AC", "WA", "TLE", "MLE", "OLE", "RE", "CE")
LANGUAGES = {"python": "python", "python3": "python", "py": "python", "py3": "python",
             "cpp": "cpp", "c++": "cpp", "cc": "cpp", "cxx": "cpp", "cpp17": "cpp", "c++17": "cpp"}
MAX_CODE_BYTES = 1 << 20
OUTPUT_LIMIT = 16 << 20
COMPILE_LIMITS = Limits(wall_s=60.0, cpu_s=60.0, memory_mb=None, output_bytes=1 << 20)
#: container memory above the problem's limit: the agent (~10 MB), the program's files, the output
#: the agent buffers; the kernel's hard bound on a run is the limit plus this
RUN_OVERHEAD_MB = 64
#: smallest container for C++: g++ with the precompiled header peaks near 130 MB
CXX_CONTAINER_MIN_MB = 256
HARNESS_SOURCE = Path(__file__).with_name("harness.py").read_text()
_SNIP = 300


class JudgeInputError(ValueError):
    """The submission or problem can not be judged (unknown language, empty or huge code...)."""


@dataclass
class TestOutcome:
    index: int
    verdict: str
    time_s: float = 0.0
    memory_mb: float = 0.0
    note: str = ""


@dataclass
class JudgeResult:
    verdict: str
    passed: int
    total: int
    tests: list[TestOutcome] = field(default_factory=list)
    first_failure: dict[str, Any] | None = None
    compile_output: str = ""
    elapsed_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.verdict == "AC" and self.passed == self.total

    @property
    def pass_fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def details(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "passed": self.passed, "total": self.total,
                "pass_fraction": round(self.pass_fraction, 6), "first_failure": self.first_failure,
                "compile_output": self.compile_output[-2000:] or None,
                "tests": [asdict(t) for t in self.tests], "judge_s": round(self.elapsed_s, 3)}

    def summary(self) -> str:
        s = f"{self.verdict} {self.passed}/{self.total}"
        if self.first_failure:
            s += f" (test {self.first_failure['test']}: {self.first_failure['verdict']}"
            note = self.first_failure.get("note")
            s += f", {note})" if note else ")"
        return s


def normalise_language(language: str | None) -> str:
    lang = LANGUAGES.get((language or "").strip().lower())
    if lang is None:
        raise JudgeInputError(f"unknown language {language!r}; use one of: python, cpp")
    return lang


def check_submission(code: Any, language: str | None) -> tuple[str, str]:
    lang = normalise_language(language)
    if not isinstance(code, str) or not code.strip():
        raise JudgeInputError("empty code: the answer holds no program")
    size = len(code.encode("utf-8", errors="replace"))
    if size > MAX_CODE_BYTES:
        raise JudgeInputError(f"code is {size / 1e6:.1f} MB, over the {MAX_CODE_BYTES >> 20} MB limit")
    if "\x00" in code:
        raise JudgeInputError("code contains NUL bytes")
    return code, lang


def _snip(text: Any) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text if isinstance(text, str) else json.dumps(text)
    return text if len(text) <= _SNIP else text[:_SNIP] + f"... ({len(text)} chars)"


def _memory_failure(r: RunResult) -> bool:
    if r.killed == "memory" or r.oom:
        return True
    tail = r.stderr[-4000:]
    return r.exit_code != 0 and any(s in tail for s in (b"MemoryError", b"std::bad_alloc", b"Cannot allocate memory"))


def _peak_mb(r: RunResult) -> float:
    return max(r.mem_peak_mb, r.max_rss_mb)


def _run_verdict(r: RunResult) -> tuple[str | None, str]:
    """Verdict from how the run ended; None = ran to completion with status 0 (compare next)."""
    if r.killed in ("wall", "cpu"):
        return "TLE", f"{r.killed} limit, {r.cpu_s:.2f}s CPU, {r.wall_s:.2f}s wall"
    if r.killed == "output":
        return "OLE", "output limit exceeded"
    if _memory_failure(r):
        return "MLE", f"memory limit (peak {_peak_mb(r):.0f} MB)"
    if r.spawn_error:
        return "RE", f"could not start: {r.spawn_error}"
    if r.exit_code != 0:
        tail = r.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        return "RE", f"{r.summary()}: {tail[0][:200]}"
    return None, ""


class Judge:
    """Judges submissions against problems in a sandbox (any ``Sandbox``; Docker by default)."""

    def __init__(self, sandbox: Sandbox | None = None, *, stop_on_failure: bool = False):
        self._sandbox = sandbox
        self.stop_on_failure = stop_on_failure

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            from ...sandbox.docker_sandbox import default_sandbox

            self._sandbox = default_sandbox()
        return self._sandbox

    def limits(self, problem: Problem, lang: str = "python") -> Limits:
        t = float(problem.time_limit_s)
        ceiling = problem.memory_mb + RUN_OVERHEAD_MB
        if lang == "cpp":
            ceiling = max(ceiling, CXX_CONTAINER_MIN_MB)
        return Limits(wall_s=2 * t + 1.0, cpu_s=t, memory_mb=problem.memory_mb, stack_mb=min(problem.memory_mb, 256),
                      output_bytes=OUTPUT_LIMIT, pids=64, tmpfs_mb=128, container_memory_mb=ceiling)

    def judge(self, problem: Problem, code: str, language: str = "python") -> JudgeResult:
        start = time.monotonic()
        code, lang = check_submission(code, language)
        if not problem.tests:
            raise JudgeInputError(f"problem {problem.id!r} has no tests; add tests before judging")
        if problem.mode == "call" and lang != "python":
            raise JudgeInputError("call-based problems take Python code only")
        result = self._judge(problem, code, lang)
        result.elapsed_s = time.monotonic() - start
        return result

    def _judge(self, problem: Problem, code: str, lang: str) -> JudgeResult:
        lim = self.limits(problem, lang)
        total = len(problem.tests)
        outcomes: list[TestOutcome] = []
        first: dict[str, Any] | None = None
        passed = 0
        outputs: list[tuple[int, bytes]] = []  # for checker programs: (test index, program stdout)
        program_checker = problem.checker.get("type") == "program"

        def fail(i: int, verdict: str, note: str, got: Any = None, r: RunResult | None = None) -> None:
            nonlocal first
            outcomes.append(TestOutcome(i, verdict, r.cpu_s if r else 0.0, _peak_mb(r) if r else 0.0, note))
            if first is None:
                t = problem.tests[i]
                first = {"test": i, "verdict": verdict, "note": note,
                         "input": _snip(t["input"] if problem.mode == "stdio" else t["args"]),
                         "expected": _snip(t["output"] if problem.mode == "stdio" else t["expected"]),
                         "got": None if got is None else _snip(got),
                         "stderr": _snip(r.stderr[-1000:]) if r is not None and r.stderr else None}

        with self.sandbox.session(lim) as sess:
            if lang == "cpp":
                sess.put({"main.cpp": code})
                cr = sess.run(cxx_command("main.cpp", "main"), limits=COMPILE_LIMITS)
                if not cr.ok:
                    msg = (cr.stderr or cr.stdout).decode("utf-8", errors="replace")
                    if cr.killed:
                        msg = f"compiler stopped: {cr.killed} limit\n" + msg
                    return JudgeResult("CE", 0, total, [], {"test": None, "verdict": "CE", "note": "compile error"},
                                       compile_output=msg[-4000:])
                cmd = ["./main"]
            elif problem.mode == "call":
                sess.put({"solution.py": code, "_harness.py": HARNESS_SOURCE})
                cmd = ["python3", "_harness.py"]
            else:
                sess.put({"main.py": code})
                cmd = ["python3", "main.py"]

            for i, test in enumerate(problem.tests):
                marker = ""
                if problem.mode == "call":
                    marker = "@@m1gym-" + secrets.token_hex(16) + "@@"
                    stdin = json.dumps({"fn": problem.fn_name, "args": test["args"], "marker": marker})
                else:
                    stdin = test["input"]
                r = sess.run(cmd, stdin=stdin, limits=lim, python=lang == "python")
                verdict, note = _run_verdict(r)
                if verdict == "RE" and lang == "python" and i == 0 and _python_syntax_error(r):
                    return JudgeResult("CE", 0, total, [], {"test": 0, "verdict": "CE", "note": "syntax error"},
                                       compile_output=r.stderr.decode("utf-8", errors="replace")[-4000:])
                if verdict is not None:
                    fail(i, verdict, note, r.stdout, r)
                    if verdict == "TLE" or self.stop_on_failure:
                        break
                    continue
                if problem.mode == "call":
                    also = test.get("also")
                    ok, got, note = _check_call(r.stdout, marker,
                                                [test["expected"], *(also if isinstance(also, list) else [])],
                                                problem.checker)
                    if ok:
                        passed += 1
                        outcomes.append(TestOutcome(i, "AC", r.cpu_s, _peak_mb(r)))
                    else:
                        fail(i, "WA", note, got, r)
                elif program_checker:
                    outputs.append((i, r.stdout))
                    outcomes.append(TestOutcome(i, "AC", r.cpu_s, _peak_mb(r)))  # provisional
                else:
                    got = r.stdout.decode("utf-8", errors="replace")
                    if compare_text(got, test["output"], problem.checker):
                        passed += 1
                        outcomes.append(TestOutcome(i, "AC", r.cpu_s, _peak_mb(r)))
                    else:
                        fail(i, "WA", "output differs", got, r)
                if first is not None and self.stop_on_failure:
                    break

        if program_checker and outputs:
            verdicts = self._run_checker(problem, outputs)
            by_index = {o.index: o for o in outcomes}
            for (i, out), (ok, note) in zip(outputs, verdicts):
                if ok:
                    passed += 1
                else:
                    by_index[i].verdict, by_index[i].note = "WA", note
            failed = sorted(i for (i, _), (ok, _n) in zip(outputs, verdicts) if not ok)
            earlier = first["test"] if first else None
            if failed and (earlier is None or failed[0] < earlier):
                i = failed[0]
                note = by_index[i].note
                first = {"test": i, "verdict": "WA", "note": note, "input": _snip(problem.tests[i]["input"]),
                         "expected": _snip(problem.tests[i]["output"]), "got": _snip(dict(outputs)[i]), "stderr": None}
        outcomes.sort(key=lambda o: o.index)
        verdict = first["verdict"] if first else ("AC" if passed == total else "WA")
        return JudgeResult(verdict, passed, total, outcomes, first)

    def _run_checker(self, problem: Problem, outputs: Sequence[tuple[int, bytes]]) -> list[tuple[bool, str]]:
        """Run the problem's checker program in a fresh session (after the submission's was wiped)."""
        lim = Limits(wall_s=30.0, cpu_s=20.0, memory_mb=512, output_bytes=1 << 20)
        out: list[tuple[bool, str]] = []
        with self.sandbox.session(lim) as sess:
            sess.put({"checker.py": problem.checker["source"]})
            for i, got in outputs:
                t = problem.tests[i]
                r = sess.run(["python3", "checker.py", "input.txt", "output.txt", "answer.txt"], limits=lim,
                             files={"input.txt": t["input"], "output.txt": got, "answer.txt": t["output"]})
                first_token = (r.stdout.split() or [b""])[0]
                if r.ok and first_token == b"OK":
                    out.append((True, ""))
                else:
                    msg = (r.stdout + b" " + r.stderr).decode("utf-8", errors="replace").strip()
                    out.append((False, f"checker rejected: {msg[:200]}" if r.exit_code is not None
                                else f"checker failed: {r.summary()}"))
        return out


def _python_syntax_error(r: RunResult) -> bool:
    tail = r.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [""]
    return r.exit_code == 1 and tail[0].startswith(("SyntaxError", "IndentationError", "TabError"))


def _check_call(stdout: bytes, marker: str, accepted: list, checker: dict) -> tuple[bool, Any, str]:
    m = marker.encode()
    if stdout.count(m) != 2 or not stdout.startswith(m) or not stdout.endswith(m):
        return False, stdout, "no single well-formed result (exited early, raised, or wrote to the result channel)"
    try:
        got = json.loads(stdout[len(m):-len(m)])
    except (ValueError, RecursionError):  # not JSON, an int over 4300 digits, nesting past the stack
        return False, stdout, "result is not JSON (or not JSON this judge reads)"
    if checker.get("type") == "float":
        tol = (float(checker.get("abs_tol", 1e-6)), float(checker.get("rel_tol", 1e-6)))
        ok = any(values_equal(got, want, *tol) for want in accepted)
    else:
        ok = any(values_equal(got, want) for want in accepted)
    return ok, got, "" if ok else "wrong return value"


def judge_error_reason(exc: BaseException) -> str:
    """One line for a judge failure that is not the submission's fault."""
    if isinstance(exc, SandboxError):
        msg = str(exc)
        return msg if "doctor" in msg else f"{msg}; {DOCTOR_HINT}"
    return f"{type(exc).__name__}: {exc}"
