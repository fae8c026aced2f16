"""A tiny, fast environment for trainer tests: repeat the digit shown in the prompt."""

from m1gym.core import Environment, Score, reference_response
from m1gym.registry import UnknownEnvError, get_spec, register
from m1gym.verifiers.extract import extract_answer

NAME = "test/echo_digit"


class EchoDigit(Environment):
    name = NAME
    description = "repeat the digit (trainer tests)"
    levels = (0,)

    def generate(self, seed, level=None):
        rng = self.rng(seed, level)
        d = rng.randrange(10)
        return self.make_task(f"{seed}", f"Repeat the digit {d}.", str(d), {"level": 0})

    def _score(self, task, response):
        ans = extract_answer(response)
        if ans is None:
            return Score.fail("no answer")
        return Score.ok() if ans.strip() == task.answer else Score.fail("wrong digit", format_ok=True)

    def reference(self, task):
        return reference_response(task.answer, "I repeat it.")


def ensure_registered():
    try:
        get_spec(NAME)
    except UnknownEnvError:
        register(NAME, EchoDigit)


ensure_registered()
