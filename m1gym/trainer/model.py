"""The hybrid lightning-attention MoE model: presets on ``transformers.MiniMaxForCausalLM``.

Two corrections to the in-tree model so that presets and loaded checkpoints follow MiniMax-M1:

* Partial rotary embedding. M1 rotates only the first 64 of 128 head dims (theta 1e7); the
  in-tree ``MiniMaxRotaryEmbedding`` builds its frequencies over the whole ``head_dim`` and
  ``apply_rotary_pos_emb`` rotates the whole head, ignoring ``partial_rotary_factor``.
  ``M1ForCausalLM`` swaps in a rotary module over ``rotary_dim = head_dim * partial_rotary_factor``
  dims and an attention forward that rotates ``q[..., :rotary_dim]`` (rotate-half pairing inside
  the rotary slice) and passes the rest through. The factor is read from
  ``config.rope_parameters["partial_rotary_factor"]`` (or ``config.rotary_dim``); a config
  without either gets M1's 0.5.
* LM head in FP32 whatever the model dtype (M1: train/inference probability correlation
  0.987 -> 0.997).

Checkpoints are plain ``save_pretrained`` safetensors of model type ``minimax``: transformers
loads them back (``MiniMaxForCausalLM.from_pretrained``); ``load_model`` loads them with the
corrections applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MiniMaxConfig, MiniMaxForCausalLM
from transformers.models.minimax import modeling_minimax as mm

from .tokenizer import CharTokenizer, load_tokenizer

M1_PARTIAL_ROTARY_FACTOR = 0.5


def _layer_types(n_layers: int, period: int = 8) -> list[str]:
    """M1's layout: after every 7 lightning layers one softmax layer (layers 7, 15, ... 0-based)."""
    return ["full_attention" if (i + 1) % period == 0 else "linear_attention" for i in range(n_layers)]


PRESETS: dict[str, dict[str, Any]] = {
    # ~1.2M parameters: trains on 2 CPU cores within minutes
    "tiny": dict(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=8,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=4,
                 num_experts_per_tok=2, block_size=256, max_position_embeddings=4096,
                 rope_theta=1e4),
    # ~200M total / ~90M active: one GPU
    "small": dict(vocab_size=128, hidden_size=768, intermediate_size=512, num_hidden_layers=16,
                  num_attention_heads=12, num_key_value_heads=4, head_dim=64, num_local_experts=8,
                  num_experts_per_tok=2, block_size=256, max_position_embeddings=32768,
                  rope_theta=1e6),
    # the published MiniMax-M1 shape (meta device only: counting and FLOPs)
    "m1": dict(vocab_size=200064, hidden_size=6144, intermediate_size=9216, num_hidden_layers=80,
               num_attention_heads=64, num_key_value_heads=8, head_dim=128, num_local_experts=32,
               num_experts_per_tok=2, block_size=256, max_position_embeddings=1_048_576,
               rope_theta=1e7, full_attn_alpha_factor=3.5565588200778455,
               linear_attn_alpha_factor=3.5565588200778455, mlp_alpha_factor=3.5565588200778455),
}


def preset_config(name: str, **overrides: Any) -> MiniMaxConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose one of {', '.join(PRESETS)} or give a checkpoint dir")
    kw = {**PRESETS[name], **overrides}
    theta = kw.pop("rope_theta")
    kw.setdefault("layer_types", _layer_types(kw["num_hidden_layers"]))
    kw["rope_parameters"] = {"rope_type": "default", "rope_theta": theta,
                             "partial_rotary_factor": M1_PARTIAL_ROTARY_FACTOR}
    kw.setdefault("tie_word_embeddings", False)
    # no padding_idx: a zero pad embedding gives all-zero hidden rows, and when the policy samples the
    # pad token mid-response the RMSNorm backward (1/sqrt(eps) per norm) overflowed to inf/NaN
    kw.setdefault("pad_token_id", None)
    kw.setdefault("bos_token_id", 1)
    kw.setdefault("eos_token_id", 2)
    return MiniMaxConfig(**kw)


# ---- partial rotary embedding -----------------------------------------------------------------

def rotary_dim_of(config: MiniMaxConfig) -> int:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    rope = getattr(config, "rope_parameters", None) or {}
    if getattr(config, "rotary_dim", None):
        dim = int(config.rotary_dim)
    else:
        factor = rope.get("partial_rotary_factor", M1_PARTIAL_ROTARY_FACTOR)
        dim = int(head_dim * factor)
    if dim % 2 or not 0 < dim <= head_dim:
        raise ValueError(f"rotary dim {dim} must be even and within head_dim {head_dim}")
    return dim


class PartialRotaryEmbedding(nn.Module):
    """cos/sin over the first ``rotary_dim`` dims of each head (theta from rope_parameters)."""

    def __init__(self, config: MiniMaxConfig):
        super().__init__()
        self.rotary_dim = rotary_dim_of(config)
        self.theta = float((config.rope_parameters or {}).get("rope_theta", 1e7))
        # computed on use, not stored: from_pretrained builds modules on the meta device and would
        # leave a non-persistent buffer uninitialised
        self._inv_freq: torch.Tensor | None = None

    def inv_freq(self, device: torch.device) -> torch.Tensor:
        if self._inv_freq is None or self._inv_freq.device != device:
            exps = torch.arange(0, self.rotary_dim, 2, dtype=torch.float64, device=device) / self.rotary_dim
            self._inv_freq = (1.0 / (self.theta ** exps)).float()
        return self._inv_freq

    @torch.no_grad()
    def forward(self, x: torch.Tensor, position_ids: torch.Tensor):
        freqs = position_ids[..., None].float() * self.inv_freq(x.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def apply_partial_rotary(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
    """Rotate q[..., :rd] and k[..., :rd] (rotate-half pairing within the slice); pass the rest."""
    rd = cos.shape[-1]
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)

    def rot(x: torch.Tensor) -> torch.Tensor:
        x_rot, x_pass = x[..., :rd], x[..., rd:]
        x1, x2 = x_rot[..., : rd // 2], x_rot[..., rd // 2:]
        rotated = torch.cat((-x2, x1), dim=-1)
        return torch.cat((x_rot * cos + rotated * sin, x_pass), dim=-1)

    return rot(q), rot(k)


class M1Attention(mm.MiniMaxAttention):
    """The softmax-attention layer with M1's partial rotary embedding."""

    def forward(self, hidden_states, position_embeddings, attention_mask, cache=None, **kwargs):
        legacy = kwargs.pop("past_key_values", None)  # the argument's name before transformers 5.2x
        cache = cache if cache is not None else legacy
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        q = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        k = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        v = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        q, k = apply_partial_rotary(q, k, cos, sin)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx, kwargs=kwargs)
        attention_interface = mm.ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, mm.eager_attention_forward)
        out, weights = attention_interface(self, q, k, v, attention_mask, dropout=0.0, scaling=self.scaling,
                                           sliding_window=getattr(self.config, "sliding_window", None), **kwargs)
        out = out.reshape(*input_shape, -1).contiguous()
        return self.o_proj(out), weights


class FP32Head(nn.Linear):
    """The LM head computed in float32 whatever the dtype of the rest of the model."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.float(), self.weight.float())


def apply_m1_fixes(model: MiniMaxForCausalLM) -> MiniMaxForCausalLM:
    """Partial RoPE in every softmax layer and the FP32 LM head (idempotent)."""
    cfg = model.config
    inner = model.model
    if not isinstance(inner.rotary_emb, PartialRotaryEmbedding):
        inner.rotary_emb = PartialRotaryEmbedding(cfg)
    for layer in inner.layers:
        if type(layer.self_attn) is mm.MiniMaxAttention:
            layer.self_attn.__class__ = M1Attention
    if type(model.lm_head) is nn.Linear:
        model.lm_head.__class__ = FP32Head
    return model


class M1ForCausalLM(MiniMaxForCausalLM):
    """``MiniMaxForCausalLM`` following the M1 architecture (partial RoPE, FP32 LM head)."""

    def __init__(self, config: MiniMaxConfig):
        super().__init__(config)
        apply_m1_fixes(self)


# ---- building, loading, saving ----------------------------------------------------------------

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def build_model(preset: str = "tiny", *, seed: int = 0, device: str = "cpu", dtype: str = "float32",
                attn_implementation: str = "eager", **overrides: Any):
    """(model, tokenizer) for a preset name or a checkpoint directory."""
    if Path(preset).is_dir():
        return load_model(preset, device=device, dtype=dtype, attn_implementation=attn_implementation)
    if preset == "m1":
        return build_meta("m1"), None
    cfg = preset_config(preset, **overrides)
    cfg._attn_implementation = attn_implementation
    tok = CharTokenizer(vocab_size=cfg.vocab_size)
    if len(tok.vocab) > cfg.vocab_size:
        raise ValueError(f"preset {preset}: vocab_size {cfg.vocab_size} < tokenizer size {len(tok.vocab)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = M1ForCausalLM(cfg)
    model = model.to(device=device, dtype=DTYPES[dtype])
    set_experts_implementation(model)
    use_fused_lightning(model, device)
    return model, tok


def use_fused_lightning(model: Any, device: str) -> bool:
    """On CUDA with fla-core installed, swap the fused lightning-attention kernels into the model
    (m1gym.kernels.lightning); on CPU the transformers block loop stays. M1GYM_FUSED_LIGHTNING=0
    keeps the loop on GPUs too (the reference path of benchmarks)."""
    import os

    if not str(device).startswith("cuda") or os.environ.get("M1GYM_FUSED_LIGHTNING") == "0":
        return False
    from ..kernels.lightning import enable_fused_lightning

    ok, _reason = enable_fused_lightning(model)
    return ok


def dense_experts_forward(self, hidden_states: torch.Tensor, top_k_index: torch.Tensor,
                          top_k_weights: torch.Tensor) -> torch.Tensor:
    """All experts on all tokens, combined with the (sparse) routing weights: the same function as
    the top-k dispatch (unselected experts get weight exactly 0), without per-expert indexing.
    For the few-expert CPU presets: three einsums instead of a Python loop over experts (the eager
    loop was 2-3x slower than a batched path on the tiny preset); costs num_experts / top_k times the
    expert FLOPs, so large presets use the dispatching implementations instead."""
    n_exp = self.gate_up_proj.shape[0]
    weights = torch.zeros(hidden_states.shape[0], n_exp, dtype=top_k_weights.dtype, device=hidden_states.device)
    weights = weights.scatter(1, top_k_index, top_k_weights)
    gate_up = torch.einsum("nd,efd->enf", hidden_states, self.gate_up_proj)
    gate, up = gate_up.chunk(2, dim=-1)
    out = torch.einsum("eni,edi->end", self.act_fn(gate) * up, self.down_proj)
    return torch.einsum("end,ne->nd", out, weights.to(out.dtype))


def set_experts_implementation(model: MiniMaxForCausalLM, impl: str | None = None) -> None:
    """MoE experts: ``dense`` (all experts, sparse weights) on CPU for <= 8 experts, else
    transformers' implementation (``grouped_mm`` on GPU when available, the eager loop otherwise)."""
    cfg = model.config
    device = next(model.parameters()).device
    if impl is None:
        if device.type == "cpu" and cfg.num_local_experts <= 8:
            impl = "dense"
        elif device.type == "cuda" and (hasattr(F, "grouped_mm") or hasattr(torch, "_grouped_mm")):
            impl = "grouped_mm"
        else:
            impl = "eager"
    for layer in model.model.layers:
        experts = layer.mlp.experts
        if impl == "dense":
            experts.forward = dense_experts_forward.__get__(experts)
        elif "forward" in experts.__dict__:
            del experts.forward
    model.config._experts_implementation = "eager" if impl == "dense" else impl


def build_meta(preset: str = "m1") -> MiniMaxForCausalLM:
    cfg = preset_config(preset)
    with torch.device("meta"):
        return M1ForCausalLM(cfg)


def load_model(path: str | Path, *, device: str = "cpu", dtype: str = "float32", attn_implementation: str = "eager"):
    p = Path(path)
    if not (p / "config.json").exists():
        raise FileNotFoundError(f"{p} is not a checkpoint directory (no config.json); give a preset name "
                                "(tiny, small) or a directory written by save_pretrained")
    model = M1ForCausalLM.from_pretrained(str(p), dtype=DTYPES[dtype], attn_implementation=attn_implementation)
    model = model.to(device)
    set_experts_implementation(model)
    use_fused_lightning(model, device)
    return model, load_tokenizer(p)


def save_checkpoint_model(model: MiniMaxForCausalLM, tokenizer: Any, path: str | Path) -> None:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(p), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(p)


def count_params(model: nn.Module) -> dict[str, int]:
    """Total and active parameters. Active excludes embeddings and LM head and counts only
    ``num_experts_per_tok`` of ``num_local_experts`` experts per MoE layer (router included)."""
    cfg = model.config
    total = sum(p.numel() for p in model.parameters())
    embed = model.model.embed_tokens.weight.numel() + model.lm_head.weight.numel()
    experts = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n)
    active_experts = experts * cfg.num_experts_per_tok // cfg.num_local_experts
    return {"total": total, "embeddings": embed, "experts": experts,
            "active": total - embed - experts + active_experts}
