"""Loss ablation on the tiny setup: CISPO vs GRPO vs DAPO (the M1 report's Figure 2 at small scale).

For every seed, one SFT warm start (the config's `sft` section, cached as `m1gym train` caches it);
then for every (loss, seed) an RL run from that warm start with the SAME budget (trainer.steps,
tasks_per_step, group_size, updates_per_batch, lr: everything but `loss.name` comes from the
config). Every `--eval-every` steps the run measures the held-out sampled pass rate on a small fixed
held-out set (the same tasks and sampling seeds for every loss of a seed, so the comparison is
paired). Printed: per loss, mean and std over seeds of the curve, the final pass rate, and the steps
to reach a target pass rate; plus the ratio of CISPO's steps-to-target to DAPO's (M1: ~0.5).

    python benchmarks/ablation.py --quick                     # smoke check: 4 steps, 1 seed, 2 losses
    python benchmarks/ablation.py --jobs 16 --json benchmarks/results/ablation_tiny.json \
        --plot benchmarks/results/ablation_tiny.png           # the full ablation (3 seeds x 3 losses)

Why one warm start per seed (shared by the losses of that seed): the seed then varies everything a
real rerun would vary (initial weights, SFT data, RL tasks, sampling), so the std over seeds is an
honest spread, while within a seed all losses start from the same weights and are evaluated on the
same held-out tasks (a paired comparison). The extra SFT runs cost no wall time with enough cores.

Loss presets (`--no-loss-presets` turns them off): grpo uses per-response (`sample`) normalisation as
in the GRPO paper; dapo and cispo use token-level normalisation (the config's). Dynamic sampling and
the overlong settings are the config's for all losses.

Steps to target: the first step at which the seed-mean curve reaches the target, linearly
interpolated between evaluation points ("-" when never reached). Default target: the SFT start plus
90% of the best loss's final gain (`--target-frac`), or an absolute pass rate with `--target`. The
paper's own measure is also printed: steps to reach DAPO's final mean pass rate.

Each run is a separate single-threaded process (`--jobs` at once, default = CPU count); CPU only, no
network. Finished runs are reused when the script is rerun with the same settings and `--run-root`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_LOSSES = ("cispo", "grpo", "dapo")
KNOWN_LOSSES = ("cispo", "cispo_masked", "grpo", "dapo")
#: per-loss config overrides applied unless --no-loss-presets
LOSS_PRESETS = {"grpo": ["loss.norm=sample"]}
QUICK = {"steps": 4, "eval_every": 2, "seeds": [0], "losses": ["cispo", "dapo"], "eval_tasks": 6, "eval_samples": 2,
         "overrides": ["sft.steps=10", "sft.warmup_steps=2", "sft.batch_size=8", "trainer.tasks_per_step=4",
                       "rollout.group_size=4"]}


class UsageError(ValueError):
    """Bad command-line input; the message names the fix."""


# ---- arguments -------------------------------------------------------------------------------

def _int_list(text: str, flag: str) -> list[int]:
    out = []
    for part in text.replace(",", " ").split():
        if "-" in part[1:]:
            a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
            try:
                lo, hi = int(a), int(b)
            except ValueError:
                raise UsageError(f"{flag}: {part!r} is not a number or a range like 0-2") from None
            if hi < lo:
                raise UsageError(f"{flag}: range {part!r} is empty; write it low-high, e.g. 0-2")
            out.extend(range(lo, hi + 1))
        else:
            try:
                out.append(int(part))
            except ValueError:
                raise UsageError(f"{flag}: {part!r} is not a number; use e.g. --seeds 0,1,2 or --seeds 0-2") from None
    if not out:
        raise UsageError(f"{flag} is empty; give at least one, e.g. {flag} 0,1,2")
    if len(set(out)) != len(out):
        raise UsageError(f"{flag}: {text!r} repeats a value")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "configs" / "tiny.yaml"), help="base config (default configs/tiny.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="config override applied to every run, e.g. --set trainer.lr=1e-3 (repeatable)")
    p.add_argument("--losses", default=None, help=f"comma list of {'|'.join(KNOWN_LOSSES)} (default cispo,grpo,dapo)")
    p.add_argument("--seeds", default=None, help="comma list or range of seeds (default 0,1,2)")
    p.add_argument("--steps", type=int, default=None, help="RL steps per run (default: the config's trainer.steps)")
    p.add_argument("--eval-every", type=int, default=None, help="held-out evaluation every N steps (default 10)")
    p.add_argument("--eval-tasks", type=int, default=None, help="held-out tasks per mix entry per evaluation (default 40)")
    p.add_argument("--eval-samples", type=int, default=None, help="sampled responses per held-out task (default 4)")
    p.add_argument("--target", type=float, default=None, help="absolute target pass rate for steps-to-target")
    p.add_argument("--target-frac", type=float, default=0.9,
                   help="default target = start + FRAC x (best final mean - start) (default 0.9)")
    p.add_argument("--jobs", type=int, default=None, help="runs in parallel (default: CPU count)")
    p.add_argument("--run-root", default=None, help="folder of the runs (default runs/ablation, runs/ablation-quick with --quick)")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="write curves and summary as JSON")
    p.add_argument("--plot", default=None, metavar="OUT.png", help="write a PNG of the curves (matplotlib Agg)")
    p.add_argument("--no-loss-presets", action="store_true", help="use the config's loss settings for every loss")
    p.add_argument("--fresh", action="store_true", help="rerun runs that already finished under --run-root")
    p.add_argument("--quick", action="store_true",
                   help="smoke check: 4 steps, eval every 2, 1 seed, cispo+dapo, short SFT, tiny eval set")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return p


def resolve_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and fill defaults (--quick fills what was not given explicitly); raises UsageError."""
    args = build_parser().parse_args(argv)
    if args.worker:
        return args
    q = QUICK if args.quick else None
    losses = [x.strip() for x in args.losses.split(",") if x.strip()] if args.losses else list(q["losses"] if q else DEFAULT_LOSSES)
    for name in losses:
        if name not in KNOWN_LOSSES:
            raise UsageError(f"--losses: unknown loss {name!r}; choose from {', '.join(KNOWN_LOSSES)}")
    if len(set(losses)) != len(losses) or not losses:
        raise UsageError("--losses must name each loss once, e.g. --losses cispo,grpo,dapo")
    args.losses = losses
    args.seeds = _int_list(args.seeds, "--seeds") if args.seeds else list(q["seeds"] if q else [0, 1, 2])
    if args.steps is None and q:
        args.steps = q["steps"]
    if args.eval_every is None:
        args.eval_every = q["eval_every"] if q else 10
    if args.eval_tasks is None:
        args.eval_tasks = q["eval_tasks"] if q else 40
    if args.eval_samples is None:
        args.eval_samples = q["eval_samples"] if q else 4
    args.overrides = (list(q["overrides"]) if q else []) + list(args.overrides)
    for flag, value in (("--steps", args.steps), ("--eval-every", args.eval_every), ("--eval-tasks", args.eval_tasks),
                        ("--eval-samples", args.eval_samples), ("--jobs", args.jobs)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be >= 1, got {value}")
    if args.target is not None and not 0.0 <= args.target <= 1.0:
        raise UsageError(f"--target is a pass rate in [0, 1], got {args.target}")
    if not 0.0 < args.target_frac <= 1.0:
        raise UsageError(f"--target-frac must be in (0, 1], got {args.target_frac}")
    if args.jobs is None:
        args.jobs = os.cpu_count() or 1
    if args.run_root is None:
        args.run_root = str(ROOT / "runs" / ("ablation-quick" if args.quick else "ablation"))
    if args.plot and not args.plot.lower().endswith(".png"):
        raise UsageError(f"--plot writes a PNG; give a file name ending in .png, not {args.plot!r}")
    if not Path(args.config).exists():
        raise UsageError(f"--config {args.config} not found; use configs/tiny.yaml or your own YAML file")
    return args


# ---- the two kinds of worker (separate processes) --------------------------------------------

def _worker_config(spec: dict[str, Any]):
    from m1gym.trainer.config import load_config

    over = list(spec["overrides"]) + [f"seed={spec['seed']}", f"run_dir={spec['run_dir']}", "model.threads=1",
                                      "model.device=cpu", "trainer.plots=false", "trainer.checkpoint_every=0",
                                      "trainer.keep_checkpoints=1", "trainer.ray=false"]
    if spec.get("loss"):
        over.append(f"loss.name={spec['loss']}")
        over += spec.get("loss_overrides", [])
    if spec.get("steps"):
        over.append(f"trainer.steps={spec['steps']}")
    return load_config(spec["config"], over)


def _eval_config(cfg: Any, spec: dict[str, Any]):
    import copy

    ecfg = copy.deepcopy(cfg)
    ecfg.eval.tasks_per_env = spec["eval_tasks"]
    ecfg.eval.samples = spec["eval_samples"]
    ecfg.eval.greedy = False
    return ecfg


def _eval_row(ev: dict[str, Any]) -> dict[str, Any]:
    return {"pass": ev["mean"]["sampled"], "format_ok": ev["mean"].get("format_ok"),
            "per_env": {k: v["sampled"] for k, v in ev.items() if k != "mean"}}


def worker_main(spec_path: str) -> int:
    import torch

    torch.set_num_threads(1)
    spec = json.loads(Path(spec_path).read_text())
    from m1gym.trainer.rl import RLTrainer, evaluate

    cfg = _worker_config(spec)
    ecfg = _eval_config(cfg, spec)
    t0 = time.perf_counter()
    if spec["kind"] == "sft":
        from m1gym.inference.model import load_model
        from m1gym.trainer.sft import run_sft

        sft_dir = run_sft(cfg, progress=False) if cfg.sft.steps > 0 else None
        if sft_dir is not None:
            model, tok = load_model(sft_dir)
        else:
            from m1gym.inference.model import build_model

            model, tok = build_model(cfg.model.preset, seed=cfg.seed)
        t1 = time.perf_counter()
        start = _eval_row(evaluate(ecfg, model, tok))
        result = {"sft_dir": str(sft_dir) if sft_dir else None, "start": start,
                  "seconds": {"sft": t1 - t0, "eval": time.perf_counter() - t1}}
    else:
        trainer = RLTrainer(cfg, init_from=spec["sft_dir"], resume=False, progress=False)
        curve = [{"step": 0, **spec["start"]}]
        train_pass, t_eval = [], 0.0
        try:
            while trainer.step_idx < cfg.trainer.steps:
                row = trainer.step()
                train_pass.append(row["pass_rate"])
                s = trainer.step_idx
                if s % spec["eval_every"] == 0 or s == cfg.trainer.steps:
                    te = time.perf_counter()
                    curve.append({"step": s, **_eval_row(evaluate(ecfg, trainer.model, trainer.tokenizer,
                                                                   scorer=trainer.scorer))})
                    t_eval += time.perf_counter() - te
                    print(f"step {s}: held-out pass {curve[-1]['pass']:.3f}", flush=True)
            trainer.metrics.close()
        finally:
            trainer.close()
        result = {"curve": curve, "train_pass": train_pass,
                  "seconds": {"total": time.perf_counter() - t0, "eval": t_eval}}
    result["spec"] = spec
    out = Path(spec["run_dir"]) / "result.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, out)
    return 0


# ---- the driver ------------------------------------------------------------------------------

def _spec_key(spec: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in spec.items() if k not in ("sft_dir", "start")}, sort_keys=True)


class Job:
    def __init__(self, name: str, spec: dict[str, Any], deps: Sequence["Job"] = ()):
        self.name, self.spec, self.deps = name, spec, list(deps)
        self.proc: subprocess.Popen | None = None
        self.result: dict[str, Any] | None = None
        self.failed = False
        self.t0 = 0.0

    @property
    def run_dir(self) -> Path:
        return Path(self.spec["run_dir"])

    def cached(self) -> dict[str, Any] | None:
        path = self.run_dir / "result.json"
        if not path.exists():
            return None
        try:
            res = json.loads(path.read_text())
        except ValueError:
            return None
        return res if _spec_key(res.get("spec", {})) == _spec_key(self.spec) else None


def plan_jobs(args: argparse.Namespace) -> tuple[dict[int, Job], dict[tuple[str, int], Job]]:
    root = Path(args.run_root).resolve()
    base = {"config": str(Path(args.config).resolve()), "overrides": args.overrides, "eval_tasks": args.eval_tasks,
            "eval_samples": args.eval_samples, "eval_every": args.eval_every, "steps": args.steps}
    sft = {s: Job(f"sft seed {s}", {**base, "kind": "sft", "seed": s, "run_dir": str(root / f"sft-seed{s}"),
                                    "steps": None, "eval_every": None}) for s in args.seeds}
    rl = {}
    for loss in args.losses:
        for s in args.seeds:
            pre = [] if args.no_loss_presets else LOSS_PRESETS.get(loss, [])
            rl[(loss, s)] = Job(f"{loss} seed {s}", {**base, "kind": "rl", "seed": s, "loss": loss, "loss_overrides": pre,
                                                     "run_dir": str(root / f"{loss}-seed{s}")}, deps=[sft[s]])
    return sft, rl


def run_jobs(jobs: Sequence[Job], n_parallel: int, fresh: bool = False, log: Any = print) -> None:
    pending = list(jobs)
    running: list[Job] = []
    for job in jobs:
        if not fresh and (res := job.cached()) is not None:
            job.result = res
            pending.remove(job)
            log(f"  reuse {job.name} ({job.run_dir})")
    while pending or running:
        for job in list(running):
            rc = job.proc.poll()
            if rc is None:
                continue
            running.remove(job)
            res = job.cached() if rc == 0 else None
            if res is None:
                job.failed = True
                log(f"  FAILED {job.name} (exit {rc}); see {job.run_dir / 'log.txt'}")
            else:
                job.result = res
                log(f"  done   {job.name} in {time.perf_counter() - job.t0:.0f}s")
        for job in list(pending):
            if any(d.failed for d in job.deps):
                job.failed = True
                pending.remove(job)
                log(f"  skip   {job.name}: a run it depends on failed")
                continue
            if len(running) >= n_parallel or any(d.result is None for d in job.deps):
                continue
            if job.deps:
                job.spec["sft_dir"] = job.deps[0].result["sft_dir"]
                job.spec["start"] = job.deps[0].result["start"]
            job.run_dir.mkdir(parents=True, exist_ok=True)
            if job.spec["kind"] == "rl":  # never continue a half-finished run with other settings
                import shutil

                shutil.rmtree(job.run_dir / "checkpoints", ignore_errors=True)
                (job.run_dir / "metrics.jsonl").unlink(missing_ok=True)
            spec_path = job.run_dir / "spec.json"
            spec_path.write_text(json.dumps(job.spec, indent=1))
            env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                   "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "CUDA_VISIBLE_DEVICES": ""}
            with open(job.run_dir / "log.txt", "w") as fh:
                job.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)],
                                            stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT))
            job.t0 = time.perf_counter()
            pending.remove(job)
            running.append(job)
            log(f"  start  {job.name}")
        if running:
            time.sleep(0.5)


# ---- summary ---------------------------------------------------------------------------------

def _mean_std(xs: Sequence[float]) -> tuple[float, float]:
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    return m, sd


def steps_to_target(steps: Sequence[int], values: Sequence[float], target: float) -> float | None:
    """First step where the curve reaches target, linearly interpolated between points; None if never."""
    for i, (s, v) in enumerate(zip(steps, values)):
        if v >= target:
            if i == 0:
                return float(s)
            s0, v0 = steps[i - 1], values[i - 1]
            return float(s0 + (s - s0) * (target - v0) / (v - v0))
    return None


def summarise(curves: dict[str, dict[int, list[dict[str, Any]]]], target: float | None = None,
              target_frac: float = 0.9) -> dict[str, Any]:
    """curves[loss][seed] = [{"step", "pass"}, ...] -> per-loss mean/std curves, finals, steps to target."""
    per_loss: dict[str, Any] = {}
    starts = []
    for loss, by_seed in curves.items():
        steps = sorted(set.intersection(*[{p["step"] for p in c} for c in by_seed.values()]))
        vals = {s: {p["step"]: p["pass"] for p in c} for s, c in by_seed.items()}
        mean, std = zip(*[_mean_std([vals[s][st] for s in vals]) for st in steps])
        per_loss[loss] = {"steps": steps, "mean": list(mean), "std": list(std), "seeds": sorted(by_seed),
                          "final_mean": mean[-1], "final_std": std[-1], "per_seed": vals}
        starts.append(mean[0])
    start = sum(starts) / len(starts)
    best = max(v["final_mean"] for v in per_loss.values())
    if target is None:
        target = start + target_frac * (best - start)
        how = f"start {start:.3f} + {target_frac:g} x (best final {best:.3f} - start)"
    else:
        how = "given (--target)"
    dapo_final = per_loss["dapo"]["final_mean"] if "dapo" in per_loss else None
    for loss, v in per_loss.items():
        v["steps_to_target"] = steps_to_target(v["steps"], v["mean"], target)
        reached = [steps_to_target(v["steps"], [v["per_seed"][s][st] for st in v["steps"]], target) for s in v["seeds"]]
        v["seeds_reaching_target"] = sum(r is not None for r in reached)
        v["steps_to_target_per_seed"] = reached
        v["steps_to_dapo_final"] = (steps_to_target(v["steps"], v["mean"], dapo_final)
                                    if dapo_final is not None else None)
    ratio = ratio_paper = None
    if "cispo" in per_loss and "dapo" in per_loss:
        c, d = per_loss["cispo"]["steps_to_target"], per_loss["dapo"]["steps_to_target"]
        ratio = c / d if c is not None and d else None
        c2, d2 = per_loss["cispo"]["steps_to_dapo_final"], per_loss["dapo"]["steps_to_dapo_final"]
        ratio_paper = c2 / d2 if c2 is not None and d2 else None
    return {"target": target, "target_rule": how, "start_mean": start, "dapo_final": dapo_final, "losses": per_loss,
            "cispo_over_dapo_steps_to_target": ratio, "cispo_over_dapo_steps_to_dapo_final": ratio_paper}


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def format_tables(summary: dict[str, Any]) -> str:
    losses = summary["losses"]
    lines = []
    all_steps = sorted({st for v in losses.values() for st in v["steps"]})
    head = f"{'step':>6} " + " ".join(f"{loss:>15}" for loss in losses)
    lines += ["held-out sampled pass rate, mean +- std over seeds", head, "-" * len(head)]
    for st in all_steps:
        cells = []
        for v in losses.values():
            if st in v["steps"]:
                i = v["steps"].index(st)
                cells.append(f"{v['mean'][i]:.3f} +- {v['std'][i]:.3f}".rjust(15))
            else:
                cells.append(" " * 15)
        lines.append(f"{st:>6} " + " ".join(cells))
    lines.append("")
    head2 = (f"{'loss':<13} {'seeds':>5} {'final':>7} {'std':>6} {'gain':>7} {'steps to target':>16} "
             f"{'seeds reaching':>14} {'steps to DAPO final':>20}")
    lines += [f"target pass rate {summary['target']:.3f} ({summary['target_rule']})", head2, "-" * len(head2)]
    for loss, v in losses.items():
        n = len(v["seeds"])
        lines.append(f"{loss:<13} {n:>5} {v['final_mean']:>7.3f} {v['final_std']:>6.3f} "
                     f"{v['final_mean'] - v['mean'][0]:>+7.3f} {_fmt(v['steps_to_target']):>16} "
                     f"{str(v['seeds_reaching_target']) + '/' + str(n):>14} {_fmt(v['steps_to_dapo_final']):>20}")
    if summary["target"] <= summary["start_mean"] + 1e-9:
        lines.append("note: no loss rose above the SFT start, so steps to target says nothing; run more steps")
    if summary.get("dapo_final") is not None and "cispo" in losses:
        lines.append("")
        lines.append(f"CISPO / DAPO steps to target:      {_fmt(summary['cispo_over_dapo_steps_to_target'], '.2f')}"
                     f"   (M1 Figure 2: ~0.5)")
        lines.append(f"CISPO / DAPO steps to DAPO final:  {_fmt(summary['cispo_over_dapo_steps_to_dapo_final'], '.2f')}"
                     f"   (DAPO final {summary['dapo_final']:.3f})")
    return "\n".join(lines)


def write_plot(summary: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for loss, v in summary["losses"].items():
        m, s = v["mean"], v["std"]
        ax.plot(v["steps"], m, marker="o", ms=3, label=f"{loss} (n={len(v['seeds'])})")
        ax.fill_between(v["steps"], [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)], alpha=0.2)
    ax.axhline(summary["target"], color="grey", ls="--", lw=1, label=f"target {summary['target']:.3f}")
    ax.set_xlabel("RL step")
    ax.set_ylabel("held-out sampled pass rate")
    ax.set_title("Loss ablation (tiny setup), mean +- std over seeds")
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = resolve_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.worker:
        return worker_main(args.worker)
    try:  # reject a bad config (or override) before starting any process
        from m1gym.trainer.config import ConfigError, load_config

        cfg = load_config(args.config, args.overrides + (["trainer.steps=%d" % args.steps] if args.steps else []))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    steps = cfg.trainer.steps
    args.steps = steps
    sft, rl = plan_jobs(args)
    n_runs = len(rl)
    print(f"ablation: losses {','.join(args.losses)} x seeds {','.join(map(str, args.seeds))} = {n_runs} RL runs "
          f"of {steps} steps ({cfg.trainer.tasks_per_step} tasks x G={cfg.rollout.group_size}, "
          f"{cfg.trainer.updates_per_batch} updates/batch), {len(sft)} warm starts; eval every {args.eval_every} "
          f"steps on {args.eval_tasks} tasks x {len(cfg.mix)} envs x {args.eval_samples} samples; "
          f"{args.jobs} parallel jobs; runs in {args.run_root}")
    t0 = time.perf_counter()
    run_jobs(list(sft.values()) + list(rl.values()), args.jobs, fresh=args.fresh)
    wall = time.perf_counter() - t0
    failed = [j.name for j in list(sft.values()) + list(rl.values()) if j.result is None]
    curves: dict[str, dict[int, list]] = {}
    for (loss, seed), job in rl.items():
        if job.result is not None:
            curves.setdefault(loss, {})[seed] = job.result["curve"]
    if not curves:
        print(f"error: every run failed ({', '.join(failed)}); see the log.txt files under {args.run_root}",
              file=sys.stderr)
        return 1
    summary = summarise(curves, target=args.target, target_frac=args.target_frac)
    print()
    print(format_tables(summary))
    print(f"\nwall time {wall:.0f}s with {args.jobs} jobs")
    if failed:
        print(f"FAILED runs (left out of the table): {', '.join(failed)}; see their log.txt under {args.run_root}")
    if args.json_out:
        out = {"command": "python benchmarks/ablation.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "settings": {"config": args.config, "overrides": args.overrides, "losses": args.losses,
                            "seeds": args.seeds, "steps": steps, "eval_every": args.eval_every,
                            "eval_tasks": args.eval_tasks, "eval_samples": args.eval_samples, "jobs": args.jobs,
                            "loss_presets": {} if args.no_loss_presets else LOSS_PRESETS},
               "wall_seconds": wall, "failed": failed, "summary": summary,
               "train_pass": {f"{loss}-seed{s}": j.result["train_pass"] for (loss, s), j in rl.items() if j.result}}
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json_out}")
    if args.plot:
        write_plot(summary, args.plot)
        print(f"wrote {args.plot}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
