"""One scoring pool for the reward service and the trainer: ``Environment.score`` (and
``generate``) in worker processes or Ray actors, with a per-item timeout, hang and crash recovery.

- ``jobs``: ``Job`` (one item to score or generate) and ``Result`` (its value or error code).
- ``worker``: what runs in a worker (``run_job``, the per-worker task cache, ``load_imports``).
- ``pool``: ``ProcessPool`` and ``RayPool``, async (``await pool.run(jobs)``), as the service uses them.
- ``sync``: ``SyncPool(pool).run(jobs)`` for synchronous callers such as the training loop.

An item that runs past the per-item timeout gets a ``timeout`` result and its worker is replaced;
a worker that dies has its item retried once, then ``worker_crashed``; results come back in order
and one bad item never fails the batch.
"""

from __future__ import annotations

from .jobs import Job, Result, wire_task
from .pool import PoolHooks, ProcessPool, RayPool
from .sync import SyncPool
from .worker import load_imports, run_job, settle_gc

__all__ = ["Job", "Result", "wire_task", "PoolHooks", "ProcessPool", "RayPool", "SyncPool", "load_imports",
           "run_job", "settle_gc"]
