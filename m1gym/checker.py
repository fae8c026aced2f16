"""`m1gym envs check`: the environment contract as something you can run.

For each environment: metadata is sane; generation is seeded and deterministic across processes
(different PYTHONHASHSEED); Task JSON round-trips; ``reference(task)`` scores 1; the reference
followed by trailing junk (``</answer></answer>...``) scores 0; garbage answers score 0 with a
reason and never raise; 8 threads give the verdicts serial scoring gives; scoring time is bounded;
and the universal-answer probe (m1gym/probe.py): no constant or degenerate response passes more
than the env's chance level of N tasks (N = ``probe_tasks``; sandbox envs, whose every run costs
a container, get at most ``SANDBOX_PROBE_TASKS``). A sandbox env is probed only when the Docker
daemon answers; without one the probe is skipped with a note, except under CI=true, where that is
a failure. The test suite and CI (`m1gym envs check --all`) run it over every registered env.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .core import Score, Task
from .registry import KINDS, get_spec, load_imports, make

#: wall-time bound for one scoring call, by env kind (sandbox scoring runs programs)
TIME_BOUND_S = {"rule": 10.0, "sandbox": 120.0, "genrm": 120.0}
#: tasks the universal-answer probe scores per env (at most SANDBOX_PROBE_TASKS for sandbox envs)
PROBE_TASKS = 20
SANDBOX_PROBE_TASKS = 5
#: what follows the reference in the trailing-junk check (the policy's own discovery, issue 15)
TRAILING_JUNK = "</answer></answer></answer>"


def garbage_responses() -> dict[str, object]:
    """Answers no verifier may choke on."""
    nested = "[" * 10_000 + "]" * 10_000
    return {
        "empty": "",
        "whitespace": "   \n\t ",
        "1MB text": "lorem ipsum " * 87_382,
        "binary bytes": bytes(range(256)) * 64,
        "nested brackets": f"<answer>{nested}</answer>",
        "nested braces boxed": "\\boxed{" + "{" * 5000 + "}" * 5000 + "}",
        "empty answer tag": "<answer></answer>",
        "unclosed think": "<think>the answer is 4",
        "code injection": "<answer>__import__('os').system('echo pwned')</answer>",
        "json wrong types": '<answer>{"a": [null, true, {"b": 1.5e308}]}</answer>',
        "lone surrogate": "<answer>\ud800</answer>",
        "none": None,
    }


@dataclass
class CheckResult:
    env: str
    check: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def add(self, env: str, check: str, ok: bool, detail: str = "") -> None:
        self.results.append(CheckResult(env, check, ok, detail))

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]

    def text(self) -> str:
        lines = []
        for r in self.results:
            mark = "ok  " if r.ok else "FAIL"
            lines.append(f"{mark} {r.env:<36} {r.check:<22} {r.detail}")
        envs = sorted({r.env for r in self.results})
        bad = sorted({r.env for r in self.failures()})
        lines.append(f"\n{len(envs) - len(bad)}/{len(envs)} environments pass"
                     + (f"; failing: {', '.join(bad)}" if bad else ""))
        return "\n".join(lines)


def _tasks_for(name: str, samples: int) -> list[Task]:
    env = make(name)
    if env.procedural:
        levels = list(env.levels) or [None]
        return [env.generate(seed, level) for level in levels for seed in range(samples)]
    return list(env.examples(samples))


def _fingerprints(names: list[str], samples: int) -> dict[str, list[str]]:
    out = {}
    for name in names:
        if get_spec(name).procedural:
            out[name] = [t.to_json() for t in _tasks_for(name, min(samples, 3))]
    return out


def _fingerprints_in_child(entries: dict[str, dict], samples: int, imports: list[str] | None = None
                           ) -> dict[str, list[str]]:
    """Runs in the child: import the user's modules as the parent did (``--import``), then
    re-register envs that were registered at run time by a module of their own (a test module)."""
    from .registry import _REGISTRY, load_imports, register

    load_imports(imports or [])
    for name, entry in entries.items():
        if name not in _REGISTRY:
            entry = dict(entry)
            del entry["name"]
            register(name, entry.pop("entry_point"), **{**entry.pop("defaults"), **entry})
    return _fingerprints(list(entries), samples)


def _cross_process_fingerprints(names: list[str], samples: int, hashseed: str,
                                imports: Sequence[str] = ()) -> dict[str, list[str]]:
    entries = {n: get_spec(n).catalogue_entry() for n in names}
    code = ("import json,sys; from m1gym.checker import _fingerprints_in_child; "
            "print(json.dumps(_fingerprints_in_child(json.loads(sys.argv[1]), int(sys.argv[2]), "
            "json.loads(sys.argv[3]))))")
    # the child sees the same import path (envs defined in a test module resolve there too)
    path = os.pathsep.join(p for p in sys.path if p)
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(entries, default=list), str(samples),
                           json.dumps(list(imports))], env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _verdict(score: Score) -> tuple:
    return (round(score.reward, 9), score.correct, score.reason)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _docker_problem() -> str | None:
    """Why sandbox envs cannot be probed here (no daemon, no base image), or None."""
    try:
        from .sandbox.base import SandboxUnavailable
        from .sandbox.docker_sandbox import DockerSandbox
    except Exception as exc:  # pragma: no cover - the sandbox package is part of m1gym
        return f"sandbox package unavailable: {exc}"
    sb = DockerSandbox()
    try:
        sb.check()
    except SandboxUnavailable as exc:
        return str(exc).splitlines()[0][:200]
    finally:
        try:
            sb.close()
        except Exception:
            pass
    return None


def probe_check(name: str, env, report: Report, n: int, mode_from: list[Task]) -> None:
    """The universal-answer probe as a contract row."""
    from .probe import probe, probe_tasks

    if env.kind == "sandbox":
        n = min(n, SANDBOX_PROBE_TASKS)
        problem = _docker_problem()
        if problem is not None:
            if _in_ci():
                report.add(name, "universal answers", False,
                           f"CI=true but the Docker sandbox is unavailable, so this env cannot be probed: {problem}")
            else:
                report.add(name, "universal answers", True, f"skipped: no Docker sandbox ({problem})")
            return
    t0 = time.perf_counter()
    try:
        result = probe(env, probe_tasks(env, n), mode_from=mode_from)
    except Exception as exc:
        report.add(name, "universal answers", False, f"probe crashed: {type(exc).__name__}: {exc}"[:300])
        return
    report.add(name, "universal answers", result.ok, f"{result.summary()} in {time.perf_counter() - t0:.1f}s")


def check_env(name: str, report: Report, samples: int = 5, probe_n: int = PROBE_TASKS) -> None:
    spec = get_spec(name)
    if spec.multi_turn:
        report.add(name, "skipped", True, "multi-turn env: checked by its own tests")
        return
    env = make(name)
    report.add(name, "metadata", spec.kind in KINDS and bool(spec.description) and
               (bool(spec.levels) or not spec.procedural),
               f"kind={spec.kind} levels={list(spec.levels)}")

    t0 = time.perf_counter()
    try:
        tasks = _tasks_for(name, samples)
        again = _tasks_for(name, samples) if spec.procedural else tasks
    except Exception as exc:
        report.add(name, "generate", False, f"{type(exc).__name__}: {exc}")
        return
    same = [a.to_json() == b.to_json() for a, b in zip(tasks, again)]
    report.add(name, "generate", bool(tasks) and all(same),
               f"{len(tasks)} tasks in {time.perf_counter() - t0:.2f}s" + ("" if all(same) else "; NOT deterministic"))

    trips = [Task.from_json(t.to_json()) == t for t in tasks]
    report.add(name, "json round trip", all(trips), f"{sum(trips)}/{len(trips)}")

    bound = TIME_BOUND_S.get(spec.kind, 10.0)
    pairs: list[tuple[Task, object, str]] = []
    ref_fail = []
    slowest = 0.0
    # what a reference earns: 1 almost everywhere; a pairwise env's reference ties with itself (0)
    expected = getattr(env, "reference_reward", 1.0)
    for t in tasks:
        ref = env.reference(t)
        s = env.score(Task.from_json(t.to_json()), ref)
        slowest = max(slowest, s.elapsed_ms / 1000)
        if s.reward != expected or s.correct is False:
            ref_fail.append(f"{t.id} (level {t.meta.get('level')}): {s.reason}")
        pairs.append((t, ref, "reference"))
    report.add(name, f"reference scores {expected:g}", not ref_fail,
               f"{len(tasks) - len(ref_fail)}/{len(tasks)}" + (f"; first: {ref_fail[0]}" if ref_fail else ""))

    # an answer block followed by junk is no answer (extract.py); envs that answer in tags only
    junk = [(t, r) for t, r in ((t, env.reference(t)) for t in tasks[:3]) if r.rstrip().endswith("</answer>")]
    if junk:
        paid = [f"{t.id}: {s.reason[:80]}" for t, r in junk
                if (s := env.score(t, r + TRAILING_JUNK)).reward > 0]
        report.add(name, "trailing junk scores 0", not paid,
                   "; ".join(paid[:2]) or f"reference + {TRAILING_JUNK!r} on {len(junk)} tasks")

    bad = []
    for label, junk in garbage_responses().items():
        s = env.score(tasks[0], junk)
        slowest = max(slowest, s.elapsed_ms / 1000)
        if s.reward != 0.0 or not s.reason or s.reason.startswith("verifier error"):
            bad.append(f"{label}: reward={s.reward} reason={s.reason[:80]!r}")
        pairs.append((tasks[0], junk, label))
    report.add(name, "garbage scores 0", not bad, "; ".join(bad[:3]) or f"{len(garbage_responses())} inputs")

    serial = [_verdict(env.score(t, r)) for t, r, _ in pairs]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda p: _verdict(env.score(p[0], p[1])), pairs))
    diff = [pairs[i][2] for i, (a, b) in enumerate(zip(serial, threaded)) if a != b]
    report.add(name, "8 threads agree", not diff, f"{len(pairs)} verdicts" + (f"; differ: {diff[:3]}" if diff else ""))
    report.add(name, "bounded time", slowest <= bound, f"slowest {slowest:.2f}s (bound {bound:.0f}s)")
    if probe_n > 0:
        probe_check(name, env, report, probe_n, mode_from=tasks)


def check_envs(names: list[str], samples: int = 5, quick: bool = False, probe_n: int = PROBE_TASKS,
               imports: Sequence[str] = ()) -> Report:
    """The contract over the named envs; ``probe_n=0`` leaves out the universal-answer probe.

    ``imports``: the modules (names or .py paths) that register envs not built in, imported here
    and again in the fresh processes of the cross-process determinism check (``--import``)."""
    imports = [_absolute(i) for i in imports]
    load_imports(imports)
    report = Report()
    for name in names:
        try:
            check_env(name, report, samples, probe_n)
        except Exception as exc:  # the checker reports, it does not crash
            report.add(name, "check crashed", False, f"{type(exc).__name__}: {exc}"[:300])
    if not quick:
        procedural = [n for n in names if get_spec(n).procedural and not get_spec(n).multi_turn]
        for n in [n for n in procedural if get_spec(n).entry_point.startswith("__main__:")]:
            report.add(n, "cross-process determinism", False,
                       "defined in the running script (__main__), which a fresh process cannot import: move "
                       "it into a module and pass that with --import MODULE (check_envs(..., imports=[...]))")
        procedural = [n for n in procedural if not get_spec(n).entry_point.startswith("__main__:")]
        if procedural:
            try:
                here = _fingerprints(procedural, samples)
                a = _cross_process_fingerprints(procedural, samples, "1", imports)
                b = _cross_process_fingerprints(procedural, samples, "2", imports)
                for n in procedural:
                    ok = here.get(n) == a.get(n) == b.get(n)
                    report.add(n, "cross-process determinism", ok, "PYTHONHASHSEED 1 and 2" if ok else "tasks differ")
            except Exception as exc:
                for n in procedural:
                    report.add(n, "cross-process determinism", False, str(exc)[:300])
    return report


def _absolute(module_or_path: str) -> str:
    """A .py path made absolute (the check's child processes may not share the caller's cwd)."""
    if module_or_path.endswith(".py") or os.sep in module_or_path:
        return str(Path(module_or_path).expanduser().resolve())
    return module_or_path
