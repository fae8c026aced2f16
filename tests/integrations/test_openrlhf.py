"""OpenRLHF's own rollout executors (installed with --no-deps: the agent module needs only aiohttp and
pylatexenc) driving our reward file and our SWE agent, with a scripted engine in place of vLLM.

- ``SingleTurnAgentExecutor`` loads ``m1gym/integrations/openrlhf.py`` by path, as
  ``--reward.remote_url FILE.py`` makes it do, and calls ``reward_func(queries, prompts, labels)``;
  the same executor pointed at ``/get_reward`` gives the same rewards over HTTP.
- ``MultiTurnAgentExecutor`` runs the agent file of ``--train.agent_func_path`` over a real SWE
  episode in Docker: the gold fix earns 1, a submission without it 0."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from types import SimpleNamespace

import pytest

import m1gym.integrations.openrlhf as orl
from integ_helpers import m1gym_score
from m1gym.cli import main as m1gym_main
from m1gym.registry import get_env

if os.environ.get("CI") == "true":
    import openrlhf  # noqa: F401 - must be installed in CI
agent_mod = pytest.importorskip("openrlhf.utils.agent")


class ScriptedEngine:
    """Stands in for OpenRLHF's vLLM engine: returns the given texts, one per generate call."""

    def __init__(self, tokenizer, texts):
        self.tok, self.texts, self.prompts = tokenizer, list(texts), []

    async def generate(self, prompt_ids, params, multi_modal_data=None):
        self.prompts.append(self.tok.decode(prompt_ids))
        text = self.texts.pop(0)
        ids = self.tok(text, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, text=text, finish_reason="stop",
                                                        logprobs=None)])


def _rows(tmp_path, env="math/arithmetic", n=3):
    out = tmp_path / "train.jsonl"
    assert m1gym_main(["export", env, "--n", str(n), "--seed", "2", "--level", "2", "--format", "openrlhf",
                       "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def _single_turn(executor, tokenizer, rows, texts):
    async def run():
        outs = []
        for row, text in zip(rows, texts):
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": row["input"]}], tokenize=False,
                                                   add_generation_prompt=True)
            params = SimpleNamespace(max_tokens=256, logprobs=None)
            outs.append(await executor.execute(prompt, row["label"], params, 4096, tokenizer,
                                               ScriptedEngine(tokenizer, [text])))
        return outs

    return asyncio.run(run())


def _reward(out):
    value = out["reward"]
    return float(value.flatten()[0]) if hasattr(value, "flatten") else float(value[0])


@pytest.mark.parametrize("transport", ["file", "http"])
def test_single_turn_executor_scores_like_m1gym(server, tokenizer, tmp_path, transport):
    rows = _rows(tmp_path)
    env = get_env("math/arithmetic")
    tasks = [json.loads(r["label"]) for r in rows]
    from m1gym.core import Task

    ref = env.reference(Task.from_dict(tasks[0]))
    texts = [ref, "<answer>-999</answer>", ""]  # right, wrong, empty (the prompt's own tags must not count)
    url = orl.__file__ if transport == "file" else f"{server.url}/get_reward"
    executor = agent_mod.SingleTurnAgentExecutor(remote_rm_url=url)
    assert (executor.reward_func is not None) == (transport == "file")
    outs = _single_turn(executor, tokenizer, rows, texts)
    got = [_reward(o) for o in outs]
    assert got == [m1gym_score(t, x) for t, x in zip(rows and [r["label"] for r in rows], texts)] == [1.0, 0.0, 0.0]
    assert [float(o["scores"].flatten()[0]) if hasattr(o["scores"], "flatten") else o["scores"][0]
            for o in outs] == [1.0, 0.0, 0.0]


def test_reward_func_contract(server):
    label = json.dumps({"env": "math/dataset", "answer": "72"})
    prompt = "Q: what is 70+2? Example: <answer>72</answer>\nA:"
    out = orl.reward_func([prompt + " <answer>72</answer>", prompt + " I do not know", prompt + "x", "<answer>5</answer>"],
                          [prompt, prompt, prompt, "other"], [label, label, "not a label {", "5"])
    assert out["rewards"].tolist() == [1.0, 0.0, 0.0, 0.0]  # the prompt's example answer is not the model's
    assert out["extra_logs"]["error"].tolist() == [0.0, 0.0, 1.0, 1.0]  # bad JSON; bare answer, no label env
    os.environ["M1GYM_LABEL_ENV"] = "math/dataset"
    try:
        assert orl.reward_func(["<answer>5</answer>"], [""], ["5"])["rewards"].tolist() == [1.0]
    finally:
        del os.environ["M1GYM_LABEL_ENV"]
    with pytest.raises(ValueError, match="label_key"):
        orl.reward_func(["a", "b"], ["", ""], [label])


FIX = '''str_replace textkit/slug.py
<<<<<<< SEARCH
    text = re.sub(r"[^a-z0-9]", "-", text)
=======
    text = re.sub(r"[^a-z0-9]+", "-", text)
>>>>>>> REPLACE'''


def _load_agent_file():
    """As OpenRLHF's vllm_engine._load_agent_executor does (it lives in a module that imports vLLM)."""
    path = os.path.join(os.path.dirname(orl.__file__), "openrlhf_agent.py")
    spec = importlib.util.spec_from_file_location("agent_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert issubclass(module.AgentExecutor, agent_mod.AgentExecutorBase)
    return module


@pytest.mark.docker
@pytest.mark.slow
def test_multi_turn_swe_agent(server, tokenizer, tmp_path, swe_grader):
    from m1gym.envs.swe.envs import SWEBugfixEnv

    module = _load_agent_file()
    module.AgentInstance.env_kwargs = {"grader": swe_grader, "command_timeout": 60, "max_steps": 5}
    task = next(t for t in SWEBugfixEnv().examples(10) if t.answer.get("sample") == "textkit")
    executor = module.AgentExecutor()

    def episode(actions):
        engine = ScriptedEngine(tokenizer, actions)
        params = SimpleNamespace(max_tokens=None, logprobs=None)
        out = asyncio.run(executor.execute("<|user|>fix the issue\n<|assistant|>", task.to_json(), params, 200_000,
                                           tokenizer, engine))
        return out, engine

    out, engine = episode(["view textkit/slug.py", FIX, "submit"])
    assert float(out["reward"]) == 1.0 and float(out["scores"]) == 1.0
    assert engine.prompts[0].startswith("You are working in the repository")  # the env's prompt
    assert "def slugify" in engine.prompts[1] and "<tool_output>" in engine.prompts[1]  # tool output fed back
    assert len(out["action_ranges"]) == 3
    out, _ = episode(["bash echo hi", "submit"])
    assert float(out["reward"]) == 0.0
