"""benchmarks/ablation.py: argument parsing, steps-to-target, the summary table and the job scheduler's
reuse of finished runs. No training runs here."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ab():
    spec = importlib.util.spec_from_file_location("m1gym_bench_ablation", ROOT / "benchmarks" / "ablation.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_defaults_and_quick(ab, tmp_path):
    a = ab.resolve_args([])
    assert a.losses == ["cispo", "grpo", "dapo"] and a.seeds == [0, 1, 2]
    assert a.steps is None and a.eval_every == 10 and a.jobs >= 1
    assert a.config.endswith("configs/tiny.yaml")
    q = ab.resolve_args(["--quick", "--jobs", "3"])
    assert q.steps == 4 and q.seeds == [0] and q.losses == ["cispo", "dapo"] and q.jobs == 3
    assert any(o.startswith("sft.steps=") for o in q.overrides)
    # explicit flags win over --quick
    q2 = ab.resolve_args(["--quick", "--steps", "6", "--seeds", "0-2", "--losses", "grpo", "--set", "trainer.lr=1e-3"])
    assert q2.steps == 6 and q2.seeds == [0, 1, 2] and q2.losses == ["grpo"]
    assert q2.overrides[-1] == "trainer.lr=1e-3"
    assert ab.resolve_args(["--seeds", "3,5 7"]).seeds == [3, 5, 7]


@pytest.mark.parametrize("argv, words", [
    (["--losses", "cispo,ppo"], ["ppo", "cispo, cispo_masked, grpo, dapo"]),
    (["--losses", "dapo,dapo"], ["once"]),
    (["--seeds", "a"], ["--seeds", "0,1,2"]),
    (["--seeds", "3-1"], ["empty"]),
    (["--seeds", "1,1"], ["repeats"]),
    (["--steps", "0"], ["--steps", ">= 1"]),
    (["--eval-every", "0"], ["--eval-every"]),
    (["--target", "1.5"], ["--target", "[0, 1]"]),
    (["--target-frac", "0"], ["--target-frac"]),
    (["--plot", "out.pdf"], [".png"]),
    (["--config", "nope.yaml"], ["nope.yaml", "configs/tiny.yaml"]),
])
def test_bad_args_name_the_fix(ab, argv, words):
    with pytest.raises(ab.UsageError) as exc:
        ab.resolve_args(argv)
    for w in words:
        assert w in str(exc.value)


def test_main_rejects_bad_input_before_any_run(ab, tmp_path, capsys):
    root = tmp_path / "runs"
    assert ab.main(["--losses", "ppo", "--run-root", str(root)]) == 2
    assert "unknown loss 'ppo'" in capsys.readouterr().err
    assert ab.main(["--set", "trainer.stepz=3", "--run-root", str(root)]) == 2
    assert "trainer.stepz" in capsys.readouterr().err
    assert not root.exists()


def test_steps_to_target_interpolates(ab):
    steps, vals = [0, 10, 20, 30], [0.1, 0.2, 0.4, 0.3]
    assert ab.steps_to_target(steps, vals, 0.3) == pytest.approx(15.0)
    assert ab.steps_to_target(steps, vals, 0.2) == pytest.approx(10.0)
    assert ab.steps_to_target(steps, vals, 0.05) == 0.0
    assert ab.steps_to_target(steps, vals, 0.5) is None


def _curve(values, every=10):
    return [{"step": i * every, "pass": v} for i, v in enumerate(values)]


def test_summary_and_table(ab, tmp_path):
    curves = {
        "cispo": {0: _curve([0.10, 0.30, 0.40]), 1: _curve([0.10, 0.20, 0.40])},
        "dapo": {0: _curve([0.10, 0.15, 0.30]), 1: _curve([0.10, 0.15, 0.30])},
        "grpo": {0: _curve([0.10, 0.10, 0.12]), 1: _curve([0.10, 0.12, 0.10])},
    }
    s = ab.summarise(curves, target_frac=0.5)
    c, d, g = (s["losses"][k] for k in ("cispo", "dapo", "grpo"))
    assert c["mean"] == pytest.approx([0.10, 0.25, 0.40]) and c["std"][1] == pytest.approx(0.0707, abs=1e-3)
    assert s["target"] == pytest.approx(0.25)  # 0.1 + 0.5 * (0.4 - 0.1)
    assert c["steps_to_target"] == pytest.approx(10.0)
    assert d["steps_to_target"] == pytest.approx(10 + 10 * (0.25 - 0.15) / 0.15)
    assert g["steps_to_target"] is None and g["seeds_reaching_target"] == 0
    assert s["cispo_over_dapo_steps_to_target"] == pytest.approx(10.0 / d["steps_to_target"])
    # the paper's measure: steps to DAPO's final score (0.30): cispo at 13.33, dapo at 20
    assert s["cispo_over_dapo_steps_to_dapo_final"] == pytest.approx((10 + 10 * 0.05 / 0.15) / 20)
    table = ab.format_tables(s)
    assert "0.250 +- 0.071" in table
    lines = {ln.split()[0]: ln for ln in table.splitlines() if ln.split() and ln.split()[0] in curves}
    assert lines["grpo"].split()[5] == "-" and lines["grpo"].split()[6] == "0/2"
    assert "CISPO / DAPO steps to target:      0.60" in table
    abs_s = ab.summarise(curves, target=0.35)
    assert abs_s["losses"]["dapo"]["steps_to_target"] is None and abs_s["cispo_over_dapo_steps_to_target"] is None
    json.dumps(s)  # JSON-serialisable
    ab.write_plot(s, str(tmp_path / "curves.png"))
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_flat_curves_warn(ab):
    s = ab.summarise({"cispo": {0: _curve([0.0, 0.0])}, "dapo": {0: _curve([0.0, 0.0])}})
    assert "no loss rose above the SFT start" in ab.format_tables(s)


def test_plan_and_reuse_of_finished_runs(ab, tmp_path):
    args = ab.resolve_args(["--quick", "--run-root", str(tmp_path), "--losses", "grpo,dapo", "--seeds", "0,1"])
    args.steps = 4
    sft, rl = ab.plan_jobs(args)
    assert set(sft) == {0, 1} and set(rl) == {(l, s) for l in ("grpo", "dapo") for s in (0, 1)}
    assert rl[("grpo", 1)].deps == [sft[1]]
    assert rl[("grpo", 0)].spec["loss_overrides"] == ["loss.norm=sample"] and rl[("dapo", 0)].spec["loss_overrides"] == []
    # pretend every run finished: the scheduler reuses them and starts no process
    for job in list(sft.values()) + list(rl.values()):
        job.run_dir.mkdir(parents=True)
        res = {"spec": job.spec, "sft_dir": "x", "start": {"pass": 0.1}, "curve": _curve([0.1, 0.2], 2)}
        (job.run_dir / "result.json").write_text(json.dumps(res))
    logs = []
    ab.run_jobs(list(sft.values()) + list(rl.values()), 2, log=logs.append)
    assert all(l.strip().startswith("reuse") for l in logs) and len(logs) == 6
    assert all(j.result is not None and j.proc is None for j in rl.values())
    # other settings: a finished run no longer matches and would be rerun
    rl[("dapo", 0)].spec["steps"] = 8
    assert rl[("dapo", 0)].cached() is None
