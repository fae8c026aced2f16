"""The in-container init: PID 1 of every sandbox container (standard library only, Python >= 3.9).

The host starts it as ``python3 -I -c <this file's source> UID GID`` and talks to it over the
container's attached stdin/stdout, one JSON object per line (binary payloads base64-encoded).
Keeping one init per warm container is what makes a run cost a spawn instead of a container start
or a ``docker exec`` round trip through the daemon. Programs start through the image's static
spawn helper (``launch.c``) with ``posix_spawn``; an image without it falls back to fork + exec.

Trust model: the init runs as root with only the capabilities it needs (SETUID, SETGID, KILL,
DAC_OVERRIDE, FOWNER, CHOWN; ``no-new-privileges``). Every untrusted command runs in a fresh
session as the unprivileged sandbox user (uid/gid from argv) with resource limits, so it can
neither signal nor trace the init. As PID 1 of the pid namespace the init kills every other
process with ``kill(-1, SIGKILL)`` after each run and reaps the orphans: nothing a program starts
outlives its run. ``reset`` also wipes every writable place (/work, /tmp, /dev/shm, /dev/mqueue,
System V IPC) so a warm container handed to the next user holds nothing from the previous one.

Python programs may run in fork-server mode (``"python": true``): the child is a fork of this
interpreter that drops privileges and runs the script with ``runpy`` (see ``_run_python``), which
saves the interpreter start-up on every test.

The init watches its stdin during a run as well: when the host goes away (its stdin hangs up),
it kills the run and exits at once instead of at the run's wall limit.

Requests (``op``): ping | put | run | get | reset.  Responses carry the request's ``id``.
"""

import atexit  # noqa: F401 - preloaded for fork-server children
import binascii
import errno
import io  # noqa: F401
import pkgutil  # noqa: F401 - runpy.run_path imports it (and typing, weakref) on every call
import runpy  # noqa: F401
import json
import os
import resource
import select
import signal
import sys
import time

WORK = "/work"
WIPE_DIRS = ("/work", "/tmp", "/dev/shm", "/dev/mqueue")
USER_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK,
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}
STDERR_KEEP = 64 * 1024
LAUNCHER = "/usr/local/libexec/m1gym-launch"  # built into the base image from launch.c (image.LAUNCH_PATH)
HAVE_LAUNCHER = os.access(LAUNCHER, os.X_OK)  # an image without it falls back to fork + exec


# binascii, not base64: base64 imports re, which costs milliseconds at every init start
def _b64(data):
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _unb64(text):
    return binascii.a2b_base64(text) if text else b""


def _safe_path(path):
    full = os.path.normpath(os.path.join(WORK, path))
    if full != WORK and not full.startswith(WORK + "/"):
        raise ValueError("path %r escapes %s" % (path, WORK))
    return full


def _others():
    """Pids of every process in the namespace other than the init."""
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_all():
    """SIGKILL every process except the init, reap them; True when none is left."""
    for attempt in range(400):
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _reap()
        if not _others():
            return True
        time.sleep(0.001 if attempt < 50 else 0.01)
    return not _others()


_CLK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid):
    """CPU seconds (user + system) of a live process and its reaped children."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / _CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def _own_v2_dir(root):
    """The container's own cgroup v2 directory: the mount root in a private cgroup namespace
    (Docker's default), else the path /proc/self/cgroup names under it (a host namespace shows the
    whole tree, whose root would count every container)."""
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                if line.startswith("0::"):
                    path = line[3:].strip()
                    if path not in ("", "/") and os.path.isdir(root + path):
                        return root + path
    except OSError:
        pass
    return root


class Cgroup:
    """The container's own cgroup, read-only (v2 or v1): the source of truth for a run's CPU and
    memory. rusage of the direct child misses what its children use (never waited for, or killed
    with it) and counts no shared memory; the cgroup counts every process of the container and
    every page charged to it, MAP_SHARED and tmpfs (shmem) included. The container's memory
    ceiling (memory.max / memory.limit_in_bytes) is the hard bound the kernel enforces.
    The files stay open and are re-read with pread (an open on cgroupfs costs several times the
    read; each run reads them a few times)."""

    def __init__(self, root="/sys/fs/cgroup"):
        if os.path.exists(root + "/cgroup.controllers"):  # v2: one unified hierarchy
            root = _own_v2_dir(root)
            cpu_file, self.cpu_usec = root + "/cpu.stat", True
            stat_file, self.mem_keys = root + "/memory.stat", (b"anon", b"shmem")
        else:
            cpu_file, self.cpu_usec = root + "/cpuacct/cpuacct.usage", False
            if not os.path.exists(cpu_file):
                cpu_file = root + "/cpu,cpuacct/cpuacct.usage"
            stat_file, self.mem_keys = root + "/memory/memory.stat", (b"rss", b"shmem")
        self.cpu_fd, self.stat_fd = _open_ro(cpu_file), _open_ro(stat_file)

    def cpu_ns(self):
        """CPU nanoseconds used by every process of the container so far (None: unreadable)."""
        try:
            text = os.pread(self.cpu_fd, 4096, 0)
            if not self.cpu_usec:
                return int(text)
            for line in text.splitlines():
                if line.startswith(b"usage_usec "):
                    return int(line.split()[1]) * 1000
        except (OSError, ValueError):
            pass
        return None

    def mem_bytes(self):
        """Anonymous + shared (shmem: MAP_SHARED, tmpfs, SysV/POSIX shm) bytes charged now; page
        cache is left out (the kernel reclaims it before it would fail an allocation)."""
        try:
            total = 0
            for line in os.pread(self.stat_fd, 1 << 16, 0).splitlines():
                key, _, value = line.partition(b" ")
                if key in self.mem_keys:
                    total += int(value)
            return total
        except (OSError, ValueError):
            return None


def _open_ro(path):
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1


CGROUP = Cgroup()


def _self_cpu_ns():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1e9)


class RunMeter:
    """What one run used, from the container's cgroup, minus the init's own share: CPU of every
    process (children included, waited for or not), and the peak of anonymous + shared memory
    above what the container held when the run started (sampled while the init polls, and once
    more after the program ends, before anything is killed)."""

    def __init__(self):
        self.cpu0, self.self0 = CGROUP.cpu_ns(), _self_cpu_ns()
        self.mem0 = CGROUP.mem_bytes()
        self.peak = 0

    def cpu_s(self):
        if self.cpu0 is None:
            return None
        now = CGROUP.cpu_ns()
        if now is None:
            return None
        return max(0, (now - self.cpu0) - (_self_cpu_ns() - self.self0)) / 1e9

    def sample_mem(self, init_held=0):
        """Memory of the run now (bytes), keeping the peak; ``init_held`` = the init's own buffers
        (the program's output it holds), charged to the same cgroup but not the program's."""
        if self.mem0 is None:
            return 0
        now = CGROUP.mem_bytes()
        if now is None:
            return 0
        used = max(0, now - self.mem0 - init_held)
        if used > self.peak:
            self.peak = used
        return used


def _oom_kills():
    for path, key in (("/sys/fs/cgroup/memory.events", "oom_kill"),
                      ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):
        try:
            with open(path) as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == key:
                        return int(parts[1])
        except OSError:
            continue
    return 0


def _write_files(files):
    for rel, spec in (files or {}).items():
        full = _safe_path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if os.path.lexists(full):
            if os.path.isdir(full) and not os.path.islink(full):
                import shutil
                shutil.rmtree(full)
            else:
                os.unlink(full)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_unb64(spec.get("data", "")))
        os.chmod(full, int(spec.get("mode", 0o644)))
        if spec.get("owner") == "user":
            os.chown(full, UID, GID)


def _read_files(paths, max_bytes):
    out = {}
    for rel in paths or ():
        try:
            full = _safe_path(rel)
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fh:
                if not os.path.isfile(full):
                    continue
                out[rel] = _b64(fh.read(max_bytes + 1)[:max_bytes])
        except (OSError, ValueError):
            continue
    return out


def _child(cmd, cwd, env, stdin_r, out_w, err_w, errpipe_w, fd_end, lim):
    """Runs in the forked child: limits, drop to the sandbox user, exec. Never returns."""
    try:
        os.setsid()
        os.dup2(stdin_r, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        # close every inherited fd but the error pipe, below the highest fd the init had open
        # (the parent lists them: close_range(2) may be filtered by seccomp, closing 65536 numbers
        # one by one costs milliseconds, and Python work in a fresh fork is slow: each object it
        # touches copies a page)
        os.closerange(3, errpipe_w)
        os.closerange(errpipe_w + 1, fd_end)
        try:
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            os.write(fd, b"1000")  # the OOM killer takes user programs, never the init
            os.close(fd)
        except OSError:
            pass
        cpu = lim.get("cpu")
        if cpu:
            soft = int(cpu) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        mem = lim.get("memory_mb")
        if mem:
            resource.setrlimit(resource.RLIMIT_DATA, (mem * 1024 * 1024, mem * 1024 * 1024))
        stack = lim.get("stack_mb")
        if stack:
            resource.setrlimit(resource.RLIMIT_STACK, (stack * 1024 * 1024, stack * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        os.chdir(cwd)
        os.setgroups([])
        os.setgid(GID)
        os.setuid(UID)
        if lim.get("python"):
            os.close(errpipe_w)  # started: the parent stops waiting for an exec error
            _run_python(cmd[1:], cwd, env)
        os.execvpe(cmd[0], cmd, env)
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent
        try:
            os.write(errpipe_w, ("%s: %s" % (type(exc).__name__, exc)).encode()[:1000])
        finally:
            os._exit(127)


def _spawn(cmd, cwd, env, stdin_r, out_w, err_w, errpipe_w, lim):
    """Start a program through the image's launcher with posix_spawn (a vfork), the fast path of
    ``_child``: a fork of this interpreter costs ~1 ms more (page tables, copy-on-write faults,
    Python's after-fork work). The init's own fds are close-on-exec (PEP 446), so the program
    inherits only the three pipes; the error pipe is passed by number and made inheritable just
    for the spawn."""
    cpu, mem, stack = lim.get("cpu"), lim.get("memory_mb"), lim.get("stack_mb")
    argv = [LAUNCHER, str(errpipe_w), str(int(cpu) + 1 if cpu else 0), str(int(mem or 0)), str(int(stack or 0)),
            str(UID), str(GID), cwd] + list(cmd)
    os.set_inheritable(errpipe_w, True)
    try:
        return os.posix_spawn(LAUNCHER, argv, env, setsid=True, file_actions=[
            (os.POSIX_SPAWN_DUP2, stdin_r, 0), (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)])
    finally:
        os.set_inheritable(errpipe_w, False)


def _run_python(argv, cwd, env):
    """Fork-server mode: run a Python script in this already-started interpreter (never returns).

    The child is a fork of the init that already dropped to the sandbox user; it rebinds the
    standard streams to the run's pipes, forgets the init's buffered input, and runs the script as
    ``__main__`` the way ``python3 script.py`` would (sys.argv, sys.path[0], SystemExit codes,
    atexit handlers, non-daemon threads, tracebacks to stderr). Saves the interpreter start-up
    (tens of ms a run) without giving the program anything from another session: the host makes
    the init re-exec itself after every reset, so its memory holds only this session's requests
    (the program's own code and inputs; expected outputs never enter a submission's container).
    """

    code = 0
    try:
        os.environ.clear()
        os.environ.update(env)
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                     encoding="utf-8", errors="strict")
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                                       encoding="utf-8", errors="strict")
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                                       encoding="utf-8", errors="backslashreplace",
                                                       line_buffering=True)
        sys.argv = list(argv)
        sys.path.insert(0, cwd)
        sys.modules.pop("__main__", None)
        try:
            runpy.run_path(argv[0], run_name="__main__")
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code & 0xFF
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException as exc:  # noqa: BLE001 - what the interpreter would print
            import traceback

            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename in ("<string>", "<frozen runpy>"):
                tb = tb.tb_next  # hide the init's and runpy's frames
            traceback.print_exception(type(exc), exc, tb)
            code = 1
        try:
            import threading
            threading._shutdown()
        except BaseException:  # noqa: BLE001
            pass
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                code = code or 120
    finally:
        os._exit(code)


def _host_gone():
    """The host closed our stdin (its process died, or it timed the item out and dropped the
    container) while a run was going: nobody will read the result, so end every process of the
    run now and exit; the container, started with auto-remove, goes with us. Without this a run
    (a compile bomb, a client's long time limit) would go on until its own wall limit."""
    kill_all()
    os._exit(0)


def op_run(req):
    cmd = req["cmd"]
    if not isinstance(cmd, list) or not cmd or not all(isinstance(c, str) for c in cmd):
        raise ValueError("cmd must be a non-empty list of strings")
    _write_files(req.get("files"))
    cwd = _safe_path(req.get("cwd") or ".")
    env = dict(USER_ENV)
    env.update(req.get("env") or {})
    stdin_data = _unb64(req.get("stdin", ""))
    wall = float(req.get("wall", 10.0))
    cpu = req.get("cpu")
    out_limit = int(req.get("output_bytes", 8 << 20))
    lim = {"cpu": cpu, "memory_mb": req.get("memory_mb"), "stack_mb": req.get("stack_mb"),
           "python": bool(req.get("python")) and len(cmd) >= 2}
    oom_before = _oom_kills()

    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    errpipe_r, errpipe_w = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    meter = RunMeter()
    start = time.monotonic()
    if lim["python"] or not HAVE_LAUNCHER:
        fd_end = max(int(name) for name in os.listdir("/proc/self/fd")) + 1
        pid = os.fork()
        if pid == 0:
            _child(cmd, cwd, env, stdin_r, out_w, err_w, errpipe_w, fd_end, lim)
    else:
        pid = _spawn(cmd, cwd, env, stdin_r, out_w, err_w, errpipe_w, lim)
    for fd in (stdin_r, out_w, err_w, errpipe_w):
        os.close(fd)
    spawn_error = b""
    while True:
        chunk = os.read(errpipe_r, 1024)
        if not chunk:
            break
        spawn_error += chunk
    os.close(errpipe_r)

    pidfd = os.pidfd_open(pid)
    for fd in (stdin_w, out_r, err_r):
        os.set_blocking(fd, False)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(0, 0)  # hang-up only: the host went away (see _host_gone)
    poller.register(out_r, select.POLLIN)
    poller.register(err_r, select.POLLIN)
    pending = memoryview(stdin_data)
    if pending:
        poller.register(stdin_w, select.POLLOUT)
    else:
        os.close(stdin_w)
        stdin_w = -1
    stdout, stderr = bytearray(), bytearray()
    stderr_total = 0
    open_fds = {out_r, err_r}
    exited = False
    killed = None
    status = rusage = None
    deadline = start + wall

    def close_stdin():
        nonlocal stdin_w
        if stdin_w >= 0:
            try:
                poller.unregister(stdin_w)
            except KeyError:
                pass
            os.close(stdin_w)
            stdin_w = -1

    def drain(fd):
        nonlocal stderr_total, killed
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
                os.close(fd)
                return
            if fd == out_r:
                stdout.extend(chunk)
                if len(stdout) > out_limit:
                    del stdout[out_limit:]
                    if killed is None:
                        killed = "output"
                    return
            else:
                stderr_total += len(chunk)
                if len(stderr) < STDERR_KEEP:
                    stderr.extend(chunk[: STDERR_KEEP - len(stderr)])
                if stderr_total > out_limit and killed is None:
                    killed = "output"
                    return

    cpu_limit = float(cpu) if cpu else None
    mem_limit = int(lim["memory_mb"]) << 20 if lim["memory_mb"] else None
    while not exited and killed is None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            killed = "wall"
            break
        if cpu_limit is not None:
            used = meter.cpu_s()
            if used is None:
                used = _proc_cpu(pid)
            if used > cpu_limit:
                killed = "cpu"
                break
        if mem_limit is not None and meter.sample_mem(len(stdout) + len(stderr)) > mem_limit:
            killed = "memory"
            break
        for fd, ev in poller.poll(min(timeout, 0.05) * 1000):
            if fd == 0:
                _host_gone()
            if fd == pidfd:
                exited = True
            elif fd == stdin_w:
                if ev & (select.POLLERR | select.POLLHUP):
                    close_stdin()
                    continue
                try:
                    n = os.write(stdin_w, pending[:1 << 16])
                    pending = pending[n:]
                except (BrokenPipeError, BlockingIOError) as exc:
                    if isinstance(exc, BrokenPipeError):
                        pending = pending[:0]
                if not pending:
                    close_stdin()
            elif fd in open_fds:
                drain(fd)
    if exited:
        # the program is done: take what it wrote, then end whatever it left behind
        for fd in list(open_fds):
            drain(fd)
        _, status, rusage = os.wait4(pid, 0)
    end = time.monotonic()
    close_stdin()
    meter.sample_mem(len(stdout) + len(stderr))  # what the program's children still hold
    if status is None:
        # stopped by a limit: kill the program itself first so its rusage can still be collected
        try:
            os.kill(pid, signal.SIGKILL)
            _, status, rusage = os.wait4(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            status = None
    kill_all()  # every process of the run is dead and reaped: its CPU is final in the cgroup
    for fd in list(open_fds):
        if killed is None:
            try:
                drain(fd)
            except OSError:
                pass
        if fd in open_fds:
            open_fds.discard(fd)
            os.close(fd)
    os.close(pidfd)

    exit_code = sig = None
    if status is not None:
        if os.WIFEXITED(status):
            exit_code = os.WEXITSTATUS(status)
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
    cpu_used = (rusage.ru_utime + rusage.ru_stime) if rusage else 0.0
    cg_cpu = meter.cpu_s()
    if cg_cpu is not None:
        cpu_used = max(cpu_used, cg_cpu)
    if killed is None and (sig == signal.SIGXCPU or (cpu and cpu_used > float(cpu))):
        killed = "cpu"
    oom = _oom_kills() > oom_before
    if killed is None and (oom or (mem_limit is not None and meter.peak > mem_limit)):
        killed = "memory"
    if spawn_error and exit_code == 127:
        exit_code = None
    return {
        "exit_code": exit_code, "signal": sig, "stdout": _b64(bytes(stdout)), "stderr": _b64(bytes(stderr)),
        "stderr_bytes": stderr_total, "wall": end - start, "cpu": cpu_used,
        "max_rss_kb": rusage.ru_maxrss if rusage else 0, "mem_peak_kb": meter.peak >> 10,
        "killed": killed, "oom": oom,
        "spawn_error": spawn_error.decode(errors="replace"),
        "files": _read_files(req.get("collect"), int(req.get("collect_bytes", 8 << 20))),
    }


def _wipe(path):
    import shutil

    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def _ipc_left():
    left = 0
    for name in ("shm", "sem", "msg"):
        try:
            with open("/proc/sysvipc/" + name) as fh:
                left += max(0, len(fh.read().splitlines()) - 1)
        except OSError:
            pass
    return left


def op_reset(req):
    clean = kill_all()
    if _ipc_left():
        # IPC objects belong to the sandbox user; only their owner (or CAP_SYS_ADMIN) may remove them
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(GID)
                os.setuid(UID)
                os.execv("/usr/bin/ipcrm", ["ipcrm", "--all"])
            finally:
                os._exit(127)
        os.waitpid(pid, 0)
    for path in WIPE_DIRS:
        _wipe(path)
    left = [p for p in WIPE_DIRS if os.path.isdir(p) and os.listdir(p)]
    return {"clean": clean and not left and not _ipc_left(), "processes": len(_others()), "files_left": left}


def op_get(req):
    return {"files": _read_files(req.get("paths"), int(req.get("max_bytes", 8 << 20)))}


def op_put(req):
    _write_files(req.get("files"))
    return {}


BOOT = binascii.hexlify(os.urandom(8)).decode()  # new for every init process image (changes on re-exec)
OPS = {"run": op_run, "reset": op_reset, "get": op_get, "put": op_put,
       "ping": lambda req: {"pong": True, "boot": BOOT}}


def main():
    global UID, GID
    UID, GID = int(sys.argv[1]), int(sys.argv[2])
    os.chmod(WORK, 0o1777)
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def send(obj):
        out.write(json.dumps(obj).encode() + b"\n")
        out.flush()

    import gc

    gc.freeze()  # fork-server children: the collector never walks (and copies) the init's pages
    send({"ready": True, "pid": os.getpid()})
    for line in inp:
        if not line.strip():
            continue
        req = None
        try:
            req = json.loads(line)
            resp = OPS[req["op"]](req)
        except Exception as exc:  # noqa: BLE001 - the host gets the error, the init lives on
            resp = {"error": "%s: %s" % (type(exc).__name__, exc)}
            kill_all()
        resp["id"] = req.get("id") if isinstance(req, dict) else None
        send(resp)
        if isinstance(req, dict) and req.get("op") == "reset" and req.get("reexec") and resp.get("clean"):
            _reexec()
    kill_all()


def _reexec():
    """Replace this init by a fresh copy (same pid 1, same attached stdin/stdout).

    Done after a reset, so a fork-server child of the next session inherits a new interpreter's
    memory, never bytes (code, inputs, checker files) that an earlier session sent to this one.
    The host needs no wait: its next request sits in the pipe until the new init reads it, and the
    new init's ``ready`` line carries no request id, so the host skips it.
    """
    with open("/proc/self/cmdline", "rb") as fh:
        argv = [a.decode() for a in fh.read().split(b"\0") if a]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


UID = GID = 65534
if __name__ == "__main__":
    main()
