"""Answers a hostile policy found or could find (issue 15): each must get reward 0 from the math
checker and the math envs, while the honest readings next to them still pass."""

from __future__ import annotations

import pytest

import m1gym
from m1gym.verifiers.math import MathPool

# (gold, prediction): every one of these scored 1 before the fix
HACKS = [
    # an infinite scale made the relative tolerance accept anything
    ("75", "\\infty"),
    ("-3", "-\\infty"),
    ("\\frac{1}{2}", "\\infty"),
    ("-8, 4", "\\pm\\infty"),
    ("(5, 6)", "(\\infty, \\infty)"),
    ("x = 5, y = 6", "(\\infty, \\infty)"),
    ("x = 5, y = 6", "\\mathbb{R}"),
    ("\\frac{7 - \\sqrt{89}}{2}, \\frac{7 + \\sqrt{89}}{2}", "\\pm\\infty"),
    # a set has no order: it does not say which value is x
    ("x = 5, y = 6", "\\{6, 5\\}"),
    ("x = 5, y = 6", "\\{5, 6\\}"),
    ("x = 5, y = 6", "\\left\\{6, 5\\right\\}"),
    ("x = 5, y = 6", "6, 5"),
    # the percent sign is real against a fraction gold: 0.5% is 1/200
    ("\\frac{1}{2}", "0.5\\%"),
    # exact rationals: no tolerance
    ("75", "75 + 10^{-100}"),
    ("\\frac{1}{2}", "\\frac{1}{2} + 10^{-30}"),
    ("2^{2005}", "2^{2005} + 1"),
    ("\\sqrt{2}", "\\sqrt{2} + 10^{-30}"),
    # an approximation is not the value
    ("75", "\\approx 75"),
    ("75", "\u2248 75"),
    # control and invisible characters are not dropped to glue digits together
    ("75", "7\x005"),
    ("75", "7\x1b5"),
    ("75", "7\u200b5"),
    # the question echoed back (the checker extracted and evaluated its expression)
    ("12", "Compute the value of (17 - (17 - 7)) + 5.\n\nThink step by step, then give only the final "
           "answer inside <answer>...</answer> (or as \\boxed{...})."),
]

# honest answers right next to the holes: they must keep passing
HONEST = [
    ("x = 5, y = 6", "(5, 6)"),
    ("x = 5, y = 6", "5, 6"),
    ("x = 5, y = 6", "y = 6, x = 5"),
    ("x = 5, y = 6", "\\{x = 5, y = 6\\}"),
    ("\\infty", "\\infty"),
    ("-\\infty", "- \\infty"),
    ("\\mathbb{R}", "(-\\infty, \\infty)"),
    ("x < 2", "(-\\infty, 2)"),
    ("37.5", "37.5\\%"),
    ("\\frac{1}{2}", "50\\%"),
    ("\\sqrt{3+2\\sqrt{2}}", "1+\\sqrt{2}"),
    ("\\frac{1}{2004!}", "\\frac{2005 \\cdot 2006}{2006!}"),
    ("75", "The answer is 75"),
    ("75", "75\n"),
    ("\\text{Monday}", "Monday"),
]


@pytest.fixture(scope="module")
def pool():
    p = MathPool(2)
    p.warm_up()
    yield p
    p.close()


@pytest.mark.parametrize("gold,pred", HACKS, ids=[f"{g[:16]}|{p[:24]!r}" for g, p in HACKS])
def test_hack_is_rejected_with_a_reason(pool, gold, pred):
    verdict = pool.check(gold, pred, timeout=30)
    assert verdict.correct is False, verdict.reason
    assert verdict.reason and not verdict.timed_out


@pytest.mark.parametrize("gold,pred", HONEST, ids=[f"{g[:16]}|{p[:24]!r}" for g, p in HONEST])
def test_honest_neighbour_still_passes(pool, gold, pred):
    verdict = pool.check(gold, pred, timeout=30)
    assert verdict.correct is True, verdict.reason


def test_reasons_name_the_problem(pool):
    assert "control" in pool.check("75", "7\x005").reason
    assert "approximate" in pool.check("75", "\\approx 75").reason
    assert "unordered set" in pool.check("x = 5, y = 6", "\\{6, 5\\}").reason
    assert "prose" in pool.check("75", "Compute the value of seventy plus five and then think step by step").reason


INFINITIES = ["\\infty", "-\\infty", "\\pm\\infty", "(\\infty, \\infty)", "\\mathbb{R}"]


@pytest.mark.parametrize("family", ["arithmetic", "fractions", "percentages", "linear", "systems", "quadratic",
                                    "polynomial", "counting", "number_theory", "probability"])
def test_no_infinity_scores_on_any_family(family):
    env = m1gym.make(f"math/{family}")
    tasks = [env.generate(seed, level) for level in env.levels for seed in range(3)]
    for answer in INFINITIES:
        for wrap in ("<answer>{}</answer>", "\\boxed{{{}}}"):
            scores = env.score_batch(tasks, [wrap.format(answer)] * len(tasks))
            won = [t.answer for t, s in zip(tasks, scores) if s.reward > 0]
            assert not won, f"{wrap.format(answer)} scored on {family} tasks with gold {won[:3]}"
    # and the references still pass
    assert all(s.reward == 1.0 for s in env.score_batch(tasks, [env.reference(t) for t in tasks]))
