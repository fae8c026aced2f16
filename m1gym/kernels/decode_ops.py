"""Fused element-wise kernels of the decode step (m1gym.inference.decode), each with the torch ops
it replaces as the fallback (CPU) and the reference of tests.

A decode step at small batch is bound by the number of kernels, not by bytes or FLOPs (issue 18:
~880 small kernels made a ~2.2 ms floor on an H200). These kernels each replace 5-10 of them and
reproduce the rounding of the torch sequence: every intermediate the torch code materialises in
bf16 is rounded to bf16 here too (``_rnd``), so the fused step samples from the same distribution
as the trainer's forward to float32 accumulation order.

* ``add_rms``: MiniMax's residual mix then the next RMSNorm: ``rms(res * alpha + a * beta) * w``;
* ``rms_gate``: the lightning layer's output norm and gate: ``sigmoid(g) * rms(o) * w``;
* ``moe_route``: softmax over the router logits, top-k, renormalised, scattered into [B, E];
* ``swiglu``: ``silu(gate) * up`` over the experts' fused gate/up output;
* ``router_route``: the router GEMM and ``moe_route`` in one kernel;
* ``combine_add_rms``: the experts' outputs weighted by the routing weights and summed
  (``moe_combine_torch``), then ``add_rms``, in one kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

try:
    import triton
    import triton.language as tl
except Exception:  # pragma: no cover - CPU machines
    triton = None
    tl = None

_CODES = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}


def _code(dt: torch.dtype) -> int:
    return _CODES[dt]


# ---- torch references (the CPU path) ---------------------------------------------------------------

def rms_torch(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    """MiniMaxRMSNorm's function."""
    xf = x.to(torch.float32)
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return w * xf.to(x.dtype)


def add_rms_torch(res, a, alpha: float, beta: float, w, eps: float):
    h = res if a is None else res * alpha + a * beta
    return rms_torch(h, w, eps)


def rms_gate_torch(o, x_dtype, w, eps: float, g, out_dtype):
    o = rms_torch(o.to(x_dtype), w, eps)
    return (torch.sigmoid(g) * o).to(out_dtype)


def moe_topk(logits, top_k: int):
    """Each row's top-k experts of softmax(logits) and their weights renormalised to sum to 1."""
    probs = torch.softmax(logits.float(), dim=-1)
    top_v, top_i = torch.topk(probs, top_k, dim=-1)
    return top_v / top_v.sum(-1, keepdim=True), top_i


def moe_route_torch(logits, top_k: int):
    top_v, top_i = moe_topk(logits, top_k)
    return torch.zeros(logits.shape, dtype=torch.float32, device=logits.device).scatter(1, top_i, top_v)


def swiglu_torch(gu, act=F.silu):
    g, u = gu.chunk(2, dim=-1)
    return act(g) * u


def moe_combine_torch(y, comb, out_dtype):
    return torch.einsum("ebd,be->bd", y.float(), comb).to(out_dtype)


# ---- Triton ------------------------------------------------------------------------------------------

if triton is not None:
    @triton.jit
    def _rnd(x, CODE: tl.constexpr):
        y = x
        if CODE == 1:
            y = x.to(tl.bfloat16).to(tl.float32)
        if CODE == 2:
            y = x.to(tl.float16).to(tl.float32)
        return y

    @triton.jit
    def _mix(h, a, alpha, beta, RES_C: tl.constexpr, A_C: tl.constexpr, H_C: tl.constexpr):
        """res * alpha + a * beta with torch's roundings of each product and the sum."""
        return _rnd(_rnd(h * alpha, RES_C) + _rnd(a * beta, A_C), H_C)

    @triton.jit
    def _norm_store(h, W, OUT, row, s_out, offs, m, eps, N, H_C: tl.constexpr):
        """RMSNorm of the row h (float32 values of dtype H_C) times W, stored at OUT's row."""
        var = tl.sum(h * h, axis=0) / N
        y = _rnd(h * tl.math.rsqrt(var + eps), H_C)
        w = tl.load(W + offs, mask=m, other=0.0).to(tl.float32)
        tl.store(OUT + row * s_out + offs, (w * y).to(OUT.dtype.element_ty), mask=m)

    @triton.jit
    def _topk_weights(x, m, offs, K: tl.constexpr):
        """softmax over the row's router logits x, its top-K kept and renormalised, zeros elsewhere."""
        x = tl.where(m, x, -float("inf"))
        x = x - tl.max(x, axis=0)
        e = tl.where(m, tl.exp(x), 0.0)
        p = e / tl.sum(e, axis=0)
        rem = tl.where(m, p, -1.0)
        sel = tl.zeros_like(p)
        total = 0.0
        for _ in tl.static_range(K):
            mx = tl.max(rem, axis=0)
            idx = tl.argmax(rem, axis=0)
            sel = tl.where(offs == idx, mx, sel)
            rem = tl.where(offs == idx, -1.0, rem)
            total += mx
        return sel / total

    @triton.jit
    def _combine_row(Y, C, row, E, s_ye, s_yb, s_c, offs, m):
        """sum_e C[row, e] * Y[e, row, offs] in float32."""
        acc = tl.zeros(offs.shape, dtype=tl.float32)
        for e in range(E):
            c = tl.load(C + row * s_c + e)
            y = tl.load(Y + e * s_ye + row * s_yb + offs, mask=m, other=0.0).to(tl.float32)
            acc += c * y
        return acc

    @triton.jit
    def _add_rms_kernel(RES, A, W, OUT, alpha, beta, eps, N, s_res, s_a, s_out,
                        HAS_A: tl.constexpr, RES_C: tl.constexpr, A_C: tl.constexpr, H_C: tl.constexpr,
                        BLOCK: tl.constexpr):
        row = tl.program_id(0)
        offs = tl.arange(0, BLOCK)
        m = offs < N
        h = tl.load(RES + row * s_res + offs, mask=m, other=0.0).to(tl.float32)
        if HAS_A:
            a = tl.load(A + row * s_a + offs, mask=m, other=0.0).to(tl.float32)
            h = _mix(h, a, alpha, beta, RES_C, A_C, H_C)
        _norm_store(h, W, OUT, row, s_out, offs, m, eps, N, H_C)

    @triton.jit
    def _rms_gate_kernel(O, W, G, OUT, eps, N, s_o, s_g, s_out,
                         X_C: tl.constexpr, O3_C: tl.constexpr, G_C: tl.constexpr, P_C: tl.constexpr,
                         BLOCK: tl.constexpr):
        row = tl.program_id(0)
        offs = tl.arange(0, BLOCK)
        m = offs < N
        o = _rnd(tl.load(O + row * s_o + offs, mask=m, other=0.0).to(tl.float32), X_C)
        var = tl.sum(o * o, axis=0) / N
        y = _rnd(o * tl.math.rsqrt(var + eps), X_C)
        w = tl.load(W + offs, mask=m, other=0.0).to(tl.float32)
        o3 = _rnd(w * y, O3_C)
        g = tl.load(G + row * s_g + offs, mask=m, other=0.0).to(tl.float32)
        g = _rnd(1.0 / (1.0 + tl.exp(-g)), G_C)
        tl.store(OUT + row * s_out + offs, _rnd(g * o3, P_C).to(OUT.dtype.element_ty), mask=m)

    @triton.jit
    def _route_kernel(L, OUT, E, s_l, s_out, K: tl.constexpr, BLOCK_E: tl.constexpr):
        row = tl.program_id(0)
        offs = tl.arange(0, BLOCK_E)
        m = offs < E
        x = tl.load(L + row * s_l + offs, mask=m, other=-float("inf")).to(tl.float32)
        tl.store(OUT + row * s_out + offs, _topk_weights(x, m, offs, K), mask=m)

    @triton.jit
    def _router_route_kernel(X, WR, OUT, E, N, s_x, s_w, s_out, X_C: tl.constexpr, L_C: tl.constexpr,
                             K: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_N: tl.constexpr):
        # the router GEMM (x in the weight's dtype, float32 sums, logits rounded to that dtype as
        # F.linear's output is) and the routing of _route_kernel, one program a row
        row = tl.program_id(0)
        offs_e = tl.arange(0, BLOCK_E)
        me = offs_e < E
        acc = tl.zeros([BLOCK_E], dtype=tl.float32)
        for n0 in range(0, N, BLOCK_N):
            offs_n = n0 + tl.arange(0, BLOCK_N)
            mn = offs_n < N
            x = _rnd(tl.load(X + row * s_x + offs_n, mask=mn, other=0.0).to(tl.float32), X_C)
            w = tl.load(WR + offs_e[:, None] * s_w + offs_n[None, :], mask=me[:, None] & mn[None, :],
                        other=0.0).to(tl.float32)
            acc += tl.sum(w * x[None, :], axis=1)
        tl.store(OUT + row * s_out + offs_e, _topk_weights(_rnd(acc, L_C), me, offs_e, K), mask=me)

    @triton.jit
    def _combine_add_rms_kernel(RES, Y, C, W, OUT, alpha, beta, eps, E, N, s_res, s_ye, s_yb, s_c, s_out,
                                RES_C: tl.constexpr, A_C: tl.constexpr, H_C: tl.constexpr, BLOCK: tl.constexpr):
        # the experts' weighted sum (float32, rounded to the MoE output dtype) then add_rms, one program a row
        row = tl.program_id(0)
        offs = tl.arange(0, BLOCK)
        m = offs < N
        a = _rnd(_combine_row(Y, C, row, E, s_ye, s_yb, s_c, offs, m), A_C)
        h = tl.load(RES + row * s_res + offs, mask=m, other=0.0).to(tl.float32)
        _norm_store(_mix(h, a, alpha, beta, RES_C, A_C, H_C), W, OUT, row, s_out, offs, m, eps, N, H_C)

    @triton.jit
    def _swiglu_kernel(GU, OUT, I, s_gu, s_out, C: tl.constexpr, BLOCK: tl.constexpr):
        row = tl.program_id(0)
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        m = offs < I
        g = tl.load(GU + row * s_gu + offs, mask=m, other=0.0).to(tl.float32)
        u = tl.load(GU + row * s_gu + I + offs, mask=m, other=0.0).to(tl.float32)
        a = _rnd(g / (1.0 + tl.exp(-g)), C)
        tl.store(OUT + row * s_out + offs, (a * u).to(OUT.dtype.element_ty), mask=m)


def _row_ok(t: torch.Tensor) -> bool:
    return t.dim() == 2 and t.stride(-1) == 1


def add_rms(res, a, alpha: float, beta: float, w, eps: float, use_triton: bool):
    """rms(res * alpha + a * beta) * w with torch's dtypes and roundings (a None: rms(res) * w)."""
    if not use_triton:
        return add_rms_torch(res, a, alpha, beta, w, eps)
    h_dt = res.dtype if a is None else torch.promote_types(res.dtype, a.dtype)
    out = torch.empty(res.shape, dtype=torch.promote_types(w.dtype, h_dt), device=res.device)
    N = res.shape[-1]
    a_ = res if a is None else a
    _add_rms_kernel[(res.shape[0],)](res, a_, w, out, float(alpha), float(beta), float(eps), N,
                                     res.stride(0), a_.stride(0), out.stride(0), HAS_A=a is not None,
                                     RES_C=_code(res.dtype), A_C=_code(a_.dtype), H_C=_code(h_dt),
                                     BLOCK=triton.next_power_of_2(N), num_warps=4)
    return out


def rms_gate(o, x_dtype, w, eps: float, g, out_dtype, use_triton: bool):
    """(sigmoid(g) * rms(o.to(x_dtype)) * w).to(out_dtype) with torch's roundings."""
    if not use_triton:
        return rms_gate_torch(o, x_dtype, w, eps, g, out_dtype)
    o3_dt = torch.promote_types(w.dtype, x_dtype)
    p_dt = torch.promote_types(g.dtype, o3_dt)
    out = torch.empty(o.shape, dtype=out_dtype, device=o.device)
    N = o.shape[-1]
    _rms_gate_kernel[(o.shape[0],)](o, w, g, out, float(eps), N, o.stride(0), g.stride(0), out.stride(0),
                                    X_C=_code(x_dtype), O3_C=_code(o3_dt), G_C=_code(g.dtype), P_C=_code(p_dt),
                                    BLOCK=triton.next_power_of_2(N), num_warps=4)
    return out


def moe_route(logits, top_k: int, use_triton: bool):
    """[B, E] float32 routing weights: the top-k of softmax(logits), renormalised, zeros elsewhere."""
    if not use_triton:
        return moe_route_torch(logits, top_k)
    B, E = logits.shape
    out = torch.empty((B, E), dtype=torch.float32, device=logits.device)
    _route_kernel[(B,)](logits, out, E, logits.stride(0), out.stride(0), K=top_k,
                        BLOCK_E=max(2, triton.next_power_of_2(E)), num_warps=1)
    return out


def router_route(x, wr, top_k: int, use_triton: bool):
    """``moe_route`` of the router logits ``F.linear(x.to(wr.dtype), wr)``: on Triton the router GEMM
    and the routing are one kernel (E is a handful of experts: a GEMM launch for [B, E] costs more
    than the sums)."""
    if not use_triton or wr.dtype not in _CODES or x.stride(-1) != 1 or wr.stride(-1) != 1:
        return moe_route(F.linear(x.to(wr.dtype), wr), top_k, use_triton)
    B, N = x.shape
    E = wr.shape[0]
    out = torch.empty((B, E), dtype=torch.float32, device=x.device)
    block_e = max(2, triton.next_power_of_2(E))
    _router_route_kernel[(B,)](x, wr, out, E, N, x.stride(0), wr.stride(0), out.stride(0), X_C=_code(wr.dtype),
                               L_C=_code(wr.dtype), K=top_k, BLOCK_E=block_e,
                               BLOCK_N=max(16, min(triton.next_power_of_2(N), 4096 // block_e)), num_warps=4)
    return out


def combine_add_rms(res, y, comb, moe_dtype, alpha: float, beta: float, w, eps: float, use_triton: bool):
    """``add_rms(res, moe_combine_torch(y, comb, moe_dtype), alpha, beta, w, eps)``: the MoE's weighted sum
    of the experts' outputs, MiniMax's residual mix and the next RMSNorm; one kernel on Triton."""
    if not use_triton:
        return add_rms_torch(res, moe_combine_torch(y, comb, moe_dtype), alpha, beta, w, eps)
    E, B, N = y.shape
    h_dt = torch.promote_types(res.dtype, moe_dtype)
    out = torch.empty((B, N), dtype=torch.promote_types(w.dtype, h_dt), device=res.device)
    _combine_add_rms_kernel[(B,)](res, y, comb, w, out, float(alpha), float(beta), float(eps), E, N,
                                  res.stride(0), y.stride(0), y.stride(1), comb.stride(0), out.stride(0),
                                  RES_C=_code(res.dtype), A_C=_code(moe_dtype), H_C=_code(h_dt),
                                  BLOCK=triton.next_power_of_2(N), num_warps=4)
    return out


def _is_silu(act) -> bool:
    """F.silu itself or a module computing it (transformers' experts hold a ``SiLUActivation``)."""
    return act is F.silu or isinstance(act, torch.nn.SiLU) or type(act).__name__ == "SiLUActivation"


def swiglu(gu, use_triton: bool, act=F.silu):
    """silu(gu[..., :I]) * gu[..., I:] over [E, B, 2I]."""
    if not use_triton or not _is_silu(act):
        return swiglu_torch(gu, act)
    E, B, I2 = gu.shape
    I = I2 // 2
    g2 = gu.reshape(E * B, I2)
    out = torch.empty((E, B, I), dtype=gu.dtype, device=gu.device)
    o2 = out.view(E * B, I)
    block = min(1024, triton.next_power_of_2(I))
    _swiglu_kernel[(E * B, triton.cdiv(I, block))](g2, o2, I, g2.stride(0), o2.stride(0), C=_code(gu.dtype),
                                                  BLOCK=block, num_warps=4)
    return out


# ---- decode attention of the softmax layers: split-K over the KV (flash-decoding) --------------------

def decode_attention_torch(q, kc, vc, pos, Lb: int, scale: float):
    """q [B, kvH, G, D] (a KV head's query heads as rows), the slots' K/V [>=B, kvH, L, D], pos [B]:
    each row attends to KV positions 0..pos. SDPA over the first Lb positions, masked."""
    B = q.shape[0]
    keep = (torch.arange(Lb, device=pos.device)[None, :] <= pos[:, None])[:, None, None, :]
    return F.scaled_dot_product_attention(q, kc[:B, :, :Lb], vc[:B, :, :Lb], attn_mask=keep, scale=scale)


if triton is not None:
    @triton.jit
    def _attn_split_kernel(Q, K, V, POS, M_OUT, L_OUT, ACC, scale,
                           s_qb, s_qh, s_qg, s_kb, s_kh, s_kl, s_vb, s_vh, s_vl,
                           KVH, G, CHUNK, NS,
                           D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_N: tl.constexpr):
        pid = tl.program_id(0)
        sp = tl.program_id(1)
        b = pid // KVH
        h = pid % KVH
        length = tl.load(POS + b) + 1
        start = sp * CHUNK
        end = tl.minimum(start + CHUNK, length)
        offs_g = tl.arange(0, BLOCK_G)
        offs_d = tl.arange(0, D)
        mg = offs_g < G
        q = tl.load(Q + b * s_qb + h * s_qh + offs_g[:, None] * s_qg + offs_d[None, :], mask=mg[:, None], other=0.0)
        m_i = tl.full([BLOCK_G], -float("inf"), dtype=tl.float32)
        l_i = tl.zeros([BLOCK_G], dtype=tl.float32)
        acc = tl.zeros([BLOCK_G, D], dtype=tl.float32)
        for n0 in range(start, end, BLOCK_N):
            offs_n = n0 + tl.arange(0, BLOCK_N)
            mn = offs_n < end
            k = tl.load(K + b * s_kb + h * s_kh + offs_n[:, None] * s_kl + offs_d[None, :], mask=mn[:, None], other=0.0)
            s = tl.dot(q, tl.trans(k)) * scale
            s = tl.where(mn[None, :], s, -float("inf"))
            m_new = tl.maximum(m_i, tl.max(s, axis=1))
            alpha = tl.exp(m_i - m_new)
            p = tl.exp(s - m_new[:, None])
            l_i = l_i * alpha + tl.sum(p, axis=1)
            v = tl.load(V + b * s_vb + h * s_vh + offs_n[:, None] * s_vl + offs_d[None, :], mask=mn[:, None], other=0.0)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
        base = (pid * NS + sp) * BLOCK_G
        tl.store(M_OUT + base + offs_g, m_i)
        tl.store(L_OUT + base + offs_g, l_i)
        tl.store(ACC + (base + offs_g[:, None]) * D + offs_d[None, :], acc)


def decode_attention(q, kc, vc, pos, Lb: int, scale: float, use_triton: bool, n_sm: int = 132):
    """Softmax attention of one new token per row over its slot's KV (positions 0..pos). Triton:
    split-K (each program a chunk of one row's keys, online softmax), partials merged in torch; the
    work follows each row's own length, not the bucket's."""
    if not use_triton or kc.dtype not in (torch.bfloat16, torch.float16):
        return decode_attention_torch(q, kc, vc, pos, Lb, scale)
    B, KVH, G, D = q.shape
    BLOCK_N, BLOCK_G = 64, 16
    ns = max(1, min(Lb // 256, -(-4 * n_sm // (B * KVH))))
    chunk = -(-Lb // ns)
    chunk = -(-chunk // BLOCK_N) * BLOCK_N
    ns = -(-Lb // chunk)
    q = q.to(kc.dtype)
    m = torch.empty((B * KVH, ns, BLOCK_G), dtype=torch.float32, device=q.device)
    l = torch.empty_like(m)
    acc = torch.empty((B * KVH, ns, BLOCK_G, D), dtype=torch.float32, device=q.device)
    _attn_split_kernel[(B * KVH, ns)](q, kc, vc, pos, m, l, acc, float(scale),
                                      q.stride(0), q.stride(1), q.stride(2), kc.stride(0), kc.stride(1), kc.stride(2),
                                      vc.stride(0), vc.stride(1), vc.stride(2), KVH, G, chunk, ns,
                                      D=D, BLOCK_G=BLOCK_G, BLOCK_N=BLOCK_N, num_warps=4)
    mx = m.max(1, keepdim=True).values
    w = torch.exp(m - mx)  # a chunk past the row's length has m = -inf: weight 0
    o = (acc * w[..., None]).sum(1) / (l * w).sum(1)[..., None]
    return o[:, :G].reshape(B, KVH, G, D).to(q.dtype)
