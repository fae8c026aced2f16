"""Pairwise / five-grade scoring on scripted judges (test doubles with known behaviour)."""

import math

import pytest

from m1gym.genrm import FiveGradeScorer, PairwiseScorer, parse_grade, parse_pairwise
from m1gym.genrm.judges import JudgeReply, JudgeUnavailable, TokenLogprob
from m1gym.genrm.verdicts import VerdictParseError, grade_to_reward


class ScriptedJudge:
    """Test double: answers by a rule over the two responses in the prompt."""

    name = "scripted"

    def __init__(self, rule):
        self.rule = rule
        self.calls = 0

    def complete(self, messages, *, max_tokens=512, temperature=0.0, logprobs=False):
        self.calls += 1
        user = messages[-1]["content"]
        a = user.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
        b = user.split("[Response B]\n", 1)[1].split("\n\nExplain", 1)[0]
        return JudgeReply(self.rule(a, b))


def prefers_longer(a, b):
    return "Verdict: [[A]]" if len(a) > len(b) else "Verdict: [[B]]" if len(b) > len(a) else "Verdict: [[TIE]]"


def always_first(a, b):
    return "reasoning... Verdict: [[A]]"


@pytest.mark.parametrize("text, verdict", [
    ("blah\nVerdict: [[A]]", "A"), ("Verdict: [[ B ]]", "B"), ("x [[TIE]]", "TIE"), ("[[A]] ... again [[A]]", "A"),
])
def test_parse_pairwise(text, verdict):
    assert parse_pairwise(text) == verdict


@pytest.mark.parametrize("text", ["", "A is better", "[[A]] but also [[B]]", "Verdict: A", "[[C]]", None])
def test_unparseable_pairwise_raises(text):
    with pytest.raises(VerdictParseError):
        parse_pairwise(text)


def test_parse_grade_and_mapping():
    assert parse_grade("ok\nGrade: [[4]]") == 4
    with pytest.raises(VerdictParseError):
        parse_grade("Grade: [[6]]")
    assert [grade_to_reward(g) for g in (1, 3, 5)] == [0.0, 0.5, 1.0]


def test_consistent_preference_scores_plus_and_minus_one():
    scorer = PairwiseScorer(ScriptedJudge(prefers_longer))
    assert scorer.compare("q", "a much longer candidate", "ref").score == 1
    assert scorer.compare("q", "c", "reference answer").score == -1
    tie = scorer.compare("q", "same", "size")
    assert tie.score == 0 and tie.consistent
    assert scorer.stats.inconsistent == 0 and scorer.stats.pairs == 3


def test_position_bias_is_inconsistent_and_counts_as_tie():
    judge = ScriptedJudge(always_first)
    scorer = PairwiseScorer(judge)
    res = scorer.compare("q", "candidate", "reference")
    assert res.score == 0 and not res.consistent and res.verdicts == ("A", "A")
    assert judge.calls == 2 and scorer.stats.as_dict()["inconsistency_rate"] == 1.0


def test_unparseable_verdict_is_a_recorded_failure_not_zero():
    scorer = PairwiseScorer(ScriptedJudge(lambda a, b: "I refuse to judge"))
    res = scorer.compare("q", "x", "y")
    assert res.score is None and "unparseable" in res.error
    assert scorer.stats.parse_failures >= 1 and scorer.stats.pairs == 0


def test_unavailable_judge_is_reported():
    class Down:
        name = "down"

        def complete(self, *a, **k):
            raise JudgeUnavailable("judge at http://127.0.0.1:9 failed")

    res = PairwiseScorer(Down()).compare("q", "x", "y")
    assert res.score is None and "127.0.0.1:9" in res.error


def test_soft_score_from_verdict_logprobs():
    class Probs:
        name = "probs"

        def complete(self, messages, **k):
            user = messages[-1]["content"]
            cand_first = user.split("[Response A]\n", 1)[1].startswith("cand")
            pa = 0.8 if cand_first else 0.2
            top = {"A": math.log(pa), "B": math.log(1 - pa)}
            return JudgeReply("Verdict: [[A]]" if cand_first else "Verdict: [[B]]",
                              [TokenLogprob("[[", 0.0), TokenLogprob("A" if cand_first else "B", 0.0, top)])

    res = PairwiseScorer(Probs(), use_logprobs=True).compare("q", "cand", "ref")
    assert res.score == 1 and res.soft == pytest.approx(0.6)


def test_five_grade():
    class Grader:
        name = "grader"

        def complete(self, messages, **k):
            return JudgeReply("Grade: [[5]]" if "[Response]\n42" in messages[-1]["content"] else "Grade: [[2]]")

    scorer = FiveGradeScorer(Grader())
    assert scorer.grade("q", "42", "42").reward == 1.0
    assert scorer.grade("q", "41", "42").reward == 0.25
