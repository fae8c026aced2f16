"""The warm container pool: containers keyed by their container-level limits, reset between users.

Pool vs fresh container, chosen by measurement (``benchmarks/judge.py``, 2 shared CPUs): a fresh
container costs a create, start, attach and remove through the daemon (about 0.13 s more a
submission here), a warm pooled container costs one ``reset`` round trip to its init (about 2 ms)
that kills every leftover process and wipes every writable place (tests/sandbox check that nothing
survives it); the init then re-executes itself (~20 ms), during which the pool hands out another
container. Judging a 10-test Python submission ran at about 18-19 submissions/s with the pool against
about 5.6-6/s with fresh containers (3.2-3.4x), a 10-test C++ submission at about 13/s against 5/s
(2.7x: its 50 ms compile is paid either way). The pool is therefore the default;
``DockerSandbox(pool=False)`` gives a fresh container per session.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import defaultdict

from .base import Limits, SandboxError
from .container import Container

RESET_TIMEOUT_S = 30.0  # killing and wiping after a session; slower means something is wrong


class ContainerPool:
    """Warm containers keyed by their container-level limits; a reset between users."""

    def __init__(self, client, image: str, max_size: int):
        self.client, self.image, self.max_size = client, image, max(1, max_size)
        self._idle: dict[tuple, list[Container]] = defaultdict(list)
        self._count = 0
        self._cond = threading.Condition()
        self._all: "weakref.WeakSet[Container]" = weakref.WeakSet()
        self.closed = False
        self.stats = {"created": 0, "reused": 0, "discarded": 0}

    def acquire(self, limits: Limits, timeout: float = 600.0) -> Container:
        key = limits.session_key()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self.closed:
                    raise SandboxError("the sandbox pool is closed")
                idle = self._idle[key]
                if idle:
                    # a container whose init has restarted after its reset; when every idle one is
                    # still restarting (~20 ms) and there is room, a second container is started
                    # instead, so that sequential users alternate and never wait on a restart
                    ready = next((c for c in idle if c.init_ready()), None)
                    for dead in [c for c in idle if c.broken]:
                        idle.remove(dead)
                        self._count -= 1
                        self.stats["discarded"] += 1
                        threading.Thread(target=dead.destroy, daemon=True).start()
                    if not idle:
                        continue
                    if ready is None and self._count >= self.max_size:
                        # the pool is full: wait for the oldest one (the likeliest to be done)
                        c = idle[0]
                        if not c.init_ready(wait=RESET_TIMEOUT_S):
                            idle.remove(c)
                            self._count -= 1
                            self.stats["discarded"] += 1
                            threading.Thread(target=c.destroy, daemon=True).start()
                            continue
                        ready = c
                    if ready is not None:
                        idle.remove(ready)
                        self.stats["reused"] += 1
                        return ready
                if self._count < self.max_size:
                    self._count += 1
                    break
                other = next((k for k, v in self._idle.items() if v), None)
                if other is not None:  # make room: drop an idle container of another shape
                    victim = self._idle[other].pop()
                    self._count -= 1
                    threading.Thread(target=victim.destroy, daemon=True).start()
                    self.stats["discarded"] += 1
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError(f"no sandbox container free after {timeout:.0f}s "
                                       f"(pool size {self.max_size}); raise the pool size")
                self._cond.wait(left)
        try:
            c = Container(self.client, self.image, limits, "pool")
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        self._all.add(c)
        self.stats["created"] += 1
        return c

    def release(self, c: Container) -> None:
        ok = False
        if not c.broken and not c.closed and not self.closed:
            try:
                c.begin_reset()  # its answer is checked before the next user gets the container
                ok = True
            except OSError:
                ok = False
        with self._cond:
            if ok and not self.closed:
                self._idle[c.key].append(c)
                self._cond.notify()
                return
            self._count -= 1
            self.stats["discarded"] += 1
            self._cond.notify()
        c.destroy()

    def warm(self, limits: Limits, n: int) -> None:
        taken = [self.acquire(limits) for _ in range(min(n, self.max_size))]
        for c in taken:
            self.release(c)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            idle = [c for v in self._idle.values() for c in v]
            self._idle.clear()
            self._cond.notify_all()
        for c in list(self._all) + idle:
            c.destroy()

