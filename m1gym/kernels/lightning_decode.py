"""One decoding step of lightning attention, fused: the state update and the output in one kernel.

Per (row b, head h), with decay ``a_h = exp(-s_h)``:

    S <- a_h * S + k^T v          (S: [d_k, d_v], float32, updated in place)
    o  = q S

The Triton kernel (CUDA) reads q, k, v once (strided views into the qkv projection are fine), reads
and writes the float32 state once, and writes o: one launch per layer instead of transformers'
handful of small ops. ``lightning_decode_torch`` is the same function in torch ops (the CPU path
and the reference of tests); ``lightning_decode`` picks one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

try:  # Triton is only on GPU machines (the gpu extra); the CPU path never imports it
    import triton
    import triton.language as tl
except Exception:  # pragma: no cover - CPU machines
    triton = None
    tl = None


def lightning_decode_torch(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, decay: torch.Tensor,
                           state: torch.Tensor, silu: bool = False) -> torch.Tensor:
    """q, k, v: [B, H, D] (any strides); decay: [H] float32 (exp(-slope)); state: [B, H, Dk, Dv]
    float32, updated in place. Returns o [B, H, Dv] in q's dtype (computed in float32). ``silu``:
    q, k, v are the projection's raw output and get MiniMax's SiLU first (in their dtype)."""
    if silu:
        q, k, v = F.silu(q), F.silu(k), F.silu(v)
    state.mul_(decay[None, :, None, None]).add_(k.float()[..., :, None] * v.float()[..., None, :])
    return torch.einsum("bhd,bhde->bhe", q.float(), state).to(q.dtype)


if triton is not None:
    @triton.jit
    def _lightning_decode_kernel(Q, K, V, S, O, DECAY,
                                 s_qb, s_qh, s_kb, s_kh, s_vb, s_vh, s_sb, s_sh, s_ob, s_oh,
                                 H, DK: tl.constexpr, DV: tl.constexpr,
                                 BLOCK_K: tl.constexpr, BLOCK_V: tl.constexpr, SILU: tl.constexpr,
                                 IN_BF16: tl.constexpr):
        pid_bh = tl.program_id(0)
        pid_v = tl.program_id(1)
        b = pid_bh // H
        h = pid_bh % H
        offs_k = tl.arange(0, BLOCK_K)
        offs_v = pid_v * BLOCK_V + tl.arange(0, BLOCK_V)
        mk = offs_k < DK
        mv = offs_v < DV
        q = tl.load(Q + b * s_qb + h * s_qh + offs_k, mask=mk, other=0.0).to(tl.float32)
        k = tl.load(K + b * s_kb + h * s_kh + offs_k, mask=mk, other=0.0).to(tl.float32)
        v = tl.load(V + b * s_vb + h * s_vh + offs_v, mask=mv, other=0.0).to(tl.float32)
        if SILU:  # x * sigmoid(x), rounded to the input dtype as torch's silu output is
            q = q / (1.0 + tl.exp(-q))
            k = k / (1.0 + tl.exp(-k))
            v = v / (1.0 + tl.exp(-v))
            if IN_BF16:
                q = q.to(tl.bfloat16).to(tl.float32)
                k = k.to(tl.bfloat16).to(tl.float32)
                v = v.to(tl.bfloat16).to(tl.float32)
        a = tl.load(DECAY + h)
        s_ptrs = S + b * s_sb + h * s_sh + offs_k[:, None] * DV + offs_v[None, :]
        m2 = mk[:, None] & mv[None, :]
        s = tl.load(s_ptrs, mask=m2, other=0.0)
        s = s * a + k[:, None] * v[None, :]
        tl.store(s_ptrs, s, mask=m2)
        o = tl.sum(q[:, None] * s, axis=0)
        tl.store(O + b * s_ob + h * s_oh + offs_v, o.to(O.dtype.element_ty), mask=mv)


def lightning_decode_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, decay: torch.Tensor,
                            state: torch.Tensor, out: torch.Tensor | None = None, silu: bool = False) -> torch.Tensor:
    """The fused kernel (CUDA). Same contract as ``lightning_decode_torch``; the state must be float32
    and contiguous in its last two dims; q, k, v need unit stride in their last dim."""
    B, H, DK = q.shape
    DV = v.shape[-1]
    assert state.dtype == torch.float32 and state.stride(-1) == 1 and state.stride(-2) == DV
    assert q.stride(-1) == 1 and k.stride(-1) == 1 and v.stride(-1) == 1
    if out is None:
        out = torch.empty((B, H, DV), dtype=q.dtype, device=q.device)
    block_k = triton.next_power_of_2(DK)
    block_v = min(triton.next_power_of_2(DV), max(16, 8192 // block_k))  # <= 8K state elements a program
    grid = (B * H, triton.cdiv(DV, block_v))
    _lightning_decode_kernel[grid](q, k, v, state, out, decay,
                                   q.stride(0), q.stride(1), k.stride(0), k.stride(1), v.stride(0), v.stride(1),
                                   state.stride(0), state.stride(1), out.stride(0), out.stride(1),
                                   H, DK=DK, DV=DV, BLOCK_K=block_k, BLOCK_V=block_v, SILU=silu,
                                   IN_BF16=q.dtype == torch.bfloat16,
                                   num_warps=4 if block_k * block_v >= 4096 else 2)
    return out


def triton_available(device: torch.device | str) -> bool:
    return triton is not None and torch.device(device).type == "cuda"


def lightning_decode(q, k, v, decay, state, use_triton: bool | None = None):
    """The fused kernel on CUDA when Triton is present, else the torch ops."""
    if use_triton is None:
        use_triton = triton_available(q.device)
    if use_triton:
        return lightning_decode_triton(q, k, v, decay, state)
    return lightning_decode_torch(q, k, v, decay, state)
