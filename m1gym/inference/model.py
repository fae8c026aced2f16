"""The hybrid lightning-attention MoE model: presets on ``transformers.MiniMaxForCausalLM``.

M1's corrections to the in-tree model (partial RoPE, FP32 LM head, decay tables out of the state
dict) live in ``modeling_m1.py``, a file that needs only torch and transformers.

Checkpoints (``save_checkpoint_model``) are ``save_pretrained`` safetensors in MiniMax's original
weight layout (per-expert ``block_sparse_moe.experts.N.w1/w2/w3``), the format both vLLM's MiniMax
model and transformers read:

* config.json names the architecture ``MiniMaxForCausalLM`` (in vLLM's registry) and carries
  ``rotary_dim = head_dim * partial_rotary_factor`` (vLLM rotates ``rotary_dim`` dims and would
  rotate the whole head without it);
* no derived buffers (vLLM's loader has no parameter for them);
* ``modeling_m1gym.py`` (a copy of ``modeling_m1.py``) and ``auto_map``, so plain transformers
  gives the same logits with ``AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True)``.
  Without ``trust_remote_code`` transformers uses its in-tree MiniMax, which rotates the whole head
  (the weights load, the logits differ).

``load_model`` reads these and checkpoints written before (architecture ``M1ForCausalLM``, no
``rotary_dim``, decay tables stored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import MiniMaxConfig, MiniMaxForCausalLM

from .modeling_m1 import (DERIVED_BUFFERS, M1_PARTIAL_ROTARY_FACTOR, FP32Head, M1Attention,  # noqa: F401
                          M1ForCausalLM, PartialRotaryEmbedding, apply_m1_fixes, apply_partial_rotary,
                          rotary_dim_of)
from .tokenizer import CharTokenizer, load_tokenizer


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


#: the architecture name written to config.json: in vLLM's registry and transformers' auto classes
ARCHITECTURE = "MiniMaxForCausalLM"
#: the modeling file copied into every checkpoint, and the auto_map entry pointing at it
REMOTE_CODE_FILE = "modeling_m1gym.py"
AUTO_MAP = {"AutoModelForCausalLM": "modeling_m1gym.M1ForCausalLM"}


def checkpoint_config(config: MiniMaxConfig) -> dict[str, Any]:
    """config.json of a checkpoint: the model's config plus what vLLM and plain transformers need."""
    d = config.to_dict()
    d["architectures"] = [ARCHITECTURE]
    d["rotary_dim"] = rotary_dim_of(config)
    d["auto_map"] = dict(AUTO_MAP)
    return d


def save_checkpoint_model(model: MiniMaxForCausalLM, tokenizer: Any, path: str | Path) -> None:
    """``save_pretrained`` safetensors (MiniMax's original weight layout, no derived buffers) with the
    config fields vLLM reads and the modeling file plain transformers loads with trust_remote_code."""
    import json
    import shutil

    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    apply_m1_fixes(model)  # idempotent: a model built elsewhere also leaves its decay tables out
    model.save_pretrained(str(p), safe_serialization=True)
    cfg = json.loads((p / "config.json").read_text())
    cfg.update({k: v for k, v in checkpoint_config(model.config).items()
                if k in ("architectures", "rotary_dim", "auto_map")})
    (p / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(Path(__file__).with_name("modeling_m1.py"), p / REMOTE_CODE_FILE)
    if tokenizer is not None:
        tokenizer.save_pretrained(p)


def checkpoint_tensors(model: MiniMaxForCausalLM):
    """(name, tensor) pairs of the model in the checkpoint layout, without writing a file: what
    ``save_checkpoint_model`` stores and what vLLM's ``MiniMaxText01ForCausalLM.load_weights`` takes.
    transformers keeps each layer's experts fused (``mlp.experts.gate_up_proj`` [E, 2I, H] with the
    gate half first, ``mlp.experts.down_proj`` [E, H, I]); the checkpoint has one ``w1`` (gate),
    ``w3`` (up) and ``w2`` (down) per expert under ``block_sparse_moe``. Tensors are views."""
    import re

    fused = re.compile(r"(model\.layers\.\d+)\.mlp\.(gate\.weight|experts\.gate_up_proj|experts\.down_proj)")
    for name, t in model.state_dict().items():
        m = fused.fullmatch(name)
        if m is None:
            yield name, t
            continue
        moe, what = f"{m.group(1)}.block_sparse_moe", m.group(2)
        if what == "gate.weight":
            yield f"{moe}.gate.weight", t
        elif what == "experts.gate_up_proj":
            inter = t.shape[1] // 2
            for e in range(t.shape[0]):
                yield f"{moe}.experts.{e}.w1.weight", t[e, :inter]
                yield f"{moe}.experts.{e}.w3.weight", t[e, inter:]
        else:
            for e in range(t.shape[0]):
                yield f"{moe}.experts.{e}.w2.weight", t[e]


def vllm_problems(config: MiniMaxConfig) -> list[str]:
    """Why vLLM's MiniMax model would not compute what ours does for this config (empty: none).
    vLLM builds ALiBi-style slopes, equal to transformers' ``base ** (h + 1)`` only when the head
    count is a power of two."""
    n = config.num_attention_heads
    problems = []
    if n & (n - 1):
        problems.append(f"num_attention_heads = {n} is not a power of two: vLLM's lightning-attention "
                        "decay slopes then differ from transformers' (use 4, 8, 16, ... heads)")
    return problems


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
