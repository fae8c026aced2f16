"""Lightning attention: the reference paths agree with each other and with transformers' module on
CPU; the fused fla-core path (GPU only) matches a float64 reference in forward and gradients."""

import pytest
import torch

from m1gym.kernels.lightning import (enable_fused_lightning, fla_available, lightning_blockwise, lightning_decode_step,
                                     lightning_fused, lightning_recurrent, minimax_slopes, relative_error)


def rand_qkv(B, H, T, D, dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator(device="cpu").manual_seed(seed)
    # SiLU outputs are non-negative-ish and O(1); scale keeps long sums finite without 1/sqrt(d)
    q, k, v = (torch.nn.functional.silu(torch.randn(B, H, T, D, generator=g, dtype=torch.float64)) * 0.3
               for _ in range(3))
    return q.to(device, dtype), k.to(device, dtype), v.to(device, dtype)


def test_slopes_match_transformers_module():
    from transformers import MiniMaxConfig
    from transformers.models.minimax.modeling_minimax import MiniMaxLightningAttention

    cfg = MiniMaxConfig(hidden_size=64, num_attention_heads=4, head_dim=16, num_hidden_layers=8,
                        layer_types=["linear_attention"] * 7 + ["full_attention"], block_size=16)
    for layer in (0, 3, 6):
        mod = MiniMaxLightningAttention(cfg, layer)
        assert torch.allclose(mod.slope_rate.view(-1).double(), minimax_slopes(4, layer, 8, dtype=torch.float64))


@pytest.mark.parametrize("T", [1, 7, 64, 257])
def test_blockwise_equals_recurrence_in_float64(T):
    q, k, v = rand_qkv(2, 3, T, 8)
    slopes = minimax_slopes(3, 2, 8, dtype=torch.float64)
    o_ref, s_ref = lightning_recurrent(q, k, v, slopes)
    o_blk, s_blk = lightning_blockwise(q, k, v, slopes, block_size=16)
    assert relative_error(o_blk, o_ref) < 1e-12 and relative_error(s_blk, s_ref) < 1e-12


def test_decode_steps_continue_a_prefill():
    q, k, v = rand_qkv(1, 2, 40, 8)
    slopes = minimax_slopes(2, 0, 8, dtype=torch.float64)
    o_all, _ = lightning_recurrent(q, k, v, slopes)
    _, state = lightning_blockwise(q[:, :, :30], k[:, :, :30], v[:, :, :30], slopes, block_size=8)
    outs = []
    for t in range(30, 40):
        o, state = lightning_decode_step(q[:, :, t:t + 1], k[:, :, t:t + 1], v[:, :, t:t + 1], slopes, state)
        outs.append(o)
    assert relative_error(torch.cat(outs, 2), o_all[:, :, 30:]) < 1e-12


def test_transformers_module_matches_reference():
    """The in-tree module (the CPU fallback the model keeps) computes the same attention core."""
    from transformers import MiniMaxConfig
    from transformers.models.minimax.modeling_minimax import MiniMaxLightningAttention

    cfg = MiniMaxConfig(hidden_size=32, num_attention_heads=2, head_dim=16, num_hidden_layers=8,
                        layer_types=["linear_attention"] * 7 + ["full_attention"], block_size=8)
    torch.manual_seed(0)
    mod = MiniMaxLightningAttention(cfg, 1).double()
    x = torch.randn(2, 21, 32, dtype=torch.float64)
    out, state = mod(x, None, None)
    qkv = mod.act_fn(mod.qkv_proj(x)).reshape(2, 21, 2, 48)
    q, k, v = (t.transpose(1, 2) for t in torch.split(qkv, 16, dim=3))
    o, s = lightning_recurrent(q, k, v, mod.slope_rate.view(-1))
    o = o.transpose(1, 2).reshape(2, 21, 32)
    expect = mod.out_proj(torch.sigmoid(mod.output_gate(x)) * mod.norm(o))
    # the module builds its decay buffers in float32 at init, hence ~1e-8 rather than 1e-15
    assert relative_error(out, expect) < 1e-6 and relative_error(state, s) < 1e-6


def test_enable_fused_on_cpu_reports_and_leaves_model_alone():
    if fla_available():
        pytest.skip("CUDA + fla-core present")
    from transformers.models.minimax.modeling_minimax import MiniMaxLightningAttention

    class Holder(torch.nn.Module):
        pass

    ok, reason = enable_fused_lightning(Holder())
    assert not ok and "fla-core" in reason


@pytest.mark.gpu
@pytest.mark.parametrize("T", [1, 63, 64, 1000, 4097, 16384])
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 5e-3), (torch.bfloat16, 2e-2)])
def test_fused_matches_float64_reference(T, dtype, tol):
    if not fla_available():
        pytest.skip("needs fla-core")
    H, D = 4, 64
    q64, k64, v64 = rand_qkv(1, H, T, D, seed=T)
    slopes = minimax_slopes(H, 1, 8, dtype=torch.float64)
    # reference in float64 on the GPU (block form: same math, fast enough for 16K)
    q64, k64, v64 = (t.cuda().requires_grad_() for t in (q64, k64, v64))
    o_ref, _ = lightning_blockwise(q64, k64, v64, slopes.cuda(), block_size=256)
    do = torch.randn_like(o_ref)
    grads_ref = torch.autograd.grad(o_ref, (q64, k64, v64), do)
    q, k, v = (t.detach().to(dtype).requires_grad_() for t in (q64, k64, v64))
    o, _ = lightning_fused(q, k, v, slopes.cuda().float())
    grads = torch.autograd.grad(o, (q, k, v), do.to(dtype))
    assert relative_error(o, o_ref) < tol
    for g, gr in zip(grads, grads_ref):
        assert relative_error(g, gr) < tol


@pytest.mark.gpu
def test_fused_model_matches_loop_model_prefill_and_decode():
    if not fla_available():
        pytest.skip("needs fla-core")
    from transformers import MiniMaxConfig, MiniMaxForCausalLM

    cfg = MiniMaxConfig(vocab_size=128, hidden_size=128, intermediate_size=128, num_attention_heads=4,
                        num_key_value_heads=2, head_dim=32, num_hidden_layers=8, num_local_experts=4,
                        num_experts_per_tok=2, block_size=64,
                        layer_types=["linear_attention"] * 7 + ["full_attention"])
    torch.manual_seed(0)
    ref = MiniMaxForCausalLM(cfg).cuda().float().eval()
    fused = MiniMaxForCausalLM(cfg).cuda().float().eval()
    fused.load_state_dict(ref.state_dict())
    ok, _ = enable_fused_lightning(fused)
    assert ok
    ids = torch.randint(0, 128, (2, 300), device="cuda")
    with torch.no_grad():
        a, b = ref(ids).logits, fused(ids).logits
        assert relative_error(b, a) < 5e-3
        ga = ref.generate(ids[:, :50], max_new_tokens=20, do_sample=False)
        gb = fused.generate(ids[:, :50], max_new_tokens=20, do_sample=False)
    assert (ga == gb).float().mean() > 0.95


def _fused_layers(model):
    from transformers.models.minimax.modeling_minimax import MiniMaxLightningAttention

    from m1gym.kernels.lightning import _fused_forward

    mods = [m for m in model.modules() if isinstance(m, MiniMaxLightningAttention)]
    return mods, [m for m in mods if getattr(m.forward, "__func__", None) is _fused_forward]


def test_trainer_models_keep_the_loop_on_cpu():
    from m1gym.inference.model import build_model

    model, _ = build_model("tiny")
    mods, fused = _fused_layers(model)
    assert len(mods) == 7 and not fused


@pytest.mark.gpu
def test_trainer_models_use_the_fused_path_on_cuda(monkeypatch):
    if not fla_available():
        pytest.skip("needs fla-core")
    from m1gym.inference.model import build_model

    mods, fused = _fused_layers(build_model("tiny", device="cuda")[0])
    assert len(fused) == len(mods) == 7
    monkeypatch.setenv("M1GYM_FUSED_LIGHTNING", "0")
    assert not _fused_layers(build_model("tiny", device="cuda")[0])[1]
