"""A decode engine for the hybrid lightning / softmax MoE model (issue 18).

``DecodeEngine`` has ``EmbeddedEngine``'s contract (``generate(prompts, n, params, seed, offset)``
-> ``Rollout`` lists with the tokens' log-probs under the sampling distribution) and computes the
same function with a lean forward over the model's own modules and weights:

* preallocated state, one slot per concurrent row: every lightning layer's recurrent state
  ``[slots, heads, d, d]`` in float32, every softmax layer's K and V ``[slots, kv_heads, L, d]``;
* prefill of a group of prompts (left padded, padding zeroed in the lightning layers as
  transformers does) through fla-core's chunked kernel on CUDA (``lightning_blockwise`` on CPU),
  the model's own MoE module and SDPA; each distinct prompt once, its state copied into the slots
  of its samples;
* a decode step that never touches transformers' forward or cache objects: embedding, per layer
  one GEMM for q/k/v (and the lightning output gate), the lightning state update + output (the
  fused Triton kernel of ``m1gym.kernels.lightning_decode``, SiLU folded in) or softmax attention
  over the slot's KV (split-K Triton kernel, ``decode_ops.decode_attention``), the MoE (all experts
  as batched matmuls combined with the sparse routing weights: static shapes; the top-k-only path,
  ``sparse_moe``, is slower on an H200 up to batch 256, see ``_moe_sparse``; the router GEMM fused
  with the routing, the experts' weighted sum with the residual mix and the next norm), the
  residual mixes fused with the next RMSNorm (``m1gym.kernels.decode_ops``), FP32 LM head, then
  sampling and the stop rules, all on the device (one kernel, ``m1gym.kernels.decode_sample``, for
  the modes without top-p). On CPU each fused kernel is the torch ops it replaces;
* sampling on the device: temperature, top-p (inverse CDF over the sorted nucleus), one uniform per
  (row, token) from a counter-based hash of (row seed, token index), so a row's tokens do not depend
  on the other rows of the batch; row seeds are ``response_seed`` of (seed, prompt index, sample);
* stop rules on the device (EOS, M1's repetition stop: K consecutive tokens each with probability
  > p, max tokens); the host looks every ``sync_every`` steps, harvests finished rows and refills
  their slots with waiting prompts (continuous batching); when nothing waits and the live rows fit
  a smaller batch bucket, they are compacted into it;
* on CUDA the whole step (forward + sampling + stop rules) is one CUDA graph per (batch bucket,
  KV-length bucket, sampling mode), replayed without host syncs.

Dtypes follow the trainer so that ``prob_corr`` holds: under autocast (float32 master weights, bf16
compute) linear layers run in the autocast dtype (weights cast once per ``generate`` into
persistent shadows), norms and the residual stream in the weights' dtype, the MoE experts in the
weights' dtype (transformers' grouped_mm casts its input to the weights' dtype), the LM head in
float32, the lightning state in float32.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..kernels.lightning import fla_available, lightning_blockwise, lightning_fused
from ..kernels.decode_ops import add_rms, combine_add_rms, decode_attention, moe_topk, rms_gate, router_route, swiglu
from ..kernels.decode_sample import sample_record_available, sample_record_triton
from ..kernels.lightning_decode import lightning_decode_torch, lightning_decode_triton, triton_available
from .modeling_m1 import apply_partial_rotary
from .rollout import Rollout, RolloutEngine, SamplingParams, response_seed

M32 = 0xFFFFFFFF
REASONS = {1: "eos", 2: "repetition", 3: "length"}


# ---- counter-based random numbers -----------------------------------------------------------------

def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (two multiply-xorshift rounds) in int64 arithmetic without overflow."""
    x = (((x >> 16) ^ x) * 0x45D9F3B) & M32
    x = (((x >> 16) ^ x) * 0x45D9F3B) & M32
    return (x >> 16) ^ x


def counter_uniform(seed: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A uniform in (0, 1) (float32, 24 bits) from (row seed < 2^32, token index): a pure function of
    the pair, so each row's noise is its own whatever the batch."""
    h = _mix32(seed & M32)
    h = _mix32((h + (t + 1) * 0x9E3779B1) & M32)
    h = _mix32(h ^ 0x5BD1E995)
    return ((h >> 8).to(torch.float32) + 0.5) * (1.0 / (1 << 24))


def sample_tokens(logits: torch.Tensor, u: torch.Tensor, temperature: float, top_p: float):
    """(tokens, log-probs under logits / temperature before top-p, probabilities) for float32 logits
    [B, V] and uniforms [B]. temperature 0: greedy (log-probs then at temperature 1)."""
    greedy = temperature <= 0
    logp_all = torch.log_softmax(logits / (1.0 if greedy else temperature), dim=-1)
    if greedy:
        tok = torch.argmax(logp_all, dim=-1)
    else:
        probs = logp_all.exp()
        V = probs.shape[-1]
        if top_p < 1.0:
            sp, order = torch.sort(probs, dim=-1, descending=True)
            keep = (torch.cumsum(sp, dim=-1) - sp) < top_p  # the first token is always kept
            cdf = torch.cumsum(sp * keep, dim=-1)
            pick = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).clamp(max=V - 1)
            tok = order.gather(1, pick).squeeze(1)
        else:
            cdf = torch.cumsum(probs, dim=-1)
            tok = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None]).clamp(max=V - 1).squeeze(1)
    lp = logp_all.gather(1, tok[:, None]).squeeze(1)
    return tok, lp, lp.exp()


def _lin(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return F.linear(x.to(w.dtype), w)


def _bucket(n: int, top: int, base: int = 1) -> int:
    b = base
    while b < n:
        b *= 2
    return min(b, top)


def _len_bucket(n: int, top: int) -> int:
    """KV-length bucket of the softmax layers' attention: powers of two up to 1024, then multiples of
    1024 (the attention reads at most 1023 masked positions more than it needs)."""
    b = _bucket(n, 1 << 62, 256) if n <= 1024 else -(-n // 1024) * 1024
    return min(b, top)


class DecodeEngine(RolloutEngine):
    """Continuous-batching decode over preallocated state, CUDA graphs on GPU (see the module doc).

    ``batch_size``: concurrent rows (slots). ``sync_every``: decode steps between host looks (a
    finished row's slot idles at most that many steps). ``cuda_graphs`` / ``triton``: None = on CUDA.
    """

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 64, device: str | None = None,
                 sync_every: int = 16, cuda_graphs: bool | None = None, triton: bool | None = None,
                 prefill_tokens: int = 65536, split_attention: bool = True):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = int(batch_size)
        self.device = torch.device(device or next(model.parameters()).device)
        self.sync_every = max(1, int(sync_every))
        is_cuda = self.device.type == "cuda"
        self.cuda_graphs = is_cuda if cuda_graphs is None else (bool(cuda_graphs) and is_cuda)
        self.use_triton = triton_available(self.device) if triton is None else (bool(triton) and triton_available(self.device))
        self.use_fla = is_cuda and fla_available()
        self.prefill_tokens = prefill_tokens
        #: the softmax layers' decode attention through the split-K Triton kernel (else SDPA, masked)
        self.split_attention = split_attention
        #: the MoE on each row's top-k experts through grouped GEMMs where the dtype allows. Off: on an
        #: H200 (small preset, bf16) it cost ~0.95 ms more per decode step than the dense path at
        #: batch 8, 64 and 256 alike (sort, scatter and two grouped GEMMs per layer are launch-bound
        #: at these sizes; benchmarks/rollout.py --topk-moe). A fused routed-MoE kernel is the way on.
        self.sparse_moe = False
        self._grouped_mm_dtypes: dict[torch.dtype, bool] = {}
        self._sparse_now = False
        cfg = model.config
        self.cfg = cfg
        self.n_layers = cfg.num_hidden_layers
        self.kinds = [cfg.layer_types[i] for i in range(self.n_layers)]
        self.H = cfg.num_attention_heads
        self.D = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.kvH = cfg.num_key_value_heads
        self._slots = 0
        self._L = 0
        self._Nmax = 0
        self._graphs: dict[tuple, Any] = {}
        self._pool = None
        self._shadow: dict[str, torch.Tensor] = {}
        self._shadow_key = None
        self.stats: dict[str, Any] = {}
        #: a list to record (steps before, batch bucket, KV bucket, steps, seconds) of each decode
        #: chunk (benchmarks; adds a device sync per chunk); None: off
        self.trace: list | None = None

    # ---- weights -------------------------------------------------------------------------------
    def update_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state_dict)

    def _compute_dtypes(self):
        p = next(self.model.parameters())
        dev = self.device.type
        mm = p.dtype
        if torch.is_autocast_enabled(dev) if hasattr(torch, "is_autocast_enabled") else False:
            try:
                mm = torch.get_autocast_dtype(dev)
            except Exception:  # pragma: no cover - old torch
                mm = torch.get_autocast_gpu_dtype() if dev == "cuda" else torch.get_autocast_cpu_dtype()
        return mm, p.dtype

    def _refresh_weights(self) -> None:
        """The decode step's weight views: matmul weights in the compute dtype (the parameters
        themselves when the dtypes agree and nothing is concatenated, else persistent shadows
        refreshed here: q/k/v (and the lightning output gate) as one matrix each, one GEMM), the
        rest as the parameters. Graphs hold these tensors' addresses: a change of address drops them."""
        mm, pdt = self._compute_dtypes()
        m = self.model
        names: dict[str, tuple[list[torch.Tensor], torch.dtype]] = {}
        for i, layer in enumerate(m.model.layers):
            a = layer.self_attn
            if self.kinds[i] == "linear_attention":
                names[f"{i}.qkvg"] = ([a.qkv_proj.weight, a.output_gate.weight], mm)
                names[f"{i}.out"] = ([a.out_proj.weight], mm)
            else:
                names[f"{i}.qkv"] = ([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight], mm)
                names[f"{i}.o_proj"] = ([a.o_proj.weight], mm)
            names[f"{i}.router"] = ([layer.mlp.gate.weight], mm)
            names[f"{i}.gate_up"] = ([layer.mlp.experts.gate_up_proj], pdt)
            names[f"{i}.down"] = ([layer.mlp.experts.down_proj], pdt)
        names["lm_head"] = ([m.lm_head.weight], torch.float32)
        key = (mm, tuple(t.data_ptr() for ts, _ in names.values() for t in ts))
        if key != self._shadow_key:
            self._graphs.clear()
            self._shadow = {}
            for n, (ts, dt) in names.items():
                if len(ts) == 1 and ts[0].dtype == dt:
                    self._shadow[n] = ts[0].detach()
                else:
                    self._shadow[n] = torch.cat([t.detach().to(dt) for t in ts], 0)
            self._shadow_key = key
        else:
            for n, (ts, dt) in names.items():
                sh = self._shadow[n]
                if not (len(ts) == 1 and sh.data_ptr() == ts[0].data_ptr()):
                    r = 0
                    for t in ts:
                        sh[r:r + t.shape[0]].copy_(t.detach())
                        r += t.shape[0]
        self.mm_dtype = mm
        self.kv_dtype = mm
        sparse = self._grouped_mm_ok()
        if sparse != self._sparse_now:  # the captured graphs hold the other MoE path
            self._graphs.clear()
            self._sparse_now = sparse
        if getattr(self, "decays", None) is None:  # functions of the config; graphs hold their addresses
            self.decays = [torch.exp(-layer.self_attn.slope_rate.view(-1).float()).to(self.device)
                           if self.kinds[i] == "linear_attention" else None for i, layer in enumerate(m.model.layers)]

    # ---- buffers -------------------------------------------------------------------------------
    def _alloc(self, slots: int, L: int, Nmax: int) -> None:
        if slots <= self._slots and L <= self._L and Nmax <= self._Nmax and self._kv_dtype_alloc == self.kv_dtype:
            return
        slots, L, Nmax = max(slots, self._slots), max(L, self._L), max(Nmax, self._Nmax)
        L = _len_bucket(L, 1 << 62)
        Nmax = _bucket(Nmax, 1 << 30, 16)
        self._graphs.clear()
        self._pool = None
        dev = self.device
        self.lin_state = {}
        self.kc, self.vc = {}, {}
        for i in range(self.n_layers):
            if self.kinds[i] == "linear_attention":
                self.lin_state[i] = torch.zeros(slots, self.H, self.D, self.D, dtype=torch.float32, device=dev)
            else:
                self.kc[i] = torch.zeros(slots, self.kvH, L, self.D, dtype=self.kv_dtype, device=dev)
                self.vc[i] = torch.zeros(slots, self.kvH, L, self.D, dtype=self.kv_dtype, device=dev)
        z = lambda dt: torch.zeros(slots, dtype=dt, device=dev)  # noqa: E731
        self.tok_in, self.pos, self.n_gen, self.run = z(torch.long), z(torch.long), z(torch.long), z(torch.long)
        self.seeds, self.reason = z(torch.long), z(torch.long)
        self.active = z(torch.bool)
        self.out_tok = torch.zeros(slots, Nmax, dtype=torch.long, device=dev)
        self.out_lp = torch.zeros(slots, Nmax, dtype=torch.float32, device=dev)
        self.arange_slots = torch.arange(slots, device=dev)
        self._slots, self._L, self._Nmax = slots, L, Nmax
        self._kv_dtype_alloc = self.kv_dtype
        # per-generate scalars on the device (graphs read them)
        self.max_new_t = torch.zeros((), dtype=torch.long, device=dev)
        self.rep_k_t = torch.zeros((), dtype=torch.long, device=dev)
        self.rep_p_t = torch.zeros((), dtype=torch.float32, device=dev)
        self.eos_t = torch.zeros((), dtype=torch.long, device=dev)

    _kv_dtype_alloc = None

    def _mutable(self, B: int) -> list[torch.Tensor]:
        ts = [s[:B] for s in self.lin_state.values()] + [c[:B] for c in self.kc.values()] + \
             [c[:B] for c in self.vc.values()]
        return ts + [t[:B] for t in (self.tok_in, self.pos, self.n_gen, self.run, self.seeds, self.reason,
                                     self.active, self.out_tok, self.out_lp)]

    # ---- bookkeeping shared by prefill and decode ------------------------------------------------
    def _record(self, idx: torch.Tensor, tok: torch.Tensor, lp: torch.Tensor, p: torch.Tensor) -> None:
        """Store each live row's new token, advance its counters and apply the stop rules."""
        act = self.active[idx]
        n = self.n_gen[idx]
        col = n.clamp(max=self.out_tok.shape[1] - 1)
        self.out_tok[idx, col] = torch.where(act, tok, self.out_tok[idx, col])
        self.out_lp[idx, col] = torch.where(act, lp.float(), self.out_lp[idx, col])
        n1 = n + act.long()
        run = torch.where(p > self.rep_p_t, self.run[idx] + 1, torch.zeros_like(n))
        reason = torch.where(tok == self.eos_t, 1,
                             torch.where((self.rep_k_t > 0) & (run >= self.rep_k_t), 2,
                                         torch.where(n1 >= self.max_new_t, 3, 0)))
        stop = act & (reason > 0)
        self.reason[idx] = torch.where(stop, reason, self.reason[idx])
        self.run[idx] = torch.where(act, run, self.run[idx])
        self.n_gen[idx] = n1
        self.active[idx] = act & ~stop
        self.tok_in[idx] = torch.where(act, tok, self.tok_in[idx])

    # ---- the decode step -----------------------------------------------------------------------
    def _forward_step(self, B: int, Lb: int) -> torch.Tensor:
        """Logits [B, V] (float32) of the slots' current tokens; updates the lightning states and
        writes K, V. MiniMax's block: x = norm(h); h = x * alpha + attn(x) * beta (the residual is
        the normed input), the same around the MoE; each residual mix is fused with the next norm."""
        m = self.model
        w = self._shadow
        fused = self.use_triton
        tok = self.tok_in[:B]
        pos = self.pos[:B]
        layers = m.model.layers
        H, D, kvH = self.H, self.D, self.kvH
        h = F.embedding(tok, m.model.embed_tokens.weight)  # [B, hid]
        ln0 = layers[0].input_layernorm
        x = add_rms(h, None, 1.0, 0.0, ln0.weight, ln0.variance_epsilon, fused)
        cos = sin = None
        for i, layer in enumerate(layers):
            res = x
            a = layer.self_attn
            if self.kinds[i] == "linear_attention":
                y = _lin(x, w[f"{i}.qkvg"])  # [B, 3HD | HD]: raw q, k, v per head, then the output gate
                qkv = y[:, :3 * H * D].view(B, H, 3 * D)
                q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
                if fused:
                    o = lightning_decode_triton(q, k, v, self.decays[i], self.lin_state[i][:B], silu=True)
                else:
                    o = lightning_decode_torch(q, k, v, self.decays[i], self.lin_state[i][:B], silu=True)
                o = rms_gate(o.reshape(B, H * D), x.dtype, a.norm.weight, a.norm.variance_epsilon,
                             y[:, 3 * H * D:], w[f"{i}.out"].dtype, fused)
                att = _lin(o, w[f"{i}.out"])
            else:
                if cos is None:
                    cos, sin = m.model.rotary_emb(h[:, None, :], pos[:, None])  # [B, 1, rd]
                y = _lin(x, w[f"{i}.qkv"])
                q = y[:, :H * D].view(B, 1, H, D).transpose(1, 2)
                k = y[:, H * D:(H + kvH) * D].view(B, 1, kvH, D).transpose(1, 2)
                v = y[:, (H + kvH) * D:].view(B, 1, kvH, D).transpose(1, 2)
                q, k = apply_partial_rotary(q, k, cos, sin)
                kc, vc = self.kc[i], self.vc[i]
                ar = self.arange_slots[:B]
                kc[ar, :, pos] = k[:, :, 0].to(kc.dtype)
                vc[ar, :, pos] = v[:, :, 0].to(vc.dtype)
                G = H // kvH
                qg = q.reshape(B, kvH, G, D).to(kc.dtype)  # the query heads of a KV head as its rows
                o = decode_attention(qg, kc, vc, pos, Lb, a.scaling, fused and self.split_attention)
                att = _lin(o.reshape(B, H * D), w[f"{i}.o_proj"])
            ln = layer.post_attention_layernorm
            x = add_rms(res, att, layer.attn_alpha_factor, layer.attn_beta_factor, ln.weight, ln.variance_epsilon,
                        fused)
            ln = layers[i + 1].input_layernorm if i + 1 < len(layers) else m.model.norm
            if self._sparse_now:
                x = add_rms(x, self._moe_sparse(i, x), layer.mlp_alpha_factor, layer.mlp_beta_factor, ln.weight,
                            ln.variance_epsilon, fused)
            else:  # the experts' weighted sum fused with the residual mix and the next norm
                y, comb = self._moe_dense(i, x)
                x = combine_add_rms(x, y, comb, x.dtype, layer.mlp_alpha_factor, layer.mlp_beta_factor, ln.weight,
                                    ln.variance_epsilon, fused)
        return F.linear(x.float(), w["lm_head"])

    def _grouped_mm_ok(self) -> bool:
        """Whether the experts run through ``torch._grouped_mm`` (decided in ``_refresh_weights``,
        never inside a graph capture). On CUDA only for bf16 experts: torch's grouped GEMM is a
        Hopper bf16 kernel, other dtypes take a loop that reads the group offsets on the host (which
        a CUDA graph cannot hold). On CPU any float dtype. ``sparse_moe = False`` forces dense."""
        if not self.sparse_moe or "0.gate_up" not in self._shadow:
            return False
        dt = self._shadow["0.gate_up"].dtype
        if self.device.type == "cuda" and dt != torch.bfloat16:
            return False
        if dt not in self._grouped_mm_dtypes:
            try:
                a = torch.zeros((16, 16), dtype=dt, device=self.device)
                b = torch.zeros((2, 16, 16), dtype=dt, device=self.device)
                offs = torch.tensor([8, 16], dtype=torch.int32, device=self.device)
                torch._grouped_mm(a, b.transpose(1, 2), offs=offs)
                self._grouped_mm_dtypes[dt] = True
            except (AttributeError, RuntimeError, NotImplementedError):
                self._grouped_mm_dtypes[dt] = False
        return self._grouped_mm_dtypes[dt]

    def _moe_sparse(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """The MoE block on each row's top-k experts only: the B*k (row, expert) pairs sorted by
        expert, one grouped GEMM for gate/up and one for down (group ends counted on the device, no
        host sync: graph-safe), then each row's k outputs weighted and summed in float32. A quarter
        of the dense path's expert FLOPs with 8 experts top-2."""
        w = self._shadow
        fused = self.use_triton
        k = self.cfg.num_experts_per_tok
        top_v, top_i = moe_topk(_lin(x, w[f"{i}.router"]), k)
        gu, dn = w[f"{i}.gate_up"], w[f"{i}.down"]
        E = gu.shape[0]
        B = x.shape[0]
        flat = top_i.reshape(-1)
        order = torch.argsort(flat, stable=True)
        ends = torch.zeros(E, dtype=torch.int32, device=x.device).scatter_add_(
            0, flat, torch.ones_like(flat, dtype=torch.int32)).cumsum(0, dtype=torch.int32)
        xs = x.to(gu.dtype)[order // k]
        h = torch._grouped_mm(xs, gu.transpose(1, 2), offs=ends)
        act = swiglu(h[None], fused, self.model.model.layers[i].mlp.experts.act_fn)[0]
        ys = torch._grouped_mm(act, dn.transpose(1, 2), offs=ends)
        y = torch.empty_like(ys).index_copy_(0, order, ys).view(B, k, -1)
        return (y.float() * top_v[..., None]).sum(1).to(x.dtype)

    def _moe_dense(self, i: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All experts on all rows ([E, B, .] batched matmuls) and the top-k routing weights (zero for
        unselected experts) that combine them: the MoE block's function with static shapes. The experts
        run in their weights' dtype, as transformers' grouped_mm does under autocast."""
        w = self._shadow
        fused = self.use_triton
        comb = router_route(x, w[f"{i}.router"], self.cfg.num_experts_per_tok, fused)
        gu, dn = w[f"{i}.gate_up"], w[f"{i}.down"]
        E = gu.shape[0]
        xe = x.to(gu.dtype)[None].expand(E, -1, -1)
        act = swiglu(torch.bmm(xe, gu.transpose(1, 2)), fused, self.model.model.layers[i].mlp.experts.act_fn)
        return torch.bmm(act, dn.transpose(1, 2)), comb  # [E, B, hid], [B, E]

    def _step(self, B: int, Lb: int, mode: tuple[float, float]) -> None:
        # every cast is explicit: the caller's autocast must not touch the FP32 head or the graph
        with torch.autocast(self.device.type, enabled=False):
            logits = self._forward_step(B, Lb)
            if self.use_triton and sample_record_available(*mode):  # one kernel for the ~80 ops below
                sample_record_triton(logits, mode[0], self.seeds[:B], self.n_gen[:B], self.active[:B], self.run[:B],
                                     self.reason[:B], self.tok_in[:B], self.pos[:B], self.out_tok[:B],
                                     self.out_lp[:B], self.max_new_t, self.rep_k_t, self.rep_p_t, self.eos_t)
                return
            idx = self.arange_slots[:B]
            u = counter_uniform(self.seeds[:B], self.n_gen[:B])
            tok, lp, p = sample_tokens(logits, u, *mode)
            act = self.active[:B].clone()
            self._record(idx, tok, lp, p)
            self.pos[:B] = self.pos[:B] + act.long()

    def _run_step(self, B: int, Lb: int, mode: tuple[float, float]) -> None:
        if not self.cuda_graphs:
            self._step(B, Lb, mode)
            return
        key = (B, Lb, mode, self.mm_dtype)
        g = self._graphs.get(key)
        if g is None:
            g = self._capture(B, Lb, mode)
            self._graphs[key] = g
        g.replay()

    def _capture(self, B: int, Lb: int, mode):
        saved = [t.clone() for t in self._mutable(B)]
        s = torch.cuda.Stream(device=self.device)
        s.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(s):
            for _ in range(2):  # compiles Triton kernels, creates library handles
                self._step(B, Lb, mode)
        torch.cuda.current_stream(self.device).wait_stream(s)
        for t, sv in zip(self._mutable(B), saved):
            t.copy_(sv)
        del saved
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g, pool=self._pool):
            self._step(B, Lb, mode)
        self.stats["graphs"] = self.stats.get("graphs", 0) + 1
        return g

    # ---- prefill -------------------------------------------------------------------------------
    def _prefill(self, prompts: list[list[int]], slots: list[int], rows_src: list[int], mode) -> None:
        """Prefill the distinct ``prompts``; row r (slot ``slots[r]``) continues prompt ``rows_src[r]``.
        Fills the slots' lightning states and KV, samples each row's first token."""
        dev = self.device
        pad = getattr(self.tokenizer, "pad_id", 0) or 0
        Lp = max(len(p) for p in prompts)
        per = max(1, self.prefill_tokens // max(Lp, 1))
        logits_all = []
        src_t = torch.tensor(rows_src, dtype=torch.long, device=dev)
        slot_t = torch.tensor(slots, dtype=torch.long, device=dev)
        for c0 in range(0, len(prompts), per):
            chunk = prompts[c0:c0 + per]
            sel = [(r, s) for r, (s, src) in enumerate(zip(slots, rows_src)) if c0 <= src < c0 + len(chunk)]
            dst = torch.tensor([s for _, s in sel], dtype=torch.long, device=dev)
            src = torch.tensor([rows_src[r] - c0 for r, _ in sel], dtype=torch.long, device=dev)
            logits_all.append(self._prefill_chunk(chunk, dst, src, pad))
        logits = torch.cat(logits_all, 0)  # [n distinct, V]
        lens = torch.tensor([len(prompts[s]) for s in rows_src], dtype=torch.long, device=dev)
        self.pos[slot_t] = lens
        self.n_gen[slot_t] = 0
        self.run[slot_t] = 0
        self.reason[slot_t] = 0
        self.active[slot_t] = True
        u = counter_uniform(self.seeds[slot_t], self.n_gen[slot_t])
        tok, lp, p = sample_tokens(logits[src_t], u, *mode)
        self._record(slot_t, tok, lp, p)

    def _prefill_chunk(self, prompts: list[list[int]], dst: torch.Tensor, src: torch.Tensor, pad: int) -> torch.Tensor:
        m = self.model
        dev = self.device
        N = len(prompts)
        L = max(len(p) for p in prompts)
        ids = torch.full((N, L), pad, dtype=torch.long)
        mask = torch.zeros((N, L), dtype=torch.bool)
        for j, p in enumerate(prompts):
            ids[j, L - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[j, L - len(p):] = True
        ids, mask = ids.to(dev), mask.to(dev)
        posn = (mask.long().cumsum(1) - 1).clamp(min=0)
        h = m.model.embed_tokens(ids)
        cos, sin = m.model.rotary_emb(h, posn)
        causal = torch.ones(L, L, dtype=torch.bool, device=dev).tril()
        keep = (mask[:, None, None, :] & causal[None, None]) | torch.eye(L, dtype=torch.bool, device=dev)[None, None]
        lens = torch.tensor([len(p) for p in prompts], dtype=torch.long, device=dev)
        t = torch.arange(L, device=dev)
        shift = (L - lens[src, None] + t[None]).clamp(max=L - 1)  # [rows, L]: padded index of position t
        shift = shift[:, None, :, None].expand(-1, self.kvH, -1, self.D)
        for i, layer in enumerate(m.model.layers):
            x = layer.input_layernorm(h)
            res = x
            a = layer.self_attn
            if self.kinds[i] == "linear_attention":
                qkv = a.act_fn(a.qkv_proj(x))
                qkv = qkv * mask[:, :, None]  # padding zeroed (bool: keeps qkv's dtype)
                qkv = qkv.reshape(N, L, self.H, 3 * self.D).transpose(1, 2)
                q, k, v = qkv[..., :self.D], qkv[..., self.D:2 * self.D], qkv[..., 2 * self.D:]
                slopes = a.slope_rate.view(-1)
                if self.use_fla:
                    o, S = lightning_fused(q, k, v, slopes.float())
                else:
                    o, S = lightning_blockwise(q.float(), k.float(), v.float(), slopes.float(), block_size=a.block_size)
                    o = o.to(q.dtype)
                self.lin_state[i][dst] = S.float()[src]
                o = o.transpose(1, 2).reshape(N, L, self.H * self.D).to(x.dtype)
                o = a.norm(o)
                o = torch.sigmoid(a.output_gate(x)) * o
                att = a.out_proj(o)
            else:
                q = a.q_proj(x).view(N, L, self.H, self.D).transpose(1, 2)
                k = a.k_proj(x).view(N, L, self.kvH, self.D).transpose(1, 2)
                v = a.v_proj(x).view(N, L, self.kvH, self.D).transpose(1, 2)
                q, k = apply_partial_rotary(q, k, cos, sin)
                kd = k.to(self.kv_dtype)
                vd = v.to(self.kv_dtype)
                # the slot's KV holds its prompt from index 0 (the left padding dropped: row j's position
                # t is padded position L - len_j + t; positions past its length are written before
                # any decode step reads them)
                self.kc[i][dst, :, :L] = kd[src].gather(2, shift)
                self.vc[i][dst, :, :L] = vd[src].gather(2, shift)
                G = self.H // self.kvH
                ct = self.kv_dtype
                o = F.scaled_dot_product_attention(q.to(ct), kd.repeat_interleave(G, 1), vd.repeat_interleave(G, 1),
                                                   attn_mask=keep, scale=a.scaling)
                att = a.o_proj(o.transpose(1, 2).reshape(N, L, self.H * self.D))
            h = res * layer.attn_alpha_factor + att * layer.attn_beta_factor
            x = layer.post_attention_layernorm(h)
            res = x
            h = res * layer.mlp_alpha_factor + layer.mlp(x) * layer.mlp_beta_factor
        h = m.model.norm(h[:, -1])
        return m.lm_head(h).float()

    # ---- generate ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]], n: int, params: SamplingParams, seed: int = 0,
                 offset: int = 0) -> list[list[Rollout]]:
        if not prompts:
            return []
        model = self.model
        was_training = model.training
        model.eval()
        try:
            return self._generate(prompts, n, params, seed, offset)
        finally:
            if was_training:
                model.train()

    def _generate(self, prompts, n, params, seed, offset):
        import time

        self._refresh_weights()
        self.stats = {"graphs": self.stats.get("graphs", 0)}
        rows = [(i, s) for i in range(len(prompts)) for s in range(n)]
        R = len(rows)
        max_new = max(1, int(params.max_new_tokens))
        Lmax = max(len(p) for p in prompts) + max_new + 1
        slots_total = min(self.batch_size, R)
        self._alloc(_bucket(slots_total, max(self.batch_size, 1)), Lmax, max_new)
        S = self._slots
        temp = float(params.temperature)
        mode = (temp if temp > 0 else 0.0, float(params.top_p) if temp > 0 else 1.0)
        self.max_new_t.fill_(max_new)
        self.rep_k_t.fill_(int(params.repetition_k or 0))
        self.rep_p_t.fill_(float(params.repetition_p))
        self.eos_t.fill_(int(self.tokenizer.eos_id))
        self.active.zero_()
        seeds_host = [response_seed(seed, offset + i, s, bits=32) for i, s in rows]
        results: list[list[Rollout | None]] = [[None] * n for _ in prompts]
        pending = list(range(R))[::-1]  # a stack: pop() gives rows in order
        slot_row: list[int | None] = [None] * min(S, self.batch_size)
        slot_len: list[int] = [0] * len(slot_row)  # host upper bound of each slot's KV length
        n_slots = len(slot_row)
        B = 0
        steps = 0
        t_start = time.perf_counter()
        k = self.sync_every

        def admit(free: list[int]) -> None:
            take = []
            while pending and len(take) < len(free):
                take.append(pending.pop())
            if not take:
                return
            uniq: dict[int, int] = {}
            src = []
            for r in take:
                pi = rows[r][0]
                if pi not in uniq:
                    uniq[pi] = len(uniq)
                src.append(uniq[pi])
            used = free[:len(take)]
            self.seeds[torch.tensor(used, device=self.device)] = torch.tensor(
                [seeds_host[r] for r in take], dtype=torch.long, device=self.device)
            self._prefill([list(prompts[pi]) for pi in uniq], used, src, mode)
            self.stats["prefills"] = self.stats.get("prefills", 0) + 1
            for sl, r in zip(used, take):
                slot_row[sl] = r
                slot_len[sl] = len(prompts[rows[r][0]]) + 1

        def harvest(done_slots: list[int], n_host: list[int], reason_host: list[int]) -> None:
            if not done_slots:
                return
            ix = torch.tensor(done_slots, dtype=torch.long, device=self.device)
            toks = self.out_tok[ix].cpu().tolist()
            lps = self.out_lp[ix].cpu().tolist()
            for j, sl in enumerate(done_slots):
                r = slot_row[sl]
                pi, s = rows[r]
                nn = n_host[sl]
                ids = toks[j][:nn]
                results[pi][s] = Rollout(list(prompts[pi]), ids, lps[j][:nn], self.tokenizer.decode(ids),
                                         REASONS.get(reason_host[sl], "length"))
                slot_row[sl] = None

        admit(list(range(n_slots)))
        while True:
            # one host look: which slots finished
            snap = torch.stack([self.active[:n_slots].long(), self.n_gen[:n_slots], self.reason[:n_slots]]).cpu()
            act_h, n_h, reason_h = snap[0].tolist(), snap[1].tolist(), snap[2].tolist()
            done = [sl for sl in range(n_slots) if slot_row[sl] is not None and not act_h[sl]]
            harvest(done, n_h, reason_h)
            free = [sl for sl in range(n_slots) if slot_row[sl] is None]
            if pending and free:
                admit(free)
                snap = self.active[:n_slots].cpu().tolist()
                act_h = snap
                done = [sl for sl in range(n_slots) if slot_row[sl] is not None and not act_h[sl]]
                if done:  # rows that stopped on their first token
                    n_h = self.n_gen[:n_slots].cpu().tolist()
                    reason_h = self.reason[:n_slots].cpu().tolist()
                    harvest(done, n_h, reason_h)
                    continue
            live = [sl for sl in range(n_slots) if slot_row[sl] is not None]
            if not live and not pending:
                break
            if not live:
                continue
            top = max(live) + 1
            if not pending and _bucket(len(live), n_slots) < _bucket(top, n_slots):
                self._compact(live, slot_row, slot_len)
                live = list(range(len(live)))
                top = len(live)
            B = _bucket(top, n_slots)
            Lb = _len_bucket(max(slot_len[sl] for sl in live) + k, self._L)
            if self.trace is not None:
                torch.cuda.synchronize(self.device) if self.device.type == "cuda" else None
                t0 = time.perf_counter()
            for _ in range(k):
                self._run_step(B, Lb, mode)
            if self.trace is not None:
                torch.cuda.synchronize(self.device) if self.device.type == "cuda" else None
                self.trace.append((steps, B, Lb, k, time.perf_counter() - t0))
            steps += k
            for sl in live:
                slot_len[sl] += k
        self.stats.update(steps=steps, seconds=time.perf_counter() - t_start, rows=R)
        return [list(g) for g in results]  # type: ignore[arg-type]

    def _compact(self, live: list[int], slot_row: list, slot_len: list) -> None:
        """Move the live rows into slots 0..len(live)-1 (all per-slot buffers, device side)."""
        m = len(live)
        src = torch.tensor(live, dtype=torch.long, device=self.device)
        for t in self._mutable(self._slots):
            t[:m] = t.index_select(0, src)
        rows = [slot_row[sl] for sl in live]
        lens = [slot_len[sl] for sl in live]
        for j in range(len(slot_row)):
            slot_row[j] = rows[j] if j < m else None
            slot_len[j] = lens[j] if j < m else 0
        self.active[m:] = False
        self.stats["compactions"] = self.stats.get("compactions", 0) + 1


# ---- the factory of in-process engines -------------------------------------------------------------

#: values of ``rollout.engine`` served by an in-process engine on the policy itself
LOCAL_ENGINES = ("embedded", "decode", "auto")


def local_engine(model: Any, tokenizer: Any, engine: str = "auto", batch_size: int = 64, **kwargs: Any) -> RolloutEngine:
    """The in-process rollout engine for ``engine``: ``decode`` (``DecodeEngine``, any device),
    ``embedded`` (``EmbeddedEngine``, the reference), or ``auto``: the decode engine on CUDA, the
    embedded engine on CPU (whose noise stream the CPU tests and recorded runs were measured with).
    The trainer's rollouts, ``evaluate``, ``m1gym filter`` and ``m1gym serve-model`` all build theirs
    here."""
    from .rollout import EmbeddedEngine

    if engine not in LOCAL_ENGINES:
        raise ValueError(f"no in-process rollout engine {engine!r}; choose one of {', '.join(LOCAL_ENGINES)}")
    dev = torch.device(kwargs.get("device") or next(model.parameters()).device)
    if engine == "decode" or (engine == "auto" and dev.type == "cuda"):
        return DecodeEngine(model, tokenizer, batch_size=batch_size, **kwargs)
    return EmbeddedEngine(model, tokenizer, batch_size=batch_size, device=kwargs.get("device"))
