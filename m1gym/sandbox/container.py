"""One hardened sandbox container and the requests to its init.

Every container is created from the base image (``m1gym sandbox build-base``) with: no network
(``network_mode=none``), a read-only root, tmpfs work dirs (/work with exec, /tmp), all
capabilities dropped but the init's few, ``no-new-privileges``, a pids limit, a memory ceiling
without swap, one CPU, no logging driver, and labels naming the owning host and process.

Its PID 1 is the init (``container_init.py``), attached over stdin/stdout (``protocol.py``). The
container is created with ``StdinOnce`` and ``AutoRemove``: when the owning process goes away for
any reason (normal exit, exception, SIGKILL) the attach connection closes, the init reads EOF (or,
in the middle of a run, sees its stdin hang up, kills the run) and exits, and the daemon removes
the container.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from .base import Limits, SandboxError
from .docker_client import KIND_LABEL, LABEL, OWNER_LABEL, owner_id
from .image import SANDBOX_UID
from .protocol import AttachStream

INIT_CAPS = ["SETUID", "SETGID", "KILL", "DAC_OVERRIDE", "FOWNER", "CHOWN"]
INIT_SOURCE = (Path(__file__).with_name("container_init.py")).read_text()
START_TIMEOUT_S = 60.0


class Container:
    """One running container and the attach stream to its init."""

    def __init__(self, client, image: str, limits: Limits, kind: str):
        import docker.types

        self.limits = limits
        self.key = limits.session_key()
        api = client.api
        self.api = api
        mem = f"{limits.container_memory_mb}m"
        host_config = api.create_host_config(
            network_mode="bridge" if limits.network else "none",
            read_only=True,
            tmpfs={"/work": f"size={limits.tmpfs_mb}m,mode=1777,exec",
                   "/tmp": f"size={limits.tmpfs_mb}m,mode=1777"},
            shm_size="16m",
            cap_drop=["ALL"], cap_add=INIT_CAPS, security_opt=["no-new-privileges"],
            pids_limit=limits.pids, mem_limit=mem, memswap_limit=mem, nano_cpus=1_000_000_000,
            auto_remove=True, log_config=docker.types.LogConfig(type="none"),
        )
        self.name = f"m1gym-{kind}-{uuid.uuid4().hex[:12]}"
        labels = {LABEL: "1", OWNER_LABEL: owner_id(), KIND_LABEL: kind}
        self.id = api.create_container(
            image, command=["python3", "-I", "-c", INIT_SOURCE, str(SANDBOX_UID), str(SANDBOX_UID)],
            stdin_open=True, detach=False, labels=labels, host_config=host_config, name=self.name,
            network_disabled=not limits.network, working_dir="/", user="0:0",
        )["Id"]
        self.closed = False
        self.broken = False
        self.booting = False  # True from a re-exec reset until the new init's ready line is read
        self._reset_id: int | None = None  # a reset sent by release() whose answer is not read yet
        self.stream: AttachStream | None = None
        try:
            sock = api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self.stream = AttachStream(sock, self.name)
            api.start(self.id)
            hello = self.stream.read_msg(time.monotonic() + START_TIMEOUT_S)
            if not hello.get("ready"):
                raise SandboxError(f"sandbox init did not start: {hello}")
        except BaseException:
            self.destroy()
            raise

    def init_ready(self, wait: float = 0.0) -> bool:
        """Whether the reset sent by ``begin_reset`` came back clean and the re-executed init has
        said ready (a new init takes ~15-20 ms to start). Waits at most ``wait`` seconds; a
        container whose reset failed is marked broken."""
        if not self.booting:
            return True
        deadline = time.monotonic() + max(wait, 1e-4)
        try:
            while True:
                msg = self.stream.read_msg(deadline)
                if self._reset_id is not None and msg.get("id") == self._reset_id:
                    self._reset_id = None
                    if "error" in msg or not msg.get("clean"):
                        self.broken = True
                        return False
                elif msg.get("ready") and self._reset_id is None:
                    self.booting = False
                    return True
        except TimeoutError:
            return False
        except (OSError, ValueError, SandboxError):
            self.broken = True
            return False

    def begin_reset(self) -> None:
        """Send the reset (kill everything, wipe every writable place, re-exec the init) without
        waiting for it: the pool reads its answer when it next hands this container out, so the
        user releasing it does not wait ~2 ms."""
        self._reset_id = self.stream.send("reset", reexec=True)
        self.booting = True

    def request(self, op: str, timeout: float, **fields: Any) -> dict:
        if self.closed or self.broken:
            raise SandboxError(f"sandbox container {self.name} is no longer usable")
        try:
            self.stream.sock.settimeout(timeout)
            seq = self.stream.send(op, **fields)
            deadline = time.monotonic() + timeout
            while True:
                resp = self.stream.read_msg(deadline)
                if resp.get("id") == seq:
                    break
        except (OSError, TimeoutError, ValueError, SandboxError) as exc:
            self.broken = True
            raise SandboxError(f"sandbox container {self.name} failed during {op}: {exc}") from None
        if "error" in resp:
            raise SandboxError(f"sandbox init error during {op}: {resp['error']}")
        return resp

    def destroy(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.stream is not None:
                self.stream.close()
        except OSError:
            pass
        try:
            self.api.remove_container(self.id, force=True)
        except Exception:  # noqa: BLE001 - auto-remove may have won the race
            pass
