"""The judge against the real daemon: shipped solutions, attacks, C++, bad input."""

import textwrap

import pytest

from m1gym.envs.code import Judge, JudgeInputError, Problem, ProblemFormatError, load_builtin_set
from m1gym.sandbox.testing import own_containers

pytestmark = pytest.mark.docker

PROBLEMS = load_builtin_set("m1gym")


@pytest.fixture(scope="module")
def judge(sandbox):
    return Judge(sandbox)


def test_problem_set_is_varied():
    assert len(PROBLEMS) >= 25
    tags = {t for p in PROBLEMS for t in p.tags}
    assert {"strings", "math", "greedy", "dp", "graphs", "float", "call"} <= tags
    assert any(p.checker["type"] == "program" for p in PROBLEMS)
    assert any(p.checker["type"] == "float" and p.mode == "stdio" for p in PROBLEMS)
    assert any(p.mode == "call" for p in PROBLEMS)
    assert len({p.level for p in PROBLEMS}) >= 3
    assert all(p.solutions.get("python") and p.wrong.get("python") for p in PROBLEMS)


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.id for p in PROBLEMS])
def test_reference_accepted_and_wrong_rejected(judge, problem):
    for lang, codes in problem.solutions.items():
        for code in codes:
            r = judge.judge(problem, code, lang)
            assert r.accepted and r.passed == r.total, (lang, r.summary(), r.first_failure, r.compile_output)
    for lang, codes in problem.wrong.items():
        for code in codes:
            r = judge.judge(problem, code, lang)
            assert not r.accepted and r.verdict != "AC" and r.first_failure is not None, (lang, r.summary())
            assert r.passed < r.total


# ---- attacks --------------------------------------------------------------------------------

ECHO = Problem(id="t/echo-sum", statement="print a+b", time_limit_s=1.0, memory_mb=128,
               tests=[{"input": "1 2\n", "output": "3\n"}, {"input": "40 2\n", "output": "42\n"},
                      {"input": "5 5\n", "output": "10\n"}])
CALL = Problem(id="t/call-add", statement="add(a, b)", mode="call", fn_name="add", time_limit_s=1.0,
               tests=[{"args": [1, 2], "expected": 3}, {"args": [40, 2], "expected": 42}])

ATTACKS = {
    "fork bomb": ("import os\nwhile True:\n    try: os.fork()\n    except OSError: pass", {"RE", "TLE"}),
    "memory bomb": ("x = []\nwhile True: x.append(bytearray(2**24))", {"MLE"}),
    "infinite loop": ("while True: pass", {"TLE"}),
    "100 MB of output": ("import sys\nfor _ in range(1600): sys.stdout.write('1' * 65536)", {"OLE"}),
    "sleep past the wall limit": ("import time\ntime.sleep(30)\nprint(3)", {"TLE"}),
    "network access": ("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)\nprint(3)", {"RE"}),
    "writing outside the work dir": ("open('/usr/lib/evil.py', 'w').write('x')\nprint(3)", {"RE"}),
    "reading host files": ("print(open('/etc/shadow').read())", {"RE"}),
    "exit(0) before printing": ("import sys\nsys.exit(0)\nprint(3)", {"WA"}),
    "os._exit(0) before printing": ("import os\nos._exit(0)", {"WA"}),
    "raise SkipTest": ("import unittest\nraise unittest.SkipTest('skip')", {"RE"}),
    "reading the test files": (textwrap.dedent("""
        import os
        found = []
        for root in ('/work', '/tmp', '/', '/dev/shm'):
            for dirpath, dirs, files in os.walk(root):
                if dirpath.startswith(('/proc', '/sys', '/usr', '/dev')) and dirpath != '/dev/shm':
                    dirs[:] = []
                    continue
                for f in files:
                    try:
                        if os.path.isfile(os.path.join(dirpath, f)) and '42' in open(os.path.join(dirpath, f), errors='ignore').read(1 << 16):
                            found.append(os.path.join(dirpath, f))
                    except OSError:
                        pass
        print(3 if not found else found)
        """), {"WA"}),
    "child that outlives the run": (textwrap.dedent("""
        import os, sys, time
        a, b = map(int, sys.stdin.read().split())
        if os.fork() == 0:
            time.sleep(0.5)
            print(a + b, flush=True)
            time.sleep(30)
        os._exit(0)
        """), {"WA"}),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_scores_zero_with_the_right_verdict(judge, name):
    code, verdicts = ATTACKS[name]
    r = judge.judge(ECHO, code, "python")
    assert not r.accepted and r.verdict in verdicts, (r.summary(), r.first_failure)


CALL_ATTACKS = {
    "always-equal object": """
        class Eq:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
        def add(a, b): return Eq()""",
    "redefined builtins": """
        import builtins, json
        builtins.isinstance = lambda *a: True
        builtins.type = lambda *a: int
        json.dumps = lambda *a, **k: '42'
        def add(a, b): return 0""",
    "exit(0) in the function": """
        def add(a, b):
            raise SystemExit(0)""",
    "os._exit(0) at import": """
        import os
        os._exit(0)""",
    "raise SkipTest": """
        import unittest
        def add(a, b): raise unittest.SkipTest('no')""",
    "forged result frames": """
        import os, sys, gc
        def add(a, b):
            # find the marker in the harness's memory and write a forged frame on every fd
            frame = sys._getframe(1)
            req = frame.f_globals.get('request') or {}
            marker = next((v for v in frame.f_locals.values() if isinstance(v, bytes) and v.startswith(b'@@m1gym')), b'')
            for fd in range(1, 10):
                try: os.write(fd, marker + b'42' + marker)
                except OSError: pass
            return 0""",
}


@pytest.mark.parametrize("name", list(CALL_ATTACKS))
def test_call_based_attack_scores_zero(judge, name):
    r = judge.judge(CALL, textwrap.dedent(CALL_ATTACKS[name]), "python")
    assert not r.accepted and r.verdict in {"WA", "RE"}, (name, r.summary(), r.first_failure)


def test_call_based_honest_solution_accepted(judge):
    assert judge.judge(CALL, "def add(a, b):\n    return a + b\n").accepted
    assert judge.judge(CALL, "class Solution:\n    def add(self, a, b):\n        return a + b\n").accepted


def test_exit_status_alone_never_passes(judge):
    r = judge.judge(ECHO, "print(3)\nraise SystemExit(1)", "python")
    assert r.verdict == "RE" and r.passed == 0
    r = judge.judge(ECHO, "pass", "python")
    assert r.verdict == "WA"


def test_verdict_details(judge):
    r = judge.judge(ECHO, "a, b = map(int, input().split())\nprint(a + b if a < 10 else 0)")
    assert r.verdict == "WA" and r.passed == 2 and r.total == 3
    d = r.details()
    assert d["first_failure"]["test"] == 1 and d["first_failure"]["expected"].strip() == "42"
    assert d["pass_fraction"] == pytest.approx(2 / 3)


def test_cpp_compile_error_runtime_error_and_accept(judge):
    assert judge.judge(ECHO, "int main( {", "cpp").verdict == "CE"
    assert judge.judge(ECHO, "int main(){ int *p = 0; *p = 1; }", "cpp").verdict == "RE"
    ok = judge.judge(ECHO, "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b;}", "c++")
    assert ok.accepted
    assert judge.judge(ECHO, "int main(){ while(1); }", "cpp").verdict == "TLE"
    bomb = "#include <cstring>\nint main(){ for(;;){ char *p = new char[1 << 24]; memset(p, 1, 1 << 24); } }"
    assert judge.judge(ECHO, bomb, "cpp").verdict == "MLE"


def test_python_syntax_error_is_ce(judge):
    assert judge.judge(ECHO, "def f(:\n", "python").verdict == "CE"


def test_bad_input(judge):
    with pytest.raises(JudgeInputError, match="unknown language"):
        judge.judge(ECHO, "print(1)", "brainfuck")
    with pytest.raises(JudgeInputError, match="empty code"):
        judge.judge(ECHO, "   \n", "python")
    with pytest.raises(JudgeInputError, match="MB"):
        judge.judge(ECHO, "#" * (5 << 20), "python")
    with pytest.raises(ProblemFormatError, match="no tests"):
        Problem(id="t/empty", statement="", tests=[]).validate()
    with pytest.raises(JudgeInputError, match="Python"):
        judge.judge(CALL, "int main(){}", "cpp")


def test_daemon_healthy_and_no_stopped_containers_after_attacks(sandbox):
    client = sandbox._ensure()
    assert client.ping()
    assert all(c.status == "running" for c in own_containers(client))  # only warm pool containers
    ours = {c.id for c in sandbox._pool._all}
    assert ours and ours <= {c.id for c in own_containers(client)}
    sandbox.close()
    assert not ours & {c.id for c in own_containers(client)}
