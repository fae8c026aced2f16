"""What runs inside a scoring worker (a child process of the pool's owner, or a Ray actor).

``run_job(Job) -> Result`` (see ``jobs.py``), with ``Job.op`` in ``score`` / ``generate``. The
same function serves both backends, so the process pool and Ray give the same scores by
construction.

``Job.task`` is the task as JSON bytes (what the service and the trainer send: one flat bytes
object pickles and unpickles for the price of a copy, where a nested dict costs a container per
value), a task dict, or None (generate it from ``seed``/``level``). Each worker keeps the ``Task``
objects it built from JSON bytes in a cache bounded in entries and in bytes, keyed by those exact
bytes, so a task scored again (a group of rollouts of one prompt, a task reused across steps) is
neither parsed nor checked again; the key is the content, so an edited task can never hit a stale
entry.

Sandbox runs of an item end a little before the pool's per-item timeout (``item_deadline``): the
timeout is the cap on whatever time limits a client's task asks for.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any, Optional, Sequence

import orjson

from .. import registry
from ..core import Task, TaskFormatError
from ..registry import load_imports
from ..sandbox.base import run_deadline
from .jobs import Job, Result, err, ok

#: most parsed tasks each worker keeps (JSON bytes -> Task; oldest dropped first)
TASK_CACHE_SIZE = 8192
#: most task JSON bytes the cache holds (a parsed task costs about as much again); clients choose
#: task sizes, so a count alone would let 8192 large tasks pin gigabytes in every worker
TASK_CACHE_BYTES = 32 << 20
#: a task larger than this is parsed every time, never cached (parsing 4 MB of JSON takes ms)
TASK_CACHE_MAX_ENTRY = 4 << 20


class _TaskCache(dict):
    """JSON bytes -> Task, oldest dropped first, bounded in entries and in bytes of JSON."""

    nbytes = 0

    def put(self, raw: bytes, task: Any) -> None:
        if len(raw) > TASK_CACHE_MAX_ENTRY:
            return
        while self and (len(self) >= TASK_CACHE_SIZE or self.nbytes + len(raw) > TASK_CACHE_BYTES):
            oldest = next(iter(self))
            del self[oldest]
            self.nbytes -= len(oldest)
        self[raw] = task
        self.nbytes += len(raw)

    def clear(self) -> None:
        super().clear()
        self.nbytes = 0


_task_cache = _TaskCache()


def _task_from_bytes(raw: bytes) -> Any:
    """The Task of a task's JSON bytes, parsed and checked once per worker (see the module doc)."""
    task = _task_cache.get(raw)
    if task is None:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise TaskFormatError(f"task is not valid JSON: {exc}") from None
        task = Task.from_dict(data)
        _task_cache.put(raw, task)
    return task


#: generation-0 threshold of the cyclic GC in the server and the workers (Python's default is 700)
GC_GEN0_THRESHOLD = 10_000


def settle_gc() -> None:
    """Move every object that exists after start-up (the imported envs, torch, pydantic, ...)
    out of the cyclic GC's reach and make young collections rarer.

    Parsing a batch creates thousands of small containers (task JSON, pickled jobs); with the
    default thresholds each few hundred of them trigger a collection, and the older collections
    walk the ~100k objects of the imported modules: measured on a 256-item logic batch, that
    tripled the cost of ``orjson.loads`` and of unpickling a chunk (12 -> 3 us per item). Frozen
    objects are never freed, which is what start-up objects want anyway."""
    import gc

    gc.collect()
    gc.freeze()
    _, g1, g2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, g1, g2)


def _json_safe(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def item_deadline(item_timeout: Optional[float]) -> Optional[float]:
    """Seconds a worker gives the sandbox runs of one item: a little under the pool's per-item
    timeout, so that a long run (a client's task with a long time limit, a compile bomb) ends
    with a verdict in the worker instead of a killed worker, and no container outlives its item."""
    if not item_timeout or item_timeout <= 0:
        return None
    return max(0.5 * item_timeout, item_timeout - 2.0)


def run_job(job: Job, deadline_s: Optional[float] = None) -> Result:
    """Score or generate one item (a ``Job`` or its plain-tuple wire form); sandbox runs end
    within ``deadline_s``. Never raises."""
    with run_deadline(deadline_s):
        return _run_job(job)


def _run_job(job: Job) -> Result:
    try:
        op, env_name, task_dict, seed, level, response = job
        env = registry.get_env(env_name)
        if op == "generate" or task_dict is None:
            try:
                task = env.generate(int(seed), level)
            except Exception as exc:
                return err("generation_failed", f"{env_name}: cannot generate seed {seed} level {level}: "
                                                f"{type(exc).__name__}: {exc}"[:500])
            if op == "generate":
                return ok(task.to_dict())
        else:
            try:
                task = _task_from_bytes(task_dict) if isinstance(task_dict, bytes) else Task.from_dict(task_dict)
            except TaskFormatError as exc:
                return err("invalid_task", str(exc))
        s = env.score(task, response)
        return ok({"reward": s.reward, "correct": s.correct, "format_ok": s.format_ok, "reason": s.reason,
                       "details": s.details, "elapsed_ms": s.elapsed_ms, "task_id": task.id, "error": None})
    except BaseException as exc:  # noqa: BLE001 - math-verify's timeout derives from BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return err("internal", f"{type(exc).__name__}: {exc}"[:500])


def _send(conn: Any, results: list[Result]) -> None:
    """Results go back as plain tuples (the wire form, see jobs.py)."""
    try:
        conn.send(list(map(tuple, results)))
    except (TypeError, AttributeError, ValueError, RecursionError):  # unpicklable details
        conn.send([(_json_safe(r[0]), None, None) if r[1] is None else tuple(r) for r in results])


def worker_main(conn: Any, imports: Sequence[str], progress: Any = None, item_timeout: Optional[float] = None) -> None:
    """Entry point of a pool worker process: load envs, then score chunks until the pipe closes.

    Chunks arrive as ``(seq, [job tuples])``. Before each item it writes (chunk seq, position,
    start time) into ``progress`` (shared memory), so the pool knows which item hangs or crashed without a message per item; the results of a
    chunk go back in one message."""
    try:
        os.setpgid(0, 0)  # own process group, so a replacement also kills the verifier's children
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the pool's owner, which stops us
    try:
        import m1gym  # noqa: F401  (registers the built-in envs)

        load_imports(imports)
    except BaseException as exc:  # noqa: BLE001
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    preload_envs()
    warm_checkers()
    settle_gc()
    conn.send(("ready", os.getpid()))
    clock = time.monotonic
    deadline_s = item_deadline(item_timeout)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        seq, chunk = msg
        results = []
        for pos, job in enumerate(chunk):
            if progress is not None:
                progress[2] = clock()
                progress[1] = pos
                progress[0] = seq
            results.append(run_job(job, deadline_s))
        _send(conn, results)


def preload_envs() -> None:
    """Import the module of every registered env before reporting ready. The registry imports an
    env when it is first used (seconds for the math envs: sympy, math-verify), and that must not
    count against the first item's timeout. An env whose module fails to import is left to fail
    its own items."""
    for spec in registry.list_envs():
        if spec.multi_turn:
            continue
        try:
            spec.factory  # noqa: B018  (imports the env's module)
        except Exception:  # noqa: BLE001
            pass


def warm_checkers() -> None:
    """Start one math-checker process before reporting ready: its cold start (a fresh interpreter
    importing sympy and math-verify, seconds on a loaded machine) must not count against the first
    math item's timeout."""
    from m1gym.verifiers.math import default_pool

    default_pool().warm_up(1)


class WorkerActor:
    """The Ray actor: the same ``run_job`` as the process workers. It runs threaded (one thread
    more than the feeder keeps calls in flight) so that ``progress()`` answers while ``run`` works
    on an item. A threaded actor does not keep call order (and a lock is not fair), so each ``run``
    carries its feeder's sequence number and waits for its turn: an item queued behind a hang never
    overtakes it, and one queued before a hang is never stuck behind it."""

    def __init__(self, imports: Sequence[str] = (), item_timeout: Optional[float] = None) -> None:
        import threading

        import m1gym  # noqa: F401

        load_imports(imports)
        preload_envs()
        warm_checkers()
        settle_gc()
        self._turn = threading.Condition()
        self._running = False  # one run at a time, numbered or not
        self._next_seq = 0
        self._current: tuple = (None, 0.0)
        self._deadline_s = item_deadline(item_timeout)

    def ping(self) -> int:
        return os.getpid()

    def progress(self) -> tuple:
        """(tag of the item running now or None, seconds it has been running)."""
        tag, started = self._current
        return (tag, time.monotonic() - started if tag is not None else 0.0)

    def run(self, chunk: list[Job], tag: Any = None, seq: Optional[int] = None) -> list[Result]:
        with self._turn:
            self._turn.wait_for(lambda: not self._running and (seq is None or seq == self._next_seq))
            self._running = True
            self._current = (tag, time.monotonic())
        try:
            return [r if r.error is not None else ok(_json_safe(r.value))
                    for r in (run_job(job, self._deadline_s) for job in chunk)]
        finally:
            with self._turn:
                self._running = False
                self._current = (None, 0.0)
                if seq is not None:
                    self._next_seq = seq + 1
                self._turn.notify_all()
