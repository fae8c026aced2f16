"""A session in the Docker backend: one container (pooled or fresh), driven through its init."""

from __future__ import annotations

import base64
from typing import Callable, Mapping, Sequence

from .base import FileData, Limits, RunResult, Session, _as_bytes, check_rel_path, deadline_limits, deadline_passed
from .container import Container

#: seconds a host waits for the init beyond the run's wall limit before declaring the container dead
INIT_SLACK_S = 20.0


class DockerSession(Session):
    def __init__(self, limits: Limits, container: Container, release: Callable[[Container], None]):
        """``release`` takes the container back at ``close()``: to the pool, or destroys it."""
        self.limits, self.container, self._release = limits, container, release
        self._closed = False

    def put(self, files: Mapping[str, FileData], *, mode: int = 0o644, owner: str = "root") -> None:
        self.container.request("put", timeout=60.0, files=self._files(files, mode, owner))

    @staticmethod
    def _files(files: Mapping[str, FileData] | None, mode: int = 0o644, owner: str = "root") -> dict:
        if owner not in ("root", "user"):
            raise ValueError("owner must be 'root' (read-only to the program) or 'user'")
        return {check_rel_path(k): {"data": base64.b64encode(_as_bytes(v)).decode(), "mode": mode, "owner": owner}
                for k, v in (files or {}).items()}

    def run(self, cmd: Sequence[str], *, stdin: FileData = b"", limits: Limits | None = None,
            files: Mapping[str, FileData] | None = None, collect: Sequence[str] = (), cwd: str = ".",
            env: Mapping[str, str] | None = None, python: bool = False) -> RunResult:
        """``python=True`` with ``cmd = ["python3", script, *args]`` runs the script in a fork of the
        init's interpreter (no interpreter start-up; see ``container_init._run_python``)."""
        if isinstance(cmd, str) or not cmd:
            raise ValueError("cmd must be a non-empty list of strings (no shell string)")
        lim = deadline_limits(limits or self.limits)  # a caller's run_deadline cuts the wall limit
        if lim is None:
            return deadline_passed()
        resp = self.container.request(
            "run", timeout=lim.wall_s + INIT_SLACK_S, cmd=list(cmd),
            stdin=base64.b64encode(_as_bytes(stdin)).decode(), files=self._files(files),
            cwd=check_rel_path(cwd), env=dict(env or {}), wall=lim.wall_s, cpu=lim.cpu,
            memory_mb=lim.memory_mb, stack_mb=lim.stack_mb, output_bytes=lim.output_bytes,
            collect=[check_rel_path(p) for p in collect], python=bool(python and cmd[0] == "python3"),
        )
        return RunResult(
            exit_code=resp["exit_code"], stdout=base64.b64decode(resp["stdout"]),
            stderr=base64.b64decode(resp["stderr"]), signal=resp["signal"], killed=resp["killed"],
            wall_s=resp["wall"], cpu_s=resp["cpu"], max_rss_mb=resp["max_rss_kb"] / 1024.0,
            mem_peak_mb=resp.get("mem_peak_kb", 0) / 1024.0, oom=resp["oom"],
            spawn_error=resp.get("spawn_error", ""),
            files={k: base64.b64decode(v) for k, v in resp.get("files", {}).items()},
        )

    def get(self, paths: Sequence[str], max_bytes: int = 8 << 20) -> dict[str, bytes]:
        resp = self.container.request("get", timeout=60.0, paths=[check_rel_path(p) for p in paths],
                                      max_bytes=max_bytes)
        return {k: base64.b64decode(v) for k, v in resp["files"].items()}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._release(self.container)

