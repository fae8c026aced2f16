"""Losses against hand-computed values (M1 Eq. 4-7, PPO/GRPO/DAPO), advantages, overlong penalty."""

import math

import pytest
import torch

from m1gym.trainer.config import LossConfig
from m1gym.trainer.losses import aggregate, policy_loss
from m1gym.trainer.rl import group_advantages, overlong_penalty


def _grad(cfg, logp0, old, adv, mask):
    logp = logp0.clone().requires_grad_(True)
    out = policy_loss(logp, old, adv, mask, cfg)
    out.loss.backward()
    return out, logp.grad


def test_cispo_is_reinforce_when_clip_inactive():
    # two responses: 3 and 2 tokens; on-policy (logp == old) so r = 1 everywhere
    logp = torch.tensor([[-0.5, -1.0, -2.0], [-0.1, -0.3, 0.0]])
    mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    adv = torch.tensor([1.5, -0.5])
    out, grad = _grad(LossConfig(name="cispo"), logp, logp.clone(), adv, mask)
    # J = 1/5 * sum_i sum_t A_i log pi  -> loss = -J
    expected = -(1.5 * (-0.5 - 1.0 - 2.0) + (-0.5) * (-0.1 - 0.3)) / 5
    assert out.loss.item() == pytest.approx(expected, abs=1e-6)
    # REINFORCE gradient wrt log pi: -A_i / sum|o_i| on every response token
    assert torch.allclose(grad, torch.tensor([[-0.3, -0.3, -0.3], [0.1, 0.1, 0.0]]), atol=1e-7)
    assert out.stats["clip_frac"] == 0.0 and out.stats["ratio_mean"] == pytest.approx(1.0)


def test_cispo_inside_bounds_is_importance_weighted_reinforce():
    logp = torch.tensor([[-1.0, -1.0]])
    old = logp - torch.log(torch.tensor([[1.1, 0.9]]))  # r = 1.1, 0.9
    mask = torch.ones(1, 2)
    _, grad = _grad(LossConfig(name="cispo", is_clip_low=0.2, is_clip_high=0.28), logp, old, torch.tensor([2.0]), mask)
    assert torch.allclose(grad, torch.tensor([[-2.0 * 1.1 / 2, -2.0 * 0.9 / 2]]), atol=1e-6)


def test_clipped_tokens_keep_gradient_unlike_ppo():
    # r = 2 on a token with positive advantage: far beyond 1 + 0.28
    logp = torch.tensor([[-1.0]])
    old = logp - math.log(2.0)
    mask = torch.ones(1, 1)
    adv = torch.tensor([1.0])
    out, g_cispo = _grad(LossConfig(name="cispo", is_clip_high=0.28), logp, old, adv, mask)
    assert out.stats["clip_frac"] == 1.0
    # CISPO: weight clipped to 1.28 and detached, gradient -1.28 * A
    assert g_cispo.item() == pytest.approx(-1.28, abs=1e-6)
    _, g_ppo = _grad(LossConfig(name="dapo"), logp, old, adv, mask)
    assert g_ppo.item() == 0.0  # PPO/DAPO: the clipped token contributes no gradient
    _, g_grpo = _grad(LossConfig(name="grpo"), logp, old, adv, mask)
    assert g_grpo.item() == 0.0


def test_no_lower_bound_by_default():
    logp = torch.tensor([[-1.0]])
    old = logp - math.log(0.01)  # r = 0.01
    out, g = _grad(LossConfig(name="cispo"), logp, old, torch.tensor([-1.0]), torch.ones(1, 1))
    assert out.stats["clip_frac"] == 0.0
    assert g.item() == pytest.approx(0.01, rel=1e-4)  # -(0.01 * -1)


def test_masked_form_equals_ppo_implicit_mask():
    torch.manual_seed(0)
    B, T = 6, 5
    logp = -torch.rand(B, T) * 3
    old = logp + (torch.rand(B, T) - 0.5) * 0.8  # ratios spread across both clip edges
    adv = torch.tensor([1.0, -1.0, 0.5, -2.0, 1.5, -0.3])
    mask = (torch.rand(B, T) > 0.2).float()
    masked = LossConfig(name="cispo_masked", is_clip_low=None, is_clip_high=None, eps_low=0.2, eps_high=0.2)
    ppo = LossConfig(name="grpo", eps_low=0.2, eps_high=0.2)
    out_m, g_m = _grad(masked, logp, old, adv, mask)
    out_p, g_p = _grad(ppo, logp, old, adv, mask)
    assert torch.allclose(g_m, g_p, atol=1e-6)
    assert 0 < out_m.stats["clip_frac"] < 1  # the mask really acted on some tokens
    assert out_m.stats["clip_frac"] == pytest.approx(out_p.stats["clip_frac"])


def test_single_update_ratio_is_one_and_clip_never_acts():
    # One update per batch: trainer log-probs == rollout log-probs, so r == 1 and even a tight
    # clip changes nothing (see the losses module docstring).
    logp = -torch.rand(4, 6)
    adv = torch.tensor([1.0, -1.0, 2.0, -2.0])
    mask = torch.ones(4, 6)
    for name in ("cispo", "cispo_masked", "grpo", "dapo"):
        cfg = LossConfig(name=name, is_clip_low=1e-3, is_clip_high=1e-3, eps_low=1e-3, eps_high=1e-3)
        out, g = _grad(cfg, logp, logp.clone(), adv, mask)
        assert out.stats["clip_frac"] == 0.0
        assert out.stats["ratio_max"] == pytest.approx(1.0)
        assert torch.allclose(g, (-adv[:, None] / 24).expand(4, 6), atol=1e-7), name


def test_normalisation_token_sample_mix():
    per_tok = torch.tensor([[1.0, 1.0, 1.0, 1.0], [4.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1, 1, 1], [1, 0, 0, 0]])
    assert aggregate(per_tok, mask, "token").item() == pytest.approx(8 / 5)
    assert aggregate(per_tok, mask, "sample").item() == pytest.approx((1 + 4) / 2)
    assert aggregate(per_tok, mask, "mix", 0.25).item() == pytest.approx(0.25 * 2.5 + 0.75 * 1.6)


def test_group_advantages_and_overlong_penalty():
    assert group_advantages([1, 1, 1, 1]) == [0.0] * 4
    assert group_advantages([0.0, 0.0]) == [0.0, 0.0]
    a = group_advantages([1, 0, 0, 0])
    assert a[0] == pytest.approx(3 / math.sqrt(3)) and a[1] == pytest.approx(-1 / math.sqrt(3))
    assert sum(a) == pytest.approx(0.0, abs=1e-9)
    # DAPO soft overlong: L = 20, C = 4
    assert [overlong_penalty(n, 20, 4) for n in (10, 16, 18, 20, 25)] == [0.0, 0.0, -0.5, -1.0, -1.0]
    assert overlong_penalty(100, 20, 0) == 0.0
