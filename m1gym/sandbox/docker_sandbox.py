"""The Docker backend: sessions in hardened containers, from a warm pool by default.

The parts, one job each: ``docker_client`` (daemon connection, container labels, leaked-container
clean-up), ``container`` (one hardened container), ``protocol`` (the JSON-lines stream to its init,
``container_init.py``), ``pool`` (warm containers, reset between users, and why pooling is the
default) and ``session`` (put / run / get in one container). ``close()`` and an ``atexit`` hook
remove containers explicitly, besides the daemon's auto-removal when the owning process goes away,
and labelled containers whose owner process is dead are reclaimed when a sandbox first connects.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref

from .base import DOCTOR_HINT, Limits, Sandbox, SandboxError, SandboxUnavailable, time_left
from .container import Container
from .docker_client import connect, reclaim_leaked
from .image import base_image_tag
from .pool import ContainerPool
from .session import DockerSession

_LIVE: "weakref.WeakSet[DockerSandbox]" = weakref.WeakSet()
_RECLAIMED: set[str] = set()


class DockerSandbox(Sandbox):
    """Sessions in Docker containers; warm pooled containers by default (``pool.py`` says why)."""

    name = "docker"

    def __init__(self, image: str | None = None, *, pool: bool = True, pool_size: int | None = None,
                 base_url: str | None = None, limits: Limits | None = None):
        self.image = image or base_image_tag()
        self.use_pool = pool
        self.pool_size = pool_size or int(os.environ.get("M1GYM_SANDBOX_POOL", "0") or 0) or max(2, os.cpu_count() or 2)
        self.base_url = base_url
        self.limits = limits or Limits()
        self._client = None
        self._pool: ContainerPool | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()
        _LIVE.add(self)

    def _ensure(self):
        if self._client is not None and self._pid == os.getpid():
            return self._client
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                return self._client
            client = connect(self.base_url)
            import docker.errors

            try:
                client.images.get(self.image)
            except docker.errors.ImageNotFound:
                raise SandboxUnavailable(f"sandbox image {self.image} is missing; build it with "
                                         f"`m1gym sandbox build-base` ({DOCTOR_HINT})") from None
            except Exception as exc:  # noqa: BLE001
                raise SandboxUnavailable(f"cannot inspect sandbox image {self.image}: {exc}; {DOCTOR_HINT}") from None
            key = self.base_url or "default"
            if key not in _RECLAIMED:
                _RECLAIMED.add(key)
                reclaim_leaked(client)
            self._pid = os.getpid()
            self._pool = ContainerPool(client, self.image, self.pool_size) if self.use_pool else None
            self._client = client
            return client

    def check(self) -> None:
        """Raise SandboxUnavailable unless the daemon answers and the image exists."""
        self._ensure()

    def session(self, limits: Limits | None = None) -> DockerSession:
        lim = limits or self.limits
        client = self._ensure()
        try:
            if self._pool is not None:
                left = time_left()
                wait = 600.0 if left is None else max(1.0, min(600.0, left))
                return DockerSession(lim, self._pool.acquire(lim, timeout=wait), self._release)
            return DockerSession(lim, Container(client, self.image, lim, "fresh"), Container.destroy)
        except SandboxError:
            raise
        except Exception as exc:  # noqa: BLE001 - docker API errors become one clear message
            raise SandboxUnavailable(f"could not start a sandbox container: {type(exc).__name__}: {exc}; "
                                     f"{DOCTOR_HINT}") from None

    def _release(self, container: Container) -> None:
        # back to the pool; destroyed when the sandbox was closed meanwhile
        pool = self._pool
        if pool is not None:
            pool.release(container)
        else:
            container.destroy()

    def warm(self, n: int | None = None, limits: Limits | None = None) -> None:
        """Start containers ahead of use (pool mode)."""
        self._ensure()
        if self._pool is not None:
            self._pool.warm(limits or self.limits, n or self.pool_size)

    @property
    def stats(self) -> dict:
        return dict(self._pool.stats) if self._pool else {}

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
        self._client = None


_DEFAULT: DockerSandbox | None = None
_DEFAULT_LOCK = threading.Lock()


def default_sandbox() -> DockerSandbox:
    """The process-wide pooled sandbox (recreated after a fork)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None or _DEFAULT._pid != os.getpid():
            _DEFAULT = DockerSandbox()
        return _DEFAULT


@atexit.register
def _close_all() -> None:
    for sb in list(_LIVE):
        try:
            sb.close()
        except Exception:  # noqa: BLE001
            pass
