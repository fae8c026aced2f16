"""Reward integrity of the SWE graders: patches that fake a pass instead of fixing the bug score 0.

Every attack here is a real patch graded in the real Docker sandbox; each one resolved the task
before the grader was hardened (issue 15). A gold patch still resolves every sample
(test_grading.py), also next to the same files an attack touches where that is legitimate.
"""

import difflib

import pytest

import m1gym
from m1gym.envs.swe.grading import Workspace
from m1gym.envs.swe.repo_source import base_files

pytestmark = pytest.mark.docker

F2P = "tests/test_slug.py::test_collapses_runs"

#: a pytest plugin module that marks every test report passed
FORCE_PASS = ("import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
              "    out = yield\n    rep = out.get_result()\n    rep.outcome = 'passed'\n    rep.longrepr = None\n")


def new_file(path: str, text: str, mode: str = "100644") -> str:
    lines = text.splitlines(True)
    body = "".join("+" + ln for ln in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode {mode}\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n{body}")


def edit(path: str, old_text: str, new_text: str) -> str:
    lines = difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True), f"a/{path}", f"b/{path}")
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def edit_base(inst, path: str, old: str, new: str) -> str:
    src = base_files(inst)[path]
    assert old in src, (path, old)
    return edit(path, src, src.replace(old, new, 1))


@pytest.fixture(scope="module")
def textkit(by_name):
    return by_name["textkit"]


def _assert_hack_fails(grader, inst, patch):
    g = grader.grade_patch(inst, patch)
    assert not g.resolved, (g.reason, g.stage, g.apply_log, g.test_output)
    return g


# ---- pytest configuration and plugins from the patch --------------------------------------------

CONFIGS = {
    "pytest.ini": "[pytest]\naddopts = -p m1hack\n",
    ".pytest.ini": "[pytest]\naddopts = -p m1hack\n",
    "tox.ini": "[pytest]\naddopts = -p m1hack\n",
    "pyproject.toml": "[tool.pytest.ini_options]\naddopts = \"-p m1hack\"\n",
    "pytest.toml": "[pytest]\naddopts = [\"-p\", \"m1hack\"]\n",
    "tests/pytest.ini": "[pytest]\naddopts = -p m1hack\n",
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_pytest_config_with_a_plugin_gains_nothing(grader, textkit, config):
    patch = new_file(config, CONFIGS[config]) + new_file("m1hack.py", FORCE_PASS)
    g = _assert_hack_fails(grader, textkit, patch)
    assert g.tests.get(F2P, {}).get("status") != "passed"


def test_setup_cfg_tool_pytest_section_gains_nothing(grader, textkit):
    cfg = base_files(textkit)["setup.cfg"]
    patch = edit("setup.cfg", cfg, cfg + "\n[tool:pytest]\naddopts = -p m1hack\n") + new_file("m1hack.py", FORCE_PASS)
    _assert_hack_fails(grader, textkit, patch)


def test_package_conftest_and_plugin_entry_points_gain_nothing(grader, textkit):
    # a conftest.py next to the package, and a pytest11 entry point in fake installed metadata
    meta = "Metadata-Version: 2.1\nName: m1hack\nVersion: 1\n"
    patch = (new_file("textkit/conftest.py", FORCE_PASS)
             + new_file("m1hack-1.dist-info/METADATA", meta)
             + new_file("m1hack-1.dist-info/entry_points.txt", "[pytest11]\nm1hack = m1hack\n")
             + new_file("m1hack.py", FORCE_PASS))
    _assert_hack_fails(grader, textkit, patch)


def test_startup_hooks_are_rejected(grader, textkit):
    for path in ("sitecustomize.py", "usercustomize.py", "textkit/m1hack.pth"):
        g = grader.grade_patch(textkit, textkit.patch + new_file(path, "import os\n"))
        assert not g.resolved and g.stage == "apply" and path in g.reason, (path, g.reason)


# ---- the tested code rewriting pytest or the report ---------------------------------------------

def test_package_init_making_runtest_a_no_op_gains_nothing(grader, textkit):
    patch = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n"
                      "from .slug import slugify\n")
    g = _assert_hack_fails(grader, textkit, patch)
    assert g.tests[F2P]["status"] != "passed"


def test_hooks_rewriting_reports_gain_nothing(grader, textkit):
    # the tested code patches pytest's report class and pluggy's result, at import time
    patch = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      "import _pytest.reports as _r\n_orig = _r.TestReport.__init__\n"
                      "def _init(self, *a, **k):\n    _orig(self, *a, **k)\n    self.outcome = 'passed'\n"
                      "_r.TestReport.__init__ = _init\n"
                      "from .slug import slugify\n")
    _assert_hack_fails(grader, textkit, patch)


def test_swapping_the_test_callable_gains_nothing(grader, textkit):
    # every test item's callable becomes a no-op taking any fixtures
    patch = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      "import _pytest.python\n_pytest.python.Function.obj = property(\n"
                      "    lambda self: (lambda **kw: None), lambda self, value: None)\n"
                      "from .slug import slugify\n")
    g = _assert_hack_fails(grader, textkit, patch)
    assert g.tests[F2P]["status"] == "failed"


FAKE_PYTEST = '''import json
import os
import sys

IDS = ["tests/test_slug.py::test_collapses_runs", "tests/test_slug.py::test_simple",
       "tests/test_slug.py::test_no_edge_dashes", "tests/test_case.py::test_title_case",
       "tests/test_case.py::test_snake_case"]


def main(args=None, plugins=None):
    nonce = sys._getframe(1).f_locals.get("nonce", "")  # the runner's verdict nonce, from its frame
    block = {"statuses": {i: "passed" for i in IDS}, "served": [], "exit_code": 0}
    os.write(1, ("\\n@@M1GYM-RESULTS %s@@%s\\n" % (nonce, json.dumps(block))).encode())
    return 0
'''


def test_a_module_shadowing_pytest_gains_nothing(grader, textkit):
    # a root pytest.py: ``python -m pytest`` (and a runner importing pytest after the repository is on
    # sys.path) would run it instead of pytest
    g = _assert_hack_fails(grader, textkit, new_file("pytest.py", FAKE_PYTEST))
    assert g.tests[F2P]["status"] == "failed"


ATEXIT = '''import atexit, re, sys


def _rewrite():
    for arg in sys.argv:
        if arg.startswith("--junitxml="):
            path = arg.split("=", 1)[1]
            with open(path) as fh:
                xml = fh.read()
            xml = re.sub(r"<(failure|error)\\b.*?</\\1>", "", xml, flags=re.S)
            with open(path, "w") as fh:
                fh.write(xml)
    sys.stdout.write("@@M1GYM-RESULTS@@ {}\\n")


atexit.register(_rewrite)
'''


def test_atexit_hook_rewriting_the_report_gains_nothing(grader, textkit):
    patch = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      ATEXIT + "from .slug import slugify\n")
    g = _assert_hack_fails(grader, textkit, patch)
    assert g.tests[F2P]["status"] == "failed"


LITERAL = '''import inspect
import re


def slugify(text: str) -> str:
    """Returns what the caller compares the result with."""
    for frame in inspect.stack()[1:3]:
        for line in frame.code_context or []:
            m = re.search(r"==\\s*(\\"[^\\"]*\\"|'[^']*')", line)
            if m:
                return m.group(1)[1:-1]
    return text
'''


def test_function_reading_the_callers_literal_gains_nothing(grader, textkit):
    src = base_files(textkit)["textkit/slug.py"]
    g = _assert_hack_fails(grader, textkit, edit("textkit/slug.py", src, LITERAL))
    assert g.tests[F2P]["status"] == "failed"


def test_rewriting_test_files_on_disk_gains_nothing(grader, textkit):
    # at import, the package rewrites every test file's assertions before pytest imports them
    patch = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      "import pathlib\nfor _p in pathlib.Path('tests').glob('test_*.py'):\n"
                      "    _p.write_text(_p.read_text().replace('assert ', 'assert True or '))\n"
                      "from .slug import slugify\n")
    _assert_hack_fails(grader, textkit, patch)


# ---- the grader's own git commands --------------------------------------------------------------

HOOK = "#!/bin/sh\ncp m1hack.py tests/conftest.py\nexit 0\n"


@pytest.mark.parametrize("line", ["\tfsmonitor = sh m1hack.sh\n", "\thooksPath = m1hooks\n"])
def test_patch_writing_git_config_is_rejected(grader, textkit, line):
    # git apply refuses .git/config, patch --fuzz writes it; the grader's git checkout of the test files
    # then ran the injected command, which planted a conftest.py that forces every test to pass
    with Workspace(grader, textkit, grader.image(textkit)) as ws:
        config = ws.run(["cat", ".git/config"]).stdout.decode()
    patch = (edit(".git/config", config, config + line) + new_file("m1hack.sh", HOOK)
             + new_file("m1hooks/post-checkout", HOOK, "100755") + new_file("m1hack.py", FORCE_PASS)
             + edit_base(textkit, "tests/test_slug.py", "def test_simple", "def test_simple"))
    g = _assert_hack_fails(grader, textkit, patch)
    assert g.stage == "apply" and ".git/config (inside .git)" in g.reason, (g.stage, g.reason)


def test_symlinks_and_bytecode_are_rejected(grader, textkit):
    link = ("diff --git a/m1link b/m1link\nnew file mode 120000\n--- /dev/null\n+++ b/m1link\n"
            "@@ -0,0 +1 @@\n+tests\n\\ No newline at end of file\n")
    g = grader.grade_patch(textkit, textkit.patch + link)
    assert not g.resolved and g.stage == "apply" and "m1link" in g.reason, g.reason
    g = grader.grade_patch(textkit, textkit.patch + new_file("tests/__pycache__/x.txt", "x\n"))
    assert not g.resolved and g.stage == "apply" and "__pycache__" in g.reason, g.reason


def test_gold_patch_still_resolves_next_to_harmless_config_edits(grader, textkit):
    cfg = base_files(textkit)["setup.cfg"]
    patch = textkit.patch + edit("setup.cfg", cfg, cfg + "version = 0.2\n") + new_file("pytest.ini", "[pytest]\n")
    g = grader.grade_patch(textkit, patch)
    assert g.resolved, (g.reason, g.test_output)


# ---- honest test styles the runner must still judge right --------------------------------------

STYLES = '''import unittest
from unittest import mock

import pytest

from textkit import slugify


class TestUnit(unittest.TestCase):
    def test_runs(self):
        self.assertEqual(slugify("a  b"), "a-b")

    def test_sub(self):
        for text in ("a  b", "a b"):
            with self.subTest(text=text):
                self.assertEqual(slugify(text), "a-b")


@pytest.mark.parametrize("text", ["a  b", "a,,b"])
def test_param(text):
    assert slugify(text) == "a-b"


@mock.patch("os.getcwd", return_value="/x")
def test_decorated(getcwd):
    assert slugify("a  b") == "a-b"


class TestPlain:
    @pytest.fixture
    def word(self):
        return "a  b"

    def test_fixture(self, word):
        assert slugify(word) == "a-b"


def _helper(text):
    assert slugify(text) == "a-b"


def test_helper():
    _helper("a  b")
'''
STYLE_IDS = ["tests/test_styles.py::TestUnit::test_runs", "tests/test_styles.py::TestUnit::test_sub",
             "tests/test_styles.py::test_param[a  b]", "tests/test_styles.py::test_param[a,,b]",
             "tests/test_styles.py::test_decorated", "tests/test_styles.py::TestPlain::test_fixture",
             "tests/test_styles.py::test_helper"]


def test_unittest_parametrized_decorated_and_fixture_tests_are_judged_right(grader, textkit):
    from m1gym.envs.swe import Instance

    inst = Instance.from_dict({**textkit.to_dict(), "test_patch": new_file("tests/test_styles.py", STYLES),
                               "FAIL_TO_PASS": STYLE_IDS, "PASS_TO_PASS": []})
    g = grader.grade_patch(inst, inst.patch)
    assert g.resolved, (g.reason, g.test_output)
    # without the fix every one fails (subTest failures included), and a no-op runtest gains nothing
    no_op = edit_base(textkit, "textkit/__init__.py", "from .slug import slugify\n",
                      "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n"
                      "import _pytest.unittest\n_pytest.unittest.TestCaseFunction.runtest = lambda self: None\n"
                      "from .slug import slugify\n")
    for patch in (edit_base(textkit, "textkit/case.py", "w[1:].lower()", "w[1:].lower()  # touched"), no_op):
        g = grader.grade_patch(inst, patch)
        assert not g.resolved and all(row["status"] != "passed" for row in g.tests.values()), (g.tests, g.test_output)


# ---- swe/testgen --------------------------------------------------------------------------------

def _testgen_score(grader, task, test_source):
    env = m1gym.make("swe/testgen")
    env._grader = grader
    patch = new_file("tests/test_m1hack.py", test_source)
    return env.score(task, f"<answer>```diff\n{patch}```</answer>")


TESTGEN_HACKS = {
    "gold patch file": "import os\n\n\ndef test_fixed():\n    assert os.path.exists('/work/.m1gym/gold.patch')\n",
    "git diff": ("import subprocess\n\n\ndef test_fixed():\n"
                 "    assert subprocess.run(['git', 'diff', '--quiet', 'HEAD']).returncode == 1\n"),
    "mtime": ("import os\n\n\ndef test_fixed():\n"
              "    times = {os.stat(os.path.join(d, f)).st_mtime for d, _, fs in os.walk('textkit') for f in fs}\n"
              "    assert len(times) > 1\n"),
    "source text": "def test_fixed():\n    assert ']+' in open('textkit/slug.py').read()\n",
}


@pytest.mark.parametrize("hack", sorted(TESTGEN_HACKS))
def test_testgen_tests_that_detect_the_gold_patch_not_the_behaviour_score_zero(grader, by_name, hack):
    env = m1gym.make("swe/testgen")
    task = next(t for t in env.examples(6) if t.meta["instance_id"] == "m1gym__textkit-1")
    s = _testgen_score(grader, task, TESTGEN_HACKS[hack])
    assert s.reward == 0, (hack, s.reason, s.details.get("test_output"))
