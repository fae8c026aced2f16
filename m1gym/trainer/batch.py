"""Packing rollouts into training tensors, and the trainer-side log-probs of their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..inference.rollout import Rollout


@dataclass
class TokenBatch:
    """Right-padded [prompt + response] rows; position t of the [B, L-1] arrays predicts token t+1.

    input_ids: [B, L]; mask: [B, L-1], 1 where the predicted token is a response token;
    old_logp: [B, L-1] rollout log-probs at those positions; advantages: [B].
    """

    input_ids: torch.Tensor
    mask: torch.Tensor
    old_logp: torch.Tensor
    advantages: torch.Tensor

    @property
    def n_tokens(self) -> int:
        return int(self.mask.sum())

    def select(self, idx: Sequence[int]) -> "TokenBatch":
        ix = torch.as_tensor(list(idx), dtype=torch.long)
        ids = self.input_ids[ix]
        # trim trailing columns that are padding for every selected row
        used = int(((self.mask[ix].sum(0) > 0).nonzero().max()) + 2) if self.mask[ix].any() else ids.shape[1]
        return TokenBatch(ids[:, :used], self.mask[ix][:, :used - 1], self.old_logp[ix][:, :used - 1],
                          self.advantages[ix])


def pack(rollouts: Sequence[Rollout], advantages: Sequence[float] | None = None, pad_id: int = 0) -> TokenBatch:
    B = len(rollouts)
    L = max(len(r.prompt_ids) + len(r.token_ids) for r in rollouts)
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    mask = torch.zeros((B, L - 1), dtype=torch.float32)
    old = torch.zeros((B, L - 1), dtype=torch.float32)
    for i, r in enumerate(rollouts):
        p, n = len(r.prompt_ids), len(r.token_ids)
        ids[i, :p] = torch.tensor(r.prompt_ids, dtype=torch.long)
        if n:
            ids[i, p:p + n] = torch.tensor(r.token_ids, dtype=torch.long)
            mask[i, p - 1:p - 1 + n] = 1.0
            old[i, p - 1:p - 1 + n] = torch.tensor(r.logprobs, dtype=torch.float32)
    adv = torch.tensor(list(advantages) if advantages is not None else [0.0] * B, dtype=torch.float32)
    return TokenBatch(ids, mask, old, adv)


def token_logprobs(model, input_ids: torch.Tensor, temperature: float = 1.0, with_entropy: bool = False):
    """log pi(token t+1 | tokens <= t) for every position: [B, L-1] (and the entropy [B, L-1]).

    Rows are right-padded, so no attention mask is needed: a causal model never looks at the
    padding after a position. Logits come from the FP32 head; temperature as in the rollout.
    """
    dev = next(model.parameters()).device
    input_ids = input_ids.to(dev)
    logits = model(input_ids=input_ids).logits[:, :-1, :].float()
    if temperature > 0 and temperature != 1.0:
        logits = logits / temperature
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, input_ids[:, 1:, None]).squeeze(-1)
    if not with_entropy:
        return logp, None
    with torch.no_grad():
        entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def _prefill_masks(mask2d: torch.Tensor) -> dict:
    from ..inference.rollout import _masks

    return _masks(mask2d, prefill=True)


def _continue_masks(prompt_mask: torch.Tensor, R: int) -> dict:
    """Softmax-layer mask for R response tokens continuing left-padded prompts held in the cache."""
    B, P = prompt_mask.shape
    dev = prompt_mask.device
    keys_prompt = prompt_mask.bool()[:, None, None, :].expand(B, 1, R, P)
    causal = torch.ones((R, R), dtype=torch.bool, device=dev).tril()[None, None].expand(B, 1, R, R)
    keep = torch.cat([keys_prompt, causal], dim=-1)
    neg = torch.finfo(torch.float32).min
    full = torch.zeros(keep.shape, dtype=torch.float32, device=dev).masked_fill(~keep, neg)
    return {"full_attention": full, "linear_attention": None}


def _padded_responses(flat: Sequence[Sequence[int]], pad_id: int, dev: Any):
    """Right-padded response tokens [B, R] and their mask [B, R] on ``dev``."""
    R = max(1, max(len(r) for r in flat))
    resp = torch.full((len(flat), R), pad_id, dtype=torch.long)
    rmask = torch.zeros((len(flat), R), dtype=torch.float32)
    for i, r in enumerate(flat):
        if r:
            resp[i, :len(r)] = torch.tensor(list(r), dtype=torch.long)
            rmask[i, :len(r)] = 1.0
    return resp.to(dev), rmask.to(dev)


def _sampled_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float, with_entropy: bool):
    """log pi of ``tokens`` under float32 ``logits`` [B, R, V] at the rollout's temperature (and entropy)."""
    if temperature > 0 and temperature != 1.0:
        logits = logits / temperature
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, tokens[:, :, None]).squeeze(-1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def group_logprobs(model, prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[Sequence[int]]],
                   temperature: float = 1.0, with_entropy: bool = False, pad_id: int = 0):
    """Trainer log-probs with each prompt processed ONCE for its whole group.

    prompts[g] is the token list of group g, responses[g] its n response token lists (same n for every
    group). The prompts are prefilled together (left padded) with the model's cache, the cache is
    repeated n times, and the responses are run on top of it, with gradients flowing through the
    cache. Same numbers as running every [prompt + response] row (to float rounding) at a fraction
    of the cost when prompts are long and G is large.

    Returns logp [G*n, R] (row g*n + s is response s of group g), entropy or None, and mask [G*n, R].
    """
    from transformers.models.minimax.modeling_minimax import MiniMaxCache

    from ..inference.rollout import _cache_apply, cache_kwarg, left_padded

    dev = next(model.parameters()).device
    n = len(responses[0])
    G = len(prompts)
    ids, pmask, pos = left_padded(prompts, pad_id, dev)
    cache = MiniMaxCache()
    ckw = cache_kwarg()
    out = model(input_ids=ids, attention_mask=_prefill_masks(pmask), position_ids=pos, use_cache=True,
                logits_to_keep=1, **{ckw: cache})
    first_logits = out.logits[:, -1, :].float().repeat_interleave(n, dim=0)  # predicts response token 0
    _cache_apply(cache, lambda t: t.repeat_interleave(n, dim=0), "repeat", n)
    resp, rmask = _padded_responses([r for group in responses for r in group], pad_id, dev)
    R = resp.shape[1]
    plen = torch.tensor([len(p) for p in prompts], dtype=torch.long, device=dev).repeat_interleave(n)
    logits_list = [first_logits[:, None, :]]
    if R > 1:
        rpos = plen[:, None] + torch.arange(R - 1, device=dev)[None, :]
        pm = pmask.repeat_interleave(n, dim=0)
        out2 = model(input_ids=resp[:, :-1], attention_mask=_continue_masks(pm, R - 1), position_ids=rpos,
                     use_cache=True, **{ckw: cache})
        logits_list.append(out2.logits.float())
    logp, entropy = _sampled_logprobs(torch.cat(logits_list, dim=1), resp, temperature, with_entropy)
    return logp, entropy, rmask


def flat_logprobs(model, prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[Sequence[int]]],
                  temperature: float = 1.0, with_entropy: bool = False, pad_id: int = 0):
    """Trainer log-probs from ONE flat forward over right-padded [prompt + response] rows.

    The same contract and numbers as ``group_logprobs`` (to float rounding), without a cache: the
    prompt is recomputed for each response, but every layer runs its whole-sequence path. Feeding
    a prompt cache into a multi-token response pass drops transformers' lightning layers into their
    per-token loop (7.4x slower than this pass on an H200 without fla-core; issue 14).
    """
    flat = [(list(p), list(r)) for p, group in zip(prompts, responses) for r in group]
    B = len(flat)
    L = max(len(p) + len(r) for p, r in flat)
    dev = next(model.parameters()).device
    resp, rmask = _padded_responses([r for _, r in flat], pad_id, dev)
    R = resp.shape[1]
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    for i, (p, r) in enumerate(flat):
        ids[i, :len(p) + len(r)] = torch.tensor(p + r, dtype=torch.long)
    logits = model(input_ids=ids.to(dev)).logits.float()  # rows are right-padded: causal needs no mask
    # response token j of row i is predicted at position len(p_i) - 1 + j
    plen = torch.tensor([len(p) for p, _ in flat], dtype=torch.long, device=dev)
    cols = (plen[:, None] - 1 + torch.arange(R, device=dev)[None, :]).clamp(max=L - 1)
    logits = logits.gather(1, cols[:, :, None].expand(B, R, logits.shape[-1]))
    logp, entropy = _sampled_logprobs(logits, resp, temperature, with_entropy)
    return logp, entropy, rmask
