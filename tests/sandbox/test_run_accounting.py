"""A run's CPU and memory come from the container's cgroup (issue 15): children, waited for or not,
and shared memory count; a loose container ceiling does not loosen the run's own limits."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from m1gym.sandbox import Limits, run_deadline
from m1gym.sandbox.docker_client import labelled_containers

pytestmark = pytest.mark.docker

# the container ceiling is far above the run's limit: only the init's cgroup accounting can stop these
LOOSE = Limits(wall_s=20, cpu_s=10, memory_mb=256, container_memory_mb=1536)


def run(sess, code, limits=LOOSE, python=False):
    return sess.run(["python3", "prog.py"], files={"prog.py": textwrap.dedent(code)}, limits=limits, python=python)


@pytest.mark.parametrize("python", [False, True], ids=["exec", "fork-server"])
def test_shared_anonymous_memory_counts(sandbox, python):
    with sandbox.session(LOOSE) as s:
        r = run(s, """
            import mmap
            m = mmap.mmap(-1, 700 * 2**20, flags=mmap.MAP_SHARED)
            for _ in range(700):
                m.write(b"x" * 2**20)
            print("done")
            """, python=python)
    assert r.killed == "memory" and not r.ok and b"done" not in r.stdout, r
    assert r.mem_peak_mb > 256


def test_memory_of_forked_children_counts_together(sandbox):
    with sandbox.session(LOOSE) as s:
        r = run(s, """
            import os, time
            kids = []
            for _ in range(3):
                pid = os.fork()
                if pid == 0:
                    x = b"x" * (240 * 2**20)
                    time.sleep(3)
                    os._exit(0)
                kids.append(pid)
            for pid in kids:
                os.waitpid(pid, 0)
            print("done")
            """)
    assert r.killed == "memory" and b"done" not in r.stdout, r
    assert r.mem_peak_mb > 256


def test_memory_left_in_a_child_when_the_program_exits_counts(sandbox):
    with sandbox.session(LOOSE) as s:
        r = run(s, """
            import os, sys, time
            r, w = os.pipe()
            for _ in range(2):
                if os.fork() == 0:
                    x = b"x" * (150 * 2**20)
                    os.write(w, b"1")
                    time.sleep(60)
            os.read(r, 1), os.read(r, 1)
            print("done")
            """)
    assert r.killed == "memory" and r.mem_peak_mb > 256, r


def test_cpu_of_children_never_waited_for_counts(sandbox):
    lim = LOOSE.with_(cpu_s=2.0)
    with sandbox.session(lim) as s:
        r = run(s, """
            import os, time
            for k in range(2):
                if os.fork() == 0:
                    while time.process_time() < 1.3:
                        pass
                    open("/tmp/burnt%d" % k, "w").close()
                    time.sleep(60)
            while not all(os.path.exists("/tmp/burnt%d" % k) for k in range(2)):
                time.sleep(0.01)
            print("done", flush=True)
            os._exit(0)
            """, limits=lim)
    assert r.killed == "cpu" and r.cpu_s >= 2.0, r


def test_honest_run_is_measured_not_stopped(sandbox):
    with sandbox.session(LOOSE) as s:
        r = run(s, """
            import os, time
            x = b"x" * (150 * 2**20)
            pid = os.fork()
            if pid == 0:
                while time.process_time() < 0.3:
                    pass
                os._exit(0)
            os.waitpid(pid, 0)
            print(len(x))
            """)
        again = run(s, "print(1)")
    assert r.ok and r.stdout == b"%d\n" % (150 * 2**20), r
    assert 140 <= r.mem_peak_mb < 256 and r.cpu_s >= 0.3
    assert again.ok and again.mem_peak_mb < 64  # the first run's memory is not charged to the next


def test_run_deadline_cuts_every_run_of_the_block(sandbox):
    """A server's per-item cap beats a task's own limits: runs end by the deadline, later ones do not start."""
    lim = Limits(wall_s=120, cpu_s=120)
    with sandbox.session(lim) as s:
        with run_deadline(1.5):
            first = run(s, "import time; time.sleep(100)", limits=lim)
            time.sleep(0.3)
            late = run(s, "import time; time.sleep(100)", limits=lim)
        after = run(s, "print('free')", limits=lim)
    assert first.killed == "wall" and first.wall_s < 100, first
    assert late.killed == "wall" and not late.ok
    assert after.ok and after.stdout == b"free\n"


@pytest.mark.parametrize("python", [False, True], ids=["exec", "fork-server"])
def test_container_goes_when_its_owner_dies_during_a_run(sandbox, python):
    """The host process is killed (a worker replaced after an item timeout) while its run has a
    long wall limit: the init sees its stdin hang up, kills the run and exits at once."""
    client = sandbox._ensure()
    code = textwrap.dedent(f"""
        import os
        from m1gym.sandbox import DockerSandbox, Limits
        lim = Limits(wall_s=600, cpu_s=600)
        s = DockerSandbox(pool=False).session(lim)
        print(s.container.id, flush=True)
        s.run(["python3", "-c", "import time; time.sleep(600)"], limits=lim, python={python!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "M1GYM_NO_AUTOLOAD": "1"})
    cid = proc.stdout.readline().strip()
    time.sleep(1.0)  # the run has started
    proc.kill()
    proc.wait(timeout=30)

    def running():
        return [c for c in labelled_containers(client) if c.id == cid and c.status == "running"]

    give_up = time.monotonic() + 15  # far below the run's 600 s wall limit
    while running() and time.monotonic() < give_up:
        time.sleep(0.2)
    assert running() == []
