"""Lightning attention: reference computations and the fused GPU path.

MiniMax's lightning attention is linear attention with a per-head, data-independent exponential
decay and no 1/sqrt(d) scaling (q, k, v come out of a SiLU). Per head with decay slope s:

    S_t = exp(-s) * S_{t-1} + k_t^T v_t        (a d x d state)
    o_t = q_t S_t

which is fla-core's "simple GLA" with log-decay g_gamma = -s and scale 1. transformers evaluates it
with a Python loop over 256-token blocks (intra-block (QK^T * D)V plus an inter-block state); here:

- ``lightning_recurrent``: the recurrence above, token by token (float64 reference for tests);
- ``lightning_blockwise``: the same block algorithm as transformers, any dtype (the CPU fallback);
- ``lightning_fused``: fla-core's chunked Triton kernels (forward and backward) on CUDA;
- ``lightning_decode_step``: the O(1)-per-token state update for decoding.

``enable_fused_lightning(model)`` swaps the fused path into every lightning layer of a
``MiniMaxForCausalLM`` when CUDA and fla-core are present (the ``gpu`` extra); on CPU it leaves the
model alone and reports why.
"""

from __future__ import annotations

import math
import types
from typing import Any

import torch
import torch.nn.functional as F


def minimax_slopes(num_heads: int, layer_idx: int, num_layers: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Per-head decay slopes s_h = 2^(-8h/H) * (1 - l/(L-1) + 1e-5), h = 1..H (as in transformers)."""
    base = 1 / (2 ** (8 / num_heads))
    rate = base ** (torch.arange(num_heads, device=device, dtype=torch.float64) + 1)
    factor = 1 - layer_idx / (num_layers - 1 + 1e-5) + 1e-5
    return (rate * factor).to(dtype)


def lightning_recurrent(q, k, v, slopes, state=None):
    """Token-by-token recurrence. q, k, v: [B, H, T, D]; slopes: [H]. Returns (o, final state)."""
    B, H, T, D = q.shape
    S = torch.zeros(B, H, D, v.shape[-1], dtype=q.dtype, device=q.device) if state is None else state
    decay = torch.exp(-slopes.to(q.dtype))[None, :, None, None]
    out = []
    for t in range(T):
        S = decay * S + k[:, :, t, :, None] * v[:, :, t, None, :]
        out.append(torch.einsum("bhd,bhde->bhe", q[:, :, t], S))
    return torch.stack(out, dim=2), S


def lightning_blockwise(q, k, v, slopes, block_size: int = 256, state=None):
    """The transformers block algorithm (intra-block masked decay + inter-block state). [B, H, T, D]."""
    B, H, T, D = q.shape
    s = slopes.to(q.dtype)[:, None, None]  # [H, 1, 1]
    S = torch.zeros(B, H, D, v.shape[-1], dtype=q.dtype, device=q.device) if state is None else state
    out = []
    for start in range(0, T, block_size):
        end = min(start + block_size, T)
        n = end - start
        qb, kb, vb = q[:, :, start:end], k[:, :, start:end], v[:, :, start:end]
        idx = torch.arange(n, device=q.device, dtype=q.dtype)
        diff = idx[:, None] - idx[None, :]
        diag = torch.where(diff >= 0, torch.exp(-s * diff.clamp(min=0)), torch.zeros((), dtype=q.dtype, device=q.device))
        q_decay = torch.exp(-s * (idx[:, None] + 1))            # [H, n, 1]
        k_decay = torch.exp(-s * (n - 1 - idx[:, None]))        # [H, n, 1]
        intra = torch.matmul(torch.matmul(qb, kb.transpose(-1, -2)) * diag, vb)
        inter = torch.matmul(qb * q_decay, S)
        out.append(intra + inter)
        S = S * torch.exp(-s * n) + torch.matmul((kb * k_decay).transpose(-1, -2), vb)
    return torch.cat(out, dim=2), S


def fla_available() -> bool:
    try:
        import fla.ops.simple_gla  # noqa: F401
    except Exception:
        return False
    return torch.cuda.is_available()


def lightning_fused(q, k, v, slopes, state=None, output_final_state: bool = True):
    """fla-core's chunked simple-GLA kernel configured for MiniMax. Inputs [B, H, T, D] (transposed for
    fla's [B, T, H, D]); differentiable; returns (o [B, H, T, D], final state [B, H, D, D] or None)."""
    from fla.ops.simple_gla import chunk_simple_gla

    o, S = chunk_simple_gla(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                            g_gamma=-slopes.float(), scale=1.0, initial_state=state,
                            output_final_state=output_final_state)
    return o.transpose(1, 2), S


def lightning_decode_step(q, k, v, slopes, state):
    """One decoding step (T = 1): constant work whatever the context length. [B, H, 1, D]."""
    decay = torch.exp(-slopes.to(state.dtype))[None, :, None, None]
    state = decay * state + k.transpose(-1, -2).to(state.dtype) @ v.to(state.dtype)
    return (q.to(state.dtype) @ state).to(q.dtype), state


# ---- swapping the fused path into transformers' MiniMax -----------------------------------------

def _fused_forward(self, hidden_states, position_embeddings=None, attention_mask=None, cache=None, **kwargs):
    """MiniMaxLightningAttention.forward with the fused kernels (same inputs, outputs and cache)."""
    from transformers.models.minimax.modeling_minimax import apply_mask_to_padding_states

    B, T, _ = hidden_states.shape
    qkv = self.act_fn(self.qkv_proj(hidden_states))
    qkv = apply_mask_to_padding_states(qkv, attention_mask)
    qkv = qkv.reshape(B, T, self.num_attention_heads, 3 * self.head_dim)
    q, k, v = (x.transpose(1, 2) for x in torch.split(qkv, self.head_dim, dim=3))
    slopes = self.slope_rate.view(-1)
    state = cache.get_linear_cache(self.layer_idx) if cache is not None else None
    if state is not None and T == 1:
        o, state = lightning_decode_step(q, k, v, slopes, state)
    else:
        o, state = lightning_fused(q, k, v, slopes, state=None if state is None else state.float())
        state = state.to(q.dtype) if state is not None else None
    o = o.transpose(1, 2).reshape(B, T, self.num_attention_heads * self.head_dim).to(hidden_states.dtype)
    o = self.norm(o)
    o = F.sigmoid(self.output_gate(hidden_states)) * o
    o = self.out_proj(o)
    if cache is not None:
        cache.set_linear_cache(self.layer_idx, state)
    return o, state


def enable_fused_lightning(model: Any, force: bool = False) -> tuple[bool, str]:
    """Swap the fused path into every lightning layer. Returns (enabled, reason)."""
    from transformers.models.minimax.modeling_minimax import MiniMaxLightningAttention

    if not force and not fla_available():
        return False, "fused lightning attention needs CUDA and fla-core (pip install 'm1gym[gpu]'); using the loop"
    n = 0
    for module in model.modules():
        if isinstance(module, MiniMaxLightningAttention):
            module.forward = types.MethodType(_fused_forward, module)
            n += 1
    return True, f"fused lightning attention in {n} layers"


def relative_error(a: torch.Tensor, ref: torch.Tensor) -> float:
    """||a - ref|| / ||ref|| in float64."""
    a, ref = a.double(), ref.double()
    return float(torch.linalg.vector_norm(a - ref) / torch.linalg.vector_norm(ref).clamp_min(1e-300))


