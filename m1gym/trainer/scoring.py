"""Reward scoring for the RL loop: the same ``Environment.score`` the service calls, run in
process, in a process pool, or through the HTTP reward service (``m1gym serve``)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any, Sequence

from ..core import Score, Task


class Scorer:
    def score(self, tasks: Sequence[Task], responses: Sequence[str]) -> list[Score]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcessScorer(Scorer):
    def score(self, tasks, responses):
        from ..registry import get_env

        return [get_env(t.env).score(t, r) for t, r in zip(tasks, responses)]


def _score_one(item: tuple[dict[str, Any], str]) -> dict[str, Any]:
    from ..registry import get_env

    task = Task.from_dict(item[0])
    return get_env(task.env).score(task, item[1]).to_dict()


class PoolScorer(Scorer):
    """Scores in worker processes (CPU-heavy verifiers off the trainer's core)."""

    def __init__(self, workers: int = 2):
        import multiprocessing as mp

        self.pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn"))

    def score(self, tasks, responses):
        items = [(t.to_dict(), r) for t, r in zip(tasks, responses)]
        chunk = max(1, len(items) // 8)
        return [Score.from_dict(d) for d in self.pool.map(_score_one, items, chunksize=chunk)]

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class HTTPScorer(Scorer):
    """Scores through the reward service (`m1gym serve`) with ``m1gym.service.Client``."""

    def __init__(self, url: str, token: str | None = None):
        try:
            from ..service.client import Client
        except ImportError as exc:  # pragma: no cover - the service part ships with m1gym
            raise ImportError(f"scoring.backend: http needs m1gym.service ({exc})") from None
        self.client = Client(url, token=token)

    def score(self, tasks, responses):
        return self.client.score([{"task": t.to_dict(), "response": r} for t, r in zip(tasks, responses)])

    def close(self) -> None:
        self.client.close()


def make_scorer(cfg: Any) -> Scorer:
    if cfg.backend == "inprocess":
        return InProcessScorer()
    if cfg.backend == "pool":
        return PoolScorer(cfg.workers)
    if cfg.backend == "http":
        return HTTPScorer(cfg.url, cfg.token)
    raise ValueError(f"scoring.backend must be inprocess, pool or http, got {cfg.backend!r}")
