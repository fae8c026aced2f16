"""A single-turn m1gym environment seen as a one-step gymnasium env.

reset(seed) draws a task and returns its prompt as the observation; step(response) scores the
response and ends the episode. Spaces are ``Text`` with a broad Unicode charset (gymnasium's default
charset is letters and digits only).

Where the task comes from: a procedural env generates one from a seed drawn from the episode's
``np_random``; a dataset env (``procedural = False``: ``math/dataset``, ``swe/*``, ``general/graded``,
``general/open``) draws one from its task pool, the file given as ``path=`` to ``gymnasium.make``
(``gymnasium.make("m1gym/math.dataset-v0", path="train.jsonl")``) or else its bundled examples, so
a bare ``reset()`` works for every registered id (each passes gymnasium's ``check_env``).
``reset(options={"task": task})`` plays a given task.
"""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium import spaces

# Tab, newline, CR and the Basic Multilingual Plane up to the CJK block, minus surrogates.
_CHARSET = "\t\n\r" + "".join(chr(c) for c in range(32, 0x3000))
MAX_PROMPT_CHARS = 200_000
MAX_RESPONSE_CHARS = 100_000


class SingleTurnEnv(gymnasium.Env):
    metadata = {"render_modes": ["ansi"]}

    #: how many bundled examples a dataset env without ``path`` draws from
    EXAMPLE_POOL = 64

    def __init__(self, env_name: str, level: int | None = None, render_mode: str | None = None,
                 path: str | None = None, **config: Any):
        from .registry import make

        self.env = make(env_name, **config)
        self.level = level
        self.render_mode = render_mode
        self.observation_space = spaces.Text(max_length=MAX_PROMPT_CHARS, min_length=0, charset=_CHARSET)
        self.action_space = spaces.Text(max_length=MAX_RESPONSE_CHARS, min_length=0, charset=_CHARSET)
        self.task = None
        self.pool = None
        if path is not None or not self.env.procedural:
            self.pool = self._task_pool(env_name, path)

    def _task_pool(self, env_name: str, path: str | None) -> list:
        if path is not None:
            tasks = list(self.env.load(path))
            where = f"{path}"
        else:
            tasks = list({t.id: t for t in self.env.examples(self.EXAMPLE_POOL)}.values())
            where = "its bundled examples"
        if not tasks:
            raise ValueError(f"{env_name}: no tasks in {where}; pass path= a dataset file to gymnasium.make")
        return tasks

    def _obs(self) -> str:
        text = self.task.prompt_text
        # keep the observation inside the declared space
        return "".join(ch if ch in self.observation_space.character_set else "?" for ch in text)[:MAX_PROMPT_CHARS]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        task_seed = int(self.np_random.integers(0, 2**31 - 1))
        level = options.get("level", self.level)
        if "task" in options:
            from .core import Task

            self.task = options["task"] if isinstance(options["task"], Task) else Task.from_dict(options["task"])
        elif self.pool is not None:
            self.task = self.pool[task_seed % len(self.pool)]
        else:
            self.task = self.env.generate(task_seed, level)
        return self._obs(), {"task_id": self.task.id, "level": self.task.meta.get("level")}

    def step(self, action: str):
        if self.task is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        score = self.env.score(self.task, action)
        info = {"correct": score.correct, "format_ok": score.format_ok, "reason": score.reason,
                "task_id": self.task.id}
        return self._obs(), float(score.reward), True, False, info

    def render(self):
        return None if self.task is None else self.task.prompt_text
