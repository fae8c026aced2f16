"""What vLLM's MiniMax model reads from a checkpoint, restated as data for CPU tests.

vLLM cannot run on our machines, so the tests check our checkpoints against this restatement of
vllm-project/vllm@98370df70c18 ``vllm/model_executor/models/minimax_text_01.py``
(``MiniMaxText01ForCausalLM``: parameter table, ``load_weights`` routing, config reading) and
``vllm/model_executor/layers/mamba/linear_attn.py`` (decay slopes), and ``registry.py`` (the
architecture names it maps to that class). Written from reading those files, not copied; update it
when vLLM's loader changes.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import torch

ARCHITECTURES = ("MiniMaxForCausalLM", "MiniMaxText01ForCausalLM", "MiniMaxM1ForCausalLM")


def attention_types(cfg: dict[str, Any]) -> list[int]:
    """0 = lightning (linear) layer, 1 = softmax layer: ``attn_type_list`` or
    ``decoder_attention_types``, else transformers' ``layer_types``, else all softmax."""
    types = cfg.get("attn_type_list") or cfg.get("decoder_attention_types")
    if not types and cfg.get("layer_types"):
        types = [{"linear_attention": 0, "full_attention": 1}[t] for t in cfg["layer_types"]]
    return list(types or [1] * cfg["num_hidden_layers"])


def read_config(cfg: dict[str, Any]) -> dict[str, Any]:
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    # vLLM: rotary_dim = getattr(config, "rotary_dim", head_dim); partial factor := rotary_dim / head_dim
    rotary_dim = cfg.get("rotary_dim", head_dim)
    scale = (cfg.get("layernorm_linear_attention_alpha", cfg.get("linear_attn_alpha_factor", 1)),
             cfg.get("layernorm_linear_attention_beta", cfg.get("linear_attn_beta_factor", 1)),
             cfg.get("layernorm_full_attention_alpha", cfg.get("full_attn_alpha_factor", 1)),
             cfg.get("layernorm_full_attention_beta", cfg.get("full_attn_beta_factor", 1)),
             cfg.get("layernorm_mlp_alpha", cfg.get("mlp_alpha_factor", 1)),
             cfg.get("layernorm_mlp_beta", cfg.get("mlp_beta_factor", 1)))
    return {"head_dim": head_dim, "rotary_dim": rotary_dim, "rope_theta": cfg["rope_parameters"]["rope_theta"],
            "attention_types": attention_types(cfg), "num_experts": cfg.get("num_local_experts", 1),
            "residual_scales": scale, "postnorm": cfg.get("postnorm", False), "block": cfg.get("block", 256)}


def parameters(cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter of MiniMaxText01ForCausalLM (tensor parallel size 1)."""
    seen = read_config(cfg)
    H, V, I = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    nh, kv, hd, E = cfg["num_attention_heads"], cfg["num_key_value_heads"], seen["head_dim"], seen["num_experts"]
    out: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,),
                                       "lm_head.weight": (V, H)}
    for i, t in enumerate(seen["attention_types"]):
        p = f"model.layers.{i}"
        out[f"{p}.input_layernorm.weight"] = (H,)
        out[f"{p}.post_attention_layernorm.weight"] = (H,)
        if t == 0:
            out.update({f"{p}.self_attn.qkv_proj.weight": (3 * nh * hd, H),
                        f"{p}.self_attn.output_gate.weight": (nh * hd, H),
                        f"{p}.self_attn.out_proj.weight": (H, nh * hd), f"{p}.self_attn.norm.weight": (nh * hd,)})
        else:
            out.update({f"{p}.self_attn.qkv_proj.weight": ((nh + 2 * kv) * hd, H),
                        f"{p}.self_attn.o_proj.weight": (H, nh * hd)})
        if E > 1:
            out.update({f"{p}.block_sparse_moe.gate.weight": (E, H),
                        f"{p}.block_sparse_moe.experts.w13_weight": (E, 2 * I, H),
                        f"{p}.block_sparse_moe.experts.w2_weight": (E, H, I)})
        else:
            out.update({f"{p}.mlp.gate_up_proj.weight": (2 * I, H), f"{p}.mlp.down_proj.weight": (H, I)})
    return out


_EXPERT = re.compile(r"model\.layers\.\d+\.block_sparse_moe\.experts\.(\d+)\.(w1|w2|w3)\.weight$")


def load(params: dict[str, tuple[int, ...]], weights: Iterable[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Route (name, tensor) pairs as ``load_weights`` does; returns the filled parameters. Raises
    KeyError for a name with no parameter (vLLM's ``params_dict[name]``), ValueError for a shape
    mismatch or a parameter written twice or left partly empty."""
    filled: dict[str, torch.Tensor] = {}
    written: dict[str, torch.Tensor] = {}  # per-element write counts

    def put(name: str, tensor: torch.Tensor, index: Any = slice(None)) -> None:
        if name not in params:
            raise KeyError(name)
        if name not in filled:
            filled[name] = torch.zeros(params[name], dtype=tensor.dtype)
            written[name] = torch.zeros(params[name], dtype=torch.int8)
        target = filled[name][index]
        if tuple(target.shape) != tuple(tensor.shape):
            raise ValueError(f"{name}{index}: shape {tuple(tensor.shape)} != {tuple(target.shape)}")
        filled[name][index] = tensor
        written[name][index] += 1

    n_types = len(attention_types_from(params))
    for name, tensor in weights:
        m = re.search(r"layers\.(\d+)\.", name)
        layer = int(m.group(1)) if m else None
        if layer is not None and layer >= n_types:
            continue
        if "norm" in name and name in params:
            put(name, tensor)
        elif "self_attn" in name:
            if _is_linear(params, layer):
                put(name, tensor)
            else:
                qkv = re.search(r"\.(q|k|v)_proj\.", name)
                if qkv is None:
                    put(name, tensor)
                    continue
                target = name.replace(f"{qkv.group(1)}_proj", "qkv_proj")
                q_rows = _q_rows(params, layer)
                kv_rows = (params[target][0] - q_rows) // 2
                start = {"q": 0, "k": q_rows, "v": q_rows + kv_rows}[qkv.group(1)]
                put(target, tensor, slice(start, start + tensor.shape[0]))
        elif "block_sparse_moe" in name:
            m = _EXPERT.search(name)
            if m is None:
                put(name, tensor)  # the router
                continue
            e, w = int(m.group(1)), m.group(2)
            base = name[:m.start(1)]
            if w == "w2":
                put(base + "w2_weight", tensor, (e,))
            else:
                inter = params[base + "w13_weight"][1] // 2
                half = slice(0, inter) if w == "w1" else slice(inter, 2 * inter)
                put(base + "w13_weight", tensor, (e, half))
        elif "rotary_emb.inv_freq" in name:
            continue
        else:
            put(name, tensor)
    for name, counts in written.items():
        if (counts != 1).any():
            raise ValueError(f"{name}: some elements written {int(counts.max())} times, some {int(counts.min())}")
    return filled


def attention_types_from(params: dict[str, tuple[int, ...]]) -> list[int]:
    n = 1 + max(int(m.group(1)) for k in params if (m := re.match(r"model\.layers\.(\d+)\.", k)))
    return [0 if f"model.layers.{i}.self_attn.out_proj.weight" in params else 1 for i in range(n)]


def _is_linear(params: dict[str, tuple[int, ...]], layer: int | None) -> bool:
    return layer is not None and f"model.layers.{layer}.self_attn.out_proj.weight" in params


def _q_rows(params: dict[str, tuple[int, ...]], layer: int) -> int:
    return params[f"model.layers.{layer}.self_attn.o_proj.weight"][1]


def slopes(n_heads: int) -> torch.Tensor:
    """vLLM's per-head decay slopes before the per-layer factor (ALiBi's: geometric from
    2^(-8/n) for a power of two n; otherwise the nearest power's slopes plus every other slope of
    twice that)."""
    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]

    def get(n: int) -> list[float]:
        if math.log2(n).is_integer():
            return power_of_2(n)
        closest = 2 ** math.floor(math.log2(n))
        return power_of_2(closest) + get(2 * closest)[0::2][:n - closest]

    return torch.tensor(get(n_heads), dtype=torch.float32).reshape(n_heads, 1, 1)
