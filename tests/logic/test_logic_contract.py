"""The logic-task contract, over EVERY registered ``logic/*`` task (new tasks join automatically).

- every level, 5 seeds (50 under -m slow): generation succeeds, the task survives a JSON round
  trip, and the reference response scores 1;
- garbage answers (empty, 1 MB, 10,000-deep brackets, JSON of wrong types, code strings) score 0
  with a reason, and never reach the "verifier error" path (an exception inside the verifier);
- determinism across processes with different PYTHONHASHSEED values (one subprocess per value,
  batched over all tasks);
- 8 threads give the same verdicts as serial scoring;
- a level table 0..4 whose consecutive levels differ; different seeds give different instances;
- no module of m1gym/envs/logic calls ``eval(`` or ``exec(``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tokenize
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import m1gym
from m1gym import Task, get_env

LOGIC_DIR = Path(m1gym.__file__).parent / "envs" / "logic"
TASKS = sorted(s.name for s in m1gym.list_envs() if s.name.startswith("logic/"))
LEVELS = (0, 1, 2, 3, 4)


@functools.lru_cache(maxsize=None)
def task_for(name: str, level: int, seed: int) -> Task:
    return get_env(name).generate(seed, level)


def garbage_responses() -> list[tuple[str, str]]:
    deep = "[" * 10_000 + "]" * 10_000
    return [
        ("empty response", ""),
        ("empty answer", "<answer></answer>"),
        ("blank answer", "<answer>   \n </answer>"),
        ("1 MB of text", "x" * 1_000_000),
        ("1 MB answer", "<answer>" + "y" * 1_000_000 + "</answer>"),
        ("long answer under the cap", "<answer>" + "a, " * 6_000 + "</answer>"),
        ("10,000-deep brackets", f"<answer>{deep}</answer>"),
        ("5,000-deep brackets", "<answer>" + "[" * 5_000 + "]" * 5_000 + "</answer>"),
        ("unclosed think", "<think>" + "[[1, 2]]" * 10),
        ("json object wrong types", '<answer>{"a": [1, "x", null], "b": {"c": true}}</answer>'),
        ("json grid wrong types", '<answer>[["a", null], [true, 1.5]]</answer>'),
        ("json list mixed", '<answer>[1, 2, "three", [4]]</answer>'),
        ("json null", "<answer>null</answer>"),
        ("json float", "<answer>3.14159</answer>"),
        ("json bool", "<answer>true</answer>"),
        ("import string", "<answer>__import__('os').system('x')</answer>"),
        ("exec string", "<answer>exec(\"import os; os.system('x')\")</answer>"),
        ("dunder walk", "<answer>().__class__.__bases__[0].__subclasses__()</answer>"),
        ("control chars", "<answer>\x00\x01\x02\ufffd</answer>"),
    ]


GARBAGE = garbage_responses()


# ---- generation and reference ------------------------------------------------------------------

def _check_levels(name: str, seeds: range) -> None:
    env = get_env(name)
    for level in LEVELS:
        for seed in seeds:
            task = task_for(name, level, seed) if seed < 5 else env.generate(seed, level)
            assert task.env == name and task.id, f"{name} level {level} seed {seed}: bad task identity"
            assert task.meta.get("level") == level, f"{name}: meta.level missing or wrong"
            assert "<answer>" in task.prompt_text, f"{name}: prompt does not ask for <answer>"
            ref = env.reference(task)
            score = env.score(task, ref)
            assert score.reward == 1.0, f"{name} level {level} seed {seed}: reference scored 0: {score.reason}"
            again = Task.from_json(task.to_json())
            score2 = env.score(again, ref)
            assert score2.reward == 1.0, f"{name} level {level} seed {seed}: JSON round trip broke scoring: {score2.reason}"


@pytest.mark.parametrize("name", TASKS)
def test_generation_and_reference_5_seeds(name):
    _check_levels(name, range(5))


@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_generation_and_reference_50_seeds(name):
    _check_levels(name, range(50))


@pytest.mark.parametrize("name", TASKS)
def test_level_table_rises(name):
    env = get_env(name)
    assert set(LEVELS) <= set(env.levels), f"{name}: levels {env.levels} do not cover 0..4"
    table = getattr(env, "level_table", None)
    if table is not None:  # LogicTask subclasses: consecutive levels must differ in some knob
        for a, b in zip(LEVELS, LEVELS[1:]):
            assert table[a] != table[b], f"{name}: levels {a} and {b} have the same knobs"
    t0, t4 = task_for(name, 0, 0), task_for(name, 4, 0)
    assert t0.prompt_text != t4.prompt_text


@pytest.mark.parametrize("name", TASKS)
def test_seeds_give_different_instances(name):
    for level in LEVELS:
        prompts = {task_for(name, level, seed).prompt_text for seed in range(5)}
        ids = {task_for(name, level, seed).id for seed in range(5)}
        assert len(ids) == 5, f"{name} level {level}: task ids collide across seeds"
        assert len(prompts) >= 4, f"{name} level {level}: 5 seeds gave only {len(prompts)} distinct prompts"


# ---- garbage -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TASKS)
def test_garbage_scores_zero(name):
    env = get_env(name)
    for level in LEVELS:
        task = task_for(name, level, 0)
        for label, response in GARBAGE:
            score = env.score(task, response)
            assert score.reward == 0.0, f"{name} level {level}: garbage ({label}) scored {score.reward}"
            assert score.reason, f"{name} level {level}: garbage ({label}) scored 0 without a reason"
            assert not score.reason.startswith("verifier error"), (
                f"{name} level {level}: garbage ({label}) raised inside the verifier: {score.reason}")


@pytest.mark.parametrize("name", TASKS)
def test_non_string_responses_and_foreign_tasks(name):
    env = get_env(name)
    task = task_for(name, 1, 0)
    for response in (None, 42, ["<answer>1</answer>"], b"<answer>\xff\xfe</answer>"):
        score = env.score(task, response)
        assert score.reward == 0.0 and score.reason
    broken = Task(id="x", env=name, prompt=task.prompt, answer="not a puzzle dict", meta={})
    score = env.score(broken, env.reference(task))
    assert score.reward == 0.0 and score.reason


# ---- determinism across processes --------------------------------------------------------------

DIGEST_SCRIPT = r"""
import hashlib, json, sys
import m1gym
from m1gym import get_env
names = json.loads(sys.argv[1])
out = {}
for name in names:
    env = get_env(name)
    h = hashlib.sha256()
    for level in (0, 1, 2, 3, 4):
        for seed in (0, 1):
            t = env.generate(seed, level)
            ref = env.reference(t)
            h.update(t.to_json().encode()); h.update(ref.encode())
            h.update(repr(env.score(t, ref).reward).encode())
    out[name] = h.hexdigest()
print(json.dumps(out))
"""


def _digest_here(name: str) -> str:
    env = get_env(name)
    h = hashlib.sha256()
    for level in LEVELS:
        for seed in (0, 1):
            t = env.generate(seed, level)  # fresh, so a module edited mid-run cannot look nondeterministic
            ref = env.reference(t)
            h.update(t.to_json().encode())
            h.update(ref.encode())
            h.update(repr(env.score(t, ref).reward).encode())
    return h.hexdigest()


def test_deterministic_across_processes_and_hash_seeds():
    procs = []
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        procs.append(subprocess.Popen([sys.executable, "-c", DIGEST_SCRIPT, json.dumps(TASKS)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, f"digest subprocess failed:\n{err[-2000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    here = {name: _digest_here(name) for name in TASKS}
    for name in TASKS:
        assert results[0][name] == results[1][name], f"{name}: tasks differ between PYTHONHASHSEED values"
        assert results[0][name] == here[name], f"{name}: tasks differ between processes"


# ---- threads -----------------------------------------------------------------------------------

def _batch() -> list[tuple[str, Task, str]]:
    items = []
    rng = random.Random(7)
    small_garbage = [g for label, g in GARBAGE if len(g) < 30_000]
    for name in TASKS:
        env = get_env(name)
        for level in LEVELS:
            task = task_for(name, level, 0)
            other = task_for(name, level, 1)
            items.append((name, task, env.reference(task)))
            items.append((name, task, env.reference(other)))  # usually wrong
            items.append((name, task, rng.choice(small_garbage)))
    return items


def test_threads_give_serial_verdicts():
    items = _batch()

    def verdict(item):
        name, task, response = item
        s = get_env(name).score(task, response)
        return (s.reward, s.correct, s.reason)

    serial = [verdict(it) for it in items]
    for (name, _, _), (reward, _, reason) in zip(items, serial):
        assert reward == 1.0 or reason, f"{name}: a 0 verdict without a reason"
    order = list(range(len(items)))
    random.Random(1).shuffle(order)
    with ThreadPoolExecutor(max_workers=8) as pool:
        shuffled = list(pool.map(lambda i: (i, verdict(items[i])), order * 2))
    for i, v in shuffled:
        assert v == serial[i], f"{items[i][0]}: thread verdict {v} != serial {serial[i]}"


# ---- no eval / exec ----------------------------------------------------------------------------

def _calls(path: Path, names=("eval", "exec")) -> list[str]:
    found = []
    toks = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    for tok, nxt in zip(toks, toks[1:]):
        if tok.type == tokenize.NAME and tok.string in names and nxt.string == "(":
            found.append(f"{path.name}:{tok.start[0]}: {tok.line.strip()}")
    return found


def test_no_eval_or_exec_in_logic_package():
    files = sorted(LOGIC_DIR.rglob("*.py"))
    assert len(files) >= 3
    offenders = [hit for f in files for hit in _calls(f)]
    assert not offenders, "eval/exec calls in m1gym/envs/logic:\n" + "\n".join(offenders)


def test_eval_detector_catches_calls(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("x = eval('1')\ny = builtins.exec ('2')\nz = ast.literal_eval('3')\n# eval(4) in a comment\n")
    hits = _calls(bad)
    assert len(hits) == 2, hits
