"""test/hang_digit: the toy env (repeat the digit) whose verifier hangs forever on one response.

The first call of ``score`` in any process that manages to create the file named by
``$M1GYM_TEST_HANG_MARKER`` never returns; every other call scores as test/echo_digit. So one
item of a batch hangs, whichever worker gets to it first. Loaded into the scoring workers with
``scoring.imports: [<this file>]``.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from toy_env import EchoDigit  # noqa: E402

from m1gym.registry import UnknownEnvError, get_spec, register  # noqa: E402

NAME = "test/hang_digit"
MARKER = "M1GYM_TEST_HANG_MARKER"


class HangDigit(EchoDigit):
    name = NAME
    description = "repeat the digit; hangs on the first response scored (trainer tests)"

    def _score(self, task, response):
        marker = os.environ.get(MARKER)
        if marker:
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                while True:
                    time.sleep(1)
        return super()._score(task, response)


try:
    get_spec(NAME)
except UnknownEnvError:
    register(NAME, HangDigit)
