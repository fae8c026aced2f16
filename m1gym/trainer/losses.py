"""Policy losses of the M1 report and its baselines, selected by ``LossConfig.name``.

Notation (M1 Section 3.1): for response i of a group and token t,
    r_it = pi_theta(o_it | q, o_i,<t) / pi_old(o_it | q, o_i,<t)      (importance ratio)
    A_it = group-relative advantage of response i (Eq. 2)
pi_old is the ROLLOUT policy: ``old_logp`` are the log-probs the rollout engine recorded while
sampling, so r_it measures how far the trainer has moved since the batch was generated (plus any
train/inference mismatch). No separate truncated-IS correction is applied on top (it would count
the same ratio twice).

Important: with ONE optimizer update per generation batch, the trainer's parameters at that update
are exactly the rollout parameters, so r_it == 1 (up to engine/trainer numerics) and no clip or mask
ever acts: every loss below reduces to REINFORCE with group-normalised advantages. The bounds only
matter with several off-policy minibatch updates per batch (``trainer.updates_per_batch``; M1 used 16).

Bounds are OFFSETS from 1 (``is_clip_high = 0.28`` means r is capped at 1.28), never absolute caps.

Losses (all return a scalar to MINIMISE, i.e. minus the objective):
    cispo         Eq. 4-5:  J = 1/sum|o_i| * sum_i sum_t sg(clip(r_it, 1-is_clip_low, 1+is_clip_high)) A_it log pi_theta
                  the clipped weight is detached, so EVERY token keeps a gradient (A * w * grad log pi),
                  unlike PPO where a clipped token's gradient is zero.
    cispo_masked  Eq. 6-7:  the same sum times a token mask M_it = 0 if (A > 0 and r > 1+eps_high) or
                  (A < 0 and r < 1-eps_low), else 1: with no weight clip this is PPO's implicit
                  trust region written as a mask.
    grpo          PPO clipped surrogate min(r A, clip(r, 1-0.2, 1+0.2) A) (GRPO without its KL term).
    dapo          the same with clip-higher (1-0.2, 1+0.28), token-level normalisation.

Normalisation (``LossConfig.norm``): ``token`` divides the batch's token sum by the number of
response tokens in the batch (1 / sum_i |o_i|, Eq. 4); ``sample`` averages each response over its
own tokens first (GRPO's original); ``mix`` = sample_weight * sample + (1 - sample_weight) * token
(M1's long-window stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

LOG_RATIO_LIMIT = 20.0

DEFAULT_EPS = {"grpo": (0.2, 0.2), "dapo": (0.2, 0.28), "cispo_masked": (0.2, 0.28), "cispo": (0.2, 0.28)}


@dataclass
class LossOutput:
    loss: torch.Tensor
    stats: dict[str, float]


def _bounds(cfg: Any) -> tuple[float, float]:
    lo, hi = DEFAULT_EPS[cfg.name]
    return (cfg.eps_low if cfg.eps_low is not None else lo, cfg.eps_high if cfg.eps_high is not None else hi)


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, norm: str = "token", sample_weight: float = 0.5) -> torch.Tensor:
    """Reduce a [B, T] per-token loss over the response tokens (mask 1)."""
    masked = per_token * mask
    token_level = masked.sum() / mask.sum().clamp(min=1.0)  # 1 / sum_i |o_i| (Eq. 4)
    if norm == "token":
        return token_level
    lengths = mask.sum(dim=1).clamp(min=1.0)
    rows = (mask.sum(dim=1) > 0).float()
    sample_level = ((masked.sum(dim=1) / lengths) * rows).sum() / rows.sum().clamp(min=1.0)
    if norm == "sample":
        return sample_level
    if norm == "mix":
        return sample_weight * sample_level + (1.0 - sample_weight) * token_level
    raise ValueError(f"loss.norm must be token, sample or mix, got {norm!r}")


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                cfg: Any) -> LossOutput:
    """The configured loss over a [B, T] minibatch.

    logp:       trainer log pi_theta of the sampled tokens (requires grad)
    old_logp:   rollout engine's log-probs of the same tokens (pi_old)
    advantages: [B] (one per response) or [B, T]
    mask:       [B, T], 1 on response tokens
    """
    mask = mask.to(logp.dtype)
    adv = advantages if advantages.dim() == 2 else advantages[:, None].expand_as(logp)
    adv = adv.to(logp.dtype)
    log_ratio = (logp - old_logp.to(logp.dtype)) * mask
    # exp() of a log-ratio past ~88 overflows float32: with A < 0 the PPO surrogate r * A becomes -inf
    # and one token poisons the step. |log r| <= 20 (r in [2e-9, 5e8]) is far outside any clip bound,
    # so the clamp changes no finite loss that a clip would not already have cut.
    log_ratio = log_ratio.clamp(-LOG_RATIO_LIMIT, LOG_RATIO_LIMIT)
    ratio = torch.exp(log_ratio)  # r_it (Eq. 5 numerator / denominator)
    name = cfg.name
    n_tok = mask.sum().clamp(min=1.0)

    if name in ("cispo", "cispo_masked"):
        lo = 1.0 - cfg.is_clip_low if cfg.is_clip_low is not None else None
        hi = 1.0 + cfg.is_clip_high if cfg.is_clip_high is not None else None
        weight = (torch.clamp(ratio, min=lo, max=hi) if (lo is not None or hi is not None) else ratio).detach()  # sg(r^_it), Eq. 5
        clipped = torch.zeros_like(mask, dtype=torch.bool)
        if lo is not None:
            clipped |= ratio < lo
        if hi is not None:
            clipped |= ratio > hi
        objective = weight * adv * logp  # Eq. 4: sg(r^) * A * log pi_theta
        if name == "cispo_masked":
            eps_low, eps_high = _bounds(cfg)
            # Eq. 7: M_it = 0 if (A > 0 and r > 1 + eps_high) or (A < 0 and r < 1 - eps_low)
            drop = ((adv > 0) & (ratio > 1.0 + eps_high)) | ((adv < 0) & (ratio < 1.0 - eps_low))
            objective = objective * (~drop).to(objective.dtype)  # Eq. 6
            clipped = clipped | drop
        per_token = -objective
    elif name in ("grpo", "dapo"):
        eps_low, eps_high = _bounds(cfg)
        unclipped = ratio * adv
        clipped_obj = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
        per_token = -torch.minimum(unclipped, clipped_obj)  # PPO surrogate (GRPO Eq. 3 without KL)
        # tokens whose gradient the clip removes
        clipped = ((adv > 0) & (ratio > 1.0 + eps_high)) | ((adv < 0) & (ratio < 1.0 - eps_low))
    else:
        raise ValueError(f"unknown loss {name!r}; choose cispo, cispo_masked, grpo or dapo")

    loss = aggregate(per_token, mask, cfg.norm, cfg.sample_weight)
    with torch.no_grad():
        m = mask.bool()
        r = ratio[m]
        stats = {
            "clip_frac": float((clipped & m).sum() / n_tok),
            "ratio_mean": float(r.mean()) if r.numel() else 1.0,
            "ratio_max": float(r.max()) if r.numel() else 1.0,
            "ratio_min": float(r.min()) if r.numel() else 1.0,
            # k3 estimate of KL(pi_old || pi_theta) on these tokens (Schulman): (r - 1) - log r >= 0
            "kl_old": float(((r - 1.0) - log_ratio[m]).mean()) if r.numel() else 0.0,
        }
    return LossOutput(loss, stats)
