"""The trainer's scoring on the pool (``scoring.backend: pool``) gets the service pool's per-item
timeout: a verifier that hangs in the RL loop costs its item a 0, not the step (issue 17)."""

from conftest import HERE, toy_config

from m1gym.trainer.config import config_from_dict
from m1gym.trainer.rl import RLTrainer


def test_a_hanging_verifier_scores_zero_and_the_step_finishes(warm_start, tmp_path, monkeypatch):
    import hang_env  # registers test/hang_digit here (the trainer draws its tasks in process)

    marker = tmp_path / "hung"
    monkeypatch.setenv(hang_env.MARKER, str(marker))  # the workers inherit it: the first item scored hangs
    cfg = config_from_dict(toy_config(
        tmp_path / "run", mix=[{"env": hang_env.NAME, "level": 0}],
        trainer={"steps": 1, "dynamic_sampling": False},
        scoring={"backend": "pool", "workers": 2, "item_timeout": 3, "imports": [str(HERE / "hang_env.py")]}))
    tr = RLTrainer(cfg, init_from=str(warm_start), resume=False, progress=False)
    calls = []
    real_score = tr.scorer.score

    def recording(tasks, responses):  # the real pool scorer; only its answers are kept
        scores = real_score(tasks, responses)
        calls.append((list(tasks), list(responses), scores))
        return scores

    tr.scorer.score = recording
    try:
        row = tr.step()
        restarts = tr.scorer.pool.restarts
    finally:
        tr.close()
    assert row["groups_scored"] == 4 and row["minibatches"] >= 1  # the step went through to the update
    assert marker.exists() and restarts == 1
    ((tasks, responses, scores),) = calls
    assert len(scores) == 16
    timed_out = [i for i, s in enumerate(scores) if s.reason.startswith("timeout: ")]
    assert len(timed_out) == 1
    hung = scores[timed_out[0]]
    assert hung.reward == 0.0 and hung.details == {"error": "timeout"} and "3s" in hung.reason
    # every other item: exactly the verdict of in-process scoring (the marker exists now: no hang)
    local = hang_env.HangDigit()
    for i, (t, r, s) in enumerate(zip(tasks, responses, scores)):
        if i != timed_out[0]:
            want = local.score(t, r)
            assert (s.reward, s.reason, s.format_ok) == (want.reward, want.reason, want.format_ok), i
    assert any(s.reward == 1.0 for s in scores)  # the warm-started policy solves some: real rewards
