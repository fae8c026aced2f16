"""Reward functions in other trainers' calling conventions, scoring through a running service.

Server address and token: the ``server_url`` / ``token`` arguments, else ``$M1GYM_SERVER``
(default ``http://127.0.0.1:8000``) and ``$M1GYM_TOKEN``. Labels / ground truths map to tasks as
described in ``m1gym.service.labels`` (a Task JSON is the recommended form).

verl (``custom_reward_function.path`` = this file, ``name`` = ``compute_score``, or
``compute_score_async``, or ``compute_score_batch`` with the batch reward manager)::

    compute_score(data_source, solution_str, ground_truth, extra_info=None) -> {"score": r, "acc": c, ...}

TRL (``GRPOTrainer(reward_funcs=[trl_reward()])``; ``trl_reward_async()`` for the async form)::

    reward(prompts, completions, completion_ids, **dataset_columns) -> list[float]

OpenRLHF needs no function: point ``--remote_rm_url`` at ``http://host:port/get_reward``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any, Callable, Optional, Sequence

from m1gym.service.client import AsyncClient, Client
from m1gym.service.labels import LabelError, item_from_label

_sync_clients: dict[tuple, Client] = {}
_async_clients: "weakref.WeakKeyDictionary[Any, dict[tuple, AsyncClient]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _where(server_url: Optional[str], token: Optional[str]) -> tuple[str, Optional[str]]:
    return (server_url or os.environ.get("M1GYM_SERVER") or "http://127.0.0.1:8000",
            token if token is not None else os.environ.get("M1GYM_TOKEN"))


def _client(server_url: Optional[str] = None, token: Optional[str] = None) -> Client:
    key = _where(server_url, token)
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            client = _sync_clients[key] = Client(key[0], key[1])
        return client


def _aclient(server_url: Optional[str] = None, token: Optional[str] = None) -> AsyncClient:
    key = _where(server_url, token)
    loop = asyncio.get_running_loop()
    per_loop = _async_clients.setdefault(loop, {})
    client = per_loop.get(key)
    if client is None:
        client = per_loop[key] = AsyncClient(key[0], key[1])
    return client


# ---- verl ------------------------------------------------------------------------------------

def _verl_item(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any) -> dict[str, Any]:
    extra = extra_info if isinstance(extra_info, dict) else {}
    label = extra.get("m1gym_task", ground_truth)
    default_env = extra.get("m1gym_env") or (data_source if isinstance(data_source, str) else None)
    try:
        return item_from_label(label, solution_str, default_env=default_env)
    except LabelError as exc:
        raise LabelError(f"verl ground_truth for data_source {data_source!r}: {exc}") from None


def _verl_result(result: dict[str, Any]) -> dict[str, Any]:
    return {"score": float(result["reward"]), "acc": bool(result.get("correct")),
            "format_ok": bool(result.get("format_ok")), "service_error": result.get("error") is not None}


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                  server_url: Optional[str] = None, token: Optional[str] = None, **_: Any) -> dict[str, Any]:
    """verl's reward function signature, scored by the service; returns ``{"score": ..., ...}``."""
    item = _verl_item(data_source, solution_str, ground_truth, extra_info)
    return _verl_result(_client(server_url, token).score_raw([item])[0])


async def compute_score_async(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                              server_url: Optional[str] = None, token: Optional[str] = None,
                              **_: Any) -> dict[str, Any]:
    item = _verl_item(data_source, solution_str, ground_truth, extra_info)
    return _verl_result((await _aclient(server_url, token).score_raw([item]))[0])


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Optional[Sequence[Any]] = None, *, server_url: Optional[str] = None,
                        token: Optional[str] = None, **_: Any) -> list[dict[str, Any]]:
    """verl's batch reward manager form: lists in, one result dict per sample out (one request per
    ``batch_size`` samples instead of one per sample)."""
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    items = [_verl_item(d, s, g, e) for d, s, g, e in zip(data_sources, solution_strs, ground_truths, extras)]
    return [_verl_result(r) for r in _client(server_url, token).score_raw(items)]


# ---- TRL -------------------------------------------------------------------------------------

def _completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))  # conversational: the assistant message
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return ""


def _trl_items(completions: Sequence[Any], columns: dict[str, Any], env: Optional[str],
               task_column: str) -> list[dict[str, Any]]:
    n = len(completions)

    def col(name: str) -> Optional[list[Any]]:
        value = columns.get(name)
        return list(value) if value is not None else None

    tasks, envs, seeds, levels, answers = (col(task_column), col("env"), col("seed"), col("level"), col("answer"))
    items = []
    for i in range(n):
        text = _completion_text(completions[i])
        row_env = envs[i] if envs else env
        if tasks is not None:
            label: Any = tasks[i]
        elif seeds is not None and row_env:
            label = {"env": row_env, "seed": seeds[i], "level": levels[i] if levels else None}
        elif answers is not None:
            label = {"env": row_env, "answer": answers[i]} if row_env else answers[i]
        else:
            raise LabelError(f"the TRL dataset needs a {task_column!r} column (Task JSON per row), or "
                             "'env' + 'seed' (+ 'level'), or 'answer' with env=...; got columns "
                             f"{sorted(columns)}")
        items.append(item_from_label(label, text, default_env=env))
    return items


def trl_reward(server_url: Optional[str] = None, token: Optional[str] = None, *, env: Optional[str] = None,
               task_column: str = "task", name: str = "m1gym_reward") -> Callable[..., list[float]]:
    """A TRL reward function: ``f(prompts, completions, completion_ids, **columns) -> list[float]``."""

    def reward(prompts: Any = None, completions: Any = None, completion_ids: Any = None,
               **columns: Any) -> list[float]:
        items = _trl_items(completions or [], columns, env, task_column)
        return [float(r["reward"]) for r in _client(server_url, token).score_raw(items)]

    reward.__name__ = reward.__qualname__ = name
    return reward


def trl_reward_async(server_url: Optional[str] = None, token: Optional[str] = None, *, env: Optional[str] = None,
                     task_column: str = "task", name: str = "m1gym_reward") -> Callable[..., Any]:
    """The ``async def`` form of ``trl_reward`` (TRL awaits async reward functions concurrently)."""

    async def reward(prompts: Any = None, completions: Any = None, completion_ids: Any = None,
                     **columns: Any) -> list[float]:
        items = _trl_items(completions or [], columns, env, task_column)
        return [float(r["reward"]) for r in await _aclient(server_url, token).score_raw(items)]

    reward.__name__ = reward.__qualname__ = name
    return reward
