"""Grading a patch in a fresh container: apply it, restore the tests, apply the test patch, run the
tests, read per-test results from the JUnit XML report on the host.

Every grading attempt gets a fresh container from the task's image (``DockerSandbox(pool=False)``:
no network, read-only root, non-root user, memory/pids/time limits, labelled and always removed).
The repository is copied from the image to the writable /work/testbed, so the image stays pristine.
The test patch enters the container only at grading time, after the model's patch.

Steps (``Workspace``):
    1. ``git apply --verbose``; on failure ``patch --batch --fuzz=5 -p1`` (SWE-bench's order).
    2. Test files are restored to the base commit: those the test patch touches, and every test file
       (tests/ or test/ directories, test_*.py, *_test.py, conftest.py) the model's patch touches,
       so a patch that edits or adds tests (a conftest.py that forces passes) gains nothing.
    3. The model's changed Python files are parsed (``ast``) to name syntax errors in the reason.
    4. The test patch is applied with ``git apply``.
    5. The test command runs the test files (those of FAIL_TO_PASS/PASS_TO_PASS and of the test
       patch) with ``--junitxml`` to a per-attempt file; the XML is parsed outside the container.

Resolved = every FAIL_TO_PASS test passed and every PASS_TO_PASS test passed; a test that is
missing from the report, skipped, failed or errored counts as not passed.

Known limit: the tests run the model's code in the same process as pytest, which writes the report;
code that rewrites the report file could fake a result (as it could fake SWE-bench's logs). The report
path is random per attempt and the container is discarded afterwards.
"""

from __future__ import annotations

import secrets
import shlex
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ...sandbox import DockerSandbox, Limits, SandboxError
from .images import ImageBuilder, ImageError, shared_builder
from .instance import Instance
from .patches import is_test_path, parse_patch, touched_paths

WORKDIR = "testbed"  # relative to /work in the container
META_DIR = ".m1gym"  # /work/.m1gym: root-owned, read-only to the sandbox user
DEFAULT_TEST_TIMEOUT_S = 300.0
STEP_TIMEOUT_S = 120.0
OUTPUT_TAIL = 4000
#: container limits of SWE sandboxes (per session); per-run wall limits are set per step
SWE_LIMITS = Limits(wall_s=STEP_TIMEOUT_S, memory_mb=None, stack_mb=64, output_bytes=8 << 20, pids=256,
                    tmpfs_mb=1024, container_memory_mb=4096)

PASSED, FAILED, ERROR, SKIPPED, MISSING = "passed", "failed", "error", "skipped", "missing"


def tail(data: bytes | str, n: int = OUTPUT_TAIL) -> str:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return text if len(text) <= n else "...\n" + text[-n:]


def _safe_rel(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and "\x00" not in path


# ---- JUnit XML ---------------------------------------------------------------------------------

def parse_junit(xml: bytes) -> dict[str, str]:
    """{node id or 'classname::name': status} from a pytest JUnit report (xunit1 or xunit2)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for case in root.iter("testcase"):
        name, classname, file = case.get("name", ""), case.get("classname", ""), case.get("file")
        tags = {child.tag for child in case}
        if "error" in tags:
            status = ERROR
        elif "failure" in tags:
            status = FAILED
        elif "skipped" in tags:
            status = SKIPPED
        else:
            status = PASSED
        keys = [f"{classname}::{name}"]
        if file and file.endswith(".py"):
            module = file[:-3].replace("/", ".")
            classes = classname[len(module) + 1:].split(".") if classname.startswith(module + ".") else []
            keys.append("::".join([file, *[c for c in classes if c], name]))
        for key in keys:
            # a test reported twice (an error in teardown after a pass) keeps its worst status
            prev = out.get(key)
            if prev is None or _RANK[status] > _RANK[prev]:
                out[key] = status
    return out


_RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3, MISSING: 4}


def junit_key(test_id: str) -> str:
    """A pytest node id in the report's 'classname::name' form: tests/a.py::C::t -> tests.a.C::t."""
    parts = test_id.split("::")
    if len(parts) < 2:
        return test_id
    path, *classes, name = parts
    module = path[:-3].replace("/", ".") if path.endswith(".py") else path
    return ".".join([module, *classes]) + "::" + name


def status_of(test_id: str, statuses: dict[str, str]) -> str:
    if test_id in statuses:
        return statuses[test_id]
    key = junit_key(test_id)
    if key in statuses:
        return statuses[key]
    if "::" not in test_id:  # a bare test name (some SWE-bench repos): match it when unique
        hits = [s for k, s in statuses.items() if k.endswith("::" + test_id) and "/" not in k]
        if len(hits) == 1:
            return hits[0]
    return MISSING


def build_test_command(test_cmd: str, files: list[str], report: str) -> str:
    quoted = " ".join(shlex.quote(f) for f in files)
    if "{junitxml}" in test_cmd:
        cmd = test_cmd.replace("{junitxml}", shlex.quote(report))
        return cmd.replace("{tests}", quoted) if "{tests}" in cmd else f"{cmd} {quoted}".rstrip()
    if "pytest" not in test_cmd:
        raise ValueError(f"test_cmd {test_cmd!r} is not a pytest command; add a {{junitxml}} placeholder where "
                         "the command takes the JUnit XML report path")
    return f"{test_cmd} --junitxml={shlex.quote(report)} -o junit_family=xunit1 --rootdir=. {quoted}".rstrip()


# ---- results -----------------------------------------------------------------------------------

@dataclass
class RunReport:
    statuses: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    killed: str | None = None
    report_found: bool = False
    output: str = ""
    command: str = ""


@dataclass
class Grade:
    """The outcome of grading one patch. ``stage``: where it stopped (no_patch, apply, test_patch,
    tests, timeout, infra, done)."""

    resolved: bool
    reason: str
    stage: str
    tests: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {group, status}
    apply_log: str = ""
    restored: list[str] = field(default_factory=list)
    syntax_errors: list[str] = field(default_factory=list)
    test_output: str = ""
    image: str = ""
    infra_error: bool = False

    def details(self) -> dict[str, Any]:
        return {"stage": self.stage, "tests": self.tests, "apply_log": self.apply_log, "restored": self.restored,
                "syntax_errors": self.syntax_errors, "test_output": self.test_output, "image": self.image,
                "infra_error": self.infra_error}


# ---- a container with the repository --------------------------------------------------------------

class Workspace:
    """A fresh container with the repository copied to /work/testbed (always closed)."""

    def __init__(self, grader: "Grader", inst: Instance, image: str):
        self.inst, self.image, self.grader = inst, image, grader
        self.session = grader.sandbox(image).session(grader.limits)
        try:
            r = self.run(["cp", "-R", "--preserve=mode,timestamps,links", inst.repo_dir, f"/work/{WORKDIR}"],
                         cwd=".", timeout=STEP_TIMEOUT_S)
            if not r.ok:
                raise SandboxError(f"copying {inst.repo_dir} in {image} failed ({r.summary()}): "
                                   f"{tail(r.stdout + r.stderr, 500)}; does the image hold the repository there?")
        except BaseException:
            self.close()
            raise

    def run(self, cmd: list[str], *, cwd: str = WORKDIR, timeout: float = STEP_TIMEOUT_S, stdin: bytes = b"",
            files: dict[str, bytes | str] | None = None, collect: tuple[str, ...] = ()):
        return self.session.run(cmd, cwd=cwd, stdin=stdin, files=files, collect=collect,
                                limits=self.grader.limits.with_(wall_s=timeout))

    def put_meta(self, name: str, data: str | bytes) -> str:
        """A root-owned file under /work/.m1gym (readable, not writable, by the sandbox user)."""
        rel = f"{META_DIR}/{name}"
        self.session.put({rel: data}, mode=0o644, owner="root")
        return f"/work/{rel}"

    def apply(self, patch: str, name: str, *, fuzzy: bool = True) -> tuple[bool, str]:
        path = self.put_meta(name, patch)
        script = 'git apply --verbose "$1" 2>&1 && exit 0; '
        if fuzzy:
            script += 'echo ">>> git apply failed; trying patch --fuzz=5"; patch --batch --fuzz=5 -p1 -i "$1" 2>&1'
        else:
            script += "exit 1"
        r = self.run(["sh", "-c", script, "sh", path])
        return r.ok, tail(r.stdout + r.stderr, 2000)

    def restore(self, paths: list[str]) -> list[str]:
        """Reset ``paths`` to the base commit (delete the ones the base lacks)."""
        paths = sorted(p for p in set(paths) if _safe_rel(p))
        if not paths:
            return []
        script = ('for f in "$@"; do if git cat-file -e "HEAD:$f" 2>/dev/null; then git checkout -q HEAD -- "$f"; '
                  'else rm -rf -- "$f"; fi; done')
        r = self.run(["sh", "-c", script, "sh", *paths])
        if not r.ok:
            raise SandboxError(f"restoring test files failed: {tail(r.stdout + r.stderr, 500)}")
        return paths

    def syntax_errors(self, paths: list[str]) -> list[str]:
        paths = sorted(p for p in set(paths) if _safe_rel(p) and p.endswith(".py"))
        if not paths:
            return []
        code = ("import ast, sys\n"
                "for f in sys.argv[1:]:\n"
                "    try:\n"
                "        src = open(f, 'rb').read()\n"
                "    except OSError:\n"
                "        continue\n"
                "    try:\n"
                "        ast.parse(src, f)\n"
                "    except SyntaxError as e:\n"
                "        print(f'{f}:{e.lineno}: {e.msg}')\n")
        r = self.run(["python3", "-I", "-c", code, *paths])
        return [line for line in r.stdout.decode(errors="replace").splitlines() if line.strip()][:20]

    def tests(self, files: list[str], timeout: float) -> RunReport:
        report = f".m1gym-report-{secrets.token_hex(8)}.xml"
        cmd = build_test_command(self.inst.test_cmd, files, f"/work/{report}")
        r = self.run(["bash", "-c", cmd + " 2>&1"], timeout=timeout, collect=(report,))
        xml = r.files.get(report)
        return RunReport(statuses=parse_junit(xml) if xml else {}, exit_code=r.exit_code, killed=r.killed,
                       report_found=bool(xml), output=tail(r.stdout + r.stderr), command=cmd)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- the grader ----------------------------------------------------------------------------------

class Grader:
    """Grades patches for SWE instances; one DockerSandbox (fresh containers) per image. Thread-safe."""

    def __init__(self, *, builder: ImageBuilder | None = None, limits: Limits | None = None,
                 test_timeout: float = DEFAULT_TEST_TIMEOUT_S, auto_build: bool = True):
        self.builder = builder or shared_builder()
        self.limits = limits or SWE_LIMITS
        self.test_timeout = float(test_timeout)
        self.auto_build = auto_build
        self._sandboxes: dict[str, DockerSandbox] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> "Grader":
        return self  # a shared service (gymnasium.make deep-copies its kwargs)

    def sandbox(self, image: str) -> DockerSandbox:
        with self._lock:
            sb = self._sandboxes.get(image)
            if sb is None:
                sb = self._sandboxes[image] = DockerSandbox(image, pool=False, limits=self.limits)
            return sb

    def image(self, inst: Instance) -> str:
        return self.builder.ensure(inst, build=self.auto_build)

    def workspace(self, inst: Instance) -> Workspace:
        return Workspace(self, inst, self.image(inst))

    def close(self) -> None:
        with self._lock:
            sbs, self._sandboxes = list(self._sandboxes.values()), {}
        for sb in sbs:
            sb.close()

    # -- bug fix ------------------------------------------------------------------------------------
    def grade_patch(self, inst: Instance, patch: str | None) -> Grade:
        """Resolved or not, with the reason and the per-test table."""
        if not patch or not parse_patch(patch):
            return Grade(False, "no patch in the response: give a unified diff (```diff block or <answer>)",
                         "no_patch")
        try:
            image = self.image(inst)
        except ImageError as exc:
            return Grade(False, f"sandbox image unavailable: {exc}", "infra", infra_error=True)
        except SandboxError as exc:
            return Grade(False, f"sandbox unavailable: {exc}", "infra", infra_error=True)
        try:
            with Workspace(self, inst, image) as ws:
                return self._grade_in(ws, inst, patch, image)
        except SandboxError as exc:
            return Grade(False, f"sandbox error: {exc}"[:500], "infra", image=image, infra_error=True)

    def _grade_in(self, ws: Workspace, inst: Instance, patch: str, image: str) -> Grade:
        ok, log = ws.apply(patch, "model.patch")
        if not ok:
            first = next((ln for ln in log.splitlines() if "error" in ln.lower() or "fail" in ln.lower()), "")
            return Grade(False, f"patch does not apply: {first.strip()[:200]}".rstrip(": "), "apply",
                         apply_log=log, image=image)
        model_paths = touched_paths(patch)
        restore = [p for p in model_paths if is_test_path(p)] + touched_paths(inst.test_patch)
        restored = ws.restore(restore)
        changed_py = [fp.new_path for fp in parse_patch(patch)
                      if fp.new_path and fp.new_path.endswith(".py") and fp.new_path not in restored]
        syntax = ws.syntax_errors(changed_py)
        ok, tlog = ws.apply(inst.test_patch, "test.patch", fuzzy=False)
        if not ok:
            return Grade(False, "the test patch does not apply after the model's patch (it changes files the "
                                "tests need)", "test_patch", apply_log=log + "\n" + tlog, restored=restored,
                         syntax_errors=syntax, image=image)
        run = ws.tests(inst.test_files, self.test_timeout)
        return self._verdict(inst, run, log, restored, syntax, image)

    def _verdict(self, inst: Instance, run: RunReport, log: str, restored: list[str], syntax: list[str],
                 image: str) -> Grade:
        table = {}
        for group, ids in (("FAIL_TO_PASS", inst.FAIL_TO_PASS), ("PASS_TO_PASS", inst.PASS_TO_PASS)):
            for t in ids:
                table[t] = {"group": group, "status": status_of(t, run.statuses)}
        base = dict(tests=table, apply_log=log, restored=restored, syntax_errors=syntax, test_output=run.output,
                    image=image)
        if run.killed == "wall":
            return Grade(False, f"tests timed out after {self.test_timeout:g}s", "timeout", **base)
        if run.killed:
            return Grade(False, f"test run stopped by the sandbox ({run.killed} limit)", "tests", **base)
        bad_f2p = [t for t in inst.FAIL_TO_PASS if table[t]["status"] != PASSED]
        bad_p2p = [t for t in inst.PASS_TO_PASS if table[t]["status"] != PASSED]
        if not bad_f2p and not bad_p2p:
            return Grade(True, f"resolved: {len(inst.FAIL_TO_PASS)} FAIL_TO_PASS and {len(inst.PASS_TO_PASS)} "
                               "PASS_TO_PASS tests pass", "done", **base)
        if syntax:
            reason = f"syntax error in the patched code: {syntax[0]}"
        elif not run.report_found:
            reason = f"the test run wrote no report ({'exit status %s' % run.exit_code}); see test_output"
        elif bad_p2p:
            reason = (f"regression: {len(bad_p2p)} PASS_TO_PASS test(s) no longer pass: {_ids(bad_p2p, table)}"
                      + (f"; {len(bad_f2p)} FAIL_TO_PASS still fail" if bad_f2p else ""))
        else:
            reason = f"not resolved: {len(bad_f2p)} FAIL_TO_PASS test(s) do not pass: {_ids(bad_f2p, table)}"
        return Grade(False, reason, "tests", **base)

    # -- test synthesis -----------------------------------------------------------------------------
    def grade_tests(self, inst: Instance, patch: str | None) -> Grade:
        """1 iff the patch's tests fail (or error) on the buggy code and all pass with the gold patch."""
        if not patch or not parse_patch(patch):
            return Grade(False, "no test patch in the response: give a unified diff (```diff block or <answer>)",
                         "no_patch")
        paths = touched_paths(patch)
        non_test = [p for p in paths if not is_test_path(p)]
        if non_test:
            return Grade(False, f"the test patch edits non-test files: {', '.join(non_test[:5])}", "apply")
        files = sorted({fp.new_path for fp in parse_patch(patch)
                        if fp.new_path and fp.new_path.endswith(".py") and _safe_rel(fp.new_path)
                        and (fp.new_path.rsplit("/", 1)[-1].startswith("test_")
                             or fp.new_path.endswith("_test.py"))})
        if not files:
            return Grade(False, "the patch adds or edits no test module (test_*.py or *_test.py)", "apply")
        try:
            image = self.image(inst)
        except (ImageError, SandboxError) as exc:
            return Grade(False, f"sandbox image unavailable: {exc}", "infra", infra_error=True)
        try:
            with Workspace(self, inst, image) as ws:
                ok, log = ws.apply(patch, "tests.patch")
                if not ok:
                    return Grade(False, "test patch does not apply to the base commit", "apply", apply_log=log,
                                 image=image)
                buggy = ws.tests(files, self.test_timeout)
            if buggy.killed:
                return Grade(False, f"tests on the buggy code stopped ({buggy.killed} limit)", "timeout",
                             test_output=buggy.output, image=image)
            if buggy.statuses and all(s == PASSED for s in buggy.statuses.values()):
                return Grade(False, "every test passes on the buggy code: the tests do not detect the bug", "tests",
                             tests=_table(buggy.statuses, "buggy"), test_output=buggy.output, image=image)
            with Workspace(self, inst, image) as ws:
                ok, glog = ws.apply(inst.patch, "gold.patch", fuzzy=False)
                if not ok:
                    return Grade(False, "the gold patch does not apply (bad instance)", "infra", apply_log=glog,
                                 image=image, infra_error=True)
                ok, log = ws.apply(patch, "tests.patch")
                if not ok:
                    return Grade(False, "test patch does not apply on top of the gold patch", "apply",
                                 apply_log=log, image=image)
                fixed = ws.tests(files, self.test_timeout)
        except SandboxError as exc:
            return Grade(False, f"sandbox error: {exc}"[:500], "infra", image=image, infra_error=True)
        cases = _node_ids(fixed.statuses)
        table = {t: {"group": "new", "status_buggy": status_of(t, buggy.statuses), "status": fixed.statuses[t]}
                 for t in cases}
        out = dict(tests=table, test_output=fixed.output, image=image)
        if fixed.killed:
            return Grade(False, f"tests with the gold patch stopped ({fixed.killed} limit)", "timeout", **out)
        if not cases:
            return Grade(False, "no test ran with the gold patch (collection error?)", "tests", **out)
        failing_fixed = [t for t in cases if fixed.statuses[t] != PASSED]
        if failing_fixed:
            return Grade(False, f"{len(failing_fixed)} test(s) fail even with the gold patch: "
                                f"{', '.join(failing_fixed[:3])}", "tests", **out)
        caught = [t for t in cases if status_of(t, buggy.statuses) != PASSED]
        if not caught:
            return Grade(False, "every test passes on the buggy code: the tests do not detect the bug", "tests", **out)
        return Grade(True, f"{len(caught)} test(s) fail on the buggy code and all {len(cases)} pass with the fix",
                     "done", **out)


def _node_ids(statuses: dict[str, str]) -> list[str]:
    """The report's tests by node id (reports carry both key forms; prefer path::name)."""
    ids = sorted(k for k in statuses if ".py::" in k)
    return ids or sorted(statuses)


def _table(statuses: dict[str, str], label: str) -> dict[str, dict[str, str]]:
    return {t: {"group": label, "status": statuses[t]} for t in _node_ids(statuses)}


def _ids(ids: list[str], table: dict) -> str:
    shown = ", ".join(f"{t} ({table[t]['status']})" for t in ids[:3])
    return shown + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
