"""The shared logic tooling: `m1gym logic calibrate`, SynLogic import, the throughput benchmark."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path


from m1gym import Score, get_env
from m1gym.cli import main
from m1gym.envs.logic import calibrate as cal
from m1gym.envs.logic import synlogic
from m1gym.envs.logic.base import LogicTask
from m1gym.registry import register, unregister

ROOT = Path(__file__).resolve().parents[2]


# ---- calibrate ----------------------------------------------------------------------------------

def test_calibrate_rows_and_rising_levels():
    rows = cal.calibrate(["dyck_language", "logic/word_sorting", "goods_exchange"], n=6)
    assert [(r.task, r.level) for r in rows][:2] == [("logic/dyck_language", 0), ("logic/dyck_language", 1)]
    assert len(rows) == 15
    for r in rows:
        assert r.n == 6 and r.failures == 0
        assert r.reference_pass == 1.0
        assert r.garbage_pass <= 0.2 and r.random_pass < 1.0
        assert r.prompt_tokens > 20 and r.gen_ms >= 0
    assert all(cal.rising(rows).values()), cal.rising(rows)
    table = cal.format_table(rows)
    assert table.splitlines()[0].split()[:3] == ["task", "level", "n"]
    assert "goods_exchange" in table


def test_approx_tokens_rule():
    assert cal.approx_tokens("") == 0
    assert cal.approx_tokens("abcd") == 1
    assert cal.approx_tokens("abcde") == 2


def test_shuffled_answer_keeps_shape():
    import random

    rng = random.Random(0)
    text = '{"Alice": "kite", "Bob": "vase", "Carol": "lamp"}'
    out = cal.shuffled_answer(text, rng)
    data = json.loads(out)  # still valid JSON, same words
    assert sorted(list(data) + list(data.values())) == sorted(["kite", "vase", "lamp", "Alice", "Bob", "Carol"])
    brackets = cal.shuffled_answer("(([]))", rng)
    assert sorted(brackets) == sorted("(([]))")
    nums = cal.shuffled_answer("[[1, 2], [3, 4]]", rng)
    assert isinstance(json.loads(nums), list)


@dataclasses.dataclass
class _ToyKnobs:
    n: int = 1


class _BrokenToy(LogicTask):
    """A toy whose level 1 generator fails and whose verifier accepts anything."""

    task_name = "zz_toy_broken"
    Knobs = _ToyKnobs
    level_table = {0: {"n": 0}, 1: {"n": 1}}
    levels = (0, 1)

    def make_puzzle(self, rng, knobs):
        if knobs.n:
            raise RuntimeError("cannot build")
        return {"x": 1}

    def prompt(self, puzzle):
        return "say anything"

    def check(self, puzzle, answer):
        return Score.ok()

    def solution_text(self, puzzle):
        return "1"


def test_calibrate_reports_failures_and_lenient_verifiers():
    _BrokenToy.name = "logic/zz_toy_broken"
    register("logic/zz_toy_broken", _BrokenToy)
    try:
        rows = cal.calibrate(["zz_toy_broken"], n=3)
    finally:
        unregister("logic/zz_toy_broken")
    assert rows[0].garbage_pass > 0.2 and rows[0].failures == 0
    assert rows[1].failures == 3 and rows[1].n == 0 and "cannot build" in rows[1].errors[0]
    table = cal.format_table(rows)
    assert "garbage answers pass" in table and "generation failure" in table


def test_calibrate_cli_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "cal.json"
    rc = main(["logic", "calibrate", "--tasks", "dyck_language_errors", "--levels", "0", "4", "--n", "3",
               "--quiet", "--out", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["token_rule"] == "ceil(chars/4)"
    assert [r["level"] for r in data["rows"]] == [0, 4]
    assert "dyck_language_errors" in capsys.readouterr().out
    md = tmp_path / "cal.md"
    assert main(["logic", "calibrate", "--tasks", "object_counting", "--levels", "1", "--n", "2",
                 "--quiet", "--out", str(md)]) == 0
    assert md.read_text().startswith("| task | level |")


def test_calibrate_cli_errors_name_the_fix(capsys):
    assert main(["logic", "calibrate", "--tasks", "no_such_puzzle", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unknown logic task 'no_such_puzzle'" in err and "dyck_language" in err
    assert main(["logic", "calibrate", "--tasks", "dyck_language", "--n", "0", "--quiet"]) == 2
    assert main(["logic", "calibrate", "--tasks", "dyck_language", "--out", "x.csv", "--quiet"]) == 2


# ---- SynLogic import ----------------------------------------------------------------------------

def _verl_row(task, prompt, answer=None, metadata=None, as_string=False):
    game = {"question": prompt, "answer": answer, "metadata": json.dumps(metadata or {})}
    extra = {"index": 0, "game_data_str": json.dumps(game)}
    return {"data_source": task, "prompt": [{"role": "user", "content": prompt}], "ability": "logic",
            "reward_model": {"ground_truth": json.dumps(game), "style": "rule"},
            "extra_info": json.dumps(extra) if as_string else extra}


#: (row, a correct response, a wrong response)
CASES = [
    (_verl_row("boolean_expressions", "Which are true? Put the letters in \\boxed{}.", "A,C"),
     "so \\boxed{C, A}", "<answer>A</answer>"),
    (_verl_row("dyck_language", "Complete ([])({})([(", None,
               {"full_sequence": "([])({})([()])", "question_sequence": "([])({})([("}),
     "<answer>([])({})([()])</answer>", "<answer>([])({})([()])()</answer>"),
    (_verl_row("dyck_language_errors", "First error in ([)]?", "3", {"is_valid": False, "first_error_pos": 3},
               as_string=True),
     "<answer>3</answer>", "<answer>-1</answer>"),
    (_verl_row("dyck_language_errors", "First error in ()?", "-1", {"is_valid": True}),
     "<answer>-1</answer>", "<answer>1</answer>"),
    (_verl_row("dyck_language_reasoning_errors", "Which thoughts are wrong?", "",
               {"error_indices": [10, 3], "n_errors": 2}),
     "<answer>3,10</answer>", "<answer>none</answer>"),
    (_verl_row("dyck_language_reasoning_errors", "Which thoughts are wrong?", "", {"error_indices": []}),
     "<answer>none</answer>", "<answer>3</answer>"),
    (_verl_row("goods_exchange", "Who owns what? Answer in a python block.", None,
               {"owns_after": "(('Alice','kite'),('Bob','vase'))"}),
     "<answer>(('Bob', 'vase'), ('Alice', 'kite'))</answer>", '<answer>{"Alice": "vase", "Bob": "kite"}</answer>'),
    ({"task": "object_counting", "prompt": "How many fruits? \\boxed{}", "extra_info": {"answer": "7"}},
     "\\boxed{7}", "\\boxed{8}"),
    (_verl_row("Object Properties", "How many red?", 3), "<answer>3</answer>", "<answer>4</answer>"),
    (_verl_row("SynLogic/word_sorting", "Sort: cherry apple banana", "apple, banana, cherry"),
     "<answer>apple, banana, cherry</answer>", "<answer>banana, apple, cherry</answer>"),
    (_verl_row("word_sorting_mistake", "First wrong step?", None), "<answer>No</answer>", "<answer>2</answer>"),
    (_verl_row("word_sorting_mistake", "First wrong step?", "4"), "\\boxed{4}", "<answer>No</answer>"),
]

SKIPPED = [
    _verl_row("no_such_game", "?", "1"),
    {"prompt": "no task key", "extra_info": {"answer": "1"}},
    _verl_row("object_counting", "How many?", "many"),
    "not an object",
]


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_import_maps_and_scores_every_group_a_task(tmp_path):
    src = _write_jsonl(tmp_path / "synlogic.jsonl", [c[0] for c in CASES] + SKIPPED)
    out = tmp_path / "tasks.jsonl"
    tasks, report = synlogic.import_synlogic(str(src), str(out))
    assert report.rows == len(CASES) + len(SKIPPED)
    assert len(tasks) == len(CASES)
    assert sum(report.skipped.values()) == len(SKIPPED)
    reasons = " | ".join(report.skipped)
    assert "unknown task 'no_such_game'" in reasons and "no task key" in reasons
    assert "object_counting: no gold answer" in reasons and "not a JSON object" in reasons
    lines = out.read_text().splitlines()
    assert len(lines) == len(CASES)
    from m1gym import Task

    for (row, good, bad), line in zip(CASES, lines):
        task = Task.from_json(line)
        assert task.meta["source"] == "synlogic" and task.meta["accept_boxed"] is True
        assert "<answer>" in task.prompt_text
        env = get_env(task.env)
        assert env.score(task, good).reward == 1.0, (task.env, good, env.score(task, good).reason)
        s = env.score(task, bad)
        assert s.reward == 0.0 and s.reason, (task.env, bad)
    # stable ids: importing twice gives the same tasks
    again, _ = synlogic.import_synlogic(str(src))
    assert [t.id for t in again] == [t.id for t in tasks]
    assert len({t.id for t in tasks}) == len(tasks)


def test_import_parquet_and_json_list(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [c[0] for c in CASES[:3]]
    flat = [{"data_source": r["data_source"], "prompt": r["prompt"],
             "extra_info": r["extra_info"] if isinstance(r["extra_info"], str) else json.dumps(r["extra_info"])}
            for r in rows]
    pq.write_table(pa.Table.from_pylist(flat), tmp_path / "d.parquet")
    tasks, report = synlogic.import_synlogic(str(tmp_path / "d.parquet"))
    assert len(tasks) == 3 and not report.skipped
    (tmp_path / "d.json").write_text(json.dumps(flat))
    tasks2, _ = synlogic.import_synlogic(str(tmp_path / "d.json"))
    assert [t.id for t in tasks2] == [t.id for t in tasks]


def test_import_selects_tasks_and_lists_mappings():
    rows = [c[0] for c in CASES]
    tasks, report = synlogic.import_rows(rows, tasks=["word_sorting"])
    assert {t.env for t in tasks} == {"logic/word_sorting"}
    assert report.skipped["task not selected (--tasks)"] == len(rows) - 1
    mapped = synlogic.mapped_tasks()
    for name in ("boolean_expressions", "dyck_language", "goods_exchange", "word_sorting_mistake"):
        assert name in mapped
    unmapped = [t for t in synlogic.SYNLOGIC_TASKS if t not in mapped]
    if unmapped:
        _, reason = synlogic.convert_row(_verl_row(unmapped[0], "?", "1"))
        assert "has no SynLogic mapping" in reason


def test_import_cli(tmp_path, capsys):
    src = _write_jsonl(tmp_path / "s.jsonl", [c[0] for c in CASES])
    out = tmp_path / "o.jsonl"
    assert main(["logic", "import-synlogic", str(src), "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == len(CASES)
    assert f"{len(CASES)} converted" in capsys.readouterr().out
    assert main(["logic", "import-synlogic", "--list"]) == 0
    assert "dyck_language" in capsys.readouterr().out
    assert main(["logic", "import-synlogic", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not json\n")
    assert main(["logic", "import-synlogic", str(bad), "--out", str(out)]) == 2
    assert "not a JSON line" in capsys.readouterr().err
    assert main(["logic", "import-synlogic", str(src)]) == 2
    assert "--out" in capsys.readouterr().err


# ---- benchmark smoke ----------------------------------------------------------------------------

def test_benchmark_prints_table_and_flags(capsys):
    spec = importlib.util.spec_from_file_location("bench_logic", ROOT / "benchmarks" / "logic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--tasks", "dyck_language", "word_sorting", "--seconds", "0.01"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["task", "level", "gen/s"]
    assert "logic/dyck_language" in out and "logic/word_sorting" in out
    assert ("every task meets both targets" in out) or ("MISSING TARGETS" in out)
    assert mod.main(["--tasks", "nope"]) == 2


SOLVER = r'''
import sys
text = sys.stdin.read()
seq = next(l for l in text.splitlines() if l.startswith("Sequence:"))[9:].split()
pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
stack, err = [], -1
for i, c in enumerate(seq, 1):
    if c in pairs:
        stack.append(c)
    elif not stack or pairs[stack.pop()] != c:
        err = i
        break
print(f"<think>scan</think><answer>{err}</answer>")
'''


def test_calibrate_scores_a_solver_command(tmp_path, capsys):
    import shlex
    import sys

    script = tmp_path / "solver.py"
    script.write_text(SOLVER)
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    rows = cal.calibrate(["dyck_language_errors"], levels=[0, 3], n=3, solver=cal.command_solver(cmd))
    assert [r.solver_pass for r in rows] == [1.0, 1.0]
    wrong = cal.calibrate(["dyck_language"], levels=[0], n=2,
                          solver=cal.command_solver(f"{shlex.quote(sys.executable)} -c \"print('<answer>x</answer>')\""))
    assert wrong[0].solver_pass == 0.0
    assert "solver" in cal.format_table(rows).splitlines()[0]
    assert main(["logic", "calibrate", "--tasks", "dyck_language_errors", "--levels", "1", "--n", "2",
                 "--quiet", "--solver", cmd]) == 0
    assert "solver" in capsys.readouterr().out
    assert main(["logic", "calibrate", "--tasks", "dyck_language", "--solver", "  ", "--quiet"]) == 2
