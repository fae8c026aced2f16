"""The Docker daemon connection, the labels on sandbox containers, and clean-up of the containers
that dead processes left behind.

Every sandbox container carries ``LABEL`` and ``OWNER_LABEL`` (``host:pid`` of the process that
made it); a labelled container whose owner on this host is gone is leaked, and is removed when a
sandbox first connects (``reclaim_leaked``) or by ``m1gym sandbox prune``.
"""

from __future__ import annotations

import os
import socket

from .base import DOCTOR_HINT, SandboxUnavailable

LABEL = "m1gym.sandbox"
OWNER_LABEL = "m1gym.owner"
KIND_LABEL = "m1gym.kind"  # pool | fresh


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def connect(base_url: str | None = None, timeout: float = 60.0):
    """A docker client that answered a ping, or SandboxUnavailable naming the fix."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        raise SandboxUnavailable(f"the docker Python package is missing ({exc}); pip install docker; "
                                 f"{DOCTOR_HINT}") from None
    try:
        client = docker.DockerClient(base_url=base_url, timeout=timeout) if base_url else \
            docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no daemon"
        where = base_url or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise SandboxUnavailable(f"Docker daemon not reachable at {where} ({type(exc).__name__}); start it "
                                 f"(`bash scripts/ensure_docker.sh`) and {DOCTOR_HINT}") from None
    return client


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ContainerRef:
    """id, name and labels of a listed container (the low-level list: no per-container inspect
    that would race with containers being auto-removed meanwhile)."""

    def __init__(self, client, row: dict):
        self.client = client
        self.id = row["Id"]
        self.name = (row.get("Names") or ["?"])[0].lstrip("/")
        self.labels = row.get("Labels") or {}
        self.status = row.get("State", "")

    def remove(self, force: bool = True) -> None:
        self.client.api.remove_container(self.id, force=force)


def labelled_containers(client, owner: str | None = None) -> list[ContainerRef]:
    labels = [LABEL] + ([f"{OWNER_LABEL}={owner}"] if owner else [])
    return [ContainerRef(client, row) for row in client.api.containers(all=True, filters={"label": labels})]


def leaked_containers(client) -> list[ContainerRef]:
    """Labelled containers whose owner process on this host is gone."""
    host = socket.gethostname()
    out = []
    for c in labelled_containers(client):
        h, _, pid = c.labels.get(OWNER_LABEL, "").rpartition(":")
        if h == host and pid.isdigit() and not _pid_alive(int(pid)):
            out.append(c)
    return out


def reclaim_leaked(client) -> int:
    n = 0
    for c in leaked_containers(client):
        try:
            c.remove(force=True)
            n += 1
        except Exception:  # noqa: BLE001 - already gone or being removed
            pass
    return n
