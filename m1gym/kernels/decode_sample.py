"""The end of a decode step in one kernel: counter-based uniform, sampling, the stop rules.

``m1gym.inference.decode`` samples each row's next token from float32 logits and applies its stop
rules with ~80 element-wise torch ops (the counter hash alone is ~40): launch-bound on a GPU, a
tenth of the whole step at small batch. ``sample_record_triton`` does the same per row in one
program, for the modes without top-p (greedy, or temperature with ``top_p = 1``):

1. ``u = counter_uniform(seed, n_gen)``: the same 32-bit hash, in uint32 arithmetic (torch's int64
   ops masked to 32 bits are the same function), so the same bits;
2. ``log_softmax(logits / T)`` over the vocabulary in chunks (max, sum of exponentials, then the
   probabilities' total), greedy: the first argmax; else the inverse CDF: the first token whose
   cumulative probability reaches ``u * total``;
3. the row's bookkeeping of ``DecodeEngine._record`` (token and log-prob stored at column
   ``n_gen``, EOS / repetition / length stops) and its position advanced.

The torch functions in ``m1gym.inference.decode`` (``counter_uniform``, ``sample_tokens``,
``DecodeEngine._record``) stay the reference and the CPU path. Cumulative sums add in another
order than torch's scan, so a draw that lands within float rounding of a token boundary can differ
from the torch path's; the distribution and each row's independence from the batch are the same.
"""

from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except Exception:  # pragma: no cover - CPU machines
    triton = None
    tl = None


if triton is not None:
    @triton.jit
    def _mix32(x):
        x = ((x >> 16) ^ x) * 0x45D9F3B
        x = ((x >> 16) ^ x) * 0x45D9F3B
        return (x >> 16) ^ x

    @triton.jit
    def _probs(row, v0, offs, V, temp, m, lse):
        """exp(log_softmax(logits / T)) of the chunk at v0 (0 past the vocabulary)."""
        mk = v0 + offs < V
        x = tl.load(row + v0 + offs, mask=mk, other=-float("inf")) / temp
        return tl.where(mk, tl.exp(x - m - lse), 0.0)

    @triton.jit
    def _sample_record_kernel(LOGITS, SEEDS, N_GEN, ACTIVE, RUN, REASON, TOK_IN, POS, OUT_TOK, OUT_LP,
                              MAX_NEW, REP_K, REP_P, EOS, V, s_l, s_ot, s_olp, n_max, temp,
                              GREEDY: tl.constexpr, BLOCK_V: tl.constexpr):
        b = tl.program_id(0)
        row = LOGITS + b * s_l
        offs = tl.arange(0, BLOCK_V)
        n = tl.load(N_GEN + b)
        # 1. the uniform (see decode.counter_uniform)
        seed = tl.load(SEEDS + b).to(tl.uint32)
        h = _mix32(seed)
        h = _mix32(h + (n + 1).to(tl.uint32) * 0x9E3779B1)
        h = _mix32(h ^ 0x5BD1E995)
        u = ((h >> 8).to(tl.float32) + 0.5) * (1.0 / 16777216.0)
        # 2. log-softmax of logits / T: one pass for the max (and the first argmax) and the sum of
        # exponentials, rescaled as the max grows (one chunk, the vocabularies up to 4K: torch's order)
        m = -float("inf")
        s = 0.0
        best = 0
        for v0 in range(0, V, BLOCK_V):
            mk = v0 + offs < V
            x = tl.load(row + v0 + offs, mask=mk, other=-float("inf"))
            if not GREEDY:
                x = x / temp
            cm = tl.max(x, axis=0)
            best = tl.where(cm > m, v0 + tl.argmax(x, axis=0), best)
            m_new = tl.maximum(m, cm)
            s = s * tl.exp(m - m_new) + tl.sum(tl.where(mk, tl.exp(x - m_new), 0.0), axis=0)
            m = m_new
        lse = tl.log(s)
        if GREEDY:
            tok = best
        else:  # the inverse CDF: the probabilities' total, then the first token reaching u * total
            total = 0.0
            for v0 in range(0, V, BLOCK_V):
                total += tl.sum(_probs(row, v0, offs, V, temp, m, lse), axis=0)
            target = u * total
            tok = V - 1
            found = 0
            run_sum = 0.0
            for v0 in range(0, V, BLOCK_V):
                p = _probs(row, v0, offs, V, temp, m, lse)
                hit = (run_sum + tl.cumsum(p, axis=0) >= target) & (v0 + offs < V)
                first = tl.min(tl.where(hit, offs, BLOCK_V), axis=0)
                take = (found == 0) & (first < BLOCK_V)
                tok = tl.where(take, v0 + first, tok)
                found = tl.where(take, 1, found)
                run_sum += tl.sum(p, axis=0)
        xt = tl.load(row + tok)
        if not GREEDY:
            xt = xt / temp
        lp = xt - m - lse
        p_tok = tl.exp(lp)
        # 3. the row's bookkeeping (see DecodeEngine._record)
        act = tl.load(ACTIVE + b) != 0
        col = tl.minimum(n, n_max - 1)
        tl.store(OUT_TOK + b * s_ot + col, tok.to(tl.int64), mask=act)
        tl.store(OUT_LP + b * s_olp + col, lp, mask=act)
        n1 = n + act.to(tl.int64)
        run = tl.where(p_tok > tl.load(REP_P), tl.load(RUN + b) + 1, 0)
        rep_k = tl.load(REP_K)
        reason = tl.where(tok == tl.load(EOS), 1,
                          tl.where((rep_k > 0) & (run >= rep_k), 2, tl.where(n1 >= tl.load(MAX_NEW), 3, 0)))
        stop = act & (reason > 0)
        tl.store(REASON + b, reason.to(tl.int64), mask=stop)
        tl.store(RUN + b, run.to(tl.int64), mask=act)
        tl.store(N_GEN + b, n1)
        tl.store(ACTIVE + b, (act & (reason == 0)).to(tl.int1))
        tl.store(TOK_IN + b, tok.to(tl.int64), mask=act)
        tl.store(POS + b, tl.load(POS + b) + act.to(tl.int64))


def sample_record_available(temperature: float, top_p: float) -> bool:
    """Whether the fused kernel serves this sampling mode (top-p needs a sort: the torch path)."""
    return triton is not None and (temperature <= 0 or top_p >= 1.0)


def sample_record_triton(logits: torch.Tensor, temperature: float, seeds, n_gen, active, run, reason, tok_in,
                         pos, out_tok, out_lp, max_new, rep_k, rep_p, eos) -> None:
    """Sample each row's token from float32 ``logits`` [B, V] and record it, in place on the engine's
    per-slot buffers (all sliced to the B rows; ``max_new`` .. ``eos`` are 0-d device tensors)."""
    B, V = logits.shape
    assert logits.dtype == torch.float32 and logits.stride(-1) == 1
    greedy = temperature <= 0
    block = min(4096, triton.next_power_of_2(V))
    _sample_record_kernel[(B,)](logits, seeds, n_gen, active, run, reason, tok_in, pos, out_tok, out_lp,
                                max_new, rep_k, rep_p, eos, V, logits.stride(0), out_tok.stride(0),
                                out_lp.stride(0), out_tok.shape[1], 1.0 if greedy else float(temperature),
                                GREEDY=greedy, BLOCK_V=block, num_warps=4 if block >= 1024 else 1)
