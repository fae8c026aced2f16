"""LLM test generation for code problems: proposer over a real loopback HTTP judge (a stub server
standing in for a hosted model), outputs computed by the reference solution in the real sandbox."""

import json

import pytest

from m1gym.envs.code.judge import Judge as CodeJudge
from m1gym.envs.code.problem import Problem
from m1gym.genrm import HTTPJudge
from m1gym.envs.code.testgen import TestGenerationError, generate_tests, parse_inputs

from openai_stub import StubOpenAIServer

SUM = Problem.from_dict({
    "id": "sum-two", "statement": "Read two integers a and b on one line and print a + b.",
    "tests": [{"input": "1 2\n", "output": "3\n"}], "time_limit_s": 2, "memory_mb": 64,
    "solutions": {"python": ["a, b = map(int, input().split())\nprint(a + b)\n"]},
})


def test_parse_inputs_strict():
    assert parse_inputs('<answer>["1 2\\n", "3 4"]</answer>') == ["1 2\n", "3 4"]
    for bad in ("no json", "<answer>[1, 2]</answer>", '<answer>{"a": 1}</answer>'):
        with pytest.raises(TestGenerationError):
            parse_inputs(bad)


@pytest.mark.docker
def test_generated_suite_keeps_valid_inputs_and_drops_bad_ones(sandbox):
    proposals = ["5 7", "-3 3\n", "1 2\n", "not numbers", "100000000000 1"]
    server = StubOpenAIServer(reply=lambda m: "<answer>" + json.dumps(proposals) + "</answer>")
    try:
        problem, report = generate_tests(SUM, HTTPJudge(server.url, backoff=0.01), n=5, sandbox=sandbox)
    finally:
        server.close()
    assert report.proposed == 5 and report.kept == 3
    reasons = {d["input"].strip(): d["reason"] for d in report.dropped}
    assert reasons["1 2"] == "duplicate" and "exited" in reasons["not numbers"]
    outs = {t["input"]: t["output"] for t in problem.tests}
    assert outs["5 7\n"] == "12\n" and outs["-3 3\n"] == "0\n" and outs["100000000000 1\n"] == "100000000001\n"
    # the new suite judges: the reference passes, a wrong program fails on a generated test
    judge = CodeJudge(sandbox)
    assert judge.judge(problem, SUM.solutions["python"][0]).accepted
    wrong = judge.judge(problem, "a, b = map(int, input().split())\nprint(abs(a) + b)\n")
    assert not wrong.accepted and wrong.first_failure["test"] > 0


def test_call_based_and_missing_reference_are_rejected():
    call = Problem.from_dict({"id": "c", "statement": "s", "mode": "call", "fn_name": "f",
                              "tests": [{"args": [1], "expected": 1}]})
    with pytest.raises(TestGenerationError, match="call-based"):
        generate_tests(call, judge=None)
    bare = Problem.from_dict({"id": "b", "statement": "s", "tests": [{"input": "1\n", "output": "1\n"}]})
    with pytest.raises(TestGenerationError, match="no python reference"):
        generate_tests(bare, judge=None)


@pytest.mark.docker
def test_gen_tests_cli(tmp_path, sandbox):
    import subprocess
    import sys

    server = StubOpenAIServer(reply=lambda m: '<answer>["8 9", "0 0"]</answer>')
    src, out = tmp_path / "p.json", tmp_path / "out.json"
    src.write_text(SUM.to_json())
    try:
        r = subprocess.run([sys.executable, "-m", "m1gym.cli", "code", "gen-tests", str(src), "--judge-url", server.url,
                            "--n", "2", "--out", str(out)], capture_output=True, text=True, timeout=300)
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    assert "kept 2" in r.stdout
    tests = json.loads(out.read_text())["tests"]
    assert {"input": "8 9\n", "output": "17\n"} in tests
    bad = subprocess.run([sys.executable, "-m", "m1gym.cli", "code", "gen-tests", str(tmp_path / "nope.json"),
                          "--judge-url", "http://127.0.0.1:9", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "cannot read problem file" in bad.stderr and "Traceback" not in bad.stderr
