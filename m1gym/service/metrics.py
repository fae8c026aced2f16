"""Prometheus metrics of the reward service (one registry per app, served at ``/metrics``)."""

from __future__ import annotations

from typing import Callable

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..scoring.jobs import Result
from ..scoring.pool import PoolHooks

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


prometheus_client.disable_created_metrics()


class ServiceMetrics(PoolHooks):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("m1gym_requests", "HTTP requests by endpoint and status code",
                                ["endpoint", "status"], registry=r)
        self.request_latency = Histogram("m1gym_request_latency_seconds", "HTTP request latency by endpoint",
                                         ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.items = Counter("m1gym_items", "scored items by env and outcome (ok or the error code)",
                             ["env", "outcome"], registry=r)
        self.item_latency = Histogram("m1gym_item_latency_seconds",
                                      "per-item latency by env, from queueing to result",
                                      ["env"], buckets=_LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("m1gym_queue_depth", "items accepted and not yet scored", registry=r)
        self.workers_alive = Gauge("m1gym_workers_alive", "scoring workers currently alive", registry=r)
        self.worker_restarts = Counter("m1gym_worker_restarts", "scoring workers replaced, by reason "
                                       "(crash, timeout)", ["reason"], registry=r)
        self.rejected = Counter("m1gym_rejected", "requests refused before scoring, by reason",
                                ["reason"], registry=r)
        for reason in ("crash", "timeout"):  # exported as 0 from the start
            self.worker_restarts.labels(reason)
        for reason in ("unauthorized", "body_too_large", "batch_too_large", "queue_full"):
            self.rejected.labels(reason)

    def bind(self, queue_depth: Callable[[], float], workers_alive: Callable[[], float]) -> None:
        self.queue_depth.set_function(queue_depth)
        self.workers_alive.set_function(workers_alive)

    # PoolHooks
    def item_done(self, env: str, result: Result, seconds: float) -> None:
        self.items.labels(env, result.error or "ok").inc()
        self.item_latency.labels(env).observe(seconds)

    def items_done(self, done: list) -> None:
        counts: dict = {}
        for env, result, seconds in done:
            key = (env, result.error or "ok")
            counts[key] = counts.get(key, 0) + 1
            self.item_latency.labels(env).observe(seconds)
        for (env, outcome), k in counts.items():
            self.items.labels(env, outcome).inc(k)

    def worker_restart(self, reason: str) -> None:
        self.worker_restarts.labels(reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
