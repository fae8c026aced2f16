"""OpenRLHF: a ``reward_func`` file and a multi-turn agent for the SWE env, scoring through m1gym.

OpenRLHF renamed its flags in 0.10.2 (dotted groups); both spellings:

=====================  ===================================  ===========================
what                   OpenRLHF >= 0.10.2                   OpenRLHF <= 0.10.1
=====================  ===================================  ===========================
remote reward (HTTP)   ``--reward.remote_url URL``          ``--remote_rm_url URL``
reward function file   ``--reward.remote_url THIS_FILE.py``  ``--remote_rm_url THIS_FILE.py``
label column           ``--data.label_key label``           ``--label_key label``
prompt column          ``--data.input_key input``           ``--input_key input``
agent file             ``--train.agent_func_path FILE.py``  ``--agent_func_path FILE.py``
=====================  ===================================  ===========================

Reward without a file: point the URL flag at ``http://HOST:PORT/get_reward`` of ``m1gym serve``.
With this file (``python -c "import m1gym.integrations.openrlhf as m; print(m.__file__)"``),
OpenRLHF imports it and calls ``reward_func(queries, prompts, labels)`` in its rollout workers;
the file talks to ``$M1GYM_SERVER`` (default ``http://127.0.0.1:8000``, token ``$M1GYM_TOKEN``)
and takes bare-answer labels for ``$M1GYM_LABEL_ENV``.

Agent (``--train.agent_func_path`` = ``m1gym/integrations/openrlhf_agent.py``): each prompt runs
one ``m1gym/swe.agent-v0`` episode in a fresh container; its label is a swe Task JSON (``m1gym
export swe/bugfix --format openrlhf``) or a SWE-bench instance JSON. The episode's prompt is the
env's own (the issue and the tool instructions); see ``PROMPT_TEMPLATE`` for the chat format.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from m1gym.integrations import _service
from m1gym.service.labels import LabelError, item_from_label, response_from_query


def _items(queries: Sequence[str], prompts: Optional[Sequence[str]], labels: Sequence[Any],
           label_env: Optional[str]) -> list[Any]:
    out: list[Any] = []
    for i, query in enumerate(queries):
        prompt = prompts[i] if prompts is not None else None
        try:
            out.append(item_from_label(labels[i], response_from_query(query, prompt), default_env=label_env))
        except LabelError as exc:
            out.append(exc)
    return out


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any],
                **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's reward-function protocol: ``{"rewards", "scores", "extra_logs"}`` as tensors.

    ``scores`` (OpenRLHF's dynamic filter) are the rewards clipped to [0, 1]. A sample whose label
    fits no form, or that the service could not score, gets reward 0 and ``error`` 1 in extra_logs
    (OpenRLHF has no way to drop one sample from a batch)."""
    import torch

    if len(labels) != len(queries) or (prompts is not None and len(prompts) != len(queries)):
        raise ValueError(f"reward_func: {len(queries)} queries, {len(prompts or [])} prompts, {len(labels)} labels; "
                         "OpenRLHF needs --data.label_key (<= 0.10.1: --label_key) to send one label per query")
    url = kwargs.get("server_url")
    token = kwargs.get("token")
    label_env = kwargs.get("label_env") or os.environ.get("M1GYM_LABEL_ENV") or None
    items = _items(queries, prompts, labels, label_env)
    good = [it for it in items if not isinstance(it, LabelError)]
    scored = iter(_service.client(url, token).score_raw(good) if good else [])
    results = [{"reward": 0.0, "correct": False, "format_ok": False, "error": "invalid_task"}
               if isinstance(it, LabelError) else next(scored) for it in items]
    rewards = torch.tensor([float(r["reward"]) for r in results], dtype=torch.float32)
    return {
        "rewards": rewards,
        "scores": rewards.clamp(0.0, 1.0),
        "extra_logs": {
            "correct": torch.tensor([1.0 if r.get("correct") else 0.0 for r in results]),
            "format_ok": torch.tensor([1.0 if r.get("format_ok") else 0.0 for r in results]),
            "error": torch.tensor([0.0 if r.get("error") is None else 1.0 for r in results]),
        },
    }


# ---- the SWE agent -----------------------------------------------------------------------------

#: OpenRLHF feeds the agent's text to the model as is (no chat template is applied inside an
#: episode), so the episode's first prompt and each tool output go through these templates; set them
#: on a subclass to your model's chat format, e.g. PROMPT = "<|im_start|>user\n{observation}<|im_end|>\n
#: <|im_start|>assistant\n" and FEEDBACK = "<|im_end|>\n<|im_start|>user\n{observation}<|im_end|>\n
#: <|im_start|>assistant\n".
PROMPT_TEMPLATE = "{observation}\n"
FEEDBACK_TEMPLATE = "\n<tool_output>\n{observation}\n</tool_output>\n"


def _task_from_label(label: Any) -> Any:
    if isinstance(label, (str, bytes)):
        try:
            return json.loads(label)
        except json.JSONDecodeError:
            raise LabelError("the SWE agent's label must be a swe Task JSON or a SWE instance JSON "
                             "(`m1gym export swe/bugfix --format openrlhf`)") from None
    return label


class SWEAgentInstance:
    """One OpenRLHF agent episode over ``SWEAgentEnv`` (async ``reset`` / ``step`` as OpenRLHF's
    ``AgentInstanceBase``). ``step`` returns ``rewards`` / ``scores`` (tensors, 1 iff the submitted patch
    resolves the issue, at the end; 0 before), ``environment_feedback``, ``done`` and ``extra_logs``."""

    prompt_template = PROMPT_TEMPLATE
    feedback_template = FEEDBACK_TEMPLATE
    env_kwargs: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any):
        self.env: Any = None

    async def reset(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        import asyncio

        from m1gym.envs.swe.agent import SWEAgentEnv

        task = _task_from_label(states.get("label"))
        self.env = SWEAgentEnv(**self.env_kwargs)
        obs, _ = await asyncio.to_thread(self.env.reset, options={"task": task})
        # the env's first observation (the issue and the tool instructions) replaces the dataset's prompt
        return {"observation": self.prompt_template.format(observation=obs)}

    async def step(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        import asyncio

        import torch

        obs, reward, terminated, truncated, info = await asyncio.to_thread(self.env.step, states["action_text"])
        done = bool(terminated or truncated)
        if done:
            self.env.close()
        r = torch.tensor(float(reward))
        return {
            "rewards": r,
            "scores": r,
            "environment_feedback": "" if done else self.feedback_template.format(observation=obs),
            "done": done,
            "sampling_params": states.get("sampling_params"),
            "extra_logs": {"resolved": torch.tensor(float(bool(info.get("resolved")))),
                           "action_error": torch.tensor(1.0 if info.get("error") else 0.0)},
        }
