"""Small environments used by the foundation tests (test doubles, registered under test/...)."""

from m1gym.core import Environment, Score, Task, reference_response
from m1gym.verifiers.extract import extract_answer


class AddEnv(Environment):
    """a + b, exact integer answer."""

    name = "test/add"
    description = "add two integers (test double)"
    levels = (0, 1)
    answer_format = "integer"

    def generate(self, seed, level=None, **knobs):
        level = 0 if level is None else level
        rng = self.rng(seed, level)
        a, b = rng.randint(0, 10 ** (level + 1)), rng.randint(0, 10 ** (level + 1))
        return self.make_task(f"{seed}|{level}", f"What is {a} + {b}?", a + b, {"level": level})

    def _score(self, task, response):
        ans = extract_answer(response)
        if ans is None:
            return Score.fail("no <answer> block")
        if ans.strip() != str(task.answer):
            return Score.fail(f"expected a different number, got {ans[:20]!r}", format_ok=True)
        return Score.ok()

    def reference(self, task):
        return reference_response(str(task.answer), "add the numbers")


class BrokenEnv(AddEnv):
    """Violates the contract: raises on garbage and gets its own references wrong."""

    name = "test/broken"
    description = "a broken env the checker must catch (test double)"

    def _score(self, task, response):
        if not response:
            raise RuntimeError("boom")
        return Score.ok() if "x" in response else Score.fail("no x")
