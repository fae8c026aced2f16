"""DockerSandbox against the real daemon: isolation, limits, cleanup, pool reset, errors."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from m1gym.sandbox import DockerSandbox, Limits, LocalSandbox, SandboxUnavailable
from m1gym.sandbox.docker_client import LABEL, OWNER_LABEL, labelled_containers, reclaim_leaked
from m1gym.sandbox.testing import own_containers

pytestmark = pytest.mark.docker

PY = ["python3", "-c"]


def run(sess, code, **kw):
    return sess.run(PY + [textwrap.dedent(code)], **kw)


def test_files_in_out_stdin_and_user(sandbox):
    with sandbox.session(Limits(wall_s=10)) as s:
        s.put({"data/in.txt": "41\n"})
        r = run(s, """
            import os, sys
            n = int(open('data/in.txt').read()) + int(sys.stdin.read())
            open('out.txt', 'w').write(str(n))
            print(os.getuid(), os.getcwd())
        """, stdin="1", collect=["out.txt", "missing.txt"])
    assert r.ok, r.stderr
    uid, cwd = r.stdout.split()
    assert uid != b"0" and cwd == b"/work"
    assert r.files == {"out.txt": b"42"}


def test_put_rejects_paths_outside_workdir(sandbox):
    with sandbox.session() as s:
        with pytest.raises(ValueError, match="work dir"):
            s.put({"../etc/passwd": "x"})
        with pytest.raises(ValueError, match="work dir"):
            s.put({"/etc/passwd": "x"})


def test_root_owned_files_are_read_only_to_the_program(sandbox):
    with sandbox.session() as s:
        s.put({"harness.py": "print(1)"})
        r = run(s, """
            import os
            for attempt in (lambda: open('harness.py', 'w'), lambda: os.unlink('harness.py')):
                try:
                    attempt(); print('CHANGED')
                except OSError:
                    print('denied')
        """)
    assert r.stdout.split() == [b"denied", b"denied"]


def test_wall_limit_kills_sleeper(sandbox):
    with sandbox.session() as s:
        r = run(s, "import time; time.sleep(30)", limits=Limits(wall_s=1.0))
    assert r.killed == "wall" and not r.ok and r.wall_s < 5


def test_cpu_limit_kills_busy_loop(sandbox):
    with sandbox.session() as s:
        r = run(s, "while True: pass", limits=Limits(wall_s=30, cpu_s=0.5))
    assert r.killed == "cpu" and r.cpu_s >= 0.5


def test_memory_limit_per_process(sandbox):
    with sandbox.session() as s:
        r = run(s, "x = bytearray(400 * 2**20); print('allocated')", limits=Limits(memory_mb=128))
    assert not r.ok and b"MemoryError" in r.stderr and b"allocated" not in r.stdout


def test_container_memory_ceiling_triggers_oom_kill(sandbox):
    # no run memory limit (the init measures nothing against one): the kernel's ceiling of the
    # container stops four 150 MB children on its own, and the init survives it
    lim = Limits(memory_mb=None, container_memory_mb=256, wall_s=20)
    with sandbox.session(lim) as s:
        r = run(s, """
            import os, time
            for _ in range(4):
                if os.fork() == 0:
                    b = bytearray(150 * 2**20)
                    for i in range(0, len(b), 4096): b[i] = 1
                    time.sleep(2); os._exit(0)
            for _ in range(4): os.wait()
        """, limits=lim)
        assert r.oom and r.killed == "memory"
        assert run(s, "print('alive')").stdout == b"alive\n"  # the init survived


def test_fork_bomb_is_contained(sandbox):
    with sandbox.session() as s:
        r = run(s, """
            import os
            while True:
                try: os.fork()
                except OSError: pass
        """, limits=Limits(wall_s=2))
        assert not r.ok
        after = run(s, "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    assert after.ok
    assert len(eval(after.stdout)) == 2  # noqa: S307 - our own output: init + this process


def test_output_limit(sandbox):
    with sandbox.session() as s:
        r = run(s, "import sys\nwhile True: sys.stdout.write('x' * 65536)", limits=Limits(output_bytes=1 << 20))
    assert r.killed == "output" and len(r.stdout) == 1 << 20


def test_tmpfs_size_limit(sandbox):
    with sandbox.session(Limits(tmpfs_mb=16)) as s:
        r = run(s, """
            try:
                open('big', 'wb').write(b'x' * (64 * 2**20)); print('wrote')
            except OSError as e:
                print('ENOSPC' if e.errno == 28 else e)
        """)
    assert r.stdout.strip() == b"ENOSPC"


def test_no_network(sandbox):
    with sandbox.session() as s:
        r = run(s, """
            import os, socket
            print(sorted(os.listdir('/sys/class/net')))
            try:
                socket.create_connection(('1.1.1.1', 80), timeout=3); print('connected')
            except OSError as e:
                print('blocked')
        """)
    assert r.stdout.split(b"\n")[:2] == [b"['lo']", b"blocked"]


def test_read_only_root_and_no_host_files(sandbox, tmp_path):
    secret = tmp_path / f"secret-{uuid.uuid4().hex}"
    secret.write_text("host secret")
    with sandbox.session() as s:
        r = run(s, f"""
            import os
            for p in ('/etc/evil', '/usr/evil', '/evil', '/root/evil', '/var/evil'):
                try:
                    open(p, 'w'); print('WROTE', p)
                except OSError:
                    pass
            for p in ({str(secret)!r}, '/work/main/pyproject.toml', '/var/run/docker.sock', '/root/.bash_history'):
                print(p, os.path.exists(p))
        """)
    assert b"WROTE" not in r.stdout
    assert r.stdout.count(b"False") == 4, r.stdout


def test_program_inherits_no_file_descriptor_of_the_init(sandbox):
    """Only stdin, stdout and stderr reach a program (the init's attach stream, its other runs'
    pipes and its error pipe are all closed), in both the exec and the fork-server modes."""
    src = "import os\nprint(sorted(int(x) for x in os.listdir('/proc/self/fd')))\n"
    with sandbox.session() as s:
        s.put({"fds.py": src})
        for python in (False, True):
            r = s.run(["python3", "fds.py"], python=python)
            assert r.ok and r.stdout.strip() == b"[0, 1, 2, 3]", (python, r.stdout, r.stderr)  # 3: the listing
        r = s.run(["ls", "/proc/self/fd"])
        assert r.stdout.split() == [b"0", b"1", b"2", b"3"], r.stdout


def test_program_that_cannot_start_is_reported_with_its_reason(sandbox):
    """The spawn helper's failures (here: exec of a missing program, a directory as work dir) reach
    the caller as ``spawn_error``, not as a silent exit status."""
    with sandbox.session() as s:
        r = s.run(["no-such-program", "x"])
        assert not r.ok and r.exit_code is None
        assert "no-such-program" in r.spawn_error and "No such file" in r.spawn_error, r.spawn_error
        s.put({"f.txt": "x"})
        r = s.run(["true"], cwd="f.txt")
        assert not r.ok and "f.txt" in r.spawn_error, r.spawn_error
        assert s.run(["true"]).ok  # the init is fine afterwards


def test_limits_and_user_apply_to_exec_mode_programs(sandbox):
    """What the spawn helper sets before exec: the sandbox user with no extra groups, a new
    session, the work dir, no core dumps, 256 fds, the CPU and memory limits, OOM score 1000."""
    with sandbox.session() as s:
        r = s.run(["sh", "-c", "id -u; id -G; cut -d' ' -f6 /proc/$$/stat; echo $$; pwd; ulimit -c; ulimit -n; "
                               "ulimit -t; ulimit -d; ulimit -s; cat /proc/self/oom_score_adj"],
                  limits=Limits(cpu_s=3, memory_mb=200, stack_mb=32))
    assert r.ok, r.stderr
    uid, groups, sid, pid, cwd, core, nofile, cpu, data, stack, oom = r.stdout.decode().split("\n")[:11]
    assert uid == groups != "0" and sid == pid and cwd == "/work"
    # the CPU limit is the run's plus one second: the init's own check stops the program first
    assert (core, nofile, cpu, data, stack, oom) == ("0", "256", "4", str(200 * 1024), str(32 * 1024), "1000")


def test_child_that_outlives_the_run_is_killed(sandbox):
    with sandbox.session() as s:
        r1 = run(s, """
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(2.0)
                    open('/work/late.txt', 'w').write('late')
                    time.sleep(60)
                os._exit(0)
            print('parent done')
        """)
        assert r1.ok and r1.wall_s < 2.0
        time.sleep(2.5)
        r2 = run(s, "import os; print(os.path.exists('/work/late.txt'), len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert r2.stdout.split() == [b"False", b"2"]


@pytest.fixture
def one_container(sandbox):
    """A pool of one warm container: a second session must reuse the first one's container."""
    sb = DockerSandbox(pool_size=1)
    yield sb
    sb.close()


def test_pool_reset_leaves_nothing(one_container):
    with one_container.session() as s:
        first = s.container.id
        r = run(s, """
            import os, subprocess
            from multiprocessing import shared_memory
            for d in ('/work', '/tmp', '/dev/shm'):
                os.makedirs(d + '/dir', exist_ok=True)
                open(d + '/dir/f', 'w').write('x')
                os.chmod(d + '/dir', 0)
            shm = shared_memory.SharedMemory(name='m1gymleak', create=True, size=4096)
            subprocess.Popen(['sleep', '300'], start_new_session=True)
            print('planted')
        """)
        assert r.stdout.strip() == b"planted"
    with one_container.session() as s:
        assert s.container.id == first  # the same warm container, reset
        r = run(s, """
            import os
            print([p for p in os.listdir('/proc') if p.isdigit()].__len__())
            print(sum(len(os.listdir(d)) for d in ('/work', '/tmp', '/dev/shm')))
        """)
    assert r.stdout.split() == [b"2", b"0"]


def test_pool_drops_a_container_that_dies_during_its_reset(one_container):
    """The reset runs while the next user is on its way; a container that does not answer it
    (here: killed) is never handed out again, and the next session gets a fresh one."""
    client = one_container._ensure()
    with one_container.session() as s:
        first = s.container.id
    client.api.kill(first)
    with one_container.session() as s:
        assert s.container.id != first
        assert s.run(["true"]).ok
    assert one_container._pool.stats["discarded"] == 1


def _wait_for_idle_inits(pool, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        with pool._cond:
            if all(c.init_ready() for idle in pool._idle.values() for c in idle):
                return
        assert time.monotonic() < deadline, "an idle container's init did not restart"
        time.sleep(0.01)


def test_pool_hands_out_a_ready_container_while_another_restarts_its_init(sandbox):
    """Back-to-back sessions alternate between two warm containers (the one just reset is still
    re-executing its init), and the pool never grows past that for sequential use."""
    roomy = DockerSandbox(pool_size=4)  # room for more, yet two suffice
    try:
        ids = []
        for _ in range(6):
            with roomy.session() as s:
                ids.append(s.container.id)
                assert s.run(["true"]).ok
            _wait_for_idle_inits(roomy._pool)  # the first container is ready again
            with roomy.session() as s:
                ids.append(s.container.id)
        assert len(set(ids)) == 2, ids
        assert roomy._pool.stats["created"] == 2 and roomy._pool.stats["discarded"] == 0
    finally:
        roomy.close()


def test_containers_removed_on_success_failure_timeout_exception(sandbox):
    client = sandbox._ensure()
    fresh = DockerSandbox(pool=False)
    ids = []
    with fresh.session() as s:
        ids.append(s.container.id)
        run(s, "print(1)")
    with fresh.session() as s:
        ids.append(s.container.id)
        run(s, "raise SystemExit(3)")
    with fresh.session() as s:
        ids.append(s.container.id)
        run(s, "import time; time.sleep(10)", limits=Limits(wall_s=0.5))
    with pytest.raises(RuntimeError):
        with fresh.session() as s:
            ids.append(s.container.id)
            raise RuntimeError("boom")
    fresh.close()
    existing = {c.id for c in labelled_containers(client)}
    assert not existing & set(ids)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_containers_removed_when_the_interpreter_goes(sandbox, how):
    client = sandbox._ensure()
    code = textwrap.dedent(f"""
        import os, sys, time
        from m1gym.sandbox import DockerSandbox
        pooled, fresh = DockerSandbox(), DockerSandbox(pool=False)
        a, b = pooled.session(), fresh.session()
        a.run(['true']); b.run(['true'])
        print(os.getpid(), flush=True)
        if {how!r} == 'sigkill':
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "M1GYM_NO_AUTOLOAD": "1"})
    pid = int(proc.stdout.readline())
    owner = f"{os.uname().nodename}:{pid}"
    if how == "sigkill":
        assert len(labelled_containers(client, owner)) == 2
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.time() + 30
    while labelled_containers(client, owner) and time.time() < deadline:
        time.sleep(0.5)
    assert labelled_containers(client, owner) == []


def test_leaked_containers_of_dead_owners_are_reclaimed(sandbox):
    client = sandbox._ensure()
    dead = subprocess.Popen(["true"])
    dead.wait()
    c = client.containers.create(sandbox.image, ["sleep", "300"], network_mode="none",
                                 labels={LABEL: "1", OWNER_LABEL: f"{os.uname().nodename}:{dead.pid}"})
    try:
        assert reclaim_leaked(client) >= 1
        assert c.id not in {x.id for x in labelled_containers(client)}
    finally:
        try:
            c.remove(force=True)
        except Exception:
            pass


def test_daemon_down_names_doctor():
    sb = DockerSandbox(base_url="unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match="m1gym sandbox doctor"):
        sb.session()


def test_missing_image_names_build_base(sandbox):
    sb = DockerSandbox(image="m1gym-base:doesnotexist")
    with pytest.raises(SandboxUnavailable, match="build-base"):
        sb.session()


def test_limits_validation():
    with pytest.raises(ValueError, match="wall_s"):
        Limits(wall_s=0)
    with pytest.raises(ValueError, match="pids"):
        Limits(pids=2)


def test_local_sandbox_runs_without_isolation():
    with LocalSandbox().session() as s:
        r = s.run([sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"], stdin="abc")
        t = s.run([sys.executable, "-c", "import time; time.sleep(5)"], limits=Limits(wall_s=0.3))
    assert r.ok and r.stdout == b"cba\n"
    assert t.killed == "wall"


def test_doctor_reports_and_no_leftovers(sandbox):
    from m1gym.sandbox.cli import doctor_report

    rows = {name: ok for name, ok, _ in doctor_report(smoke=True)}
    assert rows["docker daemon"] and rows["base image"] and rows["sandbox smoke run"]
    client = sandbox._ensure()
    client.ping()
    # only warm pool containers of this process may exist, and none of them is stopped
    assert all(c.status == "running" for c in own_containers(client))


def test_python_fork_server_mode_behaves_like_python3(sandbox):
    script = textwrap.dedent("""
        import atexit, os, sys
        atexit.register(lambda: print('atexit ran'))
        print(sys.argv, sys.path[0], __name__, os.getuid() != 0, sys.stdin.read()[::-1])
        sys.exit(3)
    """)
    with sandbox.session() as s:
        s.put({"main.py": script, "bad.py": "def f(:\n", "boom.py": "raise ValueError('boom')\n"})
        forked = s.run(["python3", "main.py", "x"], stdin="abc", python=True)
        plain = s.run(["python3", "main.py", "x"], stdin="abc")
        syntax = s.run(["python3", "bad.py"], python=True)
        boom = s.run(["python3", "boom.py"], python=True)
    assert forked.exit_code == plain.exit_code == 3
    assert forked.stdout == plain.stdout == b"['main.py', 'x'] /work __main__ True cba\natexit ran\n"
    assert syntax.exit_code == 1 and syntax.stderr.strip().splitlines()[-1].startswith(b"SyntaxError")
    assert boom.exit_code == 1 and boom.stderr.strip().endswith(b"ValueError: boom")
    assert b"runpy" not in boom.stderr


def test_doctor_without_daemon_says_how_to_fix(monkeypatch):
    from m1gym.sandbox.cli import doctor_report

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    rows = doctor_report(smoke=False)
    assert rows[0][0] == "docker daemon" and not rows[0][1] and "ensure_docker.sh" in rows[0][2]


SCAN_OWN_MEMORY = textwrap.dedent("""
    # search this process's readable memory for a token given reversed on stdin, ignoring the
    # token object itself (ctypes: /proc/self/mem is closed to a process that changed its uid)
    import ctypes, sys
    token = sys.stdin.buffer.read()[::-1]
    own = id(token) + 32  # start of a bytes object's data in CPython 3.11
    found = False
    for line in open('/proc/self/maps').read().splitlines():
        parts = line.split()
        addr, perms, path = parts[0], parts[1], (parts[5] if len(parts) > 5 else '')
        if not perms.startswith('r') or path not in ('', '[heap]', '[stack]'):
            continue  # anonymous memory only (file mappings may SIGBUS past their end)
        lo, hi = (int(x, 16) for x in addr.split('-'))
        step = 1 << 20
        for a in range(lo, hi, step):
            chunk = ctypes.string_at(a, min(step + len(token), hi - a))
            i = chunk.find(token)
            while i >= 0 and not found:
                found = a + i != own
                i = chunk.find(token, i + 1)
            del chunk
        if found:
            break
    print('FOUND' if found else 'clean')
""")


def test_fork_server_child_holds_nothing_from_an_earlier_session(one_container):
    """A checker session's files pass through the init; after the reset the init re-execs, so a
    later session's fork-server child can not find them in the memory it inherits."""
    secret = "expected-" + uuid.uuid4().hex
    with one_container.session() as s:
        first = s.container.id
        s.put({"answer.txt": secret * 1500})  # ~60 KB: malloc heap, not mmap
        s.put({"scan.py": SCAN_OWN_MEMORY})
        # control: within the session the bytes are still in the init's memory
        same = s.run(["python3", "scan.py"], stdin=secret[::-1], python=True)
        boot = s.container.request("ping", timeout=10)["boot"]
    with one_container.session() as s:
        assert s.container.id == first
        assert s.container.request("ping", timeout=10)["boot"] != boot  # the init re-exec'd
        s.put({"scan.py": SCAN_OWN_MEMORY})
        later = s.run(["python3", "scan.py"], stdin=secret[::-1], python=True)
    assert same.stdout.strip() == b"FOUND"
    assert later.ok and later.stdout.strip() == b"clean", later.stderr
