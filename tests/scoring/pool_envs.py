"""The env of the scoring pool tests, registered in the pool's workers through ``imports``.

test/pool_probe   reward 1 when the response is the task's answer, else 0; the response "HANG"
                  never returns, "EXIT" ends the worker process (os._exit), "EXIT_ONCE:<path>"
                  ends it only when <path> does not exist yet (and creates it: the retry scores)
"""

from __future__ import annotations

import os
import time

from m1gym.core import Environment, Score
from m1gym.registry import env_names, register

NAME = "test/pool_probe"


class Probe(Environment):
    name = NAME
    description = "scoring pool tests: answer, hang or exit on demand"
    levels = (0,)

    def generate(self, seed, level=None):
        answer = str(self.rng(seed, level).randrange(1000))
        return self.make_task(f"{seed}", f"Say {answer}", answer, {"level": 0})

    def _score(self, task, response):
        if response == "HANG":
            while True:
                time.sleep(1)
        if response == "EXIT":
            os._exit(3)
        if response.startswith("EXIT_ONCE:"):
            try:
                os.close(os.open(response[len("EXIT_ONCE:"):], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return Score.ok("survived the retry", pid=os.getpid())
            os._exit(3)
        if response == task.answer:
            return Score.ok(pid=os.getpid())
        return Score.fail("wrong answer", pid=os.getpid())

    def reference(self, task):
        return task.answer


if NAME not in env_names():
    register(NAME, Probe)
