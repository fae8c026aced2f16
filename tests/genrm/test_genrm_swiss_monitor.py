"""Swiss pairing invariants, Bradley-Terry, length-controlled win rate, the length-bias monitor."""

import math
import random

import pytest

from m1gym.genrm import LengthBiasMonitor, MonitorConfig, bradley_terry, length_controlled_win_rate, swiss_tournament
from m1gym.genrm.swiss import min_rounds


@pytest.mark.parametrize("n", list(range(2, 65)))
def test_swiss_invariants(n):
    rng = random.Random(n)
    strength = [rng.random() for _ in range(n)]
    res = swiss_tournament(n, lambda a, b: 1.0 if strength[a] > strength[b] else 0.0)
    assert len(res.rounds) == min_rounds(n) == math.ceil(math.log2(n))
    pairs = [frozenset((a, b)) for a, b, _ in res.games]
    assert len(pairs) == len(set(pairs)), "rematch"
    assert len(res.byes) == len(set(res.byes)) == (len(res.rounds) if n % 2 else 0)
    for r, games in enumerate(res.rounds):  # everyone plays once per round (or has the bye)
        seen = [p for g in games for p in g[:2]]
        assert len(seen) == len(set(seen)) == n - (n % 2)
    assert sum(res.scores) == pytest.approx(len(res.games) + len(res.byes))
    # seat balance: nobody sits first more than ceil(rounds/2)+1 times
    assert max(res.seat_a) <= math.ceil(len(res.rounds) / 2) + 1
    if n & (n - 1) == 0:  # powers of two: exactly one unbeaten winner, the strongest
        assert res.scores[res.winner] == len(res.rounds)
        assert res.winner == max(range(n), key=strength.__getitem__)


def test_swiss_rejects_too_few_rounds_and_bad_outcomes():
    with pytest.raises(ValueError, match="at least 3 rounds"):
        swiss_tournament(8, lambda a, b: 1.0, rounds=2)
    with pytest.raises(ValueError, match="must return"):
        swiss_tournament(4, lambda a, b: 2.0)


def test_bradley_terry_orders_by_strength():
    rng = random.Random(0)
    true = [0.0, 1.0, 2.0, 3.0]
    games = []
    for _ in range(400):
        a, b = rng.sample(range(4), 2)
        p = 1 / (1 + math.exp(true[b] - true[a]))
        games.append((a, b, 1.0 if rng.random() < p else 0.0))
    est = bradley_terry(4, games)
    assert sorted(range(4), key=est.__getitem__) == [0, 1, 2, 3]
    assert est[3] - est[0] == pytest.approx(3.0, abs=0.6)


def test_length_controlled_win_rate_removes_length_preference():
    rng = random.Random(1)
    outcomes, lc, lr = [], [], []
    for _ in range(2000):
        d = 80 + rng.gauss(0, 100)  # candidates are systematically longer ...
        p = 1 / (1 + math.exp(-(2.0 * math.tanh(d / 100))))  # ... and win only by being longer
        lc.append(300 + d), lr.append(300), outcomes.append(1.0 if rng.random() < p else 0.0)
    res = length_controlled_win_rate(outcomes, lc, lr)
    assert res.raw_win_rate > 0.65 and res.gap > 10  # the raw rate rewards length
    assert res.length_coef > 1.0
    assert abs(res.lc_win_rate - 0.5) < 0.06


def _stream(rng, steps, biased):
    for step in range(steps):
        groups = []
        for _ in range(16):
            group = []
            for _ in range(8):
                length = rng.randint(50, 500) + (step * 5 if biased else 0)
                correct = rng.random() < 0.5
                reward = (length / 500 if biased else rng.random()) + rng.gauss(0, 0.05)
                group.append((reward, length, correct))
            groups.append(group)
        yield step, groups


def test_monitor_stays_quiet_when_reward_is_independent_of_length():
    mon = LengthBiasMonitor()
    rng = random.Random(0)
    events = [mon.update(s, g) for s, g in _stream(rng, 60, biased=False)]
    assert not any(events) and not mon.events
    assert abs(mon.last_signals["corr"]) < 0.15


def test_monitor_fires_within_bounded_steps_when_reward_follows_length():
    fired = []
    mon = LengthBiasMonitor(MonitorConfig(patience=3))
    mon.add_hook(fired.append)
    rng = random.Random(0)
    for s, g in _stream(rng, 40, biased=True):
        if mon.update(s, g):
            break
    assert fired and fired[0].step <= 5, fired
    assert "reward_follows_length" in fired[0].triggered and fired[0].signals["p_longer"] > 0.7
    assert "length_bias/corr" in mon.metrics()


def test_recalibration_hook_switches_scorer_to_length_controlled():
    from m1gym.genrm import LengthBiasEvent, PairwiseScorer
    from m1gym.genrm.judges import JudgeReply
    from m1gym.genrm.recalibrate import RecalibrationHook, padded_probe

    class LengthLover:  # test double: prefers the longer response
        name = "length-lover"

        def complete(self, messages, **k):
            user = messages[-1]["content"]
            a = user.split("[Response A]\n", 1)[1].split("\n\n[Response B]", 1)[0]
            b = user.split("[Response B]\n", 1)[1].split("\n\nExplain", 1)[0]
            return JudgeReply("Verdict: [[A]]" if len(a) > len(b) else "Verdict: [[B]]")

    scorer = PairwiseScorer(LengthLover())
    rng = random.Random(0)
    probes = [padded_probe(f"q{i}", "x" * rng.randint(20, 200)) for i in range(15)]
    probes += [(f"r{i}", "y" * rng.randint(5, 60), "z" * 100) for i in range(15)]
    hook = RecalibrationHook(scorer, probes)
    assert scorer.compare("q", "long " * 20, "short").length_controlled is None
    lc = hook(LengthBiasEvent(step=7, triggered=["reward_follows_length"], signals={}, evidence=""))
    assert lc.length_coef > 1 and hook.history[0]["step"] == 7
    res = scorer.compare("q", "long " * 20, "short")
    assert res.score == 1 and res.length_controlled < 0.5  # the win was length, not quality
