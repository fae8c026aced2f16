"""The universal-answer probe (m1gym/probe.py): it catches an env that pays a constant, passes an
honest env, honours a declared chance level, runs inside `m1gym envs check`, and as
`m1gym envs probe ENV --tasks FILE`."""

from __future__ import annotations

import json

import pytest

import m1gym
from m1gym import Environment, Score, reference_response
from m1gym import registry
from m1gym.checker import Report, check_envs, probe_check
from m1gym.cli import main
from m1gym.probe import CONSTANT_ANSWERS, MOST_COMMON, default_probe_responses, probe, probe_tasks
from m1gym.verifiers import extract_answer


class Doubling(Environment):
    """Honest toy env: answer twice the number."""

    description = "double the number"
    levels = (0, 1)

    def generate(self, seed, level=None, **knobs):
        n = self.rng(seed, level).randint(10, 10_000)
        return self.make_task(f"{seed}|{level}", f"What is twice {n}?", str(2 * n), {"level": level or 0})

    def _score(self, task, response):
        answer = extract_answer(response)
        if answer is None:
            return Score.fail("no answer")
        return Score.ok() if answer.strip() == task.answer else Score.fail("wrong", format_ok=True)

    def reference(self, task):
        return reference_response(task.answer)


class InfinityHole(Doubling):
    """The math hole in miniature: a relative tolerance scaled by max(|a|, |b|) accepts infinity."""

    def _score(self, task, response):
        answer = extract_answer(response)
        if answer in ("\\infty", "-\\infty"):
            return Score.ok("within relative tolerance")
        return super()._score(task, response)


class YesNo(Doubling):
    """Half the answers are "yes": a constant passes half the time by chance, and says so."""

    chance_level = 0.6
    chance_reason = "a yes/no question"

    def generate(self, seed, level=None, **knobs):
        yes = self.rng(seed, level).random() < 0.5
        return self.make_task(f"{seed}|{level}", "Is it?", "yes" if yes else "no", {"level": level or 0})


class PartialCredit(Doubling):
    """Pays 0.3 for any answer at all: no single pass, but a mean reward a policy would learn."""

    def _score(self, task, response):
        s = super()._score(task, response)
        return s if s.reward == 1.0 or extract_answer(response) is None else Score(0.3, False, True, "partial")


@pytest.fixture
def toy():
    names = {"test/doubling": Doubling, "test/infinity-hole": InfinityHole, "test/yes-no": YesNo,
             "test/partial": PartialCredit}
    for name, cls in names.items():
        m1gym.register(name, cls)
    yield
    for name in names:
        registry.unregister(name)


def test_candidate_list_covers_the_issue(toy):
    task = m1gym.make("test/doubling").generate(0)
    responses = default_probe_responses(task)
    for text in ("\\infty", "\\pm\\infty", "(\\infty, \\infty)", "\\mathbb{R}", "\\emptyset", "0", "1", "-1", "True",
                 "all of the above"):
        assert f"<answer>{text}</answer>" in responses.values(), text
    assert responses["prompt echoed"] == f"<answer>{task.prompt_text}</answer>"
    assert responses["think block only"].startswith("<think>") and "<answer>" not in responses["think block only"]
    assert responses["many answer blocks"].count("<answer>") > 10
    assert set(CONSTANT_ANSWERS["digit string"]) <= set("0123456789") and len(CONSTANT_ANSWERS["digit string"]) >= 1000
    sandbox = default_probe_responses(task, "sandbox")
    assert any("sys.stdin.read()" in r for r in sandbox.values())  # a program echoing its input
    assert any("```diff" in r and "test_" in r for r in sandbox.values())  # a tests-only diff


def test_an_env_paying_a_constant_fails_and_the_table_names_it(toy):
    result = probe("test/infinity-hole", n=20)
    assert not result.ok
    bad = {r.label: r for r in result.over()}
    assert set(bad) == {"\\infty", "-\\infty"}
    assert bad["\\infty"].passes == 20 and bad["\\infty"].share == 1.0
    assert "\\infty" in result.summary() and "FAIL" in result.text()


def test_an_honest_env_passes(toy):
    result = probe("test/doubling", n=20)
    assert result.ok, result.text()
    assert all(r.passes == 0 for r in result.rows)
    assert {r.tasks for r in result.rows} == {20}


def test_a_declared_chance_level_is_honoured_and_reported(toy):
    result = probe("test/yes-no", n=40)
    yes = next(r for r in result.rows if r.label == "yes")
    assert 0.2 < yes.share < 0.8  # the constant does pass, by chance
    assert result.ok and result.chance_level == 0.6 and "yes/no" in result.text()
    assert not probe("test/yes-no", n=40, chance_level=0.05).ok  # the caller's level wins


def test_mean_reward_counts_for_partial_credit(toy):
    result = probe("test/partial", n=20)
    assert not result.ok
    zero = next(r for r in result.rows if r.label == "0")
    assert zero.passes == 0 and zero.mean_reward == pytest.approx(0.3)


def test_most_common_reference_catches_a_biased_dataset(toy):
    env = m1gym.make("test/doubling")
    tasks = probe_tasks(env, 10)
    biased = tasks + [tasks[0]] * 4  # one answer repeated: a dataset where one answer dominates
    result = probe(env, biased)
    mode = next(r for r in result.rows if r.label == MOST_COMMON)
    assert mode.passes == 5 and not result.ok
    # picked from other tasks (the checker passes its own), a sample's own coincidences do not count
    assert all(r.label != MOST_COMMON for r in probe(env, tasks, mode_from=tasks[:3]).rows)


def test_tasks_of_another_env_are_refused(toy):
    other = m1gym.make("test/yes-no").generate(0)
    with pytest.raises(ValueError, match="test/yes-no"):
        probe("test/doubling", [other])


def test_envs_check_runs_the_probe(toy):
    report = check_envs(["test/infinity-hole", "test/doubling"], samples=2, quick=True)
    rows = {(r.env, r.check): r for r in report.results}
    assert not rows[("test/infinity-hole", "universal answers")].ok
    assert rows[("test/doubling", "universal answers")].ok
    assert rows[("test/doubling", "trailing junk scores 0")].ok
    off = check_envs(["test/infinity-hole"], samples=2, quick=True, probe_n=0)
    assert off.ok and not any(r.check == "universal answers" for r in off.results)


def test_a_sandbox_env_without_docker_is_skipped_outside_ci_and_fails_in_ci(toy, monkeypatch):
    import m1gym.checker as checker

    class SandboxToy(Doubling):
        kind = "sandbox"

    env = SandboxToy()
    env.name = "test/doubling"
    monkeypatch.setattr(checker, "_docker_problem", lambda: "Docker daemon not reachable")
    monkeypatch.delenv("CI", raising=False)
    report = Report()
    probe_check("test/doubling", env, report, 20, [])
    assert report.ok and "skipped" in report.results[0].detail
    monkeypatch.setenv("CI", "true")
    report = Report()
    probe_check("test/doubling", env, report, 20, [])
    assert not report.ok and "CI=true" in report.results[0].detail


def test_cli_probe_on_a_task_file(toy, tmp_path, capsys):
    env = m1gym.make("test/infinity-hole")
    path = tmp_path / "tasks.jsonl"
    path.write_text("\n".join(t.to_json() for t in probe_tasks(env, 10)) + "\n")
    assert main(["envs", "probe", "test/infinity-hole", "--tasks", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["env"] == "test/infinity-hole"
    shares = {r["label"]: r["share"] for r in out["rows"]}
    assert shares["\\infty"] == 1.0 and shares["0"] == 0.0
    assert main(["envs", "probe", "test/doubling", "--tasks", str(path)]) == 2  # tasks of another env
    assert "test/infinity-hole" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    assert main(["envs", "probe", "test/doubling", "--tasks", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
    assert main(["envs", "probe", "test/doubling", "--n", "10"]) == 0
    assert "probe passes" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["math/arithmetic", "math/systems", "math/quadratic", "general/instructions"])
def test_builtin_envs_that_paid_a_constant_before_now_pass(name):
    # math: \infty, (\infty, \infty), \mathbb{R}, \pm\infty paid on 304/320 tasks; general/instructions
    # paid the echoed prompt a mean reward of 0.45
    result = probe(name, n=10)
    assert result.ok, result.text()


def test_ci_runs_the_probe_on_every_env_before_the_suite():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    target = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in target.splitlines()[1:]]
    assert "m1gym envs check --all" in lines
    assert lines.index("m1gym envs check --all") < next(i for i, line in enumerate(lines) if "pytest" in line)
