"""verl's own reward managers (legacy naive / batch / prime / dapo, and the reward loop's worker with
verl's naive manager and with ours) call our functions on verl's DataProto, loaded the way verl loads
them (``pkg://`` paths through verl's loaders), and give the rewards ``m1gym score`` gives.

verl is installed with ``--no-deps`` (its pins would replace torch/transformers) plus the few light
packages its reward modules import (scripts/install.sh). Under CI=true a missing verl fails."""

from __future__ import annotations

import asyncio
import os

import numpy as np
import pytest

from integ_helpers import m1gym_score
from m1gym.integrations import verl as adapter
from m1gym.integrations.export import tasks_for
from m1gym.registry import get_env
from m1gym.service.labels import LabelError

if os.environ.get("CI") == "true":
    import verl  # noqa: F401 - must be installed in CI
verl = pytest.importorskip("verl")
from omegaconf import OmegaConf  # noqa: E402  (a verl dependency)

PKG = "pkg://m1gym.integrations.verl"


def _samples():
    """(data_source, ground_truth, extra_info, response, expected reward or None = ask m1gym score)."""
    out = []
    for env in ("math/arithmetic", "logic/sudoku"):
        tasks, _ = tasks_for(env, 2, seed=3, level=1)
        e = get_env(env)
        for i, t in enumerate(tasks):
            extra = {"index": i, "split": "train", "task_id": t.id, "m1gym_env": env}
            out.append((env, t.to_json(), extra, e.reference(t), t))
            out.append((env, t.to_json(), extra, "<answer>0</answer>", t))
    # rows as verl's own preprocessors write them: a bare final answer and verl's data_source
    out.append(("openai/gsm8k", "72", {"question": "Natalia sold 48 clips...", "index": 0}, "<answer>72</answer>", 1.0))
    out.append(("openai/gsm8k", "72", {"question": "Natalia sold 48 clips..."}, "<answer>71</answer>", 0.0))
    out.append(("openai/gsm8k", "72", {}, "48 + 24 = 72\n#### 72", 1.0))  # what verl's GSM8K prompt asks for
    out.append(("DigitalLearningGmbH/MATH-lighteval", "72", {}, "48 + 24 = 72\n#### 72", 0.0))  # MATH did not
    out.append(("DigitalLearningGmbH/MATH-lighteval", "\\frac{1}{2}", {}, "so \\boxed{\\frac{2}{4}}", 1.0))
    out.append(("math_dapo", "34", {}, "", 0.0))
    return out


SAMPLES = _samples()


def _expected():
    return [m1gym_score(want, resp) if not isinstance(want, float) else want for _, _, _, resp, want in SAMPLES]


@pytest.fixture(scope="module")
def expected():
    exp = _expected()
    assert 1.0 in exp and 0.0 in exp  # the batch mixes right and wrong answers
    return exp


def _data(tokenizer):
    """A verl DataProto like the rollout makes: left-padded prompts, right-padded responses."""
    import torch
    from verl import DataProto

    prompts = [tokenizer(f"<|user|>{ds}\n<|assistant|>")["input_ids"] for ds, *_ in SAMPLES]
    responses = [tokenizer(resp)["input_ids"] + [tokenizer.eos_token_id] for *_, resp, _ in SAMPLES]
    P, R = max(map(len, prompts)), max(map(len, responses))
    pad = tokenizer.pad_token_id
    p = torch.tensor([[pad] * (P - len(x)) + x for x in prompts])
    r = torch.tensor([x + [pad] * (R - len(x)) for x in responses])
    mask = torch.cat([torch.tensor([[0] * (P - len(x)) + [1] * len(x) for x in prompts]),
                      torch.tensor([[1] * len(x) + [0] * (R - len(x)) for x in responses])], dim=1)
    non_tensors = {
        "data_source": np.array([s[0] for s in SAMPLES], dtype=object),
        "reward_model": np.array([{"style": "rule", "ground_truth": s[1]} for s in SAMPLES], dtype=object),
        "extra_info": np.array([dict(s[2]) for s in SAMPLES], dtype=object),
    }
    tensors = {"prompts": p, "responses": r, "attention_mask": mask, "input_ids": torch.cat([p, r], dim=1)}
    return DataProto.from_dict(tensors=tensors, non_tensors=non_tensors), [len(x) for x in responses]


def _custom_fn(server, name: str):
    from verl.trainer.ppo.reward import get_custom_reward_fn

    cfg = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": PKG, "name": name, "reward_kwargs": {"server_url": server.url}}}})
    return get_custom_reward_fn(cfg)


def _rewards_at_end(reward_tensor, lengths):
    return [float(reward_tensor[i, n - 1]) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("manager, fn_name", [("naive", "compute_score"), ("dapo", "compute_score"),
                                              ("batch", "compute_score_batch"), ("prime", "compute_score_prime")])
def test_legacy_managers(server, tokenizer, expected, manager, fn_name):
    from verl.workers.reward_manager import get_reward_manager_cls

    cls = get_reward_manager_cls(manager)
    data, lengths = _data(tokenizer)
    mgr = cls(tokenizer=tokenizer, num_examine=0, compute_score=_custom_fn(server, fn_name))
    out = mgr(data, return_dict=True)
    assert _rewards_at_end(out["reward_tensor"], lengths) == expected
    assert float(out["reward_tensor"].sum()) == sum(expected)  # nothing but the last token is rewarded
    if manager != "prime":  # prime keeps only the number
        assert list(out["reward_extra_info"]["acc"]) == [e == 1.0 for e in expected]


def _loop_config(tmp_path, tokenizer, server, **reward):
    tokdir = tmp_path / "tokenizer"
    tokenizer.save_pretrained(tokdir)
    base = {"reward_model": {"enable": False},
            "custom_reward_function": {"path": None, "name": "compute_score", "reward_kwargs": {}},
            "reward_manager": {"source": "register", "name": "naive",
                               "module": {"path": None, "name": "custom_reward_manager"}},
            "reward_kwargs": {"server_url": server.url},
            "sandbox_fusion": None}
    for key, value in reward.items():
        base[key] = value if not isinstance(value, dict) else {**base.get(key, {}), **value}
    return OmegaConf.create({"actor_rollout_ref": {"model": {"path": str(tokdir), "tokenizer_path": str(tokdir)}},
                             "reward": base})


def _run_worker(cfg, data):
    """verl's RewardLoopWorker (a Ray actor in a run; its event loop is the one it made at init)."""
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = RewardLoopWorker(cfg)
        return worker, loop.run_until_complete(worker.compute_score_batch(data))
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_reward_loop_with_verl_naive_manager_and_async_function(server, tokenizer, expected, tmp_path):
    cfg = _loop_config(tmp_path, tokenizer, server, custom_reward_function={
        "path": PKG, "name": "compute_score_async", "reward_kwargs": {"server_url": server.url}})
    data, _ = _data(tokenizer)
    _, outs = _run_worker(cfg, data)
    assert [o["reward_score"] for o in outs] == expected


def test_reward_loop_with_m1gym_manager_batches_requests(server, tokenizer, expected, tmp_path):
    from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

    cfg = _loop_config(tmp_path, tokenizer, server, reward_manager={
        "source": "importlib", "name": "M1GymRewardManager", "module": {"path": PKG}})
    data, _ = _data(tokenizer)
    before = server.score_requests()
    worker, outs = _run_worker(cfg, data)
    sent = server.score_requests() - before
    assert isinstance(worker.reward_manager, RewardManagerBase)
    assert [o["reward_score"] for o in outs] == expected
    assert [o["reward_extra_info"]["acc"] for o in outs] == [e == 1.0 for e in expected]
    # verl calls run_single once per sample; the manager sends them together
    assert 1 <= sent <= len(SAMPLES) // 4, sent


def test_env_resolution_and_errors(server):
    kw = {"server_url": server.url}
    ref = "<answer>72</answer>"
    # env= wins over the data_source; default_env only fills in for unknown data sources
    assert adapter.compute_score("openai/gsm8k", ref, "72", None, **kw)["score"] == 1.0
    assert adapter.compute_score("my_source", ref, "72", None, default_env="math/dataset", **kw)["score"] == 1.0
    assert adapter.compute_score("my_source", ref, "72", {}, env="math/dataset", **kw)["score"] == 1.0
    assert adapter.compute_score("aime2025", "<answer>71</answer>", "72", None, **kw)["score"] == 0.0
    with pytest.raises(LabelError, match="reward_kwargs.env"):
        adapter.compute_score("my_source", ref, "72", None, **kw)
    with pytest.raises(LabelError, match=r"'math/datset' is not served .*did you mean math/dataset"):
        adapter.compute_score("openai/gsm8k", ref, "72", None, env="math/datset", **kw)
    with pytest.raises(LabelError, match="not served"):
        adapter.compute_score("x", ref, '{"env": "no/such", "answer": "72"}', None, **kw)
    with pytest.raises(LabelError, match="not served"):
        adapter.compute_score_batch(["openai/gsm8k"], [ref], ["72"], None, default_env="nope", env="nope2", **kw)


def test_hostile_responses_score_zero(server):
    """Constant and degenerate answers get 0 through the adapter, for a Task label and a bare one."""
    task = tasks_for("math/arithmetic", 1, seed=11, level=2)[0][0]
    kw = {"server_url": server.url}
    for bad in ["", "<answer></answer>", "<answer>0</answer>", "<think>" + "9" * 100, "\\boxed{}", "72" * 1000,
                f"<answer>{task.answer}</answer><think>"]:
        assert adapter.compute_score("math/arithmetic", bad, task.to_json(), None, **kw)["score"] == 0.0, bad
        assert adapter.compute_score("openai/gsm8k", bad, "13", None, **kw)["score"] == 0.0, bad


def test_old_file_path_still_loads(server, tokenizer, expected):
    """Configs written for the old docs name m1gym/service/adapters.py by file path."""
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager import get_reward_manager_cls

    import m1gym.service.adapters as old

    cfg = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": old.__file__, "name": "compute_score", "reward_kwargs": {"server_url": server.url}}}})
    data, lengths = _data(tokenizer)
    out = get_reward_manager_cls("naive")(tokenizer=tokenizer, num_examine=0, compute_score=get_custom_reward_fn(cfg))(
        data, return_dict=True)
    assert _rewards_at_end(out["reward_tensor"], lengths) == expected
    assert old.M1GymRewardManager is adapter.M1GymRewardManager
