"""Worker pools that run scoring jobs off the event loop: the reward service's and the trainer's.

``ProcessPool``: N worker processes the pool's owner owns (spawned, each its own process group). Jobs
travel in chunks over a pipe; the worker answers item by item, so the pool always knows which item
is running. An item that runs past ``item_timeout`` gets a timeout result and its worker is
killed and replaced; a worker that dies has its current item retried once (on any worker) and
failed as ``worker_crashed`` when it dies again; the rest of its chunk is requeued untouched.

``RayPool``: the same jobs on Ray actors (``--ray auto`` starts a local Ray instance, an address
joins a cluster). A chunk that times out or loses its actor is rerun item by item on a fresh actor
with the per-item timeout and the same retry-once rule.

Both expose ``await pool.run(jobs) -> list[Result]`` (results in order, never raising for one bad
item), ``pending`` (items accepted and not finished: the queue depth), ``workers_info()``.
``SyncPool`` (``sync.py``) runs either from synchronous code, such as the training loop.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from typing import Any, Callable, Optional, Sequence

from .jobs import Job, Result, err
from .worker import worker_main

log = logging.getLogger("m1gym.scoring")
_new = tuple.__new__

#: most items sent to one worker at a time (smaller chunks balance better, larger ones cost less)
MAX_CHUNK = 32


#: how the service tells a user to raise the per-item timeout (the trainer passes its config key)
TIMEOUT_HINT = "raise it with --item-timeout"


def _timeout_result(timeout: float, hint: str = TIMEOUT_HINT) -> Result:
    return err("timeout", f"the verifier ran past the per-item timeout of {timeout:g}s; "
                          f"its worker was replaced ({hint})")


def _crash_result() -> Result:
    return err("worker_crashed", "the worker process died while scoring this item, and again on the retry")


#: ``run`` calls in flight per Ray actor (the one running and the next); the actor has one more
#: thread than this, so ``progress()`` always finds one free
RAY_WINDOW = 2


def chunk_sizes(n: int, workers: int) -> int:
    return max(1, min(MAX_CHUNK, math.ceil(n / max(1, 2 * workers))))


class _Batch:
    """Results of one request, filled from worker threads; resolves an asyncio future when full."""

    __slots__ = ("results", "remaining", "lock", "loop", "future", "on_item")

    def __init__(self, n: int, loop: asyncio.AbstractEventLoop, on_item: Optional[Callable] = None):
        self.results: list[Any] = [None] * n
        self.remaining = n
        self.lock = threading.Lock()
        self.loop = loop
        self.future: asyncio.Future = loop.create_future()
        self.on_item = on_item

    def set(self, index: int, result: Result) -> bool:
        with self.lock:
            if self.results[index] is not None:
                return False
            self.results[index] = result
            self.remaining -= 1
            done = self.remaining == 0
        if done:
            self.loop.call_soon_threadsafe(self._resolve)
        return True

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(self.results)


class _Item:
    __slots__ = ("batch", "index", "job", "attempts", "t0")

    def __init__(self, batch: _Batch, index: int, job: Job):
        self.batch, self.index, self.job = batch, index, job
        self.attempts = 0
        self.t0 = time.perf_counter()


class PoolHooks:
    """Callbacks the service uses for metrics (all optional, called from worker threads)."""

    def item_done(self, env: str, result: Result, seconds: float) -> None: ...

    def items_done(self, done: list) -> None:
        """(env, result, seconds) for several items at once."""
        for env, result, seconds in done:
            self.item_done(env, result, seconds)

    def worker_restart(self, reason: str) -> None: ...


class _Worker:
    """One worker process and the thread in this process that feeds it."""

    def __init__(self, pool: "ProcessPool", slot: int):
        self.pool, self.slot = pool, slot
        self.proc: Any = None
        self.conn: Any = None
        self.progress: Any = None
        self.seq = 0
        self.busy = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"m1gym-worker-{slot}", daemon=True)

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    # ---- process management -------------------------------------------------------------------
    def _start(self) -> bool:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        progress = ctx.RawArray("d", 3)  # (chunk seq, position in chunk, monotonic start of that item)
        progress[0] = -1.0
        proc = ctx.Process(target=worker_main, args=(child, list(self.pool.imports), progress, self.pool.item_timeout),
                           name=f"m1gym-worker-{self.slot}")
        proc.start()
        child.close()
        ready = multiprocessing.connection.wait([parent, proc.sentinel], timeout=self.pool.startup_timeout)
        msg = None
        if parent in ready:
            try:
                msg = parent.recv()
            except (EOFError, OSError):
                msg = None
        if not msg or msg[0] != "ready":
            if not self.pool.closing:  # (a replacement cut short by close() is no start failure)
                why = msg[1] if msg else "it exited or did not report ready in time"
                self.pool.start_error = f"worker failed to start: {why}"
                log.error("m1gym scoring: %s", self.pool.start_error)
            self._kill(proc)
            parent.close()
            return False
        self.proc, self.conn, self.progress = proc, parent, progress
        self.ready.set()
        return True

    @staticmethod
    def _kill(proc: Any) -> None:
        if proc is None:
            return
        try:
            if proc.pid and os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        proc.join(timeout=5)

    def _replace(self, reason: str) -> None:
        self.ready.clear()
        self._kill(self.proc)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None
        self.pool.restarts += 1
        self.pool.hooks.worker_restart(reason)

    def stop(self) -> None:
        conn, proc = self.conn, self.proc
        if conn is not None:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        if proc is not None:
            proc.join(timeout=2)
            if proc.is_alive():
                self._kill(proc)

    # ---- the feeding loop ---------------------------------------------------------------------
    def _loop(self) -> None:
        failures = 0
        while not self.pool.closing:
            if self.proc is None:
                try:
                    started = self._start()
                except Exception as exc:  # e.g. spawn refused: an unguarded __main__ module
                    self.pool.start_error = f"worker failed to start: {type(exc).__name__}: {exc}"
                    log.error("m1gym scoring: %s", self.pool.start_error)
                    started = False
                if not started:
                    failures += 1
                    if not any(w.alive() for w in self.pool.workers):
                        self.pool._fail_queued(self.pool.start_error or "no scoring worker could start")
                    time.sleep(min(10.0, 0.5 * 2 ** failures))
                    continue
                failures = 0
            chunk = self.pool._take()
            if chunk is None:
                break
            self.busy = True
            try:
                self._run_chunk(chunk)
            except Exception:  # never lose items to a bug here
                log.exception("m1gym scoring: worker loop error")
                self._replace("error")
                self.pool._requeue([it for it in chunk if it.batch.results[it.index] is None])
            finally:
                self.busy = False
        if self.alive():
            # close() stops the workers it sees; one that was still starting (a replacement after
            # a timeout) is stopped here, or its process would outlive the pool (and block the
            # exit of its parent, which joins its children)
            self.stop()

    def _position(self, seq: int) -> tuple[int, float]:
        """(index of the item the worker is on, when it started it); (-1, 0) before it began the chunk."""
        progress = self.progress
        if int(progress[0]) != seq:
            return -1, 0.0
        start = progress[2]
        return int(progress[1]), start

    def _run_chunk(self, chunk: list[_Item]) -> None:
        """Send a chunk, wait for its results (one message). The worker writes which item it is on
        into shared memory, so a hang or a crash is pinned on that exact item without a message per
        item: it gets the timeout (or its retry), the items before it are rescored, and the items
        after it requeued, all without penalty."""
        pool = self.pool
        conn, proc = self.conn, self.proc
        self.seq += 1
        seq = self.seq
        sent_at = time.monotonic()
        try:
            conn.send((seq, [tuple(it.job) for it in chunk]))  # plain tuples: see jobs.py
        except (OSError, ValueError):
            self._replace("crash")
            pool._requeue(chunk)
            return
        timeout = pool.item_timeout
        while True:
            index, started = self._position(seq)
            deadline = (started if index >= 0 else sent_at) + timeout
            wait = min(0.5, deadline - time.monotonic())
            ready = multiprocessing.connection.wait([conn, proc.sentinel], timeout=max(0.0, wait))
            if conn in ready:
                try:
                    results = conn.recv()
                except (EOFError, OSError):
                    ready = [proc.sentinel]
                else:
                    pool._finish_many(chunk, [_new(Result, r) for r in results])  # (jobs.as_result)
                    return
            if ready:  # the process died
                index, _ = self._position(seq)
                self._replace("crash")
                if index < 0:
                    pool._requeue(chunk)
                    return
                item = chunk[index]
                item.attempts += 1
                if item.attempts >= 2:
                    pool._finish(item, _crash_result())
                else:
                    pool._requeue([item])
                pool._requeue(chunk[:index] + chunk[index + 1:])
                return
            index, started = self._position(seq)
            if time.monotonic() < (started if index >= 0 else sent_at) + timeout:
                continue  # the worker moved on to the next item: its clock restarted
            self._replace("timeout")
            if index < 0:  # never started the chunk (should not happen): retry it elsewhere
                pool._requeue(chunk)
                return
            pool._finish(chunk[index], _timeout_result(timeout, pool.timeout_hint))
            pool._requeue(chunk[:index] + chunk[index + 1:])
            return


class ProcessPool:
    """Scoring on worker processes this process owns."""

    backend = "process"

    def __init__(self, workers: int, imports: Sequence[str] = (), item_timeout: float = 30.0,
                 startup_timeout: float = 120.0, hooks: Optional[PoolHooks] = None,
                 timeout_hint: str = TIMEOUT_HINT):
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        self.imports = tuple(imports)
        self.item_timeout = float(item_timeout)
        self.timeout_hint = timeout_hint
        self.startup_timeout = float(startup_timeout)
        self.hooks = hooks or PoolHooks()
        self.closing = False
        self.restarts = 0
        self.start_error: Optional[str] = None
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._queue: collections.deque[list[_Item]] = collections.deque()
        self._cond = threading.Condition()
        self.workers = [_Worker(self, i) for i in range(workers)]

    async def start(self) -> None:
        for w in self.workers:
            w.thread.start()
        # Serve once every worker has loaded the envs (a broken --import fails here, loudly).
        deadline = time.monotonic() + self.startup_timeout
        while not all(w.ready.is_set() for w in self.workers):
            if self.start_error or time.monotonic() > deadline:
                raise RuntimeError(self.start_error or "workers did not start in time")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.closing = True
        with self._cond:
            self._cond.notify_all()
        await asyncio.to_thread(lambda: [w.stop() for w in self.workers])

    @property
    def pending(self) -> int:
        return self._pending

    def workers_info(self) -> list[dict[str, Any]]:
        return [{"pid": w.pid, "alive": w.alive(), "busy": w.busy} for w in self.workers]

    # ---- queue --------------------------------------------------------------------------------
    def _take(self) -> Optional[list[_Item]]:
        with self._cond:
            while not self._queue:
                if self.closing:
                    return None
                self._cond.wait(0.5)
            return self._queue.popleft()

    def _requeue(self, items: list[_Item]) -> None:
        if items:
            with self._cond:
                self._queue.appendleft(items)
                self._cond.notify()

    def _finish(self, item: _Item, result: Result) -> None:
        if item.batch.set(item.index, result):
            with self._pending_lock:
                self._pending -= 1
            try:
                self.hooks.item_done(item.job.env, result, time.perf_counter() - item.t0)
            except Exception:  # metrics must not break scoring
                log.exception("m1gym scoring: metrics hook failed")

    def _fail_queued(self, message: str) -> None:
        """No worker can run: fail what waits instead of letting requests hang."""
        with self._cond:
            chunks, self._queue = list(self._queue), collections.deque()
        for chunk in chunks:
            self._finish_many(chunk, [err("internal", message)] * len(chunk))

    def _finish_many(self, items: list[_Item], results: list[Result]) -> None:
        done = [(it, r) for it, r in zip(items, results) if it.batch.set(it.index, r)]
        with self._pending_lock:
            self._pending -= len(done)
        try:
            now = time.perf_counter()
            self.hooks.items_done([(it.job.env, r, now - it.t0) for it, r in done])
        except Exception:
            log.exception("m1gym scoring: metrics hook failed")

    async def run(self, jobs: Sequence[Job]) -> list[Result]:
        if not jobs:
            return []
        loop = asyncio.get_running_loop()
        batch = _Batch(len(jobs), loop)
        items = [_Item(batch, i, job) for i, job in enumerate(jobs)]
        size = chunk_sizes(len(items), len(self.workers))
        with self._pending_lock:
            self._pending += len(items)
        with self._cond:
            for start in range(0, len(items), size):
                self._queue.append(items[start:start + size])
            self._cond.notify_all()
        return await batch.future


class RayPool:
    """Scoring on Ray actors (one ``WorkerActor`` per worker)."""

    backend = "ray"

    def __init__(self, workers: int, address: str = "auto", imports: Sequence[str] = (),
                 item_timeout: float = 30.0, actor_cpus: float = 1.0, startup_timeout: float = 180.0,
                 hooks: Optional[PoolHooks] = None, timeout_hint: str = TIMEOUT_HINT):
        if workers < 1:
            raise ValueError("--workers must be at least 1")
        self.n = workers
        self.address = address
        self.imports = tuple(imports)
        self.item_timeout = float(item_timeout)
        self.timeout_hint = timeout_hint
        self.actor_cpus = float(actor_cpus)
        self.startup_timeout = float(startup_timeout)
        self.hooks = hooks or PoolHooks()
        self.restarts = 0
        self._pending = 0
        self._actors: list[Any] = [None] * workers
        self._busy = [False] * workers
        self._pids: list[Optional[int]] = [None] * workers
        self._seq = [0] * workers  # next call number per actor (the actor runs calls in this order)
        self._queue: Optional[asyncio.Queue] = None
        self._tasks: list[asyncio.Task] = []
        self._started_ray = False

    def _init_ray(self) -> None:
        import ray

        if ray.is_initialized():
            return
        if self.address in ("auto", "local"):
            ray.init(num_cpus=max(1, math.ceil(self.n * self.actor_cpus)), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        self._started_ray = True

    def _new_actor(self) -> Any:
        import ray

        from .worker import WorkerActor

        cls = ray.remote(num_cpus=self.actor_cpus, max_restarts=0, max_concurrency=RAY_WINDOW + 1)(WorkerActor)
        return cls.remote(list(self.imports), self.item_timeout)

    async def _await(self, ref: Any, timeout: float) -> Any:
        return await asyncio.wait_for(asyncio.wrap_future(ref.future()), timeout=timeout)

    async def _respawn(self, slot: int, reason: str) -> None:
        import ray

        old = self._actors[slot]
        if old is not None:
            try:
                ray.kill(old, no_restart=True)
            except Exception:
                pass
        self.restarts += 1
        self.hooks.worker_restart(reason)
        actor = self._new_actor()
        self._pids[slot] = await self._await(actor.ping.remote(), self.startup_timeout)
        self._actors[slot], self._seq[slot] = actor, 0

    async def start(self) -> None:
        await asyncio.to_thread(self._init_ray)
        self._queue = asyncio.Queue()
        actors = [self._new_actor() for _ in range(self.n)]
        pids = await asyncio.gather(*(self._await(a.ping.remote(), self.startup_timeout) for a in actors))
        self._actors, self._pids = actors, list(pids)
        self._tasks = [asyncio.create_task(self._consume(i)) for i in range(self.n)]

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._started_ray:
            import ray

            await asyncio.to_thread(ray.shutdown)

    @property
    def pending(self) -> int:
        return self._pending

    def workers_info(self) -> list[dict[str, Any]]:
        return [{"pid": self._pids[i], "alive": self._actors[i] is not None, "busy": self._busy[i]}
                for i in range(self.n)]

    def _finish(self, item: _Item, result: Result) -> None:
        if item.batch.set(item.index, result):
            self._pending -= 1
            try:
                self.hooks.item_done(item.job.env, result, time.perf_counter() - item.t0)
            except Exception:
                log.exception("m1gym scoring: metrics hook failed")

    async def run(self, jobs: Sequence[Job]) -> list[Result]:
        if not jobs:
            return []
        assert self._queue is not None, "RayPool.start() first"
        batch = _Batch(len(jobs), asyncio.get_running_loop())
        items = [_Item(batch, i, job) for i, job in enumerate(jobs)]
        size = chunk_sizes(len(items), self.n)
        self._pending += len(items)
        for start in range(0, len(items), size):
            self._queue.put_nowait(items[start:start + size])
        return await batch.future

    async def _consume(self, slot: int) -> None:
        """One actor's feeder. Every item is its own actor call, numbered and submitted a window
        ahead (the actor runs them in number order), then awaited in order; on a slow item the
        actor is asked which item it is on and for how long, so a hang or a crash is pinned on the
        exact item, like the process pool."""
        import ray.exceptions

        assert self._queue is not None
        while True:
            chunk: list[_Item] = await self._queue.get()
            self._busy[slot] = True
            actor = self._actors[slot]
            refs: list = []
            first = self._seq[slot]
            try:
                for k, it in enumerate(chunk):
                    # keep RAY_WINDOW calls in flight: the actor never idles between items, and one
                    # of its threads stays free to answer progress()
                    while len(refs) < min(k + RAY_WINDOW, len(chunk)):
                        nxt = chunk[len(refs)]
                        refs.append(actor.run.remote([nxt.job], id(nxt), first + len(refs)))
                    try:
                        result = await self._await_item(actor, refs[k], id(it))
                        if result is not None:
                            self._finish(it, result[0])
                            continue
                        self._finish(it, _timeout_result(self.item_timeout, self.timeout_hint))
                        await self._respawn(slot, "timeout")
                    except ray.exceptions.RayError:
                        it.attempts += 1
                        await self._respawn(slot, "crash")
                        if it.attempts >= 2:
                            self._finish(it, _crash_result())
                        else:
                            self._queue.put_nowait([it])
                    if chunk[k + 1:]:
                        self._queue.put_nowait(chunk[k + 1:])
                    break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never strand a request
                log.exception("m1gym scoring: ray feeder error")
                for it in chunk:
                    self._finish(it, err("internal", f"{type(exc).__name__}: {exc}"[:500]))
            finally:
                self._busy[slot] = False
                if self._actors[slot] is actor:  # (a respawned actor starts again from 0)
                    self._seq[slot] = first + len(refs)

    async def _await_item(self, actor: Any, ref: Any, tag: int) -> Optional[list]:
        """The item's results, or None when it ran past the timeout (measured from when the actor
        started it, not from when it was queued)."""
        import ray.exceptions

        fut = asyncio.wrap_future(ref.future())
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved" noise
        wait = self.item_timeout
        not_started = 0.0
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(fut), timeout=max(0.05, wait))
            except asyncio.TimeoutError:
                pass
            try:
                running, seconds = await self._await(actor.progress.remote(), 5.0)
            except ray.exceptions.RayError:
                if fut.done():
                    continue
                raise  # the actor died: the crash path
            except asyncio.TimeoutError:
                if fut.done():
                    continue
                return None  # the actor cannot even answer: treat the item as hung
            if fut.done():
                continue
            if running == tag:
                if seconds >= self.item_timeout:
                    return None
                wait = self.item_timeout - seconds
            else:  # queued behind the previous call or still in transit
                not_started += wait
                if not_started > 3 * self.item_timeout:
                    return None
                wait = self.item_timeout
