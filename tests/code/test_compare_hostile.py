"""Comparing a call-based result that a hostile program chose (issue 15): never an exception on
the host, always a plain "not equal" (Wrong Answer)."""

import json

import pytest

from m1gym.envs.code import CodeEnv, Judge, Problem
from m1gym.envs.code.compare import values_equal
from m1gym.envs.code.judge import _check_call

MARK = "@@m1gym-test@@"


def _deep(n):
    root = cur = []
    for _ in range(n):
        cur.append([])
        cur = cur[0]
    return root


@pytest.mark.parametrize("got, want", [
    (10 ** 400, 1.5), (1.5, 10 ** 400), (-(10 ** 400), 0.0), (10 ** 400, float("inf")),
    (float("nan"), float("nan")), (float("nan"), 1.0), (float("inf"), 1e308), (1e308, -1e308),
    (_deep(100_000), [[1]]), (_deep(100_000), _deep(3)), ({"a": _deep(50_000)}, {"a": 1}),
    (object(), 1), ([1, 2], (1, 2)), ("3", 3), (True, 1), (None, 0), ({1: 2}, {"1": 2}),
])
def test_hostile_values_are_unequal_never_an_error(got, want):
    assert values_equal(got, want) is False
    assert values_equal(got, want, 1e-6, 1e-6) is False


def test_values_still_match_when_they_should():
    assert values_equal(10 ** 400, 10 ** 400) and values_equal(float("inf"), float("inf"))
    assert values_equal([1, [2.0, {"a": 0.1 + 0.2}]], [1, [2, {"a": 0.3}]])
    assert values_equal(1.0000000001, 1.0) and not values_equal(1.001, 1.0)


@pytest.mark.parametrize("payload", [
    "1" + "0" * 400,                   # 10**400 where a float is expected (was OverflowError)
    "1" * 5000,                        # past Python's int-string limit
    "[" * 100_000 + "]" * 100_000,     # past the parser's stack
    "NaN", "Infinity", "-Infinity", "1e400",
    '{"a": ' * 20_000 + "1" + "}" * 20_000,
])
@pytest.mark.parametrize("checker", [{"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6}, {"type": "exact"}])
def test_call_result_from_a_hostile_program_is_wrong_answer(payload, checker):
    ok, _got, note = _check_call((MARK + payload + MARK).encode(), MARK, [2.5], checker)
    assert ok is False and note


def test_call_result_that_matches_is_accepted():
    ok, got, _ = _check_call((MARK + json.dumps(2.5000000001) + MARK).encode(), MARK, [2.5],
                             {"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6})
    assert ok and got == 2.5000000001


FLOAT_CALL = Problem(id="t/call-half", statement="half(x)", mode="call", fn_name="half", time_limit_s=2.0,
                     checker={"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6},
                     tests=[{"args": [3], "expected": 1.5}, {"args": [5], "expected": 2.5}])


@pytest.mark.docker
@pytest.mark.parametrize("body", ["return 10**400", "return float('nan')", "return [[[[[x]]]]]",
                                  "return -(10**4000)"])
def test_hostile_call_based_answer_is_wrong_answer_in_the_judge(sandbox, body):
    r = Judge(sandbox).judge(FLOAT_CALL, f"def half(x):\n    {body}\n", "python")
    assert r.verdict == "WA" and r.passed == 0, r.summary()


@pytest.mark.docker
def test_hostile_call_based_answer_scores_zero_not_verifier_error(sandbox):
    env = CodeEnv([FLOAT_CALL], sandbox=sandbox)
    task = env.generate(0)
    s = env.score(task, "<answer>\n```python\ndef half(x):\n    return 10**400\n```\n</answer>")
    assert s.reward == 0 and s.format_ok and "WA" in s.reason, s
    assert env.score(task, "<answer>\n```python\ndef half(x):\n    return x / 2\n```\n</answer>").reward == 1
