"""The sandbox interface: limits, run results, sessions, and a bare-subprocess backend.

A ``Sandbox`` hands out ``Session`` objects. A session is one isolated work directory (in the Docker
backend: one container) in which several commands may run one after another, sharing files: the
judge compiles a submission once and runs every test in the same session. Between runs every
process the previous command started is killed; between sessions everything is wiped.

Limits come in two scopes:

* per run (``wall_s``, ``cpu_s``, ``memory_mb``, ``output_bytes``): enforced by the container's init
  for each command;
* per session (``pids``, ``tmpfs_mb``, ``network``, ``container_memory_mb``): properties of the
  container, fixed when it is created (the pool keys its containers by them).
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator, Mapping, Sequence, Union

FileData = Union[bytes, str]

DOCTOR_HINT = "run `m1gym sandbox doctor` to see what is wrong and how to fix it"


class SandboxError(RuntimeError):
    """The sandbox could not run a command (not the command failing: that is a RunResult)."""


class SandboxUnavailable(SandboxError):
    """No usable backend: the Docker daemon is unreachable or the base image is missing."""


@dataclass(frozen=True)
class Limits:
    """Resource limits. Per run: wall_s, cpu_s, memory_mb, stack_mb, output_bytes.
    Per session (container): pids, tmpfs_mb, container_memory_mb, network.

    wall_s:       wall-clock seconds before every process of the run is killed.
    cpu_s:        CPU seconds of the run (user + system) summed over every process it starts,
                  children included whether waited for or not (the Docker backend reads the
                  container's cgroup); None = wall_s.
    memory_mb:    the run's memory: the data-segment limit of each process (RLIMIT_DATA), and the
                  peak of anonymous + shared memory (MAP_SHARED, tmpfs, shm) of all its processes
                  together, measured in the container's cgroup while the run goes (a run above it
                  is killed with ``killed="memory"``); None = only the container's ceiling. The
                  sampling can miss a spike shorter than its period: ``container_memory_mb`` is the
                  bound the kernel enforces, set it close above memory_mb for a tight limit.
    stack_mb:     stack limit of each process (deep recursion needs more than the 8 MB default).
    output_bytes: stdout bytes kept; a program writing more (stdout or stderr) is killed.
    pids:         processes and threads in the container, its init included (fork bombs stop here).
    tmpfs_mb:     size of each writable tmpfs (/work and /tmp); it counts against memory.
    container_memory_mb: the container's cgroup memory ceiling (no swap); covers every process
                  of a run together, and the tmpfs contents.
    network:      False = no network interface but loopback.
    """

    wall_s: float = 10.0
    cpu_s: float | None = None
    memory_mb: int | None = 512
    stack_mb: int | None = 64
    output_bytes: int = 8 << 20
    pids: int = 64
    tmpfs_mb: int = 128
    container_memory_mb: int = 1024
    network: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.wall_s, (int, float)) and 0 < self.wall_s <= 3600):
            raise ValueError(f"Limits.wall_s must be in (0, 3600] seconds, got {self.wall_s!r}")
        if self.cpu_s is not None and not (0 < self.cpu_s <= 3600):
            raise ValueError(f"Limits.cpu_s must be in (0, 3600] seconds or None, got {self.cpu_s!r}")
        for name in ("memory_mb", "stack_mb"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int) and 4 <= v <= 1 << 20):
                raise ValueError(f"Limits.{name} must be an int >= 4 (MB) or None, got {v!r}")
        if not (isinstance(self.pids, int) and 8 <= self.pids <= 1 << 16):
            raise ValueError(f"Limits.pids must be an int >= 8, got {self.pids!r}")
        if not (isinstance(self.output_bytes, int) and self.output_bytes > 0):
            raise ValueError(f"Limits.output_bytes must be a positive int, got {self.output_bytes!r}")
        if not (isinstance(self.tmpfs_mb, int) and self.tmpfs_mb >= 1):
            raise ValueError(f"Limits.tmpfs_mb must be a positive int, got {self.tmpfs_mb!r}")
        if not (isinstance(self.container_memory_mb, int) and self.container_memory_mb >= 64):
            raise ValueError(f"Limits.container_memory_mb must be an int >= 64, got {self.container_memory_mb!r}")

    @property
    def cpu(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.wall_s

    def session_key(self) -> tuple:
        """The container-level part: sessions with equal keys can share a warm container."""
        return (self.pids, self.tmpfs_mb, self.container_memory_mb, self.network)

    def with_(self, **changes) -> "Limits":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


#: why a run was stopped
KILL_REASONS = ("wall", "cpu", "memory", "output")

_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("m1gym_sandbox_deadline", default=None)


@contextlib.contextmanager
def run_deadline(seconds: float | None) -> Iterator[None]:
    """Every sandbox run started inside this block (in this thread or task) ends within ``seconds``
    of entering it, whatever its own limits say: its wall limit is cut to the time left, and a run
    started after the deadline is not started (``killed="wall"``). A server sets it per item, so a
    client's task (a long time limit times many tests, a compile bomb) can not keep a container
    busy past the item's time. Nested blocks keep the earlier deadline; None sets none."""
    if seconds is None:
        yield
        return
    end = time.monotonic() + max(0.0, float(seconds))
    outer = _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds until the ``run_deadline`` in force, or None without one."""
    end = _DEADLINE.get()
    return None if end is None else end - time.monotonic()


def deadline_limits(lim: Limits) -> Limits | None:
    """``lim`` with its wall limit cut to the deadline in force; None when no time is left."""
    left = time_left()
    if left is None or left >= lim.wall_s:
        return lim
    if left <= 0.01:
        return None
    return lim.with_(wall_s=left, cpu_s=min(lim.cpu, left))


def deadline_passed() -> RunResult:
    return RunResult(exit_code=None, killed="wall", stderr=b"not started: the caller's deadline has passed")


@dataclass
class RunResult:
    """What one command did.

    exit_code: the exit status, or None when the process was killed by a signal (see ``signal``)
               or could not be started (see ``spawn_error``).
    killed:    None, or why the sandbox stopped it: wall | cpu | memory | output.
    cpu_s:     CPU seconds of every process of the run (Docker: from the container's cgroup).
    max_rss_mb: peak resident set of the program's main process (rusage).
    mem_peak_mb: peak anonymous + shared memory of all the run's processes above what the
               container held before it (Docker: sampled from the cgroup; 0 elsewhere).
    oom:       the kernel's OOM killer acted in the container during the run.
    """

    exit_code: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    signal: int | None = None
    killed: str | None = None
    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0
    mem_peak_mb: float = 0.0
    oom: bool = False
    spawn_error: str = ""
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Exited normally with status 0 and was not stopped by a limit."""
        return self.exit_code == 0 and self.killed is None and not self.spawn_error

    def summary(self) -> str:
        if self.spawn_error:
            return f"could not start: {self.spawn_error}"
        if self.killed:
            return f"killed ({self.killed} limit)"
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = str(self.signal)
            return f"killed by signal {name}"
        return f"exit status {self.exit_code}"


def _as_bytes(data: FileData) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def check_rel_path(path: str) -> str:
    norm = os.path.normpath(path)
    if os.path.isabs(path) and not (norm == "/work" or norm.startswith("/work/")):
        raise ValueError(f"sandbox file path {path!r} must be relative to the work dir (or under /work)")
    if os.path.isabs(path):
        norm = os.path.relpath(norm, "/work")
    if norm.startswith(".."):
        raise ValueError(f"sandbox file path {path!r} escapes the work dir")
    return norm


class Session(abc.ABC):
    """One isolated work dir; commands run in it one after another (not thread-safe)."""

    limits: Limits

    @abc.abstractmethod
    def put(self, files: Mapping[str, FileData], *, mode: int = 0o644, owner: str = "root") -> None:
        """Write files into the work dir. owner='root' files are read-only to the program."""

    @abc.abstractmethod
    def run(self, cmd: Sequence[str], *, stdin: FileData = b"", limits: Limits | None = None,
            files: Mapping[str, FileData] | None = None, collect: Sequence[str] = (),
            cwd: str = ".", env: Mapping[str, str] | None = None, python: bool = False) -> RunResult:
        """Run ``cmd`` in the work dir as the unprivileged user; ``collect`` names files to return.

        ``python=True`` (with ``cmd = ["python3", script, ...]``) lets a backend run the script in a
        pre-started interpreter; the result must be the same as running the command."""

    @abc.abstractmethod
    def close(self) -> None:
        ...

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Sandbox(abc.ABC):
    """A source of sessions. Thread-safe: every thread takes its own session."""

    name = "sandbox"

    @abc.abstractmethod
    def session(self, limits: Limits | None = None) -> Session:
        ...

    def run(self, cmd: Sequence[str], *, stdin: FileData = b"", limits: Limits | None = None,
            files: Mapping[str, FileData] | None = None, collect: Sequence[str] = ()) -> RunResult:
        """One command in a session of its own."""
        with self.session(limits) as sess:
            return sess.run(cmd, stdin=stdin, limits=limits, files=files, collect=collect)

    def close(self) -> None:
        pass

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- bare subprocess: no isolation (the benchmark's baseline, and a dev fallback) -------------

class LocalSession(Session):
    """A temp dir and plain subprocesses with rlimits. NO isolation: never use it for untrusted code."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.dir = tempfile.mkdtemp(prefix="m1gym-local-")

    def _path(self, rel: str) -> str:
        return os.path.join(self.dir, check_rel_path(rel))

    def put(self, files, *, mode=0o644, owner="root"):
        for rel, data in files.items():
            full = self._path(rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as fh:
                fh.write(_as_bytes(data))
            os.chmod(full, mode)

    def run(self, cmd, *, stdin=b"", limits=None, files=None, collect=(), cwd=".", env=None, python=False):
        lim = deadline_limits(limits or self.limits)
        if lim is None:
            return deadline_passed()
        cmd = list(cmd)
        if cmd and cmd[0] == "python3":
            cmd[0] = sys.executable  # the interpreter running m1gym, not whatever shim is on PATH
        if files:
            self.put(files)
        cpu = lim.cpu

        def preexec() -> None:
            os.setsid()
            soft = int(math.ceil(cpu)) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
            if lim.memory_mb:
                b = lim.memory_mb << 20
                resource.setrlimit(resource.RLIMIT_DATA, (b, b))

        start = time.monotonic()
        proc = subprocess.Popen(list(cmd), cwd=self._path(cwd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=preexec,
                                env={**os.environ, "HOME": self.dir, **(env or {})})
        killed = None
        try:
            out, err = proc.communicate(_as_bytes(stdin), timeout=lim.wall_s)
        except subprocess.TimeoutExpired:
            killed = "wall"
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        wall = time.monotonic() - start
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.returncode
        sig = -rc if rc is not None and rc < 0 else None
        if killed is None and sig == signal.SIGXCPU:
            killed = "cpu"
        if killed is None and len(out) > lim.output_bytes:
            killed = "output"
        got = {}
        for rel in collect:
            with contextlib.suppress(OSError):
                with open(self._path(rel), "rb") as fh:
                    got[rel] = fh.read()
        return RunResult(exit_code=None if sig is not None else rc, stdout=out[: lim.output_bytes],
                         stderr=err[-65536:], signal=sig, killed=killed, wall_s=wall, files=got)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class LocalSandbox(Sandbox):
    """Bare subprocesses in temp dirs, no isolation at all (benchmark baseline only)."""

    name = "local"

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()

    def session(self, limits=None):
        return LocalSession(limits or self.limits)


