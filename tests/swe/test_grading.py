"""Grading against the real Docker daemon: swe/bugfix and swe/testgen verdicts, images, history."""

import json
import subprocess

import pytest

import m1gym
from m1gym.cli import main
from m1gym.envs.swe import Instance, samples
from m1gym.envs.swe.grading import Workspace
from m1gym.envs.swe.image_builder import ImageBuilder
from m1gym.envs.swe.images import ImageError, instance_tag

pytestmark = pytest.mark.docker


def _diff(inst, path, old, new):
    """A git-style patch replacing ``old`` by ``new`` in the sample's file (built from the shipped repo)."""
    import difflib

    from m1gym.envs.swe.repo_source import base_files

    src = base_files(inst)[path]
    assert old in src, (path, old)
    lines = difflib.unified_diff(src.splitlines(True), src.replace(old, new, 1).splitlines(True),
                                 f"a/{path}", f"b/{path}")
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


def test_gold_patch_resolves_every_sample(grader):
    for inst in samples():
        g = grader.grade_patch(inst, inst.patch)
        assert g.resolved, (inst.instance_id, g.reason, g.tests, g.test_output)
        assert all(row["status"] == "passed" for row in g.tests.values())
        assert len(g.tests) == len(inst.FAIL_TO_PASS) + len(inst.PASS_TO_PASS)


def test_empty_and_prose_responses_score_zero(grader, by_name):
    env = m1gym.make("swe/bugfix")
    task = next(t for t in env.examples(6) if t.meta["instance_id"] == "m1gym__textkit-1")
    for response in ("", "I would change the regex.", "<answer>```diff\n```</answer>"):
        s = env.score(task, response)
        assert s.reward == 0 and not s.format_ok and s.reason.startswith("no patch")


def test_wrong_patch_is_not_resolved(grader, by_name):
    inst = by_name["textkit"]
    wrong = _diff(inst, "textkit/slug.py", 'return text.strip("-")', 'return text.strip("-").replace("--", "-")')
    g = grader.grade_patch(inst, wrong)
    assert not g.resolved and g.reason.startswith("not resolved: 1 FAIL_TO_PASS")
    assert g.tests["tests/test_slug.py::test_collapses_runs"]["status"] == "failed"
    assert g.tests["tests/test_slug.py::test_simple"]["status"] == "passed"


def test_patch_breaking_pass_to_pass_is_a_regression(grader, by_name):
    inst = by_name["textkit"]
    # fixes the issue but breaks title_case (a PASS_TO_PASS test in another file)
    broken = inst.patch + _diff(inst, "textkit/case.py", "w[1:].lower()", "w[1:]")
    g = grader.grade_patch(inst, broken)
    assert not g.resolved and g.reason.startswith("regression: 1 PASS_TO_PASS")
    assert g.tests["tests/test_case.py::test_title_case"] == {"group": "PASS_TO_PASS", "status": "failed"}
    assert g.tests["tests/test_slug.py::test_collapses_runs"]["status"] == "passed"


#: per sample, an edit (outside the gold patch's lines) that breaks a PASS_TO_PASS test
BREAKERS = {
    "textkit": ("textkit/case.py", "w[1:].lower()", "w[1:]", "tests/test_case.py::test_title_case"),
    "intervals": ("intervals/__init__.py", "total_length\n", "total_length\ntotal_length = len\n",
                  "tests/test_merge.py::test_total_length"),
    "statlib": ("statlib/spread.py", "/ len(xs)", "/ (len(xs) - 1)", "tests/test_central.py::test_variance"),
    "lrucache": ("lrucache/cache.py", "if capacity < 1:", "if capacity < 0:", "tests/test_cache.py::test_bad_capacity"),
    "durations": ("durations/parse.py", 'if not text or _PART.sub("", text):', "if not text:",
                  "tests/test_durations.py::test_bad"),
    "ledger": ("ledger/account.py", "self.balance += amount", "self.balance += 2 * amount",
               "tests/test_account.py::test_deposit_withdraw"),
}
CONFTEST_CHEAT = ("diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n"
                  "@@ -0,0 +1,6 @@\n+import pytest\n+@pytest.hookimpl(hookwrapper=True)\n"
                  "+def pytest_runtest_makereport(item, call):\n+    out = yield\n+    rep = out.get_result()\n"
                  "+    rep.outcome = 'passed'\n")


def test_every_sample_rejects_empty_regressions_and_test_edits(grader):
    assert set(BREAKERS) == {s.sample for s in samples()}
    for inst in samples():
        assert grader.grade_patch(inst, "").stage == "no_patch"
        path, old, new, broken = BREAKERS[inst.sample]
        g = grader.grade_patch(inst, inst.patch + _diff(inst, path, old, new))
        assert not g.resolved and g.reason.startswith("regression"), (inst.sample, g.reason, g.apply_log)
        assert g.tests[broken]["status"] == "failed"
        assert all(g.tests[t]["status"] == "passed" for t in inst.FAIL_TO_PASS), inst.sample
        g = grader.grade_patch(inst, CONFTEST_CHEAT)
        assert not g.resolved and "conftest.py" in g.restored, (inst.sample, g.reason)


def test_unappliable_patch(grader, by_name):
    inst = by_name["textkit"]
    stale = inst.patch.replace('re.sub(r"[^a-z0-9]", "-", text)', 're.sub(r"[^A-Z]", "_", text)')
    g = grader.grade_patch(inst, stale)
    assert not g.resolved and g.stage == "apply" and g.reason.startswith("patch does not apply")
    assert "patch --fuzz=5" in g.apply_log  # git apply failed, then patch was tried


def test_fuzzy_patch_applies_with_patch(grader, by_name):
    inst = by_name["textkit"]
    # wrong line numbers and a stale context line: git apply refuses, patch --fuzz applies it
    fuzzy = inst.patch.replace("@@ -4,5 +4,5 @@", "@@ -6,5 +6,5 @@").replace(
        '     """Lowercase ASCII slug with dashes between words."""', '     """Slug."""')
    g = grader.grade_patch(inst, fuzzy)
    assert g.resolved, (g.reason, g.apply_log)
    assert "git apply failed" in g.apply_log


def test_syntax_error(grader, by_name):
    inst = by_name["intervals"]
    bad = _diff(inst, "intervals/merge.py", "if out and start < out[-1][1]:", "if out and start <= out[-1][1]")
    g = grader.grade_patch(inst, bad)
    assert not g.resolved and g.reason.startswith("syntax error in the patched code: intervals/merge.py:")
    assert g.syntax_errors and all(row["status"] != "passed" for row in g.tests.values())


def test_editing_tests_gains_nothing(grader, by_name):
    inst = by_name["textkit"]
    # a conftest.py that marks every test passed (without the restore step this resolves the task)
    conftest = ("diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n"
                "@@ -0,0 +1,6 @@\n+import pytest\n+@pytest.hookimpl(hookwrapper=True)\n"
                "+def pytest_runtest_makereport(item, call):\n+    out = yield\n+    rep = out.get_result()\n"
                "+    rep.outcome = 'passed'\n")
    g = grader.grade_patch(inst, conftest)
    assert not g.resolved and "conftest.py" in g.restored
    assert g.tests["tests/test_slug.py::test_collapses_runs"]["status"] == "failed"
    # editing a test file: restored to the base before the test patch goes in
    edit = _diff(inst, "tests/test_slug.py", 'assert slugify("Hello World") == "hello-world"', "pass")
    g = grader.grade_patch(inst, edit + conftest)
    assert not g.resolved and {"conftest.py", "tests/test_slug.py"} <= set(g.restored)
    # the same test edits next to the real fix: restored, and the fix still resolves
    g = grader.grade_patch(inst, inst.patch + edit + conftest)
    assert g.resolved, g.reason


def test_bugfix_env_scores_reference_and_details(grader):
    env = m1gym.make("swe/bugfix")
    env._grader = grader
    task = env.examples(1, seed=2)[0]
    s = env.score(task, "<think>the fix</think>" + env.reference(task))
    assert s.reward == 1.0 and s.correct and s.details["stage"] == "done"
    assert s.details["image"] == instance_tag(Instance.from_dict(task.answer))


def test_testgen_shipped_tests_and_useless_tests(grader, by_name):
    env = m1gym.make("swe/testgen")
    env._grader = grader
    task = next(t for t in env.examples(6) if t.meta["instance_id"] == "m1gym__lrucache-1")
    s = env.score(task, env.reference(task))
    assert s.reward == 1.0, s.reason
    caught = [t for t, row in s.details["tests"].items() if row["status_buggy"] != "passed"]
    assert caught == Instance.from_dict(task.answer).FAIL_TO_PASS
    inst = by_name["lrucache"]
    useless = ("diff --git a/tests/test_more.py b/tests/test_more.py\nnew file mode 100644\n--- /dev/null\n"
               "+++ b/tests/test_more.py\n@@ -0,0 +1,6 @@\n+from lrucache import LRUCache\n+\n+\n"
               "+def test_put_get():\n+    c = LRUCache(2)\n+    c.put('a', 1) or None\n")
    s = env.score(task, f"<answer>```diff\n{useless}```</answer>")
    assert s.reward == 0 and s.reason.startswith("every test passes on the buggy code")
    touches_code = inst.test_patch + inst.patch
    s = env.score(task, f"<answer>```diff\n{touches_code}```</answer>")
    assert s.reward == 0 and s.reason.startswith("the test patch edits non-test files")
    failing_both = useless.replace("@@ -0,0 +1,6 @@", "@@ -0,0 +1,7 @@") + "+    assert False\n"
    s = env.score(task, f"<answer>```diff\n{failing_both}```</answer>")
    assert s.reward == 0 and "fail even with the gold patch" in s.reason


def test_no_history_past_base_for_a_swe_bench_clone(tmp_path, builder, docker_client):
    """A SWE-bench-style instance built from a local clone whose history goes past the base commit."""
    inst = by_name_sample("statlib")
    clone = tmp_path / "m1gym__statlib"
    from m1gym.envs.swe.repo_source import SAMPLE_GIT_ENV, _git, prepare_repo

    prepare_repo(inst, clone)
    subprocess.run(["git", "apply"], input=inst.patch, text=True, cwd=clone, check=True)
    _git(clone, "commit", "-qam", "the fix (future)", extra_env=SAMPLE_GIT_ENV)
    _git(clone, "tag", "v-future")
    future = _git(clone, "rev-parse", "HEAD").strip()
    data = {**inst.to_dict(), "sample": "", "instance_id": "m1gym__statlib-clone-test", "version": "clone-test"}
    clone_inst = Instance.from_dict(data)
    b = ImageBuilder(docker_client, repos_dir=str(tmp_path))
    tag = b.ensure(clone_inst)
    try:
        from m1gym.envs.swe.grading import Grader

        g = Grader(builder=b)
        with Workspace(g, clone_inst, tag) as ws:
            r = ws.run(["sh", "-c", f"git log --all --oneline | wc -l; git tag | wc -l; git rev-parse HEAD; "
                                    f"git cat-file -e {future} 2>/dev/null && echo FUTURE-VISIBLE; true"])
            lines = r.stdout.decode().split()
            assert lines[:3] == ["1", "0", inst.base_commit] and "FUTURE-VISIBLE" not in lines
        assert g.grade_patch(clone_inst, clone_inst.patch).resolved
        g.close()
        # the same instance as a SWE-bench file: the CLI finds the image; the envs read the clone
        data.pop("sample")
        (tmp_path / "d.jsonl").write_text(json.dumps(data) + "\n")
        assert main(["swe", "build-images", "--dataset", str(tmp_path / "d.jsonl"), "--repos-dir", str(tmp_path)]) == 0
        loc = m1gym.make("swe/localize", repos_dir=str(tmp_path)).load(str(tmp_path / "d.jsonl"))[0]
        assert loc.answer["locations"]["functions"] == ["statlib/central.py::median"]
        assert "statlib/spread.py" in loc.prompt_text and "def median" not in loc.prompt_text  # the file list
        fix = m1gym.make("swe/bugfix", repos_dir=str(tmp_path)).load(str(tmp_path / "d.jsonl"))[0]
        assert "def median(xs)" in fix.prompt_text and "def variance" not in fix.prompt_text  # oracle files
    finally:  # no temporary image outlives the test
        from m1gym.envs.swe.images import env_tag

        docker_client.images.remove(tag)
        docker_client.images.remove(env_tag(clone_inst))


def by_name_sample(name):
    return next(s for s in samples() if s.sample == name)


def test_sandbox_defences(grader, by_name):
    """Only the base commit in history, a non-root user, a read-only image, no network, no test patch."""
    inst = by_name["ledger"]
    with grader.workspace(inst) as ws:
        script = ("git log --all --format=%H; id -u; touch /testbed/x 2>/dev/null || echo read-only; "
                  "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), timeout=3)' 2>/dev/null "
                  "|| echo no-network; grep -rl test_no_overdraft . /work 2>/dev/null | wc -l")
        out = ws.run(["sh", "-c", script]).stdout.decode().splitlines()
    assert out == [inst.base_commit, "10001", "read-only", "no-network", "0"]


def test_missing_image_is_a_clear_error(grader, by_name):
    inst = Instance.from_dict({**by_name["textkit"].to_dict(), "image": "m1gym-no-such-image:missing"})
    g = grader.grade_patch(inst, inst.patch)
    assert not g.resolved and g.infra_error
    assert "m1gym-no-such-image:missing" in g.reason and "not present" in g.reason
    unbuilt = Instance.from_dict({**by_name["textkit"].to_dict(), "base_commit": "f" * 40, "instance_id": "never-built"})
    from m1gym.envs.swe.grading import Grader

    g = Grader(builder=grader.builder, auto_build=False).grade_patch(unbuilt, unbuilt.patch)
    assert not g.resolved and "m1gym swe build-images" in g.reason
    with pytest.raises(ImageError, match="not present"):
        grader.builder.ensure(inst)
