"""M1's corrections to ``transformers.MiniMaxForCausalLM``, in one file that needs only torch and
transformers.

This file is copied into every checkpoint as ``modeling_m1gym.py`` (with ``auto_map`` in its
config.json), so ``AutoModelForCausalLM.from_pretrained(ckpt, trust_remote_code=True)`` gives the
model m1gym trained, with no m1gym installed. Keep it free of m1gym imports.

* Partial rotary embedding. M1 rotates only the first 64 of 128 head dims (theta 1e7); the
  in-tree ``MiniMaxRotaryEmbedding`` builds its frequencies over the whole ``head_dim`` and
  ``apply_rotary_pos_emb`` rotates the whole head, ignoring ``partial_rotary_factor``.
  ``M1ForCausalLM`` swaps in a rotary module over ``rotary_dim`` dims (``config.rotary_dim``, the
  key vLLM's MiniMax model reads, else ``head_dim * rope_parameters["partial_rotary_factor"]``, else
  M1's 0.5) and an attention forward that rotates ``q[..., :rotary_dim]`` (rotate-half pairing
  inside the rotary slice, vLLM's neox style) and passes the rest through.
* LM head in FP32 whatever the model dtype (M1: train/inference probability correlation
  0.987 -> 0.997).
* The lightning layers' decay tables (``slope_rate``, ``query_decay``, ``key_decay``,
  ``diagonal_decay``) are functions of the config: they are kept out of the state dict (and so out
  of checkpoints, where vLLM's loader has no parameter to put them in and fails); checkpoints that
  still hold them load, the stored copies being ignored.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MiniMaxConfig, MiniMaxForCausalLM
from transformers.models.minimax import modeling_minimax as mm

M1_PARTIAL_ROTARY_FACTOR = 0.5
#: buffers of MiniMaxLightningAttention computed from the config (never trained)
DERIVED_BUFFERS = ("slope_rate", "query_decay", "key_decay", "diagonal_decay")


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
        # autocast (bf16 compute over float32 master weights) would cast this matmul down again
        with torch.autocast(device_type=x.device.type, enabled=False):
            return F.linear(x.float(), self.weight.float())


def apply_m1_fixes(model: MiniMaxForCausalLM) -> MiniMaxForCausalLM:
    """Partial RoPE in every softmax layer, the FP32 LM head, decay tables out of the state dict
    (idempotent)."""
    cfg = model.config
    inner = model.model
    if not isinstance(inner.rotary_emb, PartialRotaryEmbedding):
        inner.rotary_emb = PartialRotaryEmbedding(cfg)
    for layer in inner.layers:
        if type(layer.self_attn) is mm.MiniMaxAttention:
            layer.self_attn.__class__ = M1Attention
        elif isinstance(layer.self_attn, mm.MiniMaxLightningAttention):
            layer.self_attn._non_persistent_buffers_set.update(DERIVED_BUFFERS)
    if type(model.lm_head) is nn.Linear:
        model.lm_head.__class__ = FP32Head
    return model


class M1ForCausalLM(MiniMaxForCausalLM):
    """``MiniMaxForCausalLM`` following the M1 architecture (partial RoPE, FP32 LM head)."""

    # checkpoints written before the decay tables left the state dict still hold them
    _keys_to_ignore_on_load_unexpected = [rf"\.self_attn\.{b}$" for b in DERIVED_BUFFERS]

    def __init__(self, config: MiniMaxConfig):
        super().__init__(config)
        apply_m1_fixes(self)
