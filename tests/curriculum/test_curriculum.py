"""Phase switching, weight ramps, the pass-rate filter, level up/down and window advancement on
scripted metric streams; config validation; state round trip."""

import json

import pytest

from m1gym.curriculum import (CurriculumConfigError, GroupResult, LengthWindow, LevelController, PassRateTracker,
                              Scheduler, curriculum_from_dict)
from m1gym.curriculum.config import DifficultyConfig, PassFilterConfig, WindowConfig


def cfg(**over):
    base = {"sources": ["general/instructions", "general/graded"], "family_weights": {"general": 1.0}}
    base.update(over)
    return curriculum_from_dict(base)


def rule_and_general(**over):
    base = {"sources": [{"env": "general/instructions", "family": "logic"}, {"env": "general/graded"}],
            "family_weights": {"logic": 1.0},
            "general": {"start_step": 3, "ramp_steps": 4, "max_share": 0.4}}
    base.update(over)
    return curriculum_from_dict(base)


@pytest.mark.parametrize("data, key", [
    ({"sources": ["nope/env"]}, "sources[0].env"),
    ({"sources": []}, "sources"),
    ({"sources": ["general/instructions"], "windows": {"stages": [256, 256, 512]}}, "windows.stages"),
    ({"sources": ["general/instructions"], "windows": {"stages": [512, 256]}}, "windows.stages"),
    ({"sources": [{"env": "general/instructions", "family": "logic"}], "family_weights": {"logic": 0}}, "family_weights"),
    ({"sources": ["general/instructions"], "bogus": 1}, "unknown key"),
    ({"sources": [{"env": "general/instructions", "weight": -1}]}, "weight"),
    ({"sources": ["general/instructions"], "difficulty": {"up": 0.2, "down": 0.5}}, "difficulty"),
    ({"sources": ["general/instructions"], "pass_filter": {"low": 0.9, "high": 0.1}}, "pass_filter"),
])
def test_bad_config_rejected_naming_the_key(data, key):
    data.setdefault("family_weights", {"general": 1.0, "logic": 1.0})
    with pytest.raises(CurriculumConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        curriculum_from_dict(data)


def test_phase_switch_and_general_ramp():
    sch = Scheduler(rule_and_general(), seed=0)
    shares = []
    for _ in range(10):
        batch = sch.next_batch(20)
        shares.append(sch.general_share)
        if sch.general_share == 0:
            assert all(t.env == "general/instructions" for t in batch)  # rule-only phase
        sch.end_step([10] * 4, None)
    assert shares[:3] == [0.0] * 3  # rule-only before start_step
    assert shares[3] == pytest.approx(0.1) and shares[4] == pytest.approx(0.2)
    assert max(shares) == pytest.approx(0.4)  # capped
    assert sch.phase == "mixed"
    mixed = sch.next_batch(400)
    share = sum(t.env == "general/graded" for t in mixed) / 400
    assert 0.3 < share < 0.5


def test_ramp_holds_after_a_bias_event():
    sch = Scheduler(rule_and_general(), seed=0)
    for _ in range(5):
        sch.end_step([1], None)
    before = sch.general_share
    sch.note_bias_event(sch.step)
    for _ in range(3):
        sch.end_step([1], None)
    assert sch.general_share == before
    for _ in range(5):
        sch.end_step([1], None)
    assert sch.general_share > before


def test_adaptive_weights_follow_one_minus_success():
    c = curriculum_from_dict({"sources": [{"env": "general/instructions", "family": "math"},
                                          {"env": "general/graded", "family": "logic"}],
                              "family_weights": {"math": 1.0, "logic": 1.0}, "weight_floor": 0.1})
    sch = Scheduler(c)
    t_math = sch.envs["general/instructions"].generate(0, 0)
    t_logic = sch.envs["general/graded"].examples(1)[0]
    sch.record([GroupResult(t_math, [True] * 32), GroupResult(t_logic, [True] * 8 + [False] * 24)])
    w = sch.family_weights()
    # math solved -> floor 0.1; logic 25% success -> 0.75
    assert w["math"] == pytest.approx(0.1 / 0.85) and w["logic"] == pytest.approx(0.75 / 0.85)


def test_pass_rate_filter_band():
    tr = PassRateTracker(PassFilterConfig(low=0.0, high=0.9, min_samples=4))
    tr.record("easy", "e", 0, [True] * 10)
    tr.record("hard", "e", 0, [False] * 10)
    tr.record("mid", "e", 0, [True, False, True, False])
    tr.record("new", "e", 0, [True])
    assert not tr.keep("easy") and not tr.keep("hard") and tr.keep("mid") and tr.keep("new") and tr.keep("unseen")
    assert tr.level_table()["e@0"] == pytest.approx(13 / 25)


def test_scheduler_skips_filtered_tasks():
    sch = Scheduler(cfg(sources=["general/graded"]))
    first = sch.next_batch(1)[0]
    sch.record([GroupResult(first, [True] * 8)])  # solved: pass rate 1 >= 0.9
    later = sch.next_batch(12)
    assert first.id not in {t.id for t in later} and sch.skipped >= 1


def test_level_controller_up_down_and_bounds():
    ctl = LevelController(DifficultyConfig(window=10, up=0.7, down=0.3), lo=0, hi=2)
    assert ctl.record([True] * 10) == 1
    assert ctl.record([True] * 9) is None and ctl.level == 1  # window must refill first
    assert ctl.record([True]) == 2
    assert ctl.record([True] * 30) is None and ctl.level == 2  # bounded by the level table
    assert ctl.record([False] * 10) == 1
    assert ctl.record([True, False] * 5) is None  # 0.5: stays
    assert ctl.changes == [(0, 1), (1, 2), (2, 1)]


def test_controller_drives_generated_levels():
    c = curriculum_from_dict({"sources": [{"env": "general/instructions", "family": "logic"}],
                              "family_weights": {"logic": 1.0}, "difficulty": {"window": 8}})
    sch = Scheduler(c)
    batch = sch.next_batch(4)
    assert {t.meta["level"] for t in batch} == {0}
    changes = sch.record([GroupResult(t, [True, True]) for t in batch])
    assert changes == {"general/instructions": (0, 1)}
    assert {t.meta["level"] for t in sch.next_batch(4)} == {1}


def test_window_advances_on_p99_and_settled_perplexity():
    w = LengthWindow(WindowConfig(stages=[100, 150, 200], p99_ratio=0.95, ppl_tolerance=0.05, history=4))
    # long outputs but perplexity still moving: no advance
    for step, ppl in enumerate([5.0, 4.0, 3.0, 2.0]):
        assert not w.update(step, [99] * 50, ppl)
    # perplexity settles: advance
    advanced = [w.update(10 + i, [99] * 50, 2.0) for i in range(4)]
    assert advanced == [False, False, True, False] and w.window == 150  # settles once the old values roll out
    # short outputs at a settled perplexity: no advance
    for i in range(6):
        assert not w.update(20 + i, [50] * 50, 2.0)
    assert w.overlong_buffer() == int(150 * 0.25)


def test_state_round_trip_resumes_identically():
    a = Scheduler(rule_and_general(), seed=3)
    for _ in range(6):
        batch = a.next_batch(5)
        a.record([GroupResult(t, [True, False]) for t in batch])
        a.end_step([10, 20], 3.0)
    state = json.loads(json.dumps(a.state_dict()))
    b = Scheduler(rule_and_general(), seed=99)
    b.load_state_dict(state)
    assert [t.id for t in a.next_batch(10)] == [t.id for t in b.next_batch(10)]
    assert a.metrics() == b.metrics()


def test_offline_filter_keeps_the_band():
    import m1gym
    from m1gym.curriculum.filter import filter_tasks

    env = m1gym.make("general/instructions")
    tasks = [env.generate(i, 0) for i in range(3)]
    ref = [env.reference(t) for t in tasks]
    responses = [[ref[0]] * 8,                     # always solved: too easy
                 ["nothing"] * 8,                   # never solved: too hard
                 [ref[2]] * 4 + ["nothing"] * 4]    # half: kept
    kept, report = filter_tasks(tasks, responses, PassFilterConfig())
    assert [t.id for t in kept] == [tasks[2].id]
    assert (report.too_easy, report.too_hard, report.kept) == (1, 1, 1)
    assert report.pass_rates[tasks[2].id] == 0.5
