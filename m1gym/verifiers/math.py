"""Math answer equivalence: math-verify + sympy behind a pool of killable worker processes.

Why processes: math-verify's timeouts use ``signal.alarm`` (main thread only, so they fail in
threads), its timeout exception derives from BaseException, and some inputs (``9^{9^{9^9}}``,
deeply nested fractions) hang in code where no signal helps. So every check that needs
math-verify runs in a worker process that the caller kills after a hard timeout.

    check_math(gold, pred)                 -> MathVerdict(correct, reason, timed_out)
    check_math_batch([(gold, pred), ...])  -> [MathVerdict, ...]   (fans out over the workers)
    MathPool(n)                            -> a private pool; the module keeps a lazy default one

Workers are fresh interpreters (``python -m m1gym.verifiers._math_worker``, the "spawn" model:
nothing forked, the caller's ``__main__`` is never re-imported) with ``M1GYM_NO_AUTOLOAD=1``, a
memory cap, and death-with-parent. Each talks over one socket with ``multiprocessing.connection``
framing. A caller takes an idle worker (starting one, up to N, on demand), sends (gold, pred) and
polls; past the timeout it kills the worker, which is replaced on demand. Inside the worker a soft
timer (80% of the timeout) ends most slow checks without a kill.

Verdict policy on top of math-verify (``verify(gold, pred)``, gold first: the comparison is
deliberately one-way for intervals vs inequalities):
- closed-form numbers are compared exactly: rationals as fractions, however written
  (``75 + 10^{-100}`` != 75), other closed forms equal only when their difference cannot be told
  from zero at 1000 significant digits (``_math_worker.EXACT_DIGITS``); math-verify's absolute test makes ``1/2004!``
  equal ``1/2006!`` and ``2^-99`` equal ``2^-98``;
- ``\\pm 2021`` is the set {-2021, 2021} and never equals ``2021``; equations compare both sides;
- an ordered pair against assignments compares in variable order: ``(2, 1)`` != ``x = 1, y = 2``
  (math-verify compares them as unordered sets);
- an infinity equals only the same infinity: ``\\infty``, ``\\pm\\infty``, ``(\\infty, \\infty)`` and
  ``\\mathbb{R}`` never match a finite answer (a relative tolerance scaled by an infinite value
  would accept anything);
- ``37.5\\%`` against a bare-number gold 37.5 is accepted (math-verify handles integer percents
  only); a gold written as a fraction or expression never accepts that reading (``0.5\\%`` is not
  1/2); one ``\\pm`` is expanded (``\\frac{3 \\pm \\sqrt5}{2}`` is the set of both roots);
- a set of values (``\\{6, 5\\}``) never matches ordered assignments ``x = 5, y = 6``; a bare list
  ``5, 6`` is read in order as the pair (5, 6);
- ``**73**``, ``$73$``, ``73.`` and "The answer is 73" are unwrapped to ``73`` before parsing;
- rejected unchecked, with a reason saying so: predictions over ``MAX_PRED_CHARS`` or nested deeper
  than ``MAX_DEPTH``; control or invisible format characters (``7<NUL>5`` is not 75); an
  approximation (``\\approx 75``) unless the gold is one; prose (``PROSE_WORDS`` or more words in a
  row, e.g. the question echoed back) unless the gold is prose too.

Fast paths that skip the worker (both exact): identical strings after whitespace normalisation
are equivalent; two plain numbers (integers, decimals, a/b) that are equal as fractions are
equivalent; two different plain integers are not.

Any input is accepted and nothing raises: bytes are decoded, lone surrogates replaced, control
characters dropped from a gold answer.
Thread-safe; pools are closed at interpreter exit and reset in forked children.
"""

from __future__ import annotations

import atexit
import collections
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import weakref
from dataclasses import dataclass
from fractions import Fraction
from multiprocessing.connection import Connection, wait
from typing import Any, Iterable, Sequence

#: seconds one check may take before its worker is killed (and respawned)
DEFAULT_TIMEOUT = 5.0
#: predictions longer than this are rejected without calling math-verify
MAX_PRED_CHARS = 2_000
#: predictions nested deeper than this ({ ( [ together) are rejected without calling math-verify
MAX_DEPTH = 40
#: gold answers longer than this are rejected (a dataset row with a whole solution as its answer)
MAX_GOLD_CHARS = 10_000
#: jobs sent to a worker in one message by the batch path (it answers them one by one)
CHUNK = 8
#: seconds a fresh worker may take to import sympy and math-verify (loaded machines are slow)
STARTUP_TIMEOUT = 120.0
#: this many words in a row make a prediction prose, not an answer (the question echoed back)
PROSE_WORDS = 6


@dataclass(frozen=True)
class MathVerdict:
    correct: bool
    reason: str
    timed_out: bool = False

    def __bool__(self) -> bool:  # pragma: no cover - convenience
        return self.correct


# ---- input cleaning (parent side, cheap, exact) ---------------------------------------------------

_WS = re.compile(r"\s+")
_PREFIX = re.compile(r"^(?:the\s+)?(?:final\s+)?answer\s*(?:is|:|=)?\s*:?\s*", re.IGNORECASE)
_INT = re.compile(r"[+-]?\d+")
_DEC = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)")
_FRAC = re.compile(r"([+-]?\d+)\s*/\s*(\d+)")
_LATEX_FRAC = re.compile(r"([+-]?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
#: "approximately": the answer admits it is not the exact value
_APPROX = re.compile(r"\\(?:approx|thickapprox|simeq|sim|doteq)(?![a-zA-Z])|[\u2248\u2243\u223c]|\bapprox(?:imately)?\b",
                     re.IGNORECASE)
#: PROSE_WORDS words of letters in a row (LaTeX commands are not words: the backslash breaks the run)
_PROSE = re.compile(r"(?<![\\A-Za-z])(?:[A-Za-z]{2,}[\s,;:.!?'\"()-]+){%d}" % (PROSE_WORDS - 1) + r"[A-Za-z]{2,}")


def _to_text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, (int, float, Fraction)) and not isinstance(value, bool):
            value = str(value)
        else:
            return None
    # lone surrogates cannot be encoded (pickle would cope, regexes and files may not)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", errors="replace").decode("utf-8")
    return value


def _control_chars(text: str) -> list[str]:
    """Control and invisible format characters (NUL, ESC, zero-width space, bidi marks...); tab and
    newlines are whitespace, not controls."""
    return [ch for ch in text if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf")]


def _drop_controls(text: str) -> str:
    bad = set(_control_chars(text))
    return "".join(ch for ch in text if ch not in bad) if bad else text


def _strip_wrappers(text: str) -> str:
    """``$x$``, ``\\(x\\)``, ``**x**``, ``x.``, "The answer is x" -> ``x`` (repeatedly, bounded)."""
    s = text.strip()
    for _ in range(4):
        before = s
        s = _PREFIX.sub("", s, count=1) if len(s) < 400 else s
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**"),
                            ("__", "__"), ("`", "`")):
            if len(s) >= len(left) + len(right) + 1 and s.startswith(left) and s.endswith(right):
                s = s[len(left):len(s) - len(right)].strip()
        if s.endswith(".") and not s.endswith(".."):
            s = s[:-1].rstrip()
        if s == before:
            break
    return s


def _nesting(text: str) -> tuple[bool, int]:
    """(braces balanced, deepest nesting of {}, (), [] together); escaped ``\\{`` is content."""
    depth, deepest, braces, i, n = 0, 0, 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "{([":
            depth += 1
            deepest = max(deepest, depth)
            if ch == "{":
                braces += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
            if ch == "}":
                braces -= 1
                if braces < 0:
                    return False, deepest
        i += 1
    return braces == 0, deepest


def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """(value, is_integer) for plain 12, -3.5, 7/8, \\frac{7}{8}; None otherwise."""
    s = text.replace(" ", "")
    try:
        if _INT.fullmatch(s):
            return Fraction(int(s)), True
        if _DEC.fullmatch(s):
            return Fraction(s), False
        m = _FRAC.fullmatch(s) or _LATEX_FRAC.fullmatch(s)
        if m:
            if m.re is _FRAC:
                num, den = int(m.group(1)), int(m.group(2))
            else:
                num, den = int(m.group(1) + m.group(2)), int(m.group(3))
            if den == 0:
                return None
            return Fraction(num, den), False
    except (ValueError, ZeroDivisionError):
        return None
    return None


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def prepare(gold: Any, pred: Any) -> tuple[MathVerdict | None, str, str]:
    """Clean both sides; a verdict when no worker is needed, else (None, gold, pred) to check."""
    g, p = _to_text(gold), _to_text(pred)
    if g is None or not g.strip():
        return MathVerdict(False, "no gold answer"), "", ""
    if p is None or not p.strip():
        return MathVerdict(False, "empty answer"), g, ""
    if len(p) > MAX_PRED_CHARS:
        return MathVerdict(False, f"answer too long to check ({len(p)} chars > {MAX_PRED_CHARS}); not checked"), g, ""
    if len(g) > MAX_GOLD_CHARS:
        return MathVerdict(False, f"gold answer too long ({len(g)} chars > {MAX_GOLD_CHARS})"), "", p
    controls = _control_chars(p)
    if controls:  # never dropped: 7<NUL>5 must not read as 75
        return MathVerdict(False, f"answer contains control or invisible characters "
                                  f"({', '.join(f'U+{ord(c):04X}' for c in sorted(set(controls))[:3])})"), g, p
    g, p = _strip_wrappers(_drop_controls(g)), _strip_wrappers(p)
    if not p:
        return MathVerdict(False, "empty answer"), g, p
    if _WS.sub(" ", g) == _WS.sub(" ", p):
        return MathVerdict(True, "identical to the reference answer"), g, p
    if _APPROX.search(p) and not _APPROX.search(g):
        return MathVerdict(False, "an approximate answer (\\approx) is not the exact value asked for"), g, p
    if _PROSE.search(p) and not _PROSE.search(g):
        return MathVerdict(False, "answer is prose, not a math expression: give only the final answer"), g, p
    balanced, depth = _nesting(p)
    if not balanced:
        return MathVerdict(False, "answer has unbalanced braces"), g, p
    if depth > MAX_DEPTH:
        return MathVerdict(False, f"answer nested too deeply to check (depth {depth} > {MAX_DEPTH})"), g, p
    if not _nesting(g)[0]:
        return MathVerdict(False, "gold answer has unbalanced braces"), g, p
    gn, pn = _plain_number(g), _plain_number(p)
    if gn is not None and pn is not None:
        if gn[0] == pn[0]:
            return MathVerdict(True, "equal numbers"), g, p
        if gn[1] and pn[1]:
            return MathVerdict(False, f"{_clip(p)} != {_clip(g)}"), g, p
    return None, g, p


# ---- the worker pool ------------------------------------------------------------------------------

CRASHED = "math checker crashed on this input"


class _Worker:
    """One checker process and the parent end of its socket."""

    def __init__(self) -> None:
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ, M1GYM_NO_AUTOLOAD="1", PYTHONUNBUFFERED="1")
        debug = os.environ.get("M1GYM_MATH_DEBUG") == "1"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "m1gym.verifiers._math_worker", str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),), env=env, stdin=subprocess.DEVNULL,
                stdout=None if debug else subprocess.DEVNULL, stderr=None if debug else subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.ready = False
        self.jobs = 0

    def wait_ready(self, timeout: float) -> bool:
        if self.ready:
            return True
        try:
            if self.conn.poll(timeout):
                msg = self.conn.recv()
                self.ready = isinstance(msg, tuple) and msg[:1] == ("ready",)
        except (EOFError, OSError):
            self.ready = False
        return self.ready

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            pass


class MathPool:
    """N checker processes, started lazily, shared by any number of threads.

    A caller takes an idle worker (starting one if fewer than N exist), sends (gold, pred), and
    waits at most ``timeout`` seconds; on timeout it kills the worker, which is replaced on demand.
    """

    def __init__(self, n: int | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if n is None:
            n = max(1, min(4, os.cpu_count() or 1))
        if n < 1:
            raise ValueError(f"MathPool needs at least 1 worker, got {n}")
        self.n = int(n)
        self.timeout = float(timeout)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0  # workers alive or being started
        self._closed = False
        self._pid = os.getpid()
        self.stats = {"checks": 0, "timeouts": 0, "crashes": 0, "started": 0}
        _ALL_POOLS.add(self)  # closed at exit, reset in forked children

    def _after_fork_in_child(self) -> None:
        """A forked child must not talk to its parent's workers: forget them (the parent keeps them)."""
        for w in self._idle:
            try:
                w.conn.close()  # the child's copy of the socket only
            except OSError:
                pass
        self._cond = threading.Condition()
        self._idle = []
        self._count = 0
        self._pid = os.getpid()

    # -- taking and giving back workers --
    def _acquire(self, block: bool = True) -> _Worker | None:
        if self._pid != os.getpid():  # forked without the at-fork hook (e.g. os.fork in C code)
            self._after_fork_in_child()
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("MathPool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.n:
                    self._count += 1
                    break
                if not block:
                    return None
                self._cond.wait()
        try:  # start outside the lock: a spawn takes a while
            worker = _Worker()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        with self._cond:
            self.stats["started"] += 1
        return worker

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.kill()
        with self._cond:
            if healthy and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                if healthy:
                    worker.kill()
            self._cond.notify()

    # -- one check --
    def check(self, gold: Any, pred: Any, timeout: float | None = None) -> MathVerdict:
        verdict, g, p = prepare(gold, pred)
        if verdict is not None:
            return verdict
        return self._check_prepared(g, p, self.timeout if timeout is None else float(timeout))

    def _check_prepared(self, g: str, p: str, timeout: float) -> MathVerdict:
        # A crash is retried once on a fresh worker: an idle worker can have died (OOM kill, a
        # signal) for reasons unrelated to this input; a second crash is the input's doing.
        verdict = self._check_once(g, p, timeout)
        if verdict.reason == CRASHED:
            verdict = self._check_once(g, p, timeout)
        return verdict

    def _check_once(self, g: str, p: str, timeout: float) -> MathVerdict:
        try:
            worker = self._acquire()
        except Exception as exc:
            return MathVerdict(False, f"math checker unavailable: {type(exc).__name__}: {exc}")
        healthy = False
        try:
            if not worker.wait_ready(STARTUP_TIMEOUT):
                return MathVerdict(False, "math checker process failed to start")
            while worker.conn.poll(0):  # a late answer from an earlier (batch) job is not ours
                worker.conn.recv()
            worker.conn.send((g, p, _soft(timeout)))
            if not worker.conn.poll(timeout):
                with self._cond:
                    self.stats["timeouts"] += 1
                return MathVerdict(False, f"timeout: no verdict within {timeout:g} s (checker killed)", True)
            correct, reason = worker.conn.recv()
            healthy = True
            with self._cond:
                self.stats["checks"] += 1
            return MathVerdict(bool(correct), str(reason), reason.startswith("timeout"))
        except (EOFError, OSError, ValueError, TypeError):
            with self._cond:
                self.stats["crashes"] += 1
            return MathVerdict(False, CRASHED)
        except BaseException:
            raise  # KeyboardInterrupt: the worker is killed in finally
        finally:
            self._release(worker, healthy)

    # -- many checks, fanned out over up to ``workers`` processes from one thread --
    def check_batch(self, pairs: Iterable[Sequence[Any]], *, workers: int | None = None,
                    timeout: float | None = None) -> list[MathVerdict]:
        timeout = self.timeout if timeout is None else float(timeout)
        items = [tuple(pair) for pair in pairs]
        results: list[MathVerdict | None] = [None] * len(items)
        todo: list[tuple[int, str, str]] = []
        for i, pair in enumerate(items):
            if len(pair) != 2:
                results[i] = MathVerdict(False, "batch item is not a (gold, pred) pair")
                continue
            verdict, g, p = prepare(pair[0], pair[1])
            if verdict is not None:
                results[i] = verdict
            else:
                todo.append((i, g, p))
        if todo:
            want = min(len(todo), self.n if workers is None else max(1, int(workers)), self.n)
            if want == 1 or len(todo) == 1:
                for i, g, p in todo:
                    results[i] = self._check_prepared(g, p, timeout)
            else:
                # answers to the same question travel together: one worker parses that gold once
                todo.sort(key=lambda job: job[1])
                self._run_fanout(todo, want, timeout, results)
        return [r if r is not None else MathVerdict(False, "not checked") for r in results]

    def _run_fanout(self, todo: list[tuple[int, str, str]], want: int, timeout: float,
                    results: list[MathVerdict | None]) -> None:
        """Drive up to ``want`` workers from this thread.

        Each worker gets a short chunk of jobs in one message and answers job by job, so it never
        sits idle waiting for this thread to wake up; the hard timeout restarts at every answer
        (each job still gets ``timeout`` seconds). A worker that hangs is killed: its current job
        gets a timeout verdict and the rest of its chunk goes back to the queue.
        """
        held: list[_Worker] = []
        try:
            held.append(self._acquire(block=True))  # at least one
            while len(held) < want:
                w = self._acquire(block=False)
                if w is None:
                    break
                held.append(w)
        except Exception as exc:
            for w in held:
                self._release(w, True)
            for i, _, _ in todo:
                results[i] = MathVerdict(False, f"math checker unavailable: {type(exc).__name__}: {exc}")
            return
        queue = collections.deque(todo)
        # conn -> (worker, [(item, gold, pred) still pending, in order], deadline of the first one)
        busy: dict[Connection, tuple[_Worker, list[tuple[int, str, str]], float]] = {}
        starting: dict[Connection, tuple[_Worker, float]] = {}  # conn -> (worker, ready deadline)
        idle: list[_Worker] = []
        replacements = len(todo)  # bound on respawns within one batch

        def add(w: _Worker) -> None:
            if w.ready:
                idle.append(w)
            else:
                starting[w.conn] = (w, time.monotonic() + STARTUP_TIMEOUT)

        def drop(w: _Worker) -> None:
            """Kill a broken worker and try to start a replacement."""
            nonlocal replacements
            held.remove(w)
            self._release(w, False)
            if replacements > 0 and queue:
                replacements -= 1
                try:
                    nw = self._acquire(block=False)
                except Exception:
                    nw = None
                if nw is not None:
                    held.append(nw)
                    add(nw)

        def requeue(pending: list[tuple[int, str, str]]) -> None:
            for job in reversed(pending):
                queue.appendleft(job)

        try:
            for w in list(held):
                add(w)
            while queue or busy:
                while idle and queue:
                    w = idle.pop()
                    workers_now = max(1, len(idle) + len(busy) + len(starting) + 1)
                    size = max(1, min(CHUNK, -(-len(queue) // workers_now)))
                    chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                    try:
                        w.conn.send([(g, p, _soft(timeout)) for _, g, p in chunk])
                        busy[w.conn] = (w, chunk, time.monotonic() + timeout)
                    except OSError:
                        requeue(chunk)
                        drop(w)
                if not busy and not starting:
                    if queue:  # no worker left to drive: finish with the blocking path
                        while queue:
                            i, g, p = queue.popleft()
                            results[i] = self._check_prepared(g, p, timeout)
                    break
                deadlines = [d for (_, _, d) in busy.values()] + [d for (_, d) in starting.values()]
                wait_for = max(0.0, min(deadlines) - time.monotonic())
                for conn in wait(list(busy) + list(starting), timeout=wait_for):
                    if conn in starting:
                        w, _ = starting.pop(conn)
                        if w.wait_ready(0):
                            idle.append(w)
                        else:
                            drop(w)
                        continue
                    w, pending, _ = busy.pop(conn)
                    try:
                        while pending and conn.poll(0):  # take every answer already there
                            correct, reason = conn.recv()
                            i = pending.pop(0)[0]
                            results[i] = MathVerdict(bool(correct), str(reason), str(reason).startswith("timeout"))
                            with self._cond:
                                self.stats["checks"] += 1
                    except (EOFError, OSError, ValueError, TypeError):
                        i = pending.pop(0)[0]
                        results[i] = MathVerdict(False, "math checker crashed on this input")
                        with self._cond:
                            self.stats["crashes"] += 1
                        requeue(pending)
                        drop(w)
                        continue
                    if pending:
                        busy[conn] = (w, pending, time.monotonic() + timeout)
                    else:
                        idle.append(w)
                now = time.monotonic()
                for conn in [c for c, (_, _, d) in busy.items() if d <= now]:
                    w, pending, _ = busy.pop(conn)
                    i = pending.pop(0)[0]
                    results[i] = MathVerdict(False, f"timeout: no verdict within {timeout:g} s (checker killed)", True)
                    with self._cond:
                        self.stats["timeouts"] += 1
                    requeue(pending)
                    drop(w)
                for conn in [c for c, (_, d) in starting.items() if d <= now]:
                    w, _ = starting.pop(conn)
                    drop(w)
        finally:
            busy_workers = {id(bw) for (bw, _, _) in busy.values()}
            for w in held:
                # a worker with pending replies or still starting must not be reused
                self._release(w, w.ready and id(w) not in busy_workers and w.conn not in starting)

    # -- lifecycle --
    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for w in idle:
            w.kill()

    def warm_up(self, n: int | None = None) -> None:
        """Start up to n workers now and wait until they are ready (benchmarks, servers)."""
        n = self.n if n is None else min(self.n, n)
        held = []
        try:
            for _ in range(n):
                w = self._acquire(block=False)
                if w is None:
                    break
                held.append(w)
            for w in held:
                w.wait_ready(STARTUP_TIMEOUT)
        finally:
            for w in held:
                self._release(w, w.ready)

    def __enter__(self) -> "MathPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _soft(timeout: float) -> float:
    """The in-worker soft timer: fires before the hard kill so the worker survives most timeouts."""
    return max(0.05, timeout * 0.8 - 0.05)


# ---- module-level default pool --------------------------------------------------------------------

_default_pool: MathPool | None = None
_ALL_POOLS: "weakref.WeakSet[MathPool]" = weakref.WeakSet()
_default_lock = threading.Lock()


def default_pool() -> MathPool:
    global _default_pool
    pool = _default_pool
    if pool is None:
        with _default_lock:
            if _default_pool is None:
                n = int(os.environ.get("M1GYM_MATH_WORKERS", "0") or 0) or None
                _default_pool = MathPool(n)
            pool = _default_pool
    return pool


def set_default_pool(pool: MathPool | None) -> MathPool | None:
    """Replace the default pool (benchmarks, tests); returns the old one (not closed)."""
    global _default_pool
    with _default_lock:
        old, _default_pool = _default_pool, pool
    return old


def _after_fork() -> None:
    global _default_lock
    _default_lock = threading.Lock()
    for pool in list(_ALL_POOLS):
        pool._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


@atexit.register
def _shutdown() -> None:
    for pool in list(_ALL_POOLS):
        try:
            pool.close()
        except Exception:
            pass


def check_math(gold: Any, pred: Any, timeout: float = DEFAULT_TIMEOUT, *, pool: MathPool | None = None) -> MathVerdict:
    """Is ``pred`` mathematically equivalent to ``gold``? Never raises; bounded by ``timeout``."""
    try:
        return (pool or default_pool()).check(gold, pred, timeout)
    except Exception as exc:  # noqa: BLE001 - e.g. a closed pool
        return MathVerdict(False, f"math checker unavailable: {type(exc).__name__}: {exc}")


def check_math_batch(pairs: Iterable[Sequence[Any]], workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                     *, pool: MathPool | None = None) -> list[MathVerdict]:
    """Verdicts for many (gold, pred) pairs, checked concurrently on up to ``workers`` processes."""
    pairs = list(pairs)
    try:
        return (pool or default_pool()).check_batch(pairs, workers=workers, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return [MathVerdict(False, f"math checker unavailable: {type(exc).__name__}: {exc}")] * len(pairs)


__all__ = ["MathVerdict", "MathPool", "check_math", "check_math_batch", "default_pool", "set_default_pool",
           "prepare", "DEFAULT_TIMEOUT", "MAX_PRED_CHARS", "PROSE_WORDS"]
