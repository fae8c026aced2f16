"""The CLI as a user runs it: a real `m1gym` subprocess, output and exit codes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PLUGIN = "import sys; sys.path.insert(0, %r); import m1gym; from toy_envs import AddEnv; m1gym.register('test/add', AddEnv); " % str(HERE)


def m1gym_cli(*args, stdin=None, with_toy=True):
    code = (PLUGIN if with_toy else "") + "from m1gym.cli import main; sys.exit(main(sys.argv[1:]))"
    if not with_toy:
        code = "import sys; " + code
    return subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"})


def test_console_script_is_installed():
    out = subprocess.run(["m1gym", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "envs" in out.stdout and "sample" in out.stdout


def test_envs_list_and_show():
    out = m1gym_cli("envs", "list", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert any(r["name"] == "test/add" and r["kind"] == "rule" for r in rows)
    out = m1gym_cli("envs", "show", "test/add")
    assert out.returncode == 0 and "integer" in out.stdout


def test_sample_then_score_round_trip(tmp_path):
    out = m1gym_cli("sample", "test/add", "--n", "3", "--seed", "5", "--level", "1", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 3 and all("reference" in r for r in rows)
    task_file = tmp_path / "task.json"
    task_file.write_text(json.dumps(rows[0]))
    good = m1gym_cli("score", "--task", str(task_file), "--response", "-", "--json", stdin=rows[0]["reference"])
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["reward"] == 1.0
    bad = m1gym_cli("score", "--task", str(task_file), "--response", "-", "--json", stdin="no idea")
    score = json.loads(bad.stdout)
    assert score["reward"] == 0.0 and score["reason"]


@pytest.mark.parametrize("args, needle", [
    (("sample", "test/ad"), "Did you mean: test/add"),
    (("envs", "show", "nope/nothing"), "unknown environment"),
    (("score", "--task", "/does/not/exist", "--response", "-"), "cannot read"),
])
def test_user_errors_are_one_line_without_traceback(args, needle):
    out = m1gym_cli(*args, stdin="")
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr


def test_malformed_task_file_and_empty_response(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = m1gym_cli("score", "--task", str(bad), "--response", "-", stdin="x")
    assert out.returncode == 2 and "not valid JSON" in out.stderr and "Traceback" not in out.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("")
    out = m1gym_cli("score", "--task", str(empty), "--response", "-", stdin="x")
    assert out.returncode == 2 and "m1gym sample" in out.stderr
    task = json.loads(m1gym_cli("sample", "test/add", "--json").stdout)
    good = tmp_path / "task.json"
    good.write_text(json.dumps(task))
    for response in ("", "I think it is seven"):
        out = m1gym_cli("score", "--task", str(good), "--response", "-", "--json", stdin=response)
        assert out.returncode == 0 and json.loads(out.stdout)["reward"] == 0.0


def test_envs_check_reports_and_exits_nonzero_on_failure():
    code = PLUGIN + ("from toy_envs import BrokenEnv; m1gym.register('test/broken', BrokenEnv); "
                     "from m1gym.cli import main; sys.exit(main(sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", code, "envs", "check", "test/add", "test/broken"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "FAIL test/broken" in out.stdout and "reference scores 1" in out.stdout
    assert "ok   test/add" in out.stdout and "1/2 environments pass" in out.stdout
    ok = subprocess.run([sys.executable, "-c", code, "envs", "check", "test/add", "--quick"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout
