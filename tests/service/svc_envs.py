"""Test environments of the service tests, registered in the server by ``m1gym serve --import
svc_plugin.py``; the test process uses the classes directly for in-process comparison.

test/echo   deterministic reward: 1 when the response is the task's answer, else a fraction
test/hang   the verifier never returns on the response "HANG"
test/crash  the verifier SIGKILLs its own worker process on the response "CRASH"
test/slow   the verifier sleeps ``float(response)`` seconds, then reports its pid
"""

from __future__ import annotations

import os
import signal
import time

from m1gym.core import Environment, Score, reference_response
from m1gym.registry import env_names, register
from m1gym.verifiers.extract import extract_answer

#: bearer token of the fault-test server
TOKEN = "t0ps3cret"


class Echo(Environment):
    name = "test/echo"
    description = "test env: reward 1 for the exact answer, partial for a prefix"
    levels = (0, 1, 2)

    def generate(self, seed, level=None):
        level = 0 if level is None else level
        rng = self.rng(seed, level)
        answer = str(rng.randrange(10 ** (level + 2)))
        return self.make_task(f"{seed}:{level}", f"Repeat {answer}", answer, {"level": level, "seed": seed})

    def _score(self, task, response):
        got = extract_answer(response)
        if got is None:
            return Score.fail("no <answer> block")
        if got.strip() == task.answer:
            return Score.ok(echo=task.id)
        common = os.path.commonprefix([got.strip(), task.answer])
        return Score(reward=len(common) / len(task.answer), correct=False, reason="wrong answer",
                     details={"echo": task.id, "prefix": len(common)})

    def reference(self, task):
        return reference_response(task.answer)


class Hang(Echo):
    name = "test/hang"

    def _score(self, task, response):
        if response == "HANG":
            while True:
                time.sleep(1)
        return super()._score(task, response)


class Crash(Echo):
    name = "test/crash"

    def _score(self, task, response):
        if response == "CRASH":
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._score(task, response)


class Slow(Echo):
    name = "test/slow"

    def _score(self, task, response):
        try:
            time.sleep(float(response))
        except ValueError:
            pass
        return Score.ok(pid=os.getpid())


TEST_ENVS = {cls.name: cls for cls in (Echo, Hang, Crash, Slow)}


def register_all() -> None:
    """Registers the test envs (the server does this through svc_plugin.py; the test process does
    not, so that other test directories never see them)."""
    for name, cls in TEST_ENVS.items():
        if name not in env_names():
            register(name, cls)


# ---- mixed items for "HTTP equals in-process" ---------------------------------------------------

def in_process_env(name: str) -> Environment:
    from m1gym.registry import get_env

    return TEST_ENVS[name]() if name in TEST_ENVS else get_env(name)


def mixed_items(per_env: int = 8, prefixes: tuple = ("math/", "logic/"), echo: int = 40) -> list[tuple]:
    """(task, response) pairs over every registered math/logic env (lowest two levels) plus test/echo:
    reference answers, other tasks' answers, garbage, empty and truncated responses."""
    from m1gym.registry import get_env, list_envs

    pairs: list[tuple] = []
    for spec in list_envs():
        if not spec.name.startswith(prefixes) or not spec.procedural or spec.multi_turn:
            continue
        env = get_env(spec.name)
        levels = sorted(spec.levels)[:2] or [None]
        tasks = [env.generate(1000 + i, levels[i % len(levels)]) for i in range(per_env)]
        refs = [env.reference(t) for t in tasks]
        for i, task in enumerate(tasks):
            kind = i % 6
            response = {0: refs[i], 1: refs[(i + 1) % len(refs)], 2: "<answer>banana</answer>", 3: "",
                        4: f"<think>let me see</think>\n{refs[i]}", 5: "<think>never closed " + refs[i]}[kind]
            pairs.append((task, response))
    echo_env = Echo()
    for i in range(echo):
        task = echo_env.generate(i, i % 3)
        response = {0: echo_env.reference(task), 1: f"<answer>{task.answer[:1]}9</answer>", 2: "nope"}[i % 3]
        pairs.append((task, response))
    return pairs


def verdict(score: dict) -> tuple:
    """The parts of a score that must match between HTTP and in-process (not the timing)."""
    import json

    return (score["reward"], score["correct"], score["format_ok"], score["reason"],
            json.dumps(score["details"], sort_keys=True, default=str))
