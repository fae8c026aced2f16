"""Reward scoring for the RL loop: the same ``Environment.score`` the service calls, run in
process, on the scoring pool (``m1gym.scoring``: worker processes, or Ray actors with
``trainer.ray``), or through the HTTP reward service (``m1gym serve``).

On the pool an item gets ``scoring.item_timeout`` seconds: a verifier that hangs past it, or kills
its worker twice, scores 0 with the reason (``Score.fail``) and its worker is replaced; the step
goes on. Nothing a verifier does raises into the training loop.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..core import Score, Task

#: what a timed-out item's reason tells a trainer user to change
TIMEOUT_HINT = "raise scoring.item_timeout"


class Scorer:
    def score(self, tasks: Sequence[Task], responses: Sequence[str]) -> list[Score]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcessScorer(Scorer):
    def score(self, tasks, responses):
        from ..registry import get_env

        return [get_env(t.env).score(t, r) for t, r in zip(tasks, responses)]


class PoolScorer(Scorer):
    """Scores on the scoring pool (CPU-heavy verifiers off the trainer's core): ``workers`` worker
    processes that import ``imports`` first, or the ``pool`` given (a ``RayPool``, see
    ``ray_scorer``). A timed-out or crashed item scores 0 with the reason."""

    def __init__(self, workers: int = 2, *, item_timeout: float = 30.0, imports: Sequence[str] = (),
                 pool: Any = None):
        from ..scoring import ProcessPool, SyncPool

        if pool is None:
            pool = ProcessPool(max(1, workers), imports=imports, item_timeout=item_timeout, timeout_hint=TIMEOUT_HINT)
        self.pool = SyncPool(pool)

    def score(self, tasks, responses):
        from ..scoring import Job, wire_task

        wire: dict[int, Any] = {}  # the G responses of a group share one Task object: encode it once
        for t in tasks:
            if id(t) not in wire:
                wire[id(t)] = wire_task(t.to_dict())
        jobs = [Job("score", t.env, wire[id(t)], None, None, r) for t, r in zip(tasks, responses)]
        return [result.to_score() for result in self.pool.run(jobs)]

    def close(self) -> None:
        self.pool.close()


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


def ray_scorer(cfg: Any) -> PoolScorer:
    """``trainer.ray``: the pool on Ray actors (``scoring.workers`` of them, no CPU reserved each, as
    the rollout actors; they import ``scoring.imports`` and ``trainer.ray_imports``)."""
    from ..scoring import RayPool
    from .ray_workers import ensure_ray

    ensure_ray(cfg)
    pool = RayPool(max(1, cfg.scoring.workers), imports=[*cfg.scoring.imports, *cfg.trainer.ray_imports],
                   item_timeout=cfg.scoring.item_timeout, actor_cpus=0.0, timeout_hint=TIMEOUT_HINT)
    return PoolScorer(pool=pool)


def make_scorer(cfg: Any) -> Scorer:
    """The scorer of a ``scoring`` config section (``ScoringConfig``)."""
    if cfg.backend == "inprocess":
        return InProcessScorer()
    if cfg.backend == "pool":
        return PoolScorer(cfg.workers, item_timeout=cfg.item_timeout, imports=cfg.imports)
    if cfg.backend == "http":
        return HTTPScorer(cfg.url, cfg.token)
    raise ValueError(f"scoring.backend must be inprocess, pool or http, got {cfg.backend!r}")
