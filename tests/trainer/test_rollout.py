"""Rollout engines: trainer/engine log-prob agreement, repetition stop, sampling invariances, and the
OpenAI-compatible path against `m1gym serve-model`."""

import contextlib
import socket
import threading
import time

import pytest
import torch

from m1gym.trainer.batch import group_logprobs, pack, token_logprobs
from m1gym.inference.model import build_model, save_checkpoint_model
from m1gym.inference.rollout import EmbeddedEngine, OpenAIEngine, SamplingParams


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    return build_model("tiny", seed=3)


def _prompts(tok):
    texts = ["Compute 3 + 4.", "What is 12% of 300? Answer briefly.", "Sort: b a c", "x"]
    return [tok.prompt_ids([{"role": "user", "content": t}]) for t in texts]


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_trainer_logprobs_match_engine(tiny, temperature):
    model, tok = tiny
    engine = EmbeddedEngine(model, tok, batch_size=12)  # several chunks, left padding inside each
    params = SamplingParams(max_new_tokens=12, temperature=temperature, repetition_k=0)
    groups = engine.generate(_prompts(tok), 3, params, seed=7)
    rollouts = [r for g in groups for r in g]
    assert all(len(r.logprobs) == len(r.token_ids) > 0 for r in rollouts)
    batch = pack(rollouts, pad_id=tok.pad_id)
    with torch.no_grad():
        lp, _ = token_logprobs(model, batch.input_ids, temperature=temperature)
        assert ((lp - batch.old_logp) * batch.mask).abs().max().item() < 1e-5
        lp2, _, mask = group_logprobs(model, [g[0].prompt_ids for g in groups], [[r.token_ids for r in g] for g in groups],
                                      temperature=temperature, pad_id=tok.pad_id)
    old = torch.zeros_like(lp2)
    for i, r in enumerate(rollouts):
        old[i, :len(r.logprobs)] = torch.tensor(r.logprobs)
    assert ((lp2 - old) * mask).abs().max().item() < 1e-5


def test_sampling_is_keyed_per_response_not_per_batch(tiny):
    model, tok = tiny
    prompts = _prompts(tok)
    params = SamplingParams(max_new_tokens=8, repetition_k=0)
    whole = EmbeddedEngine(model, tok, batch_size=64).generate(prompts, 2, params, seed=11)
    split = EmbeddedEngine(model, tok, batch_size=2).generate(prompts[2:], 2, params, seed=11, offset=2)
    assert [r.token_ids for g in whole[2:] for r in g] == [r.token_ids for g in split for r in g]
    other = EmbeddedEngine(model, tok).generate(prompts, 2, params, seed=12)
    assert [r.token_ids for g in whole for r in g] != [r.token_ids for g in other for r in g]


def test_repetition_stop_fires_on_forced_loop_only(tiny):
    model, tok = tiny
    a = tok.encode("a")[0]

    def force_a(module, inputs, output):
        output[..., a] += 40.0  # the model now repeats "a" with p > 0.99
        return output

    params = SamplingParams(max_new_tokens=40, repetition_k=6, repetition_p=0.99)
    handle = model.lm_head.register_forward_hook(force_a)
    try:
        looped = EmbeddedEngine(model, tok).generate(_prompts(tok)[:2], 2, params, seed=0)
    finally:
        handle.remove()
    for r in (r for g in looped for r in g):
        assert r.stop_reason == "repetition"
        assert r.token_ids == [a] * 6
    normal = EmbeddedEngine(model, tok).generate(_prompts(tok), 4, params, seed=0)
    assert all(r.stop_reason != "repetition" for g in normal for r in g)
    assert any(r.stop_reason == "length" for g in normal for r in g)


def test_greedy_and_top_p(tiny):
    model, tok = tiny
    prompts = _prompts(tok)[:2]
    greedy = EmbeddedEngine(model, tok).generate(prompts, 1, SamplingParams(max_new_tokens=6, temperature=0.0), seed=0)
    nucleus = EmbeddedEngine(model, tok).generate(prompts, 2, SamplingParams(max_new_tokens=6, top_p=1e-6), seed=5)
    for g, n in zip(greedy, nucleus):
        assert all(r.token_ids == g[0].token_ids for r in n)  # top-p -> the single most likely token


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve_model(path, **kw):
    """`m1gym serve-model` on a loopback port, in a thread; yields its base URL."""
    import uvicorn

    from m1gym.inference.serve import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(path), **kw), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if server.started:
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_openai_engine_against_serve_model(tiny, tmp_path):
    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    with _serve_model(tmp_path, accept_weights=True) as url:
        engine = OpenAIEngine(url, tok)
        groups = engine.generate(_prompts(tok)[:2], 2, SamplingParams(max_new_tokens=8), seed=1)
        again = engine.generate(_prompts(tok)[:2], 2, SamplingParams(max_new_tokens=8), seed=1)
        engine.close()
    rollouts = [r for g in groups for r in g]
    assert len(rollouts) == 4 and all(r.stop_reason in ("eos", "length", "repetition") for r in rollouts)
    assert [r.token_ids for g in again for r in g] == [r.token_ids for r in rollouts]  # seeded
    batch = pack(rollouts, pad_id=tok.pad_id)
    with torch.no_grad():
        lp, _ = token_logprobs(model, batch.input_ids)
    assert ((lp - batch.old_logp) * batch.mask).abs().max().item() < 1e-5


def test_openai_engine_seeds_each_prompt_and_sample(tiny, tmp_path):
    """The same prompt twice in a batch, two samples each: four different seeds, four responses."""
    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    p = _prompts(tok)[0]
    with _serve_model(tmp_path) as url:
        engine = OpenAIEngine(url, tok, weight_sync=False)
        groups = engine.generate([p, p], 2, SamplingParams(max_new_tokens=12, repetition_k=0), seed=4)
        shifted = engine.generate([p], 2, SamplingParams(max_new_tokens=12, repetition_k=0), seed=4, offset=1)
        engine.close()
    seqs = [tuple(r.token_ids) for g in groups for r in g]
    assert len(set(seqs)) == 4
    assert [r.token_ids for r in shifted[0]] == [r.token_ids for r in groups[1]]  # keyed by prompt index
    from m1gym.inference.rollout import response_seed

    assert len({response_seed(4, i, s) for i in range(64) for s in range(16)}) == 64 * 16


def test_weight_sync_changes_serve_model_rollouts(tiny, tmp_path):
    """After sync_weights the server samples from the new policy: greedy rollouts equal the new
    model's own, and the log-probs are the new model's."""
    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    new_model, _ = build_model("tiny", seed=11)
    prompts = _prompts(tok)[:3]
    greedy = SamplingParams(max_new_tokens=10, temperature=0.0, repetition_k=0)
    with _serve_model(tmp_path, accept_weights=True) as url:
        engine = OpenAIEngine(url, tok)
        before = engine.generate(prompts, 1, greedy)
        engine.sync_weights(new_model)
        assert engine.weight_version == 1
        after = engine.generate(prompts, 1, greedy)
        sampled = engine.generate(prompts, 2, SamplingParams(max_new_tokens=8, repetition_k=0), seed=2)
        engine.close()
    old_local = EmbeddedEngine(model, tok).generate(prompts, 1, greedy)
    new_local = EmbeddedEngine(new_model, tok).generate(prompts, 1, greedy)
    assert [g[0].token_ids for g in before] == [g[0].token_ids for g in old_local]
    assert [g[0].token_ids for g in after] == [g[0].token_ids for g in new_local]
    assert [g[0].token_ids for g in after] != [g[0].token_ids for g in before]
    batch = pack([r for g in sampled for r in g], pad_id=tok.pad_id)
    with torch.no_grad():
        lp_new, _ = token_logprobs(new_model, batch.input_ids)
        lp_old, _ = token_logprobs(model, batch.input_ids)
    assert ((lp_new - batch.old_logp) * batch.mask).abs().max().item() < 1e-5
    assert ((lp_old - batch.old_logp) * batch.mask).abs().max().item() > 1e-3


def test_server_refuses_bad_weights_and_engine_refuses_fixed_server(tiny, tmp_path):
    import httpx

    from m1gym.inference.rollout import weights_payload

    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    with _serve_model(tmp_path) as url:  # no --accept-weights: a fixed server
        with pytest.raises(RuntimeError, match="cannot take new weights.*--accept-weights"):
            OpenAIEngine(url, tok)
        assert httpx.post(f"{url}/v1/weights", content=weights_payload(model.state_dict())).status_code == 404
    with _serve_model(tmp_path, accept_weights=True) as url:
        state = dict(model.state_dict())
        state["lm_head.weight"] = state["lm_head.weight"][:5]
        del state["model.norm.weight"]
        r = httpx.post(f"{url}/v1/weights", content=weights_payload(state))
        assert r.status_code == 400 and "model.norm.weight" in r.text and "lm_head.weight" in r.text
        assert httpx.post(f"{url}/v1/weights", content=b"not safetensors").status_code == 400
        assert httpx.get(f"{url}/v1/weights").json()["version"] == 0  # nothing was applied
    with pytest.raises(ConnectionError, match="unreachable"):
        OpenAIEngine(f"http://127.0.0.1:{_free_port()}", tok)


class _FakeWorker:
    """Stands in for a vLLM worker: its model's load_weights is vLLM's loader restated as data."""

    def __init__(self, cfg):
        import vllm_minimax

        from m1gym.inference.rollout import VLLMWeightSync

        self.params = vllm_minimax.parameters(cfg)
        self.filled = None
        worker = self

        class Model:
            def load_weights(self, weights):
                worker.filled = vllm_minimax.load(worker.params, weights)
                return set(worker.filled)

        self.model_runner = type("Runner", (), {"model": Model()})()
        self.ext = VLLMWeightSync.m1gym_load_weights

    def collective_rpc(self, method, args=()):
        assert method == "m1gym_load_weights"
        return [self.ext(self, *args)]


def test_vllm_engine_sync_weights_names_and_cache_reset(tiny, tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from m1gym.inference.rollout import VLLMEngine, check_vllm_checkpoint

    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    assert check_vllm_checkpoint(tmp_path) == tmp_path
    worker = _FakeWorker(json.loads((tmp_path / "config.json").read_text()))
    resets = []
    llm = type("LLM", (), {"collective_rpc": lambda self, m, args=(): worker.collective_rpc(m, args),
                           "reset_prefix_cache": lambda self: resets.append(1)})()
    engine = VLLMEngine.__new__(VLLMEngine)
    engine.llm, engine.tokenizer, engine.weight_version = llm, tok, 0
    engine.sync_weights(model)
    assert resets == [1] and engine.weight_version == 1
    assert set(worker.filled) == set(worker.params)
    sd = model.state_dict()
    assert torch.equal(worker.filled["model.layers.2.block_sparse_moe.experts.w13_weight"],
                       sd["model.layers.2.mlp.experts.gate_up_proj"])
    # the engine takes checkpoint directories only, and says how to get one
    with pytest.raises(ValueError, match="checkpoint directory.*from_policy"):
        check_vllm_checkpoint("tiny")
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg.pop("rotary_dim")
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="older m1gym.*Re-save"):
        check_vllm_checkpoint(tmp_path)


def test_scorers_agree_in_process_and_pool():
    from m1gym.registry import get_env
    from m1gym.trainer.scoring import InProcessScorer, PoolScorer

    env = get_env("math/arithmetic")
    tasks = [env.generate(i, 0) for i in range(4)]
    responses = [env.reference(tasks[0]), "<answer>nope</answer>", env.reference(tasks[2]), ""]
    local = InProcessScorer().score(tasks, responses)
    pool = PoolScorer(workers=1)
    try:
        remote = pool.score(tasks, responses)
    finally:
        pool.close()
    assert [s.reward for s in local] == [s.reward for s in remote] == [1.0, 0.0, 1.0, 0.0]
