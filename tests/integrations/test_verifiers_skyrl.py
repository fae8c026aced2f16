"""PrimeIntellect ``verifiers`` and SkyRL-gym, the real packages: ``vf.load_environment("m1gym")``
builds an env whose rubric scores through the service, and ``skyrl_gym.make("m1gym")`` builds our
text env from a dataset row."""

from __future__ import annotations

import asyncio
import os

import pytest

from m1gym.core import Task
from m1gym.registry import get_env

CI = os.environ.get("CI") == "true"


def _reference(task_json):
    task = Task.from_json(task_json)
    return get_env(task.env).reference(task)


def test_verifiers_load_environment(server):
    if CI:
        import verifiers  # noqa: F401
    vf = pytest.importorskip("verifiers")
    env = vf.load_environment("m1gym", env="logic/sudoku", n=3, seed=4, level=0, eval_n=2, server_url=server.url)
    assert isinstance(env, vf.SingleTurnEnv) and isinstance(env.rubric, vf.Rubric)
    ds = env.get_dataset()
    assert len(ds) == 3 and len(env.get_eval_dataset()) == 2
    rows = [ds[i] for i in range(3)]

    async def score(row, text):
        state = {"prompt": row["prompt"], "completion": [{"role": "assistant", "content": text}],
                 "answer": row["answer"], "task": row["task"], "info": row["info"], "input": row,
                 "trajectory": []}
        await env.rubric.score_rollout(state)
        return state["reward"]

    async def all_():
        return await asyncio.gather(*[score(r, _reference(r["answer"])) for r in rows],
                                    *[score(r, "<answer>1</answer>") for r in rows])

    got = asyncio.run(all_())
    assert got == [1.0] * 3 + [0.0] * 3
    with pytest.raises((ValueError, RuntimeError), match="pass tasks="):  # verifiers wraps it
        vf.load_environment("m1gym", env="math/dataset", n=2)


def test_skyrl_env(server, tmp_path):
    if CI:
        import skyrl_gym  # noqa: F401
    skyrl_gym = pytest.importorskip("skyrl_gym")
    from skyrl_gym.envs.base_text_env import BaseTextEnv

    from m1gym.integrations import skyrl
    from m1gym.integrations.export import row
    from m1gym.service.labels import LabelError

    skyrl.register()
    skyrl.register()  # idempotent
    task = get_env("math/fractions").generate(3, 1)
    r = row(task, "skyrl", 0)
    env = skyrl_gym.make("m1gym", env_config={"server_url": server.url}, extras=r)
    assert isinstance(env, BaseTextEnv)
    prompt, _ = env.init(r["prompt"])
    assert prompt == r["prompt"]
    out = env.step(get_env("math/fractions").reference(task))
    assert out["reward"] == 1.0 and out["done"] and out["metadata"]["correct"]
    env = skyrl_gym.make("m1gym", env_config={"server_url": server.url}, extras=r)
    assert env.step("<answer>0</answer>")["reward"] == 0.0
    bare = {"reward_spec": {"ground_truth": "3/4"}}
    env = skyrl_gym.make("m1gym", env_config={"server_url": server.url, "env": "math/dataset"}, extras=bare)
    assert env.step("<answer>0.75</answer>")["reward"] == 1.0
    with pytest.raises(LabelError, match="no default env"):
        skyrl_gym.make("m1gym", env_config={}, extras=bare)
    with pytest.raises(LabelError, match="ground_truth"):
        skyrl_gym.make("m1gym", env_config={}, extras={"prompt": []})
