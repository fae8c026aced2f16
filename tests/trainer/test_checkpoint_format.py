"""Checkpoints that transformers and vLLM both read: config fields, weight layout, no derived
buffers, same logits in plain transformers (no m1gym importable), old checkpoints still load, and
the weight names / config checked against vLLM's MiniMax loader restated as data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from m1gym.inference.model import (DERIVED_BUFFERS, build_model, checkpoint_tensors, load_model, preset_config,
                                 save_checkpoint_model, vllm_problems)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vllm_minimax  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return build_model("tiny", seed=5)


@pytest.fixture(scope="module")
def ckpt(tiny, tmp_path_factory):
    model, tok = tiny
    path = tmp_path_factory.mktemp("ckpt")
    save_checkpoint_model(model, tok, path)
    return path


def _ids(tok):
    texts = ["Compute 3 + 4.", "Sort the letters: d b a c and say which comes first"]
    rows = [tok.prompt_ids([{"role": "user", "content": t}]) for t in texts]
    n = min(len(r) for r in rows)
    return torch.tensor([r[:n] for r in rows])


def test_checkpoint_config_and_weights(tiny, ckpt):
    model, _ = tiny
    cfg = json.loads((ckpt / "config.json").read_text())
    assert cfg["architectures"] == ["MiniMaxForCausalLM"]
    assert cfg["rotary_dim"] == cfg["head_dim"] // 2 == 8
    assert cfg["model_type"] == "minimax"
    assert cfg["auto_map"]["AutoModelForCausalLM"] == "modeling_m1gym.M1ForCausalLM"
    assert (ckpt / "modeling_m1gym.py").exists()
    stored = load_file(str(ckpt / "model.safetensors"))
    assert not [k for k in stored if k.rsplit(".", 1)[-1] in DERIVED_BUFFERS]
    # checkpoint_tensors (the in-memory sync path) is exactly what save_pretrained stored
    ours = dict(checkpoint_tensors(model))
    assert set(ours) == set(stored)
    assert all(torch.equal(ours[k], stored[k]) for k in stored)
    assert "model.layers.0.block_sparse_moe.experts.3.w2.weight" in stored


def test_trainer_checkpoint_gives_same_logits_in_plain_transformers(warm_start, tmp_path):
    """A checkpoint written by the trainer (the SFT warm start), loaded by transformers alone in a
    process where m1gym cannot be imported, gives the logits m1gym's model gives."""
    model, tok = load_model(warm_start)
    ids = _ids(tok)
    with torch.no_grad():
        ref = model(input_ids=ids).logits
    code = ("import json, sys, torch\n"
            "sys.modules['m1gym'] = None\n"
            "from transformers import AutoModelForCausalLM\n"
            "m = AutoModelForCausalLM.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
            "ids = torch.tensor(json.loads(sys.argv[2]))\n"
            "with torch.no_grad():\n"
            "    print(json.dumps(m(input_ids=ids).logits.tolist()))\n")
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(warm_start), json.dumps(ids.tolist())], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    plain = torch.tensor(json.loads(out.stdout.strip().splitlines()[-1]))
    assert plain.shape == ref.shape
    assert (plain - ref).abs().max().item() < 1e-5
    # transformers' in-tree MiniMax (no remote code) rotates the whole head: same weights, other logits
    from transformers import MiniMaxForCausalLM

    in_tree = MiniMaxForCausalLM.from_pretrained(str(warm_start))
    with torch.no_grad():
        assert (in_tree(input_ids=ids).logits - ref).abs().max().item() > 1e-4


def test_old_checkpoints_still_load(tiny, ckpt, tmp_path):
    """The format written before: architecture M1ForCausalLM, no rotary_dim, decay tables stored."""
    model, tok = tiny
    for f in ckpt.iterdir():
        if f.name != "modeling_m1gym.py":
            (tmp_path / f.name).write_bytes(f.read_bytes())
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["architectures"] = ["M1ForCausalLM"]
    del cfg["rotary_dim"], cfg["auto_map"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    tensors = load_file(str(tmp_path / "model.safetensors"))
    for name, buf in model.named_buffers():
        if name.rsplit(".", 1)[-1] in DERIVED_BUFFERS:
            tensors[name] = buf.clone()
    save_file(tensors, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    old, _ = load_model(tmp_path)
    ids = _ids(tok)
    with torch.no_grad():
        assert torch.equal(old(input_ids=ids).logits, model(input_ids=ids).logits)
    # and re-saving writes the new format
    save_checkpoint_model(old, tok, tmp_path / "resaved")
    assert json.loads((tmp_path / "resaved" / "config.json").read_text())["rotary_dim"] == 8


def test_weights_fill_vllms_minimax_model(tiny, ckpt):
    """Every stored tensor routes to a parameter of vLLM's MiniMaxText01ForCausalLM built from our
    config.json, every parameter is filled once with the right shape, and the per-expert tensors
    reassemble into the fused experts our model trains."""
    model, _ = tiny
    cfg = json.loads((ckpt / "config.json").read_text())
    assert cfg["architectures"][0] in vllm_minimax.ARCHITECTURES
    params = vllm_minimax.parameters(cfg)
    filled = vllm_minimax.load(params, load_file(str(ckpt / "model.safetensors")).items())
    assert set(filled) == set(params)
    for name, shape in params.items():
        assert tuple(filled[name].shape) == shape, name
    sd = model.state_dict()
    for i in range(cfg["num_hidden_layers"]):
        moe = f"model.layers.{i}.block_sparse_moe.experts"
        assert torch.equal(filled[f"{moe}.w13_weight"], sd[f"model.layers.{i}.mlp.experts.gate_up_proj"])
        assert torch.equal(filled[f"{moe}.w2_weight"], sd[f"model.layers.{i}.mlp.experts.down_proj"])
    full = cfg["layer_types"].index("full_attention")
    a = f"model.layers.{full}.self_attn"
    assert torch.equal(filled[f"{a}.qkv_proj.weight"],
                       torch.cat([sd[f"{a}.q_proj.weight"], sd[f"{a}.k_proj.weight"], sd[f"{a}.v_proj.weight"]]))
    # the in-memory sync sends the same names (vLLM's load_weights takes them)
    synced = vllm_minimax.load(params, checkpoint_tensors(model))
    assert all(torch.equal(synced[k], filled[k]) for k in params)


def test_a_stored_decay_table_breaks_vllms_loader():
    """Why the derived buffers must stay out: vLLM has no parameter for them."""
    params = vllm_minimax.parameters(json.loads(json.dumps(preset_config("tiny").to_dict())))
    with pytest.raises(KeyError, match="slope_rate"):
        vllm_minimax.load(params, [("model.layers.0.self_attn.slope_rate", torch.zeros(4, 1, 1))])


def test_config_round_trip_through_vllms_reading(tiny, ckpt):
    model, _ = tiny
    cfg = json.loads((ckpt / "config.json").read_text())
    seen = vllm_minimax.read_config(cfg)
    assert seen["rotary_dim"] == model.model.rotary_emb.rotary_dim == 8
    assert seen["rope_theta"] == model.model.rotary_emb.theta
    assert seen["attention_types"] == [0 if t == "linear_attention" else 1 for t in model.config.layer_types]
    assert seen["num_experts"] == model.config.num_local_experts
    assert seen["residual_scales"] == (1, 1, 1, 1, 1, 1)
    # without rotary_dim (the old format) vLLM would rotate the whole head
    old = {k: v for k, v in cfg.items() if k != "rotary_dim"}
    assert vllm_minimax.read_config(old)["rotary_dim"] == cfg["head_dim"]
    # vLLM's slopes match transformers' only for a power-of-two head count
    layer = model.model.layers[0].self_attn
    assert torch.allclose(vllm_minimax.slopes(cfg["num_attention_heads"]).view(-1) * (1 + 1e-5),
                          layer.slope_rate.view(-1), rtol=1e-5)
    assert vllm_problems(preset_config("tiny")) == []
    assert "power of two" in vllm_problems(preset_config("small"))[0]
