"""The HTTP judge path over a real loopback server: round trips, retries, failures reported."""

import socket

import pytest

import m1gym
from m1gym.genrm import HTTPJudge, JudgeUnavailable, PairwiseScorer
from m1gym.genrm.reference import select_reference

from openai_stub import StubOpenAIServer


@pytest.fixture
def stub():
    server = StubOpenAIServer()
    yield server
    server.close()


def _longer_wins(messages):
    user = messages[-1]["content"]
    a = user.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
    b = user.split("[Response B]\n", 1)[1].split("\n\nExplain", 1)[0]
    return "Verdict: [[A]]" if len(a) > len(b) else "Verdict: [[B]]" if len(b) > len(a) else "Verdict: [[TIE]]"


def test_model_is_sent_only_when_given():
    """vLLM answers 404 to a model name it does not serve; with no name it uses its one model."""
    server = StubOpenAIServer(served_model="judge-7b")
    try:
        msgs = [{"role": "user", "content": "hi"}]
        assert HTTPJudge(server.url, retries=0).complete(msgs).text == "Verdict: [[A]]"
        assert "model" not in server.bodies[-1]
        assert HTTPJudge(server.url, "judge-7b", retries=0).complete(msgs).text == "Verdict: [[A]]"
        assert server.bodies[-1]["model"] == "judge-7b"
        with pytest.raises(JudgeUnavailable, match="404"):
            HTTPJudge(server.url, "default", retries=0).complete(msgs)
    finally:
        server.close()


def test_round_trip_and_retry_on_5xx(stub):
    judge = HTTPJudge(stub.url, retries=3, backoff=0.01)
    assert judge.complete([{"role": "user", "content": "hi"}]).text == "Verdict: [[A]]"
    stub.fail_next = 2
    before = stub.requests
    assert judge.complete([{"role": "user", "content": "hi"}]).text == "Verdict: [[A]]"
    assert stub.requests - before == 3


def test_persistent_5xx_and_timeouts_are_reported(stub):
    stub.fail_next = 100
    with pytest.raises(JudgeUnavailable, match="failed after 3 attempts"):
        HTTPJudge(stub.url, retries=2, backoff=0.01).complete([{"role": "user", "content": "x"}])
    stub.fail_next, stub.delay_s = 0, 2.0
    with pytest.raises(JudgeUnavailable, match="ReadTimeout"):
        HTTPJudge(stub.url, retries=1, backoff=0.01, timeout=0.3).complete([{"role": "user", "content": "x"}])


def test_connection_refused_names_the_fix():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(JudgeUnavailable, match="serve-model"):
        HTTPJudge(f"http://127.0.0.1:{port}", retries=1, backoff=0.01).complete([{"role": "user", "content": "x"}])


def test_unparseable_verdict_over_http_is_recorded(stub):
    stub.reply = lambda m: "I would rather not say."
    scorer = PairwiseScorer(HTTPJudge(stub.url, backoff=0.01))
    res = scorer.compare("q", "a", "b")
    assert res.score is None and "unparseable" in res.error and scorer.stats.parse_failures == 2


def test_open_env_scores_through_http_judge(stub):
    stub.reply = _longer_wins
    env = m1gym.make("general/open", judge_url=stub.url)
    task = env.examples(1)[0]
    long = env.reference(task) + " And one more helpful detail for the reader."
    s = env.score(task, long)
    assert s.reward == 1.0 and s.details["consistent"]
    assert env.score(task, "Too short.").reward == -1.0
    stub.reply = lambda m: "Verdict: [[A]]"  # position bias: always the first seat
    s = env.score(task, "Different answer.")
    assert s.reward == 0.0 and s.details["consistent"] is False


def test_graded_env_through_http_judge(stub):
    stub.reply = lambda m: "Close enough. Grade: [[4]]"
    env = m1gym.make("general/graded", judge_url=stub.url)
    task = env.examples(1)[0]
    s = env.score(task, "It is Canberra, the capital city.")
    assert s.reward == 0.75 and s.correct and s.details["grade"] == 4
    stub.fail_next = 100
    s = env.score(task, "Sydney")
    assert s.reward == 0.0 and s.details["judge_failure"] and "failed after" in s.reason


def test_select_reference_by_swiss_rounds(stub):
    stub.reply = _longer_wins
    cands = ["a", "bbbb", "cc", "dddddddd", "eee", "ffffff", "g", "hhhhhhh"]
    pick = select_reference("q", cands, HTTPJudge(stub.url, backoff=0.01))
    assert pick.text == "dddddddd" and pick.bt_agrees and pick.judge_failures == 0
    assert len(pick.tournament.rounds) == 3
