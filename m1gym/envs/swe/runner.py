"""The SWE grader's pytest runner, run inside the grading container (standard library + pytest).

The grader starts ``python runner.py`` (the test command's interpreter) and writes one JSON object
to its stdin: the pytest arguments, the text of the test modules to serve, and a per-attempt nonce.
The runner reads it before any code of the repository is imported, then runs ``pytest.main`` with
its own plugin, and prints the verdict once, after pytest returns, on a private copy of stdout as
``@@M1GYM-RESULTS <nonce>@@<json>``. The grader reads the first block with its nonce.

Why: the tested code runs in this process, so anything pytest writes (reports, JUnit XML, hooks'
results) can be rewritten by it. The verdict here does not trust pytest's reports for a pass:

* a test passes only if this plugin itself called the test function (``pytest_pyfunc_call``, or
  the unittest method through a wrapper) and it returned without raising; pytest's report can
  only make a status worse. A test the plugin never ran (``Function.runtest`` made a no-op, hooks
  skipped) is "missing"; a callable whose code object is not one the plugin loaded from a test
  file (``item.obj`` swapped for a no-op) fails.
* test modules are served from memory (a meta-path finder that stays first), compiled with
  pytest's assertion rewriting; the graded files on disk hold a stub. So the tested code can
  neither read a test's source line (inspect / linecache) nor rewrite a test file or plant a
  cached .pyc before it is imported.
* the verdict leaves the process after pytest has returned, before ``atexit`` handlers run, with a
  nonce the tested code is never given.
* pytest and the modules this plugin uses are imported before the repository is on sys.path, so a
  patch's ``pytest.py`` (or ``inspect.py``) does not replace them.

What remains (see README): the tested code runs in this interpreter and can still introspect it
(the plugin's state, the nonce in memory, the compiled test's constants, trace functions).
"""

import json
import os
import sys

RESULTS = "@@M1GYM-RESULTS"
PASSED, FAILED, ERROR, SKIPPED, MISSING = "passed", "failed", "error", "skipped", "missing"
RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3, MISSING: 4}
CO_ASYNC = 0x0080 | 0x0100 | 0x0200  # CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR


def _worst(a, b):
    return a if RANK[a] >= RANK[b] else b


def main():
    spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    out_fd = os.dup(1)  # the verdict's stdout: the tests may close or redirect fd 1
    nonce, repo = spec["nonce"], os.getcwd()
    # ``python runner.py`` put this file's directory first on sys.path; ``python -m pytest`` puts the cwd.
    # pytest and what this plugin uses are imported before any path into the repository is on
    # sys.path: a patch's ``pytest.py`` or ``inspect.py`` must not replace them.
    del sys.path[0]
    inside = [p for p in sys.path if os.path.realpath(p or ".") == repo
              or os.path.realpath(p or ".").startswith(repo + os.sep)]
    sys.path[:] = [p for p in sys.path if p not in inside]
    import ast
    import importlib.util
    import inspect
    import types

    import pytest
    from _pytest.assertion.rewrite import rewrite_asserts

    try:
        from _pytest.unittest import TestCaseFunction
    except ImportError:  # pragma: no cover - every supported pytest has it
        TestCaseFunction = ()
    sys.path[:0] = ([repo] if spec.get("module_mode", True) else []) + inside
    skip_exc = pytest.skip.Exception
    isinstance_, getattr_, id_ = isinstance, getattr, id
    iscoroutinefunction = inspect.iscoroutinefunction

    sources = {os.path.realpath(os.path.join(repo, rel)): text for rel, text in spec["sources"].items()}
    names = {os.path.basename(p)[:-3] for p in sources if p.endswith(".py")}
    allowed = {}  # id(code) -> code: functions the finder compiled from a served test file
    served = set()
    record = {}  # nodeid -> status, written only by the plugin's own calls
    reports = {}  # nodeid -> worst status pytest reported
    state = {"config": None}

    def note_code(code):
        allowed[id_(code)] = code
        for const in code.co_consts:
            if isinstance_(const, types.CodeType):
                note_code(const)

    class Loader:
        def __init__(self, path):
            self.path = path

        def create_module(self, spec_):
            return None

        def exec_module(self, module):
            source = sources[self.path].encode("utf-8")
            code = None
            config = state["config"]
            if config is None or config.getoption("assertmode", "rewrite") == "rewrite":
                try:
                    tree = ast.parse(source, self.path)
                    rewrite_asserts(tree, source, self.path, config)
                    code = compile(tree, self.path, "exec", dont_inherit=True)
                except Exception:  # noqa: BLE001 - plain compile below reports real syntax errors
                    code = None
            if code is None:
                code = compile(source, self.path, "exec", dont_inherit=True)
            note_code(code)
            served.add(os.path.relpath(self.path, repo))
            exec(code, module.__dict__)

        def get_source(self, name):
            return None  # withheld: the tests' text stays out of reach of the tested code

    class Finder:
        def find_spec(self, fullname, path=None, target=None):
            name = fullname.rpartition(".")[2]
            if name not in names:
                return None
            for entry in (path if path is not None else sys.path):
                if not isinstance_(entry, str):
                    continue
                cand = os.path.join(entry or repo, name + ".py")
                real = os.path.realpath(cand)
                if real in sources:
                    return importlib.util.spec_from_file_location(fullname, real, loader=Loader(real))
                if os.path.exists(cand) or os.path.isdir(os.path.join(entry or repo, name)):
                    return None  # an earlier entry holds the module: the normal finders import it
            return None

        def invalidate_caches(self):
            pass

    finder = Finder()

    def first():
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        sys.meta_path.insert(0, finder)

    first()

    def checked(fn):
        """The test callable when its code (or a ``__wrapped__`` one's) is a served test's; else None."""
        f, depth = fn, 0
        while f is not None and depth < 20:
            code = getattr_(getattr_(f, "__func__", f), "__code__", None)
            if code is not None and allowed.get(id_(code)) is code:
                return fn
            inner = getattr_(getattr_(f, "hypothesis", None), "inner_test", None)  # hypothesis' @given
            f, depth = getattr_(f, "__wrapped__", None) or inner, depth + 1
        return None

    class Plugin:
        @pytest.hookimpl(tryfirst=True)
        def pytest_load_initial_conftests(self, early_config, parser, args):
            state["config"] = early_config
            first()  # after pytest's assertion-rewriting finder, before any conftest

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionstart(self, session):
            state["config"] = session.config
            first()

        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(self, pyfuncitem):
            nodeid = pyfuncitem.nodeid
            fn = checked(pyfuncitem.obj)
            if fn is None:
                record[nodeid] = FAILED
                raise AssertionError("m1gym: the test callable is not the test module's function")
            code = getattr_(getattr_(fn, "__func__", fn), "__code__", None)
            if code is not None and code.co_flags & CO_ASYNC or iscoroutinefunction(fn):
                record[nodeid] = "report"  # async: run by a plugin; only pytest's report can tell
                return None
            funcargs = pyfuncitem.funcargs
            args = {arg: funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
            try:
                result = fn(**args)
            except skip_exc:
                record[nodeid] = SKIPPED
                raise
            except BaseException:
                record[nodeid] = FAILED
                raise
            if hasattr(result, "__await__") or hasattr(result, "__aiter__"):
                record[nodeid] = FAILED
                raise AssertionError(f"m1gym: {nodeid} is async but no plugin ran it")
            record[nodeid] = PASSED
            return True

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_call(self, item):
            if not (TestCaseFunction and isinstance_(item, TestCaseFunction)):
                return
            nodeid = item.nodeid
            meth = checked(item.obj)
            if meth is None:
                record[nodeid] = FAILED
                return

            def outcome(exc):
                if exc is None:
                    record[nodeid] = PASSED
                elif isinstance_(exc, skip_exc) or type(exc).__name__ == "SkipTest":
                    record[nodeid] = SKIPPED
                else:
                    record[nodeid] = FAILED

            if iscoroutinefunction(meth):
                async def wrapper(*a, **k):
                    try:
                        result = await meth(*a, **k)
                    except BaseException as exc:
                        outcome(exc)
                        raise
                    outcome(None)
                    return result
            else:
                def wrapper(*a, **k):
                    try:
                        result = meth(*a, **k)
                    except BaseException as exc:
                        outcome(exc)
                        raise
                    outcome(None)
                    return result
            record[nodeid] = MISSING
            item.obj = wrapper  # TestCaseFunction.runtest binds item.obj onto the TestCase

        def pytest_runtest_logreport(self, report):
            if report.when == "call":
                status = {"passed": PASSED, "failed": FAILED, "skipped": SKIPPED}.get(report.outcome, ERROR)
            elif report.outcome == "failed":
                status = ERROR
            elif report.outcome == "skipped":
                status = SKIPPED
            else:
                status = PASSED
            reports[report.nodeid] = _worst(status, reports.get(report.nodeid, PASSED))

    try:
        exit_code = int(pytest.main(list(spec["args"]), plugins=[Plugin()]))
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else 1
    statuses = {}
    for nodeid in set(reports) | set(record):
        rep = reports.get(nodeid, MISSING)
        rec = record.get(nodeid, MISSING)
        statuses[nodeid] = rep if rec == "report" else _worst(rep, rec)
    verdict = {"statuses": statuses, "served": sorted(served), "exit_code": exit_code}
    data = ("\n%s %s@@%s\n" % (RESULTS, nonce, json.dumps(verdict))).encode("utf-8")
    while data:
        data = data[os.write(out_fd, data):]
    sys.stdout.flush()
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
