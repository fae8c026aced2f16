"""The pool from synchronous code (the training loop): ``SyncPool(pool).run(jobs)``.

The pools are asyncio objects (the service awaits them on its event loop; ``RayPool`` keeps a
feeder task per actor on that loop). ``SyncPool`` gives the pool an event loop of its own in a
daemon thread and blocks on it, so the training loop gets the service's per-item timeout, hang
and crash recovery unchanged: ``run`` returns one ``Result`` per job, in order, and a hung or
crashed item comes back as a ``timeout`` / ``worker_crashed`` result instead of an exception.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from typing import Any, Optional, Sequence

from .jobs import Job, Result

log = logging.getLogger("m1gym.scoring")


class SyncPool:
    """Starts ``pool`` (a ``ProcessPool`` or ``RayPool``) on a private event loop and runs jobs on it
    from any thread. ``close()`` (also on interpreter exit, and on ``with`` exit) stops the workers."""

    def __init__(self, pool: Any):
        self.pool = pool
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="m1gym-scoring-loop", daemon=True)
        self._thread.start()
        # worker processes are not daemonic (they start checker processes of their own), and
        # multiprocessing joins them at exit: stop them first, or an unclosed pool hangs the exit
        atexit.register(self.close)
        try:
            self._call(pool.start())
        except BaseException:
            self.close()
            raise

    def _call(self, coro: Any, timeout: Optional[float] = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def item_timeout(self) -> float:
        return self.pool.item_timeout

    @property
    def restarts(self) -> int:
        """Workers replaced so far (after a timeout or a crash)."""
        return self.pool.restarts

    def workers_info(self) -> list[dict[str, Any]]:
        return self.pool.workers_info()

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        """One ``Result`` per job, in order; blocks until every item has its result."""
        if self._closed:
            raise RuntimeError("this scoring pool is closed")
        if not jobs:
            return []
        return self._call(self.pool.run(list(jobs)))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self._call(self.pool.close(), timeout=120)
        except Exception:  # (a close that fails leaves nothing to do but report it)
            log.exception("m1gym scoring: closing the pool failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> "SyncPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
