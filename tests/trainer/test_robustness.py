"""The loop's guards against breaking (issue 14): learning-rate warmup, KL-guarded minibatches,
minimum minibatch size, dynamic sampling on task rewards, the log-ratio clamp, truncated responses
as failures, float32 master weights under a bf16 config, the flat log-prob pass, and the stability
guard with its rollback."""

import math

import pytest
import torch

from conftest import toy_config
from m1gym.core import Score, Task
from m1gym.trainer.batch import flat_logprobs, group_logprobs
from m1gym.trainer.config import config_from_dict
from m1gym.trainer.guard import StabilityGuard
from m1gym.trainer.losses import policy_loss
from m1gym.trainer.metrics import read_metrics
from m1gym.trainer.rl import TRUNCATED, Group, RLTrainer, group_advantages, score_groups
from m1gym.inference.rollout import Rollout


def _trainer(tmp_path, warm_start, name="run", **sections):
    cfg = config_from_dict(toy_config(tmp_path / name, **sections))
    return RLTrainer(cfg, init_from=str(warm_start), resume=False, progress=False)


def test_lr_warmup_then_constant_or_cosine(warm_start, tmp_path):
    tr = _trainer(tmp_path, warm_start, trainer={"lr": 1e-3, "lr_warmup_updates": 4, "steps": 10, "updates_per_batch": 2})
    assert [tr.lr_at(u) for u in range(5)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3])
    tr2 = _trainer(tmp_path, warm_start, "cos", trainer={"lr": 1e-3, "lr_warmup_updates": 0, "steps": 10,
                                                         "updates_per_batch": 2, "lr_schedule": "cosine",
                                                         "lr_min_ratio": 0.1})
    assert tr2.lr_at(0) == pytest.approx(1e-3)
    assert tr2.lr_at(10) == pytest.approx(0.55e-3)
    assert tr2.lr_at(20) == pytest.approx(1e-4)
    tr2.lr_scale = 0.5  # a rollback's cut applies on top of the schedule
    assert tr2.lr_at(0) == pytest.approx(5e-4)


def test_kl_guard_skips_the_rest_of_the_batch_and_min_minibatch_size(warm_start, tmp_path):
    # a target no update can meet: every step applies its first minibatch only and logs the stop
    tr = _trainer(tmp_path, warm_start, trainer={"steps": 3, "tasks_per_step": 8, "updates_per_batch": 4,
                                                 "lr": 3e-3, "lr_warmup_updates": 0, "kl_target": 1e-12})
    tr.train()
    rows = [r for r in read_metrics(tmp_path / "run") if r["groups_kept"] >= 2]
    assert rows
    for r in rows:
        assert r["minibatches"] == 1 and r["kl_stop"] > 1e-12
    # with the guard off, a batch of k kept groups takes min(updates, k // min_minibatch_groups) updates
    tr = _trainer(tmp_path, warm_start, "off", trainer={"steps": 3, "tasks_per_step": 8, "updates_per_batch": 4,
                                                        "kl_target": None, "min_minibatch_groups": 3})
    tr.train()
    for r in read_metrics(tmp_path / "off"):
        assert r["minibatches"] == max(1, min(4, r["groups_kept"] // 3)) if r["groups_kept"] else r["minibatches"] == 0
        assert "kl_stop" not in r


def _rollout(n_tokens, stop="eos", text="<answer>1</answer>"):
    return Rollout([1, 2], list(range(3, 3 + n_tokens)), [-0.1] * n_tokens, text, stop)


def test_dynamic_sampling_filters_on_task_reward_not_length_shaping():
    task = Task("t", "test", "p", "1", {})
    wrong = [Score.fail("wrong", format_ok=True)] * 4
    # all wrong; only the overlong penalty differs: no signal about the task, dropped
    g = Group(task, [_rollout(4)] * 4, wrong, [0.0, 0.0, 0.0, -0.05], group_advantages([0.0, 0.0, 0.0, -0.05]))
    assert not g.informative(0.05)
    assert max(abs(a) for a in g.advantages) > 1  # what the old filter kept: +-1.7 from length alone
    mixed = [Score.ok()] + wrong[:3]
    assert Group(task, [_rollout(4)] * 4, mixed, [1.0, 0, 0, 0]).informative(0.05)
    # the std floor: partial credit that barely varies is not worth an update
    tiny = [Score(0.50), Score(0.51), Score(0.50), Score(0.50)]
    assert not Group(task, [_rollout(4)] * 4, tiny, [s.reward for s in tiny]).informative(0.05)


@pytest.mark.parametrize("name", ["grpo", "dapo", "cispo", "cispo_masked"])
def test_log_ratio_clamp_keeps_the_loss_finite(name):
    from m1gym.trainer.config import LossConfig

    logp = torch.tensor([[-0.1, -0.2]], requires_grad=True)
    old = torch.tensor([[-150.0, -0.2]])  # r = e^150 overflows float32 without the clamp
    out = policy_loss(logp, old, torch.tensor([-1.0]), torch.ones(1, 2), LossConfig(name=name))
    out.loss.backward()
    assert torch.isfinite(out.loss) and torch.isfinite(logp.grad).all()
    assert math.isfinite(out.stats["ratio_max"]) and out.stats["kl_old"] > 0


def test_truncated_response_is_a_format_failure():
    from m1gym.trainer.scoring import InProcessScorer

    import toy_env

    env = toy_env.EchoDigit()
    task = env.generate(0)
    good = f"<answer>{task.answer}</answer>"
    rolls = [[_rollout(3, "eos", good), _rollout(6, "length", good), _rollout(6, "repetition", good)]]
    cfg = config_from_dict(toy_config("unused"))
    groups = score_groups(InProcessScorer(), [task], rolls, cfg)
    assert [s.reward for s in groups[0].scores] == [1.0, 0.0, 0.0]
    assert groups[0].scores[1].reason == TRUNCATED and not groups[0].scores[1].format_ok
    keep = config_from_dict(toy_config("unused", trainer={"truncated": "keep"}))
    assert [s.reward for s in score_groups(InProcessScorer(), [task], rolls, keep)[0].scores] == [1.0, 1.0, 1.0]


def test_flat_logprob_pass_matches_the_cached_group_pass(warm_start):
    from m1gym.inference.model import load_model

    model, tok = load_model(warm_start)
    prompts = [tok.prompt_ids([{"role": "user", "content": "Repeat the digit 3."}]), tok.prompt_ids([{"role": "user", "content": "Repeat the digit 7, please."}])]
    responses = [[tok.encode("<answer>3</answer>"), tok.encode("<answer>33")],
                 [tok.encode("<answer>7</answer>"), tok.encode("x")]]
    a, ea, ma = group_logprobs(model, prompts, responses, temperature=0.7, with_entropy=True, pad_id=tok.pad_id)
    b, eb, mb = flat_logprobs(model, prompts, responses, temperature=0.7, with_entropy=True, pad_id=tok.pad_id)
    assert torch.equal(ma, mb)
    assert torch.allclose(a * ma, b * mb, atol=1e-5) and torch.allclose(ea * ma, eb * mb, atol=1e-5)


def test_bf16_config_keeps_float32_master_weights(warm_start, tmp_path):
    tr = _trainer(tmp_path, warm_start, model={"preset": "tiny", "threads": 1, "dtype": "bfloat16"},
                  trainer={"steps": 2, "lr": 1e-6, "lr_warmup_updates": 0})
    before = {k: v.detach().clone() for k, v in tr.model.named_parameters()}
    assert all(v.dtype == torch.float32 for v in before.values())
    tr.train()
    moved = [k for k, v in tr.model.named_parameters() if not torch.equal(v.detach(), before[k])]
    rows = read_metrics(tmp_path / "run")
    assert any(r["minibatches"] for r in rows)
    # at lr 1e-6 an update is far below half a bf16 ulp of these weights: bf16 weights would not move
    w = dict(tr.model.named_parameters())
    assert len(moved) > 0.5 * len(before)
    assert all(v.dtype == torch.float32 for v in w.values())
    # compute ran in bf16 (autocast), the LM head in float32 (M1's fix for the probability mismatch)
    seen = {}
    hooks = [mod.register_forward_hook(lambda m, i, o, n=n: seen.setdefault(n, o.dtype) and None)
             for n, mod in tr.model.named_modules() if n in ("lm_head", "model.layers.0.self_attn.qkv_proj")]
    with tr.compute():
        tr.model(input_ids=torch.tensor([[1, 2, 3]]))
    for h in hooks:
        h.remove()
    assert seen == {"model.layers.0.self_attn.qkv_proj": torch.bfloat16, "lm_head": torch.float32}


def _row(fmt=0.9, ent=1.0, trunc=0.0):
    return {"format_rate": fmt, "entropy": ent, "truncation_rate": trunc}


def test_guard_ignores_entropy_noise_of_a_sharp_policy():
    """A policy that has sharpened (entropy ~0.05 nats) doubles or quarters its entropy from
    sampling noise alone; the guard wants an absolute change too (guard.entropy_min_change)."""
    from m1gym.trainer.config import GuardConfig

    guard = StabilityGuard(GuardConfig())
    rows = [_row(ent=0.057)] * 4 + [_row(ent=0.154)] * 2 + [_row(ent=0.069)] * 4 + [_row(ent=0.016)] * 2
    assert all(guard.update(i, r) is None for i, r in enumerate(rows))
    strict = StabilityGuard(GuardConfig(entropy_min_change=0.0))
    assert any(strict.update(i, r) is not None for i, r in enumerate(rows))


@pytest.mark.parametrize("bad,reason", [(_row(fmt=0.3), "format rate"), (_row(ent=2.5), "entropy rose"),
                                        (_row(ent=0.1), "entropy collapsed"), (_row(trunc=0.6), "truncation")])
def test_guard_raises_collapse_events(bad, reason):
    from m1gym.trainer.config import GuardConfig

    guard = StabilityGuard(GuardConfig())
    steady = [_row(fmt=0.9 + 0.02 * (i % 2), ent=1.0 - 0.05 * (i % 3)) for i in range(12)]
    assert all(guard.update(i, r) is None for i, r in enumerate(steady))  # noise is no event
    guard.update(12, bad)
    event = guard.update(13, bad)
    assert event is not None and any(reason in x for x in event["reasons"])
    assert event["good_before"] == 12  # the first bad step: a rollback goes to a checkpoint before it
    state = guard.state_dict()
    again = StabilityGuard(GuardConfig())
    again.load_state_dict(state)
    assert again.events == guard.events


def test_rollback_restores_the_last_good_checkpoint_with_the_lr_cut(warm_start, tmp_path):
    tr = _trainer(tmp_path, warm_start, trainer={"steps": 4, "checkpoint_every": 2}, guard={"rollback": True})
    tr.train()
    from safetensors.torch import load_file

    good = load_file(str(tmp_path / "run" / "checkpoints" / "step_000002" / "model" / "model.safetensors"))
    ckpt = tr.rollback({"step": 4, "reasons": ["test"], "good_before": 3})
    assert ckpt.name == "step_000002"
    state = tr.model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in good.items() if k in state)
    assert tr.lr_scale == 0.5
    assert tr.rollback({"step": 4, "reasons": ["test"], "good_before": 1}) is None  # nothing old enough


def test_sft_under_a_bf16_config_trains_float32_master_weights(tmp_path):
    """SFT, like RL, steps float32 weights and computes in bf16: at lr 1e-6 bf16 weights would
    round every update away (issue 14)."""
    from m1gym.inference.model import build_model, load_model
    from m1gym.trainer.sft import run_sft

    cfg = config_from_dict(toy_config(tmp_path / "run", model={"preset": "tiny", "threads": 1, "dtype": "bfloat16"},
                                      sft={"steps": 2, "lr": 1e-6, "warmup_steps": 0, "cache": False}))
    out = run_sft(cfg, out_dir=tmp_path / "sft", progress=False, log=lambda *a: None)
    init, _ = build_model("tiny", seed=cfg.seed)
    trained, _ = load_model(out)
    start = dict(init.named_parameters())
    params = dict(trained.named_parameters())
    assert all(p.dtype == torch.float32 for p in params.values())
    moved = [k for k, p in params.items() if not torch.equal(p.detach(), start[k].detach())]
    assert len(moved) > 0.5 * len(params)
    # and none moved by a bf16-sized step: the largest change is far below a bf16 ulp of the weight
    worst = max(float(((params[k] - start[k]).abs() / start[k].abs().clamp_min(1e-3)).max()) for k in moved)
    assert worst < 2 ** -8
