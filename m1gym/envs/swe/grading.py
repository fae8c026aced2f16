"""Grading a patch in a fresh container: apply it, check what it changed, restore the tests, apply
the test patch, run the tests with the grader's own pytest runner, read its verdict on the host.

Every grading attempt gets a fresh container from the task's image (``DockerSandbox(pool=False)``:
no network, read-only root, non-root user, memory/pids/time limits, labelled and always removed).
The repository is copied from the image to the writable /work/testbed, so the image stays pristine.
The test patch enters the container only at grading time, after the model's patch; patches come
on stdin, so no patch file is left where a test could look for it.

Steps (``Workspace``), none of which runs the patch's code before step 6:
    1. The base commit's pytest config file (pytest's own search) and installed pytest11 plugins.
    2. ``git apply --verbose``; on failure ``patch --batch --fuzz=5 -p1`` (SWE-bench's order).
    3. What the patch changed is read from the tree (a manifest before and after, not the diff text:
       ``patch`` reads formats our parser does not). Rejected: anything under .git (the grader's own
       git would run its filters, hooks, fsmonitor), symlinks and special files, bytecode and
       __pycache__, interpreter start-up hooks (sitecustomize, usercustomize, .pth).
    4. Test files the patch changed (tests/ or test/ directories, test_*.py, *_test.py, conftest.py),
       .gitattributes, and the test patch's files are restored from the image's pristine copy (no
       git command). The patch's Python files are parsed (``ast``) to name syntax errors.
    5. The test patch is applied with ``git apply`` (no system/user git config, no hooks).
    6. ``runner.py`` runs pytest on the test files (those of FAIL_TO_PASS/PASS_TO_PASS and of the
       test patch) with ``-c`` = a copy of the base commit's config (no config file of the patched
       tree is read), plugin autoload off (the base's pytest11 plugins are loaded by name), the test
       modules served from memory (stubs on disk). A test passes only when the runner's own call of
       the test function returned; the verdict leaves through stdout with a per-attempt nonce.

Resolved = every FAIL_TO_PASS test passed and every PASS_TO_PASS test passed; a test that is
missing from the verdict, skipped, failed or errored counts as not passed.

A ``test_cmd`` that is not a plain pytest invocation (one with a ``{junitxml}`` placeholder) runs
as given and is read from its JUnit XML, which the tested code could rewrite. What the runner
cannot stop is in the README ("Reward integrity").
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...sandbox import DockerSandbox, Limits, SandboxError
from .image_builder import ImageBuilder, shared_builder
from .images import ImageError
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
RUNNER_SOURCE = Path(__file__).with_name("runner.py").read_text(encoding="utf-8")
RESULTS_MARK = "@@M1GYM-RESULTS"  # runner.RESULTS


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


# ---- in-container scripts (run as the sandbox user, before any of the patch's code runs) ----------

#: every file and symlink of the tree with its type, mode and content hash (directories implied)
TREE_SCRIPT = r'''
import hashlib, json, os, stat
out = {}
for top, dirs, files in os.walk("."):
    dirs.sort()
    for name in dirs + sorted(files):
        path = os.path.join(top, name)
        rel, st = os.path.relpath(path), os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ["link", os.readlink(path)]
        elif stat.S_ISREG(st.st_mode):
            h = hashlib.sha1()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            out[rel] = ["file", st.st_mode & 0o777, h.hexdigest()]
        elif not stat.S_ISDIR(st.st_mode):
            out[rel] = ["other", st.st_mode]
print(json.dumps(out))
'''

#: the pytest config file pytest would pick for the test files (its own search: the args' directories
#: upwards, these names in this order; no pytest import, which costs a second), and the pytest11 plugins
PYTEST_SETUP_SCRIPT = r'''
import json, os, re, sys
SECTION = {"pyproject.toml": r"\[tool\.pytest(\.ini_options)?\]", "tox.ini": r"\[pytest\]",
           "setup.cfg": r"\[tool:pytest\]"}
NAMES = ["pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"]
def locate(args):
    pyproject = None
    for arg in args or ["."]:
        d = os.path.normpath(arg)
        while True:
            for name in NAMES:
                p = os.path.normpath(os.path.join(d, name))
                if not os.path.isfile(p):
                    continue
                if name == "pyproject.toml" and pyproject is None:
                    pyproject = p
                if name not in SECTION:
                    return p
                with open(p, encoding="utf-8", errors="replace") as fh:
                    if re.search(r"(?m)^\s*" + SECTION[name], fh.read()):
                        return p
            if d in ("", ".") or d.startswith(".."):
                break
            d = os.path.dirname(d)
    return pyproject
res = {"config": locate(sys.argv[1:]), "plugins": []}
try:
    from importlib.metadata import entry_points
    eps = entry_points()
    eps = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
    res["plugins"] = sorted({ep.value.split(":")[0].strip() for ep in eps})
except Exception as exc:
    res["error"] = repr(exc)
print(json.dumps(res))
'''

#: reset paths to the image's pristine copy of the repository (or delete them where the base lacks them)
RESTORE_SCRIPT = r'''
import os, shutil, sys
base = sys.argv[1]
for rel in sys.argv[2:]:
    if os.path.lexists(rel):
        if os.path.isdir(rel) and not os.path.islink(rel):
            shutil.rmtree(rel)
        else:
            os.unlink(rel)
    src = os.path.join(base, rel)
    if os.path.isfile(src) and not os.path.islink(src):
        os.makedirs(os.path.dirname(rel) or ".", exist_ok=True)
        shutil.copy2(src, rel)
'''

#: the patch comes on stdin (no copy is left in the container); git apply, then patch --fuzz
APPLY_SCRIPT = r'''
t=$(mktemp) && cat >"$t" || exit 3
if git -c core.hooksPath=/dev/null -c core.fsmonitor=false apply --verbose "$t" 2>&1; then rm -f "$t"; exit 0; fi
[ "$1" = fuzzy ] || { rm -f "$t"; exit 1; }
echo ">>> git apply failed; trying patch --fuzz=5"
patch --batch --fuzz=5 -p1 -i "$t" 2>&1; rc=$?; rm -f "$t"; exit $rc
'''

#: swe/testgen: sourceless gold-touched modules, no .git, the tree rewritten in name order with one mtime
NEUTRALISE_SCRIPT = r'''
set -e
py=$1; shift
cd /work/testbed
"$py" -I -c 'import os, py_compile, sys
for f in sys.argv[1:]:
    if os.path.isfile(f) and not os.path.islink(f):
        py_compile.compile(f, cfile=f + "c", doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        os.unlink(f)' "$@"
cd /work
rm -rf testbed/.git testbed.n
tar --sort=name --mtime=@1577836800 -C testbed -cf - . | { mkdir testbed.n && tar -C testbed.n -xpf -; }
rm -rf testbed
mv testbed.n testbed
'''

#: git reads no system or user configuration (the repository's own .git is checked unchanged)
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0"}
#: written over the graded test files on disk: the runner serves their text to pytest from memory
STUB = "# m1gym: this test module is served to pytest from memory; its text is withheld from the tested code\n"
SERVED_CAP = 4 << 20  # bytes of test-helper modules served from memory besides the graded files
STARTUP_NAMES = {"sitecustomize.py", "usercustomize.py"}


def patch_violations(changed: dict[str, Any]) -> list[str]:
    """What a patch may not do to the tree, named per path: write under .git, add or change a symlink
    or special file, plant bytecode (a cached .pyc is loaded instead of a restored test's source), or
    add an interpreter start-up hook (sitecustomize, usercustomize, .pth)."""
    bad = []
    for path, entry in sorted(changed.items()):
        parts = path.split("/")
        kind = entry[0] if entry else None
        if ".git" in parts:
            bad.append(f"{path} (inside .git)")
        elif kind in ("link", "other"):
            bad.append(f"{path} (a symlink or special file)")
        elif "__pycache__" in parts or path.endswith((".pyc", ".pyo")):
            bad.append(f"{path} (compiled bytecode / __pycache__)")
        elif parts[-1] in STARTUP_NAMES or path.endswith(".pth"):
            bad.append(f"{path} (an interpreter start-up hook)")
    return bad


def tree_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Paths added, changed or removed between two TREE_SCRIPT manifests (removed: None)."""
    out: dict[str, Any] = {p: e for p, e in after.items() if before.get(p) != e}
    out.update({p: None for p in before if p not in after})
    return out


@dataclass
class PytestCall:
    """A test command that is a plain pytest invocation: ``[VAR=value ...] python -m pytest ARGS`` or
    ``[VAR=value ...] pytest ARGS``."""

    python: str
    module_mode: bool  # ``python -m pytest`` puts the working directory first on sys.path
    args: list[str]
    env: dict[str, str]


def pytest_call(test_cmd: str) -> PytestCall | None:
    """The hardened runner's view of ``test_cmd``; None for other commands (run as given)."""
    if "{junitxml}" in test_cmd:
        return None
    try:
        tokens = shlex.split(test_cmd)
    except ValueError:
        return None
    env = {}
    while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
        key, _, value = tokens.pop(0).partition("=")
        env[key] = value
    if not tokens:
        return None
    exe = tokens[0].rsplit("/", 1)[-1]
    if re.fullmatch(r"python[0-9.]*", exe) and tokens[1:3] == ["-m", "pytest"]:
        return PytestCall(tokens[0], True, tokens[3:], env)
    if exe in ("pytest", "py.test"):
        return PytestCall("python", False, tokens[1:], env)
    return None


def parse_results(stdout: bytes, nonce: str) -> dict | None:
    """The runner's verdict: the first results block carrying this attempt's nonce."""
    marker = f"{RESULTS_MARK} {nonce}@@".encode()
    at = stdout.find(marker)
    if at < 0:
        return None
    line = stdout[at + len(marker):].split(b"\n", 1)[0]
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("statuses"), dict) else None


# ---- a container with the repository --------------------------------------------------------------

class Workspace:
    """A fresh container with the repository copied to /work/testbed (always closed)."""

    def __init__(self, grader: "Grader", inst: Instance, image: str):
        self.inst, self.image, self.grader = inst, image, grader
        self.call = pytest_call(inst.test_cmd)
        self._setup: dict | None = None
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
            files: dict[str, bytes | str] | None = None, collect: tuple[str, ...] = (),
            env: dict[str, str] | None = None):
        return self.session.run(cmd, cwd=cwd, stdin=stdin, files=files, collect=collect, env=env,
                                limits=self.grader.limits.with_(wall_s=timeout))

    def put_meta(self, name: str, data: str | bytes) -> str:
        """A root-owned file under /work/.m1gym (readable, not writable, by the sandbox user)."""
        rel = f"{META_DIR}/{name}"
        self.session.put({rel: data}, mode=0o644, owner="root")
        return f"/work/{rel}"

    def _json(self, cmd: list[str], what: str) -> Any:
        r = self.run(cmd, env=GIT_ENV)
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise SandboxError(f"{what} failed ({r.summary()}): {tail(r.stdout + r.stderr, 500)}") from None

    def tree(self) -> dict[str, Any]:
        """The work tree's manifest (TREE_SCRIPT)."""
        return self._json(["python3", "-I", "-c", TREE_SCRIPT], "listing the work tree")

    def pytest_setup(self, files: list[str]) -> dict:
        """The pytest config file and the pytest11 plugins of the tree as it is now (called before the
        model's patch goes in, so both are the base commit's)."""
        if self._setup is None:
            python = self.call.python if self.call else "python3"
            setup = self._json([python, "-I", "-c", PYTEST_SETUP_SCRIPT, *files], "locating the pytest config")
            config = setup.get("config")
            if config and not _safe_rel(config):
                setup["config"] = config = None  # above the repository: not the repository's config
            setup["config_text"] = self.session.get([f"{WORKDIR}/{config}"]).get(f"{WORKDIR}/{config}", b"") \
                if config else b"[pytest]\n"
            self._setup = setup
        return self._setup

    def apply(self, patch: str, name: str = "", *, fuzzy: bool = True) -> tuple[bool, str]:
        """Apply ``patch`` (sent on stdin; ``name`` is kept for callers' logs). No model code runs here."""
        r = self.run(["sh", "-c", APPLY_SCRIPT, "sh", "fuzzy" if fuzzy else "exact"],
                     stdin=patch.encode("utf-8", errors="surrogateescape"), env=GIT_ENV)
        return r.ok, tail(r.stdout + r.stderr, 2000)

    def apply_checked(self, patch: str, *, before: dict[str, Any] | None = None
                      ) -> tuple[bool, str, dict[str, Any], list[str]]:
        """Apply the model's patch and list what it actually changed (from the tree, not from the diff
        text: ``patch`` reads formats the parser does not). Returns (applied, log, changes, violations)."""
        before = self.tree() if before is None else before
        ok, log = self.apply(patch)
        if not ok:
            return False, log, {}, []
        changes = tree_changes(before, self.tree())
        return True, log, changes, patch_violations(changes)

    def restore(self, paths: list[str]) -> list[str]:
        """Reset ``paths`` to the base commit from the image's pristine copy (no git command: nothing the
        repository configures runs), deleting the ones the base lacks."""
        paths = sorted(p for p in set(paths) if _safe_rel(p))
        if not paths:
            return []
        r = self.run(["python3", "-I", "-c", RESTORE_SCRIPT, self.inst.repo_dir, *paths])
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

    def neutralise(self, sourceless: list[str]) -> None:
        """Compile ``sourceless`` to bytecode and drop their source, remove .git, and rewrite the tree in
        name order with one mtime (swe/testgen: the buggy and the fixed trees look alike but for the fix)."""
        python = self.call.python if self.call else "python3"
        r = self.run(["sh", "-c", NEUTRALISE_SCRIPT, "sh", python, *[p for p in sourceless if _safe_rel(p)]],
                     cwd=".")
        if not r.ok:
            raise SandboxError(f"preparing the tree failed: {tail(r.stdout + r.stderr, 500)}")

    def _served(self, files: list[str], tree: dict[str, Any]) -> dict[str, str]:
        """The text of the graded test files, of every conftest.py above them and of the test helpers
        next to them (capped), read now, before any tested code runs."""
        graded = [f for f in files if _safe_rel(f)]
        dirs = {os.path.dirname(f) for f in graded}
        ancestors = {""} | {"/".join(d.split("/")[:i]) for d in dirs for i in range(1, d.count("/") + 2) if d}
        extra = sorted(p for p, e in tree.items() if e and e[0] == "file" and p.endswith(".py") and p not in graded
                       and ((p.rsplit("/", 1)[-1] == "conftest.py" and os.path.dirname(p) in ancestors)
                            or (os.path.dirname(p) in dirs and is_test_path(p))))
        got = self.session.get([f"{WORKDIR}/{p}" for p in graded + extra])
        texts = {p: got[f"{WORKDIR}/{p}"] for p in graded if f"{WORKDIR}/{p}" in got}
        missing = [f for f in graded if f not in texts]
        if missing:
            raise _NoTests(missing)
        size = 0
        for p in sorted(extra, key=lambda p: (p.rsplit("/", 1)[-1] != "conftest.py", p)):  # conftests first
            data = got.get(f"{WORKDIR}/{p}")
            if data is not None and size + len(data) <= SERVED_CAP:
                size += len(data)
                texts[p] = data
        return {p: data.decode("utf-8", errors="replace") for p, data in texts.items()}

    def tests(self, files: list[str], timeout: float, *, tree: dict[str, Any] | None = None) -> RunReport:
        """Run the test files: the hardened runner for a pytest command, else ``test_cmd`` as given."""
        if self.call is None:
            return self._legacy_tests(files, timeout)
        setup = self.pytest_setup(files)
        try:
            sources = self._served(files, self.tree() if tree is None else tree)
        except _NoTests as exc:
            return RunReport(output=f"test file(s) not found: {', '.join(exc.args[0])}", command="")
        nonce = secrets.token_hex(16)
        args = list(self.call.args)
        # the base commit's pytest config, copied next to the original (its relative paths keep their
        # meaning); ``-c`` makes pytest read it and no config file of the patched tree
        config = setup.get("config")
        suffix = os.path.splitext(config)[1] if config and config.endswith((".toml", ".cfg")) else ".ini"
        copy = os.path.join(os.path.dirname(config or ""), f".m1gym-pytest-{nonce[:8]}{suffix}")
        files_put = {f"{WORKDIR}/{copy}": setup["config_text"]}
        files_put.update({f"{WORKDIR}/{f}": STUB for f in files if f in sources})
        self.session.put(files_put, mode=0o644, owner="root")
        args += ["-c", copy, "--rootdir=.", "-p", "no:cacheprovider"]
        for plugin in setup.get("plugins", []):
            args += ["-p", plugin]
        args += list(files)
        runner = self.put_meta("runner.py", RUNNER_SOURCE)
        spec = {"nonce": nonce, "args": args, "module_mode": self.call.module_mode, "sources": sources}
        env = {**self.call.env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        r = self.run([self.call.python, runner], stdin=json.dumps(spec).encode(), env=env, timeout=timeout)
        verdict = parse_results(r.stdout, nonce)
        out = r.stdout
        at = out.find(f"{RESULTS_MARK} {nonce}@@".encode())
        if at >= 0:
            out = out[:at]
        command = shlex.join([self.call.python, "-m", "pytest", *args]) if self.call.module_mode else \
            shlex.join(["pytest", *args])
        return RunReport(statuses=dict(verdict["statuses"]) if verdict else {}, exit_code=r.exit_code,
                         killed=r.killed, report_found=verdict is not None, output=tail(out + r.stderr),
                         command=command)

    def _legacy_tests(self, files: list[str], timeout: float) -> RunReport:
        """A custom test command with a ``{junitxml}`` placeholder: run as given, JUnit XML read back (the
        tested code could rewrite that report; see the README)."""
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


class _NoTests(Exception):
    pass


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
        files = inst.test_files
        ws.pytest_setup(files)  # the base commit's pytest config and plugins, before the patch goes in
        ok, log, changes, bad = ws.apply_checked(patch)
        if not ok:
            first = next((ln for ln in log.splitlines() if "error" in ln.lower() or "fail" in ln.lower()), "")
            return Grade(False, f"patch does not apply: {first.strip()[:200]}".rstrip(": "), "apply",
                         apply_log=log, image=image)
        if bad:
            return Grade(False, f"patch rejected: it writes {', '.join(bad[:3])}", "apply", apply_log=log, image=image)
        # test files (and .gitattributes) the patch changed, and the test patch's files, back to the base
        restore = [p for p in changes if is_test_path(p) or p.rsplit("/", 1)[-1] == ".gitattributes"]
        restored = ws.restore(restore + touched_paths(inst.test_patch))
        changed_py = [p for p, e in changes.items() if e is not None and p.endswith(".py") and p not in restored]
        syntax = ws.syntax_errors(changed_py)
        ok, tlog = ws.apply(inst.test_patch, "test.patch", fuzzy=False)
        if not ok:
            return Grade(False, "the test patch does not apply after the model's patch (it changes files the "
                                "tests need)", "test_patch", apply_log=log + "\n" + tlog, restored=restored,
                         syntax_errors=syntax, image=image)
        run = ws.tests(files, self.test_timeout)
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
            stop, buggy = self._testgen_run(inst, image, patch, files, gold=False)
            if stop is not None:
                return stop
            if buggy.killed:
                return Grade(False, f"tests on the buggy code stopped ({buggy.killed} limit)", "timeout",
                             test_output=buggy.output, image=image)
            if buggy.statuses and all(s == PASSED for s in buggy.statuses.values()):
                return Grade(False, "every test passes on the buggy code: the tests do not detect the bug", "tests",
                             tests=_table(buggy.statuses, "buggy"), test_output=buggy.output, image=image)
            stop, fixed = self._testgen_run(inst, image, patch, files, gold=True)
            if stop is not None:
                return stop
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

    def _testgen_run(self, inst: Instance, image: str, patch: str, files: list[str], *, gold: bool
                     ) -> tuple[Grade | None, RunReport | None]:
        """The model's tests on the buggy code or with the gold patch, in a fresh container. The two
        trees differ only in the gold patch's effect: no patch file is left in the container, .git is
        removed, the gold patch's Python files are bytecode only (a test cannot grep the fix) and
        every file is rewritten in name order with one fixed mtime."""
        with Workspace(self, inst, image) as ws:
            if gold:
                ok, glog = ws.apply(inst.patch, fuzzy=False)
                if not ok:
                    return Grade(False, "the gold patch does not apply (bad instance)", "infra", apply_log=glog,
                                 image=image, infra_error=True), None
            ws.pytest_setup(files)
            ok, log, changes, bad = ws.apply_checked(patch)
            where = "on top of the gold patch" if gold else "to the base commit"
            if not ok:
                return Grade(False, f"test patch does not apply {where}", "apply", apply_log=log, image=image), None
            bad += [f"{p} (not a test file)" for p in changes if not is_test_path(p) and ".git" not in p.split("/")]
            if bad:
                return Grade(False, f"test patch rejected: it writes {', '.join(bad[:3])}", "apply", apply_log=log,
                             image=image), None
            ws.neutralise([p for p in touched_paths(inst.patch) if p.endswith(".py") and not is_test_path(p)])
            return None, ws.tests(files, self.test_timeout)


def _node_ids(statuses: dict[str, str]) -> list[str]:
    """The report's tests by node id (reports carry both key forms; prefer path::name)."""
    ids = sorted(k for k in statuses if ".py::" in k)
    return ids or sorted(statuses)


def _table(statuses: dict[str, str], label: str) -> dict[str, dict[str, str]]:
    return {t: {"group": label, "status": statuses[t]} for t in _node_ids(statuses)}


def _ids(ids: list[str], table: dict) -> str:
    shown = ", ".join(f"{t} ({table[t]['status']})" for t in ids[:3])
    return shown + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
