"""``m1gym export``: each format's rows, read back the way the trainer reads them and scored through
that trainer's adapter, give 1 for the env's reference answer and 0 for a wrong one."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from m1gym.cli import main as m1gym_main
from m1gym.core import Task
from m1gym.integrations import openrlhf, skyrl, trl, verl
from m1gym.registry import get_env

ENVS = ["math/fractions", "logic/sudoku", "general/instructions"]


def _export(tmp_path, env, fmt, suffix, n=3):
    out = tmp_path / f"{env.replace('/', '_')}.{fmt}{suffix}"
    assert m1gym_main(["export", env, "--n", str(n), "--seed", "7", "--format", fmt, "--out", str(out)]) == 0
    return out


def _answers(task_json):
    task = Task.from_json(task_json)
    return get_env(task.env).reference(task), "<answer>wrong</answer>"


@pytest.mark.parametrize("env", ENVS)
def test_verl_rows(server, tmp_path, env):
    rows = pq.read_table(_export(tmp_path, env, "verl", ".parquet")).to_pylist()
    assert len(rows) == 3 and {r["data_source"] for r in rows} == {env}
    assert rows[0]["ability"] == env.split("/")[0] and rows[0]["prompt"][-1]["role"] == "user"
    for r in rows:
        good, bad = _answers(r["reward_model"]["ground_truth"])
        args = (r["data_source"], r["reward_model"]["ground_truth"], r["extra_info"])
        assert verl.compute_score(args[0], good, *args[1:], server_url=server.url)["score"] == 1.0
        assert verl.compute_score(args[0], bad, *args[1:], server_url=server.url)["score"] == 0.0


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_trl_rows(server, tmp_path, suffix):
    from datasets import load_dataset

    path = _export(tmp_path, "logic/sudoku", "trl", suffix)
    ds = load_dataset("parquet" if suffix == ".parquet" else "json", data_files=str(path), split="train")
    assert {"prompt", "task"} <= set(ds.column_names)
    good = [_answers(t)[0] for t in ds["task"]]
    fn = trl.trl_reward(server.url)
    assert fn(prompts=ds["prompt"], completions=good, task=ds["task"]) == [1.0] * 3
    assert fn(prompts=ds["prompt"], completions=["<answer>1</answer>"] * 3, task=ds["task"]) == [0.0] * 3


def test_openrlhf_rows(server, tmp_path):
    rows = [json.loads(line) for line in _export(tmp_path, "math/fractions", "openrlhf", ".jsonl").read_text().splitlines()]
    assert all(isinstance(r["input"], str) for r in rows)
    good = [_answers(r["label"])[0] for r in rows]
    out = openrlhf.reward_func([r["input"] + g for r, g in zip(rows, good)], [r["input"] for r in rows],
                               [r["label"] for r in rows])
    assert out["rewards"].tolist() == [1.0] * 3
    out = openrlhf.reward_func([r["input"] for r in rows], [r["input"] for r in rows], [r["label"] for r in rows])
    assert out["rewards"].tolist() == [0.0] * 3  # the prompt alone earns nothing


def test_skyrl_rows(server, tmp_path):
    rows = pq.read_table(_export(tmp_path, "math/fractions", "skyrl", ".parquet")).to_pylist()
    assert {r["env_class"] for r in rows} == {"m1gym"}
    for r in rows:
        good, bad = _answers(r["reward_spec"]["ground_truth"])
        assert skyrl.M1GymTextEnv({"server_url": server.url}, r).step(good)["reward"] == 1.0
        assert skyrl.M1GymTextEnv({"server_url": server.url}, r).step(bad)["reward"] == 0.0


def test_dataset_env_and_errors(tmp_path, capsys):
    out = tmp_path / "m.parquet"
    assert m1gym_main(["export", "math/dataset", "--n", "2", "--format", "verl", "--out", str(out)]) == 0
    assert "bundled example" in capsys.readouterr().err and pq.read_table(out).num_rows == 2
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(get_env("math/linear").generate(i, 1).to_json() + "\n" for i in range(4)))
    assert m1gym_main(["export", "math/linear", "--from", str(tasks), "--n", "3", "--format", "openrlhf",
                       "--out", str(tmp_path / "o.jsonl")]) == 0
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 3
    for argv, message in [
        (["math/linear", "--format", "verl", "--out", str(tmp_path / "x.jsonl"), "--n", "2"], "*.parquet"),
        (["math/linear", "--format", "openrlhf", "--out", str(tmp_path / "x.parquet"), "--n", "2"], "*.jsonl"),
        (["math/linear", "--format", "trl", "--out", str(tmp_path / "x.jsonl")], "--n must be at least 1"),
        (["math/linear", "--format", "trl", "--out", str(tmp_path / "x.jsonl"), "--n", "1", "--level", "9"], "levels"),
        (["math/arithmetic", "--from", str(tasks), "--format", "trl", "--out", str(tmp_path / "y.jsonl")],
         "not 'math/arithmetic'"),
        (["swe/agent", "--format", "trl", "--out", str(tmp_path / "y.jsonl"), "--n", "1"], "m1gym export swe/bugfix"),
        (["math/nope", "--format", "trl", "--out", str(tmp_path / "y.jsonl"), "--n", "1"], "math/nope"),
    ]:
        assert m1gym_main(["export", *argv]) == 2
        assert message in capsys.readouterr().err
