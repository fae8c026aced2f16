"""Rollout engines: trainer/engine log-prob agreement, repetition stop, sampling invariances, and the
OpenAI-compatible path against `m1gym serve-model`."""

import socket
import threading
import time

import pytest
import torch

from m1gym.trainer.batch import group_logprobs, pack, token_logprobs
from m1gym.trainer.model import build_model, save_checkpoint_model
from m1gym.trainer.rollout import EmbeddedEngine, OpenAIEngine, SamplingParams


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


def test_openai_engine_against_serve_model(tiny, tmp_path):
    import uvicorn

    from m1gym.trainer.serve import create_app

    model, tok = tiny
    save_checkpoint_model(model, tok, tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(tmp_path)), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        engine = OpenAIEngine(f"http://127.0.0.1:{port}", tok)
        groups = engine.generate(_prompts(tok)[:2], 2, SamplingParams(max_new_tokens=8), seed=1)
        engine.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    rollouts = [r for g in groups for r in g]
    assert len(rollouts) == 4 and all(r.stop_reason in ("eos", "length", "repetition") for r in rollouts)
    batch = pack(rollouts, pad_id=tok.pad_id)
    with torch.no_grad():
        lp, _ = token_logprobs(model, batch.input_ids)
    assert ((lp - batch.old_logp) * batch.mask).abs().max().item() < 1e-5


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
