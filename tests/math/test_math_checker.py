"""m1gym.verifiers.math: the equivalence table, the published false positives, pathological
inputs behind the hard timeout, garbage that must never raise, thread safety, the batch path,
and the worker pool surviving hangs and crashes."""

from __future__ import annotations

import collections
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from m1gym.verifiers.math import (MAX_PRED_CHARS, MathPool, MathVerdict, check_math, check_math_batch,
                                  default_pool)

sys.path.insert(0, str(Path(__file__).parent))
from cases import CASES  # noqa: E402

#: generous slack on top of a hard timeout for a loaded 2-core machine (this bounds a hang, it is
#: not a speed assertion)
SLACK_S = 20.0


@pytest.fixture(scope="module")
def pool():
    p = MathPool(2)
    p.warm_up()
    yield p
    p.close()


def test_table_is_large_and_covers_every_topic():
    assert len(CASES) >= 80
    topics = collections.Counter(t for *_, t in CASES)
    for topic in ("integer", "fraction", "percent", "set", "interval", "tuple", "matrix", "radical", "pi",
                  "degree", "unit", "text", "pm", "equation", "false-positive"):
        assert topics[topic] >= 2, topic
    # both verdicts appear in every topic, so a checker that always says yes/no fails
    for topic in topics:
        verdicts = {e for *_, e, t in CASES if t == topic}
        assert verdicts == {True, False}, topic


@pytest.mark.parametrize("gold,pred,expected,topic", CASES, ids=[f"{c[3]}:{c[0][:20]}|{c[1][:20]}" for c in CASES])
def test_equivalence_table(pool, gold, pred, expected, topic):
    verdict = pool.check(gold, pred)
    assert isinstance(verdict, MathVerdict)
    assert verdict.correct is expected, verdict.reason
    assert verdict.reason


def test_batch_gives_the_table_verdicts(pool):
    verdicts = pool.check_batch([(g, p) for g, p, _, _ in CASES], workers=2)
    assert [v.correct for v in verdicts] == [e for _, _, e, _ in CASES]


def test_module_level_functions_match_the_pool():
    pairs = [(g, p) for g, p, _, _ in CASES[:30]]
    # a generous timeout: this compares the two paths, not speed on a loaded machine
    assert ([check_math(g, p, timeout=60).correct for g, p in pairs]
            == [v.correct for v in check_math_batch(pairs, timeout=60)])
    assert default_pool() is default_pool()


def test_published_false_positives_are_rejected_with_a_reason(pool):
    for gold, pred in [("\\frac{1}{2004!}", "\\frac{1}{2006!}"), ("\\pm 2021", "2021"), ("2021", "\\pm 2021"),
                       ("x = 2", "x = 3"), ("2x + 3 = 7", "2x + 3 = 5"), ("y = 2x + 1", "y = 2x + 3")]:
        verdict = pool.check(gold, pred)
        assert verdict.correct is False, (gold, pred)
        assert verdict.reason and not verdict.timed_out


def test_bold_markdown_answer_is_read(pool):
    assert pool.check("73", "**73**").correct
    assert not pool.check("73", "**74**").correct


def test_gold_is_the_first_argument(pool):
    # math-verify's interval-vs-inequality comparison is one-way: an inequality gold accepts the
    # interval, not the reverse; we must keep passing gold first
    assert pool.check("x < 2", "(-\\infty, 2)").correct


# ---- input limits and garbage --------------------------------------------------------------------

def test_long_prediction_is_rejected_unchecked(pool):
    before = dict(pool.stats)
    verdict = pool.check("1", "1" * (MAX_PRED_CHARS + 1))
    assert not verdict.correct and "too long" in verdict.reason
    assert pool.stats["checks"] == before["checks"]  # no worker was asked


GARBAGE = {
    "binary bytes": b"\xff\xfe\x00binary", "NULs": "\x00\x00", "lone surrogates": "\ud800\udfff\ud800",
    "1 MB": "1" * 1_000_000, "None": None, "int": 12, "float": 3.5, "object": object(), "list": [], "empty": "",
    "reversed braces": "}}}{{{", "open frac": "\\frac{", "open boxed": "\\boxed{", "dollar": "$", "backslash": "\\",
    "open matrix": "\\begin{pmatrix}1&2", "1,999 letters": "x" * 1999, "open parens": "((((((((((",
}


@pytest.mark.parametrize("value", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_never_raises(pool, value):
    verdict = pool.check("\\frac{1}{2}", value, timeout=1.5)
    assert isinstance(verdict, MathVerdict)
    assert verdict.correct is False and verdict.reason
    gold_side = pool.check(value, "1", timeout=1.5)
    assert isinstance(gold_side, MathVerdict) and gold_side.correct is False


def test_pathological_inputs_return_within_the_hard_timeout(pool):
    timeout = 2.0
    inputs = {
        "100,000 characters": "9" * 100_000,
        "\\frac nested 1,000 deep": "\\frac{" * 1000 + "1" + "}{2}" * 1000,
        "\\frac nested 60 deep (under the length cap)": "\\frac{" * 60 + "1" + "}{2}" * 60,
        "huge power tower": "9^{9^{9^9}}",
        "factorial of a huge number": "(10^{100000})!",
    }
    for name, pred in inputs.items():
        start = time.monotonic()
        verdict = pool.check("1", pred, timeout=timeout)
        elapsed = time.monotonic() - start
        assert verdict.correct is False, name
        assert verdict.reason, name
        assert elapsed < timeout + SLACK_S, (name, elapsed)
    # the cheap guards answer without a worker
    assert "too long" in pool.check("1", inputs["100,000 characters"]).reason
    assert "nested too deeply" in pool.check("1", inputs["\\frac nested 60 deep (under the length cap)"]).reason
    # the ones that reach a worker time out (soft timer in the worker, or the hard kill)
    tower = pool.check("1", "9^{9^{9^9}}", timeout=timeout)
    assert tower.timed_out and "timeout" in tower.reason


def test_pathological_input_bypassing_the_guards_is_bounded(pool):
    """The nested \\frac goes straight to a worker (skipping the length/depth guards)."""
    deep = "\\frac{" * 1000 + "1" + "}{2}" * 1000
    start = time.monotonic()
    verdict = pool._check_prepared("1", deep, 2.0)
    assert verdict.correct is False and verdict.reason
    assert time.monotonic() - start < 2.0 + SLACK_S
    assert pool.check("2", "2.0").correct  # the pool still works afterwards


# ---- hangs and crashes: the hard kill ------------------------------------------------------------

@pytest.fixture
def hook_pool(monkeypatch):
    monkeypatch.setenv("M1GYM_MATH_TEST_HOOKS", "1")  # workers started now simulate hangs/crashes
    p = MathPool(2, timeout=1.0)
    yield p
    p.close()


def test_a_hang_no_signal_can_stop_is_killed(hook_pool):
    verdict = hook_pool.check("1", "m1gym-test-hang")
    assert verdict.correct is False and verdict.timed_out and "killed" in verdict.reason
    assert hook_pool.stats["timeouts"] == 1
    assert hook_pool.check("1", "\\frac{2}{2}").correct  # a fresh worker takes over


def test_a_crashing_worker_is_replaced(hook_pool):
    verdict = hook_pool.check("1", "m1gym-test-crash")
    assert verdict.correct is False and "crashed" in verdict.reason
    assert hook_pool.check("1", "\\frac{3}{3}").correct


def test_batch_survives_hangs_and_crashes(hook_pool):
    pairs = [("1", "m1gym-test-hang"), ("1", "m1gym-test-crash")] + [("\\frac{1}{2}", "0.5"), ("2", "\\sqrt{5}")] * 6
    verdicts = hook_pool.check_batch(pairs, workers=2)
    assert verdicts[0].timed_out and not verdicts[0].correct
    assert "crashed" in verdicts[1].reason
    assert [v.correct for v in verdicts[2:]] == [True, False] * 6


def test_closed_pool_answers_instead_of_raising():
    p = MathPool(1)
    p.close()
    verdict = check_math("1", "\\sqrt{1}", pool=p)
    assert verdict.correct is False and "unavailable" in verdict.reason
    assert [v.correct for v in check_math_batch([("1", "\\sqrt{1}")], pool=p)] == [False]


def test_pool_rejects_zero_workers():
    with pytest.raises(ValueError, match="at least 1"):
        MathPool(0)


# ---- concurrency ---------------------------------------------------------------------------------

def test_eight_threads_agree_with_serial(pool):
    pairs = [(g, p) for g, p, _, _ in CASES]
    serial = [pool.check(g, p).correct for g, p in pairs]
    with ThreadPoolExecutor(8) as ex:
        threaded = list(ex.map(lambda gp: check_math(*gp).correct, pairs))
    assert threaded == serial == [e for _, _, e, _ in CASES]


def test_threads_calling_batch_concurrently(pool):
    pairs = [(g, p) for g, p, _, _ in CASES[:40]]
    expected = [e for _, _, e, _ in CASES[:40]]
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: [v.correct for v in pool.check_batch(pairs)], range(4)))
    assert all(r == expected for r in results)


def test_a_forked_child_gets_its_own_workers(pool):
    import os

    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    assert pool.check("\\frac{1}{2}", "0.5").correct
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not use (or corrupt) the parent's worker sockets
        try:
            started = pool.stats["started"]
            ok = pool.check("\\frac{1}{4}", "0.25").correct and not pool.check("\\frac{1}{4}", "0.2").correct
            ok = ok and pool.stats["started"] == started + 1  # a new worker of its own
            pool.close()
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    os.close(r)
    assert pool.check("\\frac{1}{3}", "0.333333").correct  # the parent's workers are intact


def test_a_worker_that_died_while_idle_does_not_cost_a_verdict():
    from m1gym.verifiers.math import MathPool

    pool = MathPool(1, timeout=30)
    try:
        assert pool.check("1000", "1,000").correct
        idle = pool._idle[0]
        idle.proc.kill()  # dies between jobs (an OOM kill, a stray signal)
        idle.proc.wait()
        verdict = pool.check("1000", "1,000")
        assert verdict.correct, verdict.reason
        assert pool.stats["crashes"] == 1 and pool.stats["started"] == 2
    finally:
        pool.close()
