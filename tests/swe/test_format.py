"""SWE task format, patches, locations, JUnit parsing and action parsing (no Docker needed)."""

import json
import shutil
import subprocess

import pytest

import m1gym
from m1gym.registry import get_spec
from m1gym.core import Task, TaskFormatError
from m1gym.envs.swe import Instance, load_instances, parse_action, samples
from m1gym.envs.swe.agent import ActionError
from m1gym.envs.swe.envs import SWELocalizeEnv, parse_locations
from m1gym.envs.swe.grading import junit_key, parse_junit, status_of, build_test_command
from m1gym.envs.swe.images import image_for, instance_tag
from m1gym.envs.swe.patches import (extract_patch, gold_locations, is_test_path, parse_patch, touched_functions,
                                    touched_paths)
from m1gym.envs.swe.repo_source import prepare_repo

SWE_FIELDS = {"instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch", "FAIL_TO_PASS",
              "PASS_TO_PASS", "version", "environment_setup_commit"}


def test_six_samples_with_swe_bench_fields():
    insts = samples()
    assert len(insts) >= 6
    for inst in insts:
        d = inst.to_dict()
        assert SWE_FIELDS <= set(d)
        assert inst.FAIL_TO_PASS and inst.PASS_TO_PASS and inst.patch.startswith("diff --git")
        assert not any(is_test_path(p) for p in touched_paths(inst.patch))  # the gold patch edits code only
        assert all(is_test_path(p) for p in touched_paths(inst.test_patch))
        assert set(inst.test_files) >= {t.split("::")[0] for t in inst.FAIL_TO_PASS}


@pytest.mark.skipif(not shutil.which("git"), reason="needs git on the host")
def test_sample_base_commit_reproduces(tmp_path):
    for inst in samples():
        dest = tmp_path / inst.sample
        prepare_repo(inst, dest)  # raises if HEAD != base_commit
        log = subprocess.run(["git", "log", "--oneline"], cwd=dest, capture_output=True, text=True).stdout
        assert len(log.splitlines()) == 1


def _swe_bench_record(**over):
    inst = samples()[0].to_dict()
    rec = {k: inst[k] for k in SWE_FIELDS}
    rec["FAIL_TO_PASS"] = json.dumps(rec["FAIL_TO_PASS"])  # how the SWE-bench dataset stores the lists
    rec["PASS_TO_PASS"] = json.dumps(rec["PASS_TO_PASS"])
    rec.update(over)
    return rec


def test_load_swe_bench_json_and_jsonl(tmp_path):
    rec = _swe_bench_record()
    (tmp_path / "a.json").write_text(json.dumps([rec, {**rec, "instance_id": "x__y-2"}]))
    (tmp_path / "a.jsonl").write_text(json.dumps(rec) + "\n\n" + json.dumps({**rec, "instance_id": "x__y-3"}) + "\n")
    for name in ("a.json", "a.jsonl"):
        insts = load_instances(tmp_path / name)
        assert len(insts) == 2 and isinstance(insts[0].FAIL_TO_PASS, list)
        assert insts[0].FAIL_TO_PASS == samples()[0].FAIL_TO_PASS
        assert insts[0].test_cmd == "python -m pytest -q -p no:cacheprovider"
    tasks = m1gym.make("swe/bugfix").load(str(tmp_path / "a.jsonl"))
    assert [t.meta["instance_id"] for t in tasks] == [rec["instance_id"], "x__y-3"]
    assert Task.from_json(tasks[0].to_json()) == tasks[0]


def test_load_errors_name_the_problem(tmp_path):
    bad = _swe_bench_record()
    del bad["test_patch"]
    (tmp_path / "bad.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(TaskFormatError, match=r"bad.jsonl:1.*test_patch"):
        load_instances(tmp_path / "bad.jsonl")
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(TaskFormatError, match="broken.jsonl:1"):
        load_instances(tmp_path / "broken.jsonl")
    with pytest.raises(TaskFormatError, match="no such file"):
        load_instances(tmp_path / "missing.json")
    with pytest.raises(TaskFormatError, match="FAIL_TO_PASS is empty"):
        Instance.from_dict(_swe_bench_record(FAIL_TO_PASS="[]"))


def test_prompt_hides_gold_and_test_patch():
    for name in ("swe/bugfix", "swe/localize", "swe/testgen"):
        env = m1gym.make(name)
        tasks = env.examples(6)
        assert len(tasks) == 6 and not env.procedural and get_spec(name).kind in ("sandbox", "rule")
        for t in tasks:
            inst = Instance.from_dict(t.answer)
            added = [ln[1:] for ln in (inst.patch + inst.test_patch).splitlines()
                     if ln.startswith("+") and not ln.startswith("+++") and len(ln.strip()) > 12]
            leaked = [ln for ln in added if ln in t.prompt_text and ln.strip() not in _base_text(inst)]
            assert not leaked, (name, leaked)
            assert inst.problem_statement.strip()[:40] in t.prompt_text


def _base_text(inst):
    from m1gym.envs.swe.repo_source import base_files

    return "\n".join(base_files(inst).values())


def test_image_tags_are_content_addressed():
    a, b = samples()[0], samples()[1]
    assert instance_tag(a) == instance_tag(Instance.from_dict(a.to_dict()))
    assert instance_tag(a) != instance_tag(b)
    moved = Instance.from_dict({**a.to_dict(), "base_commit": "0" * 40})
    assert instance_tag(moved) != instance_tag(a)
    named = Instance.from_dict({**a.to_dict(), "image": "sweb.eval.x86_64.django__django-11099:latest"})
    assert image_for(named) == "sweb.eval.x86_64.django__django-11099:latest"


# ---- patches -------------------------------------------------------------------------------------

GOLD = samples()[0].patch


def test_extract_patch_from_responses():
    assert extract_patch(f"<think>hmm</think>\n<answer>\n```diff\n{GOLD}```\n</answer>") == GOLD
    assert extract_patch(f"Here is the fix:\n```diff\n{GOLD}```\nDone.") == GOLD
    assert extract_patch(f"Some prose first.\n{GOLD}") == GOLD
    assert extract_patch(f"<answer>{GOLD}</answer>") == GOLD
    for junk in ("", "no patch here", "<answer></answer>", "<think>unclosed " + GOLD, "```python\nprint(1)\n```"):
        assert extract_patch(junk) is None, junk


def test_parse_patch_paths_and_kinds():
    text = ("diff --git a/pkg/new.py b/pkg/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/new.py\n"
            "@@ -0,0 +1 @@\n+x = 1\n"
            "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-y = 2\n"
            "diff --git a/a.py b/b.py\nsimilarity index 100%\nrename from a.py\nrename to b.py\n")
    fps = parse_patch(text)
    assert [(f.old_path, f.new_path) for f in fps] == [(None, "pkg/new.py"), ("old.py", None), ("a.py", "b.py")]
    assert touched_paths(text) == ["a.py", "b.py", "old.py", "pkg/new.py"]
    assert is_test_path("tests/test_x.py") and is_test_path("pkg/conftest.py") and is_test_path("a/b_test.py")
    assert not is_test_path("pkg/testing_utils.py") and not is_test_path("pkg/contest.py")


SRC = '''import re


class Box:
    size = 1

    def grow(self, n):
        self.size += n
        return self.size

    @property
    def area(self):
        return self.size ** 2


def helper(x):
    return x + 1
'''


def _patch(old: str, new: str, path: str = "m.py") -> str:
    import difflib

    body = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\n{body}"


def test_touched_functions_heuristics():
    edit = SRC.replace("self.size += n", "self.size += 2 * n")
    assert touched_functions(SRC, parse_patch(_patch(SRC, edit))[0]) == ["Box.grow"]
    inserted = SRC.replace("        return self.size\n", "        self.check()\n        return self.size\n")
    assert touched_functions(SRC, parse_patch(_patch(SRC, inserted))[0]) == ["Box.grow"]
    appended = SRC + "\n\ndef brand_new():\n    return 0\n"  # a new function is no base location
    assert touched_functions(SRC, parse_patch(_patch(SRC, appended))[0]) == []
    decorated = SRC.replace("    @property\n", "    @property  # cached\n")
    assert touched_functions(SRC, parse_patch(_patch(SRC, decorated))[0]) == ["Box.area"]
    module_level = SRC.replace("import re", "import os")
    assert gold_locations(_patch(SRC, module_level), {"m.py": SRC}) == {"files": ["m.py"], "functions": []}
    assert gold_locations(_patch(SRC, edit), None) == {"files": ["m.py"], "functions": []}


def test_sample_gold_locations():
    env = SWELocalizeEnv()
    got = {t.meta["instance_id"]: t.answer["locations"] for t in env.examples(6)}
    assert got["m1gym__textkit-1"] == {"files": ["textkit/slug.py"], "functions": ["textkit/slug.py::slugify"]}
    assert got["m1gym__lrucache-1"]["functions"] == ["lrucache/cache.py::LRUCache.get"]
    assert got["m1gym__durations-1"] == {"files": ["durations/parse.py"], "functions": []}  # a constant table


# ---- localisation scoring ----------------------------------------------------------------------------

def _loc_task(sample="textkit"):
    env = m1gym.make("swe/localize")
    return env, next(t for t in env.examples(6) if t.meta["instance_id"] == f"m1gym__{sample}-1")


def test_localize_gold_partial_and_wrong():
    env, task = _loc_task()
    s = env.score(task, env.reference(task))
    assert s.reward == 1.0 and s.correct
    both = '<answer>{"files": ["textkit/slug.py", "textkit/case.py"], "functions": ["textkit/slug.py::slugify"]}</answer>'
    s = env.score(task, both)  # files F1 2/3, functions F1 1
    assert s.reward == pytest.approx((2 / 3 + 1) / 2) and s.correct is False
    file_only = '<answer>{"files": ["textkit/slug.py"], "functions": []}</answer>'
    assert env.score(task, file_only).reward == pytest.approx(0.5)
    implied = '<answer>{"files": [], "functions": ["./textkit/slug.py::slugify"]}</answer>'
    assert env.score(task, implied).reward == 1.0  # a function names its file
    wrong = '<answer>{"files": ["textkit/case.py"], "functions": ["textkit/case.py::title_case"]}</answer>'
    s = env.score(task, wrong)
    assert s.reward == 0.0 and s.reason.startswith("files F1 0.00")
    prose = "<answer>The bug is in textkit/slug.py::slugify</answer>"
    assert env.score(task, prose).reward == 1.0
    for junk in ("", "<answer>[1, 2]</answer>", "<think>textkit/slug.py", None):
        s = env.score(task, junk)
        assert s.reward == 0.0 and s.reason


def test_localize_without_functions_scores_files():
    env, task = _loc_task("durations")
    assert env.score(task, '<answer>{"files": ["durations/parse.py"]}</answer>').reward == 1.0
    assert env.score(task, '<answer>{"files": ["durations/parse.py", "durations/format.py"]}</answer>').reward \
        == pytest.approx(2 / 3)


def test_parse_locations_forms():
    assert parse_locations('{"files": ["a.py"], "functions": [{"file": "b.py", "function": "f"}]}') == \
        ({"a.py", "b.py"}, {"b.py::f"})
    assert parse_locations("```json\n{\"files\": [\"a/x.py\"]}\n```") == ({"x.py"}, set())
    assert parse_locations("nothing") is None


# ---- JUnit ---------------------------------------------------------------------------------------------

JUNIT = b"""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" line="1" time="0.001"/>
<testcase classname="tests.test_a.TestK" name="test_m[1-x]" file="tests/test_a.py" line="5" time="0.001">
  <failure message="assert 1 == 2">boom</failure></testcase>
<testcase classname="tests.test_a" name="test_skip" file="tests/test_a.py" time="0"><skipped message="s"/></testcase>
<testcase classname="tests.test_b" name="test_err" time="0"><error message="fixture"/></testcase>
<testcase classname="tests.test_b" name="test_teardown" time="0"/>
<testcase classname="tests.test_b" name="test_teardown" time="0"><error message="in teardown"/></testcase>
</testsuite></testsuites>"""


def test_junit_statuses_and_matching():
    st = parse_junit(JUNIT)
    assert status_of("tests/test_a.py::test_ok", st) == "passed"
    assert status_of("tests/test_a.py::TestK::test_m[1-x]", st) == "failed"
    assert status_of("tests/test_a.py::test_skip", st) == "skipped"
    assert status_of("tests/test_b.py::test_err", st) == "error"  # xunit2 form: no file attribute
    assert status_of("tests/test_b.py::test_teardown", st) == "error"  # worst of the two reports
    assert status_of("tests/test_a.py::test_absent", st) == "missing"
    assert junit_key("tests/sub/test_c.py::K::t[a]") == "tests.sub.test_c.K::t[a]"
    assert parse_junit(b"<not xml") == {}


def test_test_command():
    cmd = build_test_command("python -m pytest -q", ["tests/test a.py"], "/work/r.xml")
    assert cmd == "python -m pytest -q --junitxml=/work/r.xml -o junit_family=xunit1 --rootdir=. 'tests/test a.py'"
    assert build_test_command("./run {tests} --xml {junitxml}", ["t.py"], "/w/r.xml") == "./run t.py --xml /w/r.xml"
    with pytest.raises(ValueError, match="junitxml"):
        build_test_command("./runtests.sh", ["t.py"], "/w/r.xml")


# ---- agent actions ---------------------------------------------------------------------------------

def test_parse_actions():
    assert parse_action("bash ls -la\n| head").args == {"command": "ls -la\n| head"}
    assert parse_action("```bash\npython -m pytest -q\n```").args == {"command": "python -m pytest -q"}
    assert parse_action('{"tool": "bash", "command": "ls"}').tool == "bash"
    assert parse_action('{"name": "execute_bash", "arguments": "{\\"command\\": \\"pwd\\"}"}').args == {"command": "pwd"}
    assert parse_action("<think>look first</think>view pkg/a.py 3 9").args == {"path": "pkg/a.py", "start": 3, "end": 9}
    assert parse_action("view pkg/a.py 3-9").args["end"] == 9
    assert parse_action("search 'def f\\(' pkg").args == {"pattern": "def f\\(", "path": "pkg"}
    sr = parse_action("str_replace a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE")
    assert sr.args == {"path": "a.py", "old": "x = 1\n", "new": "x = 2\n"}
    assert parse_action("create n.txt\nhello").args == {"path": "n.txt", "content": "hello\n"}
    assert parse_action("submit").tool == "submit" and parse_action('{"tool": "finish"}').tool == "submit"
    for bad, msg in [("", "empty"), ("frobnicate x", "unknown tool"), ("{bad json", "not valid JSON"),
                     ('{"tool": "view"}', "path"), ("str_replace a.py\nno markers", "SEARCH"),
                     ("<think>never closed", "unclosed"), ('{"tool": "view", "path": "a", "start": "x"}', "line"),
                     (None, "string")]:
        with pytest.raises(ActionError, match=msg):
            parse_action(bad)


def test_agent_registered_both_ways():
    import gymnasium

    spec = get_spec("swe/agent")
    assert spec.multi_turn and spec.kind == "sandbox"
    assert "m1gym/swe.agent-v0" in gymnasium.registry and "m1gym/swe-agent-v0" in gymnasium.registry
