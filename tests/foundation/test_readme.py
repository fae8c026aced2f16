"""The README stays true: its Python example runs and its env passes the contract."""

import re
from pathlib import Path

import m1gym
from m1gym import registry
from m1gym.checker import check_envs

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_registers_a_working_env():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    example = next(b for b in blocks if "m1gym.register(" in b)
    try:
        exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})  # our own doc, not model output
        report = check_envs(["demo/parity"], samples=3, quick=True)
        assert report.ok, report.text()
        env = m1gym.make("demo/parity")
        task = env.generate(3, 1)
        assert env.score(task, "<answer>maybe</answer>").reward == 0.0
    finally:
        registry.unregister("demo/parity")


def test_readme_names_the_two_commands():
    text = README.read_text()
    assert "make train" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci
