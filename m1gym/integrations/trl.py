"""TRL: a reward function for ``GRPOTrainer`` scoring through ``m1gym serve``, and an
``environment_factory`` for the SWE agent env.

``trl_reward()`` returns a ``RewardFunction``: a plain callable object (picklable, so TRL's async
trainer can ship it to its rollout process) with ``__name__`` (TRL names the reward column after
it). It opens no connection until called. ``trl_reward_async()`` returns a ``functools.partial`` of
the module-level coroutine ``m1gym_reward_async`` (TRL's ``is_async_callable`` unwraps partials and
awaits it on its event loop). Both return ``None`` for a completion the service could not score
(timeout, worker crash): TRL turns ``None`` into NaN and leaves that completion out of the reward,
where a 0 would teach the policy that its answer was wrong.

Each dataset row finds its task in a ``task`` column (Task JSON, what ``m1gym export --format trl``
writes; ``task_column=`` renames it), else ``env`` + ``seed`` (+ ``level``) columns, else an
``answer`` column with ``env=`` given.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Optional, Sequence

from m1gym.integrations import _service
from m1gym.service.labels import LabelError, item_from_label


def completion_text(completion: Any) -> str:
    """A TRL completion -> text: a string, or the content of the last (assistant) message."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # multimodal content parts
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content)
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return ""


def trl_items(completions: Sequence[Any], columns: dict[str, Any], env: Optional[str],
              task_column: str) -> list[dict[str, Any]]:
    """One ``/v1/score`` item per completion, from the dataset columns TRL passes along."""

    def col(name: str) -> Optional[list[Any]]:
        value = columns.get(name)
        return list(value) if value is not None else None

    tasks, envs, seeds, levels, answers = (col(task_column), col("env"), col("seed"), col("level"), col("answer"))
    items = []
    for i, completion in enumerate(completions):
        row_env = envs[i] if envs else env
        if tasks is not None:
            label: Any = tasks[i]
        elif seeds is not None and row_env:
            label = {"env": row_env, "seed": seeds[i], "level": levels[i] if levels else None}
        elif answers is not None:
            label = {"env": row_env, "answer": answers[i]} if row_env else answers[i]
        else:
            raise LabelError(f"the TRL dataset needs a {task_column!r} column (Task JSON per row: "
                             "`m1gym export ENV --format trl`), or 'env' + 'seed' (+ 'level'), or 'answer' with "
                             f"env=...; got columns {sorted(columns)}")
        items.append(item_from_label(label, completion_text(completion), default_env=env))
    return items


#: keyword arguments TRL adds beside the dataset columns
TRL_EXTRAS = frozenset({"trainer_state", "environments", "log_extra", "log_metric"})


def _data_columns(columns: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in columns.items() if k not in TRL_EXTRAS}


def _rewards(results: list[dict[str, Any]]) -> list[Optional[float]]:
    return [None if r.get("error") else float(r["reward"]) for r in results]


class RewardFunction:
    """``f(prompts, completions, completion_ids=None, **columns) -> list[float | None]``.

    Holds only settings (the HTTP client is created in whichever process calls it), so it pickles."""

    def __init__(self, server_url: Optional[str] = None, token: Optional[str] = None, *, env: Optional[str] = None,
                 task_column: str = "task", name: str = "m1gym_reward"):
        self.server_url, self.token, self.env, self.task_column = server_url, token, env, task_column
        self.__name__ = self.__qualname__ = name

    def __call__(self, prompts: Any = None, completions: Any = None, completion_ids: Any = None,
                 **columns: Any) -> list[Optional[float]]:
        items = trl_items(completions or [], _data_columns(columns), self.env, self.task_column)
        return _rewards(_service.client(self.server_url, self.token).score_raw(items))

    def __repr__(self) -> str:
        return f"RewardFunction(name={self.__name__!r}, server_url={self.server_url!r}, env={self.env!r})"


async def m1gym_reward_async(prompts: Any = None, completions: Any = None, completion_ids: Any = None, *,
                             server_url: Optional[str] = None, token: Optional[str] = None,
                             env: Optional[str] = None, task_column: str = "task",
                             **columns: Any) -> list[Optional[float]]:
    """The coroutine behind ``trl_reward_async`` (module-level so a partial of it pickles)."""
    items = trl_items(completions or [], _data_columns(columns), env, task_column)
    return _rewards(await _service.aclient(server_url, token).score_raw(items))


def trl_reward(server_url: Optional[str] = None, token: Optional[str] = None, *, env: Optional[str] = None,
               task_column: str = "task", name: str = "m1gym_reward") -> RewardFunction:
    """A TRL reward function (see the module doc)."""
    return RewardFunction(server_url, token, env=env, task_column=task_column, name=name)


def trl_reward_async(server_url: Optional[str] = None, token: Optional[str] = None, *, env: Optional[str] = None,
                     task_column: str = "task", name: str = "m1gym_reward") -> functools.partial:
    """The async TRL reward function: a picklable ``functools.partial`` of ``m1gym_reward_async``.
    (TRL names its reward column after the coroutine, ``m1gym_reward_async``; ``name`` is kept on the
    partial as ``__name__`` for other callers.)"""
    fn = functools.partial(m1gym_reward_async, server_url=server_url, token=token, env=env, task_column=task_column)
    fn.__name__ = name  # type: ignore[attr-defined]
    return fn


# ---- environment_factory: the SWE agent env as TRL tools -------------------------------------------

class SWEToolEnv:
    """``m1gym/swe.agent-v0`` in TRL's ``environment_factory`` shape: ``reset(**row)`` starts an
    episode and returns the issue text (TRL appends it to the prompt), the public methods are the
    tools the model calls, ``get_reward()`` is 1.0 iff the submitted patch resolves the issue.

    The row's task comes from its ``task`` column (a swe Task JSON, ``m1gym export swe/bugfix
    --format trl``), else ``instance`` (a SWE-bench instance dict), else a ``seed`` picks a bundled
    sample. Every tool call costs one of ``max_steps`` steps; past the limit the episode ends
    unsubmitted (reward 0)."""

    def __init__(self, **env_kwargs: Any):
        self._env_kwargs = env_kwargs
        self._env: Any = None
        self._reward = 0.0
        self._done = True

    def _agent(self) -> Any:
        if self._env is None:
            from m1gym.envs.swe.agent import SWEAgentEnv  # Docker is touched only when an episode starts

            self._env = SWEAgentEnv(**self._env_kwargs)
        return self._env

    def reset(self, **row: Any) -> str:
        task = row.get("task") if row.get("task") is not None else row.get("instance")
        if isinstance(task, (str, bytes)):  # dataset columns hold the Task JSON as text
            try:
                task = json.loads(task)
            except json.JSONDecodeError:
                raise LabelError("SWE environment: the row's 'task' must be a swe Task JSON or a SWE instance "
                                 "JSON (`m1gym export swe/bugfix --format trl`)") from None
        options: dict[str, Any] = {"task": task} if task is not None else {}
        seed = row.get("seed")
        obs, _ = self._agent().reset(seed=int(seed) if seed is not None else None, options=options)
        self._reward, self._done = 0.0, False
        return obs

    def _act(self, action: dict[str, Any]) -> str:
        if self._done:
            return "error: the episode is over (submitted or out of steps); no more tool calls"
        obs, reward, terminated, truncated, _ = self._env.step(json.dumps(action))
        if terminated or truncated:
            self._reward, self._done = float(reward), True
        return obs

    def bash(self, command: str) -> str:
        """Run a shell command in the repository root (a fresh shell each call).

        Args:
            command: the shell command to run.

        Returns:
            The command's output and exit code.
        """
        return self._act({"tool": "bash", "command": command})

    def view(self, path: str, start: Optional[int] = None, end: Optional[int] = None) -> str:
        """Show a file with line numbers, or list a directory.

        Args:
            path: file or directory, relative to the repository root.
            start: first line to show (1-based).
            end: last line to show.

        Returns:
            The numbered lines, or the directory listing.
        """
        return self._act({"tool": "view", "path": path, "start": start, "end": end})

    def search(self, pattern: str, path: str = ".") -> str:
        """Search files for a regular expression.

        Args:
            pattern: a Python regular expression.
            path: file or directory to search, relative to the repository root.

        Returns:
            Matching lines as path:line: text.
        """
        return self._act({"tool": "search", "pattern": pattern, "path": path})

    def create(self, path: str, content: str) -> str:
        """Create a new file.

        Args:
            path: the new file, relative to the repository root.
            content: the file's full content.

        Returns:
            A confirmation, or an error if the file exists.
        """
        return self._act({"tool": "create", "path": path, "content": content})

    def str_replace(self, path: str, old: str, new: str) -> str:
        """Replace the one exact occurrence of a text block in a file.

        Args:
            path: the file to edit, relative to the repository root.
            old: the exact text to replace (must occur exactly once).
            new: the replacement text.

        Returns:
            The edited region, or an error.
        """
        return self._act({"tool": "str_replace", "path": path, "old": old, "new": new})

    def submit(self) -> str:
        """Finish: your changes (git diff) are graded by the repository's tests.

        Returns:
            Whether the issue is resolved.
        """
        return self._act({"tool": "submit"})

    def get_reward(self) -> float:
        """1.0 iff the submitted patch resolved the issue (0 without a submission)."""
        return self._reward

    def _close(self) -> None:  # private: TRL exposes every public method as a tool
        if self._env is not None:
            self._env.close()


def swe_environment_factory(**env_kwargs: Any) -> functools.partial:
    """``GRPOTrainer(environment_factory=swe_environment_factory(max_steps=20))``: a zero-argument,
    picklable factory of ``SWEToolEnv`` (keyword arguments go to ``SWEAgentEnv``)."""
    return functools.partial(SWEToolEnv, **env_kwargs)
