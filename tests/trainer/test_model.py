"""Presets, partial RoPE against an independent computation, FP32 head, save/load, counts, FLOPs."""

import math

import pytest
import torch

from m1gym.inference.model import (M1Attention, build_meta, build_model, count_params, load_model,
                                 preset_config, save_checkpoint_model)
from m1gym.inference.tokenizer import CharTokenizer


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return build_model("tiny", seed=0)


def _independent_partial_rope(x: torch.Tensor, positions: torch.Tensor, rotary_dim: int, theta: float) -> torch.Tensor:
    """Rotate pairs (j, j + rotary_dim/2), j < rotary_dim/2, by angle pos * theta^(-2j/rotary_dim),
    written with complex numbers in float64; dims from rotary_dim on pass through."""
    x = x.double()
    half = rotary_dim // 2
    j = torch.arange(half, dtype=torch.float64)
    angle = positions.double()[:, None] * theta ** (-2 * j / rotary_dim)  # [T, half]
    z = torch.complex(x[..., :half], x[..., half:rotary_dim]) * torch.polar(torch.ones_like(angle), angle)
    return torch.cat([z.real, z.imag, x[..., rotary_dim:]], dim=-1)


def test_partial_rope_softmax_layer_matches_independent_attention(tiny):
    model, _ = tiny
    cfg = model.config
    layer_idx = cfg.layer_types.index("full_attention")
    attn = model.model.layers[layer_idx].self_attn
    assert isinstance(attn, M1Attention)
    rd = cfg.head_dim // 2  # the M1 fraction: 64 of 128 -> 8 of 16 for tiny
    T = 7
    torch.manual_seed(1)
    h = torch.randn(1, T, cfg.hidden_size)
    pos = torch.arange(3, 3 + T)[None]
    cos_sin = model.model.rotary_emb(h, pos)
    assert cos_sin[0].shape[-1] == rd
    causal = torch.full((T, T), float("-inf")).triu(1)[None, None]
    with torch.no_grad():
        ours, _ = attn(h, cos_sin, causal)
        # independent: projections, complex-number partial RoPE, causal softmax with GQA
        H, KV, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = attn.q_proj(h).view(1, T, H, d).transpose(1, 2)[0]
        k = attn.k_proj(h).view(1, T, KV, d).transpose(1, 2)[0]
        v = attn.v_proj(h).view(1, T, KV, d).transpose(1, 2)[0].double()
        q = _independent_partial_rope(q, pos[0], rd, 1e4)
        k = _independent_partial_rope(k, pos[0], rd, 1e4)
        k, v = k.repeat_interleave(H // KV, 0), v.repeat_interleave(H // KV, 0)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + causal[0].double()
        out = (scores.softmax(-1) @ v).transpose(0, 1).reshape(1, T, H * d)
        ref = attn.o_proj(out.float())
    assert torch.allclose(ours, ref, atol=1e-5)
    # the in-tree rotary (whole head) gives a different result: the fix matters
    from transformers.models.minimax.modeling_minimax import MiniMaxAttention, MiniMaxRotaryEmbedding

    full_cfg = preset_config("tiny")
    full_rot = MiniMaxRotaryEmbedding(full_cfg)
    attn.__class__ = MiniMaxAttention
    try:
        with torch.no_grad():
            in_tree, _ = attn(h, full_rot(h, pos), causal)
    finally:
        attn.__class__ = M1Attention
    assert (in_tree - ref).abs().max() > 1e-4


def test_presets_shape_and_fp32_head():
    cfg = preset_config("tiny")
    assert cfg.num_hidden_layers == 8
    assert cfg.layer_types.count("linear_attention") == 7 and cfg.layer_types[7] == "full_attention"
    assert 4 <= cfg.num_local_experts <= 8 and cfg.num_experts_per_tok == 2
    model, tok = build_model("tiny", dtype="bfloat16")
    ids = torch.tensor([tok.prompt_ids([{"role": "user", "content": "hi"}])])
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert logits.dtype == torch.float32  # LM head in FP32 whatever the model dtype
    assert next(model.model.parameters()).dtype == torch.bfloat16


def test_m1_counts_from_built_model():
    c = count_params(build_meta("m1"))
    assert round(c["total"] / 1e9, 2) == 456.09
    assert round(c["active"] / 1e9, 2) == 45.94
    small = count_params(build_meta("small"))
    assert 100e6 <= small["total"] <= 300e6


def test_save_pretrained_roundtrip(tiny, tmp_path):
    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded, tok2 = load_model(tmp_path)
    ids = torch.tensor([tok.prompt_ids([{"role": "user", "content": "Compute 3 + 4."}])])
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, loaded(input_ids=ids).logits)
    assert isinstance(tok2, CharTokenizer) and tok2.vocab == tok.vocab
    # plain transformers loads the same weights
    from transformers import MiniMaxForCausalLM

    plain = MiniMaxForCausalLM.from_pretrained(str(tmp_path))
    sd1, sd2 = model.state_dict(), plain.state_dict()
    assert all(torch.equal(sd1[k], sd2[k]) for k in sd1)


def test_char_tokenizer_roundtrip():
    tok = CharTokenizer()
    text = "<think>\n2 × 3</think><answer>6</answer>"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert len(ids) == len("\n2 × 3") + 1 + 4  # the four tags are one token each
    assert tok.encode("é") == [tok.unk_id]


def test_flops_ratio_matches_figure():
    from m1gym.inference.flops import FIGURE_1, deepseek_r1_flop_model, m1_flop_model, parse_length

    m1, r1 = m1_flop_model(), deepseek_r1_flop_model()
    for L, fig in FIGURE_1.items():
        assert abs(m1.generation(L) / r1.generation(L) - fig) < 0.01
    assert parse_length("64k") == 64000
    with pytest.raises(ValueError):
        parse_length("abc")
