"""TRL: a real ``GRPOTrainer`` trains a few steps on CPU (a tiny randomly initialised Llama built
here, a character tokenizer built here) with its reward from ``m1gym serve`` through our adapter;
TRL's own reward computation scores reference / wrong / unscorable completions as 1 / 0 / NaN with
both the sync and the async adapter; both adapters pickle and open no connection until called."""

from __future__ import annotations

import functools
import json
import pickle
import subprocess
import sys

import pytest
import torch

from integ_helpers import m1gym_score
from m1gym.cli import main as m1gym_main
from m1gym.integrations import _service
from m1gym.integrations.trl import RewardFunction, m1gym_reward_async, trl_reward, trl_reward_async
from m1gym.registry import get_env

trl = pytest.importorskip("trl")
from datasets import load_dataset  # noqa: E402  (a TRL dependency)


class Spy(RewardFunction):
    """Our reward function, recording what TRL passed and what it returned."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def __call__(self, prompts=None, completions=None, completion_ids=None, **columns):
        out = super().__call__(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns)
        self.calls.append((list(completions), list(columns["task"]), out))
        return out


def _model(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
                      pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    return LlamaForCausalLM(cfg)


def _export(tmp_path, n=8):
    out = tmp_path / "train.jsonl"
    assert m1gym_main(["export", "math/arithmetic", "--n", str(n), "--seed", "5", "--level", "0",
                       "--format", "trl", "--out", str(out)]) == 0
    return load_dataset("json", data_files=str(out), split="train")


def _trainer(tokenizer, tmp_path, reward_funcs, dataset, **cfg):
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=10, learning_rate=1e-3, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0, dataloader_num_workers=0, **cfg)
    return GRPOTrainer(model=_model(tokenizer), reward_funcs=reward_funcs, args=args, train_dataset=dataset,
                       processing_class=tokenizer)


def test_grpo_trainer_trains_with_service_reward(server, tokenizer, tmp_path):
    dataset = _export(tmp_path)
    spy = Spy(server.url)
    trainer = _trainer(tokenizer, tmp_path, [spy], dataset, max_steps=3)
    trainer.train()
    assert trainer.state.global_step == 3 and spy.calls
    for completions, tasks, rewards in spy.calls:
        # TRL handed us its completions with the row's task column; the rewards are m1gym score's
        assert len(completions) == len(tasks) == len(rewards) and len(rewards) % 4 == 0
        texts = [c[-1]["content"] for c in completions]
        assert rewards == [m1gym_score(json_task, text) for json_task, text in zip(tasks, texts)]
    logged = [h for h in trainer.state.log_history if "rewards/m1gym_reward/mean" in h]
    assert len(logged) == 3
    assert logged[0]["rewards/m1gym_reward/mean"] == pytest.approx(sum(spy.calls[0][2]) / len(spy.calls[0][2]))


def test_trl_reward_path_scores_right_wrong_and_unscorable(server, tokenizer, tmp_path):
    """TRL's own ``_calculate_rewards`` over completions we choose: 1 for the reference, 0 for a
    wrong or degenerate answer, NaN (ignored by TRL) where the service could not score."""
    dataset = _export(tmp_path, n=4)
    rows = [dataset[i] for i in range(4)]
    env = get_env("math/arithmetic")
    tasks = [env.generate(5 + i, 0) for i in range(4)]
    assert [r["task"] for r in rows] == [t.to_json() for t in tasks]
    texts = [env.reference(tasks[0]), "<answer>-1</answer>", "", env.reference(tasks[3])]
    rows[3] = {**rows[3], "task": '{"env": "math/arithmetic", "seed": 0, "level": 99}'}  # generation fails
    funcs = [trl_reward(server.url), trl_reward_async(server.url)]
    trainer = _trainer(tokenizer, tmp_path, funcs, dataset, max_steps=1)
    completions = [[{"role": "assistant", "content": t}] for t in texts]
    rewards = trainer._calculate_rewards(rows, [r["prompt"] for r in rows], completions,
                                         [tokenizer(t)["input_ids"] for t in texts])
    for col in range(2):
        got = rewards[:, col].tolist()
        assert got[:3] == [1.0, 0.0, 0.0] and torch.isnan(rewards[3, col]), got
    assert trainer.reward_func_names == ["m1gym_reward", "m1gym_reward_async"]


def test_adapters_pickle_and_connect_lazily(server):
    before = dict(_service._sync)
    sync = trl_reward(server.url, env="math/arithmetic", name="arith")
    async_fn = trl_reward_async(server.url, env="math/arithmetic")
    assert _service._sync == before  # nothing opened yet
    assert isinstance(async_fn, functools.partial) and async_fn.func is m1gym_reward_async
    assert trl.trainer.utils.is_async_callable(async_fn) and not trl.trainer.utils.is_async_callable(sync)
    sync2, async2 = pickle.loads(pickle.dumps(sync)), pickle.loads(pickle.dumps(async_fn))
    assert sync2.__name__ == "arith" and async2.keywords == async_fn.keywords
    # a fresh interpreter (as TRL's spawned rollout process) unpickles and scores
    code = ("import pickle, sys, asyncio; f, g = pickle.loads(sys.stdin.buffer.read()); "
            "cols = dict(seed=[1, 1], level=[0, 0]); "
            "from m1gym.registry import get_env; e = get_env('math/arithmetic'); ref = e.reference(e.generate(1, 0)); "
            "print(f(completions=[ref, 'no'], **cols), asyncio.run(g(completions=[ref, 'no'], **cols)))")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps((sync, async_fn)), capture_output=True,
                         timeout=300)
    assert out.stdout.decode().split() == ["[1.0,", "0.0]", "[1.0,", "0.0]"], out.stderr.decode()[-2000:]


FIX_OLD = '    text = re.sub(r"[^a-z0-9]", "-", text)\n'
FIX_NEW = '    text = re.sub(r"[^a-z0-9]+", "-", text)\n'


@pytest.mark.docker
@pytest.mark.slow
def test_swe_environment_factory(server, tokenizer, tmp_path, swe_grader):
    """The factory passes TRL's environment checks (its probe of reset / tools / get_reward) and an
    episode driven through the tool methods TRL would call earns 1 only for the real fix."""
    from trl import GRPOConfig, GRPOTrainer

    from m1gym.envs.swe.envs import SWEBugfixEnv
    from m1gym.integrations.trl import SWEToolEnv, swe_environment_factory

    factory = swe_environment_factory(grader=swe_grader, command_timeout=60, max_steps=4)
    plain = swe_environment_factory(max_steps=4, command_timeout=60)  # what a user passes pickles
    assert isinstance(pickle.loads(pickle.dumps(plain))(), SWEToolEnv)
    task = next(t for t in SWEBugfixEnv().examples(10) if t.answer.get("sample") == "textkit")
    dataset = load_dataset("json", data_files=str(_swe_rows(tmp_path, task)), split="train")
    args = GRPOConfig(output_dir=str(tmp_path / "o"), per_device_train_batch_size=2, num_generations=2,
                      max_completion_length=8, max_steps=1, report_to=[], use_cpu=True, save_strategy="no")
    trainer = GRPOTrainer(model=_model(tokenizer), args=args, train_dataset=dataset, processing_class=_tool_tokenizer(),
                          environment_factory=factory)
    names = sorted(t.__name__ for t in trainer.tools)
    assert names == ["bash", "create", "search", "str_replace", "submit", "view"]
    assert "SWEToolEnv" in trainer.reward_func_names  # get_reward is a reward source

    env = factory()
    obs = env.reset(**dataset[0])
    assert "slugify" in obs and env.get_reward() == 0.0
    assert "def slugify" in env.view("textkit/slug.py")
    assert env.str_replace("textkit/slug.py", FIX_OLD, FIX_NEW).startswith("edited")
    assert "Submitted" in env.submit() and env.get_reward() == 1.0
    assert env.bash("ls").startswith("error: the episode is over")
    env.reset(**dataset[0])
    env.bash("echo no fix")
    env.submit()
    assert env.get_reward() == 0.0


def _swe_rows(tmp_path, task):
    out = tmp_path / "swe.jsonl"
    out.write_text(json.dumps({"prompt": [{"role": "user", "content": "Fix the issue."}], "task": task.to_json()}) + "\n"
                   + json.dumps({"prompt": [{"role": "user", "content": "Fix the issue."}], "task": task.to_json()}) + "\n")
    return out


def _tool_tokenizer():
    """TRL renders tool schemas and parses tool calls with a chat template it knows: Qwen3's, from TRL."""
    from trl.chat_template_utils import qwen3_chat_template

    from integ_helpers import build_tokenizer

    tok = build_tokenizer()
    tok.chat_template = qwen3_chat_template
    return tok
