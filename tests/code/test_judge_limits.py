"""Limits that hold against children and shared memory (issue 15): the container's cgroup, not
the rusage of the direct child, decides MLE and TLE; every process of a run is killed and counted
before its verdict."""

import textwrap

import pytest

from m1gym.envs.code import Judge, Problem

pytestmark = pytest.mark.docker

SUM = Problem(id="t/limits-sum", statement="print a+b", time_limit_s=2.0, memory_mb=256,
              tests=[{"input": "1 2\n", "output": "3\n"}, {"input": "40 2\n", "output": "42\n"}])

HOLES = {
    "700 MB of MAP_SHARED anonymous memory": ("""
        import mmap, sys
        a, b = map(int, sys.stdin.read().split())
        m = mmap.mmap(-1, 700 * 2**20, flags=mmap.MAP_SHARED)
        for _ in range(700):
            m.write(b"x" * 2**20)
        print(a + b)
        """, {"MLE"}),
    "3 x 240 MB in forked children": ("""
        import os, sys, time
        a, b = map(int, sys.stdin.read().split())
        kids = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                x = b"x" * (240 * 2**20)
                time.sleep(1.5)
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        print(a + b)
        """, {"MLE"}),
    "CPU burned in children never waited for": ("""
        import os, sys, time
        a, b = map(int, sys.stdin.read().split())
        for k in range(2):
            if os.fork() == 0:  # each child burns 1.3 s of CPU, says so, and is never waited for
                while time.process_time() < 1.3:
                    pass
                open("/tmp/burnt%d" % k, "w").close()
                time.sleep(60)
        while not all(os.path.exists("/tmp/burnt%d" % k) for k in range(2)):
            time.sleep(0.01)
        print(a + b, flush=True)
        os._exit(0)
        """, {"TLE"}),
}


@pytest.fixture(scope="module")
def judge(sandbox):
    return Judge(sandbox)


@pytest.mark.parametrize("name", list(HOLES))
def test_limits_hold_against_children_and_shared_memory(judge, name):
    code, verdicts = HOLES[name]
    r = judge.judge(SUM, textwrap.dedent(code), "python")
    assert not r.accepted and r.verdict in verdicts, (r.summary(), r.first_failure, r.tests)


def test_probe_programs_score_zero(sandbox):
    """The universal-answer probe's programs (prints nothing, exit 0, echoes the input; for call-based
    problems functions that return None / 0 / [] / their argument) score 0 on the bundled problems."""
    from m1gym.envs.code import CodeEnv

    env = CodeEnv(problem_set="m1gym", sandbox=sandbox)
    env.name = "code/m1gym"
    tasks = env.tasks()
    call = [t for t in tasks if t.answer["mode"] == "call"]
    stdio = [t for t in tasks if t.answer["mode"] == "stdio"][::5]
    assert call and stdio
    seen = set()
    for task in call + stdio:
        for label, response in env.probe_responses(task).items():
            if label.startswith(("program:", "function:")):
                seen.add(label)
                s = env.score(task, response)
                assert s.reward == 0 and not s.correct, (task.id, label, s.reason)
    assert {"program: prints nothing", "program: exit 0", "program: echoes input",
            "function: returns its first argument"} <= seen


COMPILE_BOMB = """
constexpr long spin() {
    long s = 0;
    for (long i = 0; i < 200000; ++i)
        for (long j = 0; j < 200000; ++j)
            s += i ^ j;
    return s;
}
constexpr long value = spin();
int main() { return value == 0; }
"""


def test_compile_bomb_and_long_time_limit_end_at_the_callers_deadline(judge):
    """A server's per-item deadline (run_deadline) stops a compile that would run for minutes and a
    client's 60 s x 30 tests time limit; the verdicts are CE and TLE, never AC."""
    from m1gym.sandbox import run_deadline

    with run_deadline(3.0):
        r = judge.judge(SUM, COMPILE_BOMB, "cpp")
    assert r.verdict == "CE" and "wall limit" in r.compile_output, (r.summary(), r.compile_output[-300:])
    long_limit = Problem(id="t/long-limit", statement="print a+b", time_limit_s=60.0,
                         tests=[{"input": f"{i} 1\n", "output": f"{i + 1}\n"} for i in range(30)])
    with run_deadline(3.0):
        r = judge.judge(long_limit, "import time\ntime.sleep(1000)\n", "python")
    assert r.verdict == "TLE" and r.passed == 0, r.summary()
