"""PrimeIntellect ``verifiers``: m1gym envs as a ``vf.SingleTurnEnv`` with a rubric that scores
through ``m1gym serve``.

    import verifiers as vf
    env = vf.load_environment("m1gym", env="logic/sudoku", n=256, level=1)   # imports m1gym.load_environment

This targets the classic ``verifiers`` API (``vf.SingleTurnEnv``, ``vf.Rubric``; verifiers < 0.4, where
0.4's ``verifiers.v1`` stack is a different design). The dataset's ``prompt`` is the task's chat
prompt, ``answer`` its Task JSON; the rubric's one reward function sends the last assistant message
and that task to the service (``server_url`` / ``token``, default ``$M1GYM_SERVER`` / ``$M1GYM_TOKEN``).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from m1gym.integrations import _service
from m1gym.integrations.trl import completion_text
from m1gym.service.labels import item_from_label


def task_rows(env: str, n: int, seed: int = 0, level: Optional[int] = None,
              tasks: Optional[Sequence[Any]] = None) -> list[Any]:
    """Tasks to train on: ``tasks`` as given, else ``n`` generated in process (seeds seed..seed+n-1,
    the same tasks the service's /v1/tasks returns)."""
    from m1gym.core import Task
    from m1gym.registry import get_env

    if tasks is not None:
        return [t if isinstance(t, Task) else Task.from_dict(t) if isinstance(t, dict) else Task.from_json(t)
                for t in tasks]
    environment = get_env(env)
    if not getattr(environment, "procedural", True):
        raise ValueError(f"{env} is a dataset environment: pass tasks=[...] (e.g. its loader's tasks), not n=")
    return [environment.generate(seed + i, level) for i in range(n)]


class ServiceReward:
    """The rubric's reward function: ``(completion, answer) -> float`` (verifiers passes the named
    arguments it finds in the signature). A picklable object; ``__name__`` names the metric."""

    def __init__(self, server_url: Optional[str] = None, token: Optional[str] = None, name: str = "m1gym_reward"):
        self.server_url, self.token = server_url, token
        self.__name__ = name

    async def __call__(self, completion: Any, answer: Any, **kwargs: Any) -> float:
        item = item_from_label(answer, completion_text(completion))
        result = (await _service.aclient(self.server_url, self.token).score_raw([item]))[0]
        return float(result["reward"])


def load_environment(env: str = "math/arithmetic", n: int = 256, seed: int = 0, level: Optional[int] = None,
                     *, tasks: Optional[Sequence[Any]] = None, eval_n: int = 0, server_url: Optional[str] = None,
                     token: Optional[str] = None, system_prompt: Optional[str] = None, **kwargs: Any) -> Any:
    """A ``verifiers`` environment for one m1gym env (``eval_n`` more tasks, after the training
    seeds, become ``eval_dataset``)."""
    import verifiers as vf
    from datasets import Dataset

    def dataset(rows: list[Any]) -> Any:
        return Dataset.from_list([{"prompt": list(t.prompt), "answer": t.to_json(), "task": t.env,
                                   "info": {"task_id": t.id}} for t in rows])

    train = task_rows(env, n, seed, level, tasks)
    evals = task_rows(env, eval_n, seed + n, level) if eval_n and tasks is None else []
    rubric = vf.Rubric(funcs=[ServiceReward(server_url, token)], weights=[1.0])
    return vf.SingleTurnEnv(dataset=dataset(train), eval_dataset=dataset(evals) if evals else None,
                            system_prompt=system_prompt, rubric=rubric, **kwargs)
