"""The main job over several seeds: does `m1gym train` learn, on every seed, by more than noise?

Runs `m1gym train` once per (variant, seed) in parallel processes (one torch thread each), then
prints, per variant and env of the mix, the held-out pass rate after SFT and after RL as
mean +- std over seeds, and for each seed whether RL's gain on that env exceeds two standard
errors of the held-out estimate (SE = sqrt(p (1 - p) / n), n = tasks x samples, the larger of
the before/after SEs). Issue 14's bar: mean gain >= 0.10 and every env above 2 SE on every seed.

    python benchmarks/main_job.py --seeds 0,1,2 --jobs 3
    python benchmarks/main_job.py --seeds 0,1,2 --jobs 12 \
        --variant '{"name": "lr2e-3", "set": ["trainer.lr=2.0e-3"]}' --variant '{"name": "base", "set": []}'

Each run's folder is OUT/<variant>/seed<k> (report.json, metrics.jsonl); the table also lands in
OUT/summary.json. SFT warm starts are cached per (config, seed) as `m1gym train` always does.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def run_one(out: Path, variant: dict, seed: int, config: str | None) -> dict:
    run_dir = out / variant["name"] / f"seed{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "m1gym.cli", "train", "--quiet", "--no-resume", "--seed", str(seed),
           "--run-dir", str(run_dir)]
    if config:
        cmd += ["--config", config]
    for item in variant.get("set", []):
        cmd += ["--set", item]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    (run_dir / "stdout.txt").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr[-20000:])
    if proc.returncode != 0:
        return {"variant": variant["name"], "seed": seed, "error": proc.stderr[-2000:]}
    report = json.loads((run_dir / "report.json").read_text())
    return {"variant": variant["name"], "seed": seed, "report": report, "wall_s": time.time() - t0}


def se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def summarize(results: list[dict], n_samples: int) -> dict:
    by_variant: dict[str, list[dict]] = {}
    for r in results:
        by_variant.setdefault(r["variant"], []).append(r)
    summary = {}
    for name, runs in by_variant.items():
        ok = [r for r in runs if "report" in r]
        for r in runs:
            if "error" in r:
                print(f"[{name} seed {r['seed']}] FAILED:\n{r['error']}")
        if not ok:
            continue
        envs = [k for k in ok[0]["report"]["before"] if k != "mean"] + ["mean"]
        rows = {}
        print(f"\n== {name}: {len(ok)} seeds, wall {np.mean([r['wall_s'] for r in ok]):.0f}s per run "
              f"(SFT {np.mean([r['report']['seconds']['sft'] for r in ok]):.0f}s, "
              f"RL {np.mean([r['report']['seconds']['rl'] for r in ok]):.0f}s)")
        print(f"{'env':<32} {'SFT':>13} {'SFT+RL':>13} {'gain':>13}  per-seed gain / 2SE")
        for env in envs:
            b = np.array([r["report"]["before"][env]["sampled"] for r in ok])
            a = np.array([r["report"]["after"][env]["sampled"] for r in ok])
            per_seed = []
            for bi, ai in zip(b, a):
                two_se = 2 * max(se(bi, n_samples), se(ai, n_samples))
                per_seed.append((float(ai - bi), two_se))
            rows[env] = {"before": b.tolist(), "after": a.tolist(), "per_seed": per_seed}
            cells = " ".join(f"{g:+.3f}{'>' if g > t else '<='}{t:.3f}" for g, t in per_seed) if env != "mean" else ""
            print(f"{env:<32} {b.mean():.3f}+-{b.std():.3f} {a.mean():.3f}+-{a.std():.3f} "
                  f"{(a - b).mean():+.3f}+-{(a - b).std():.3f}  {cells}")
        trunc = [r["report"]["after"]["mean"].get("truncated") for r in ok]
        events = [len(r["report"].get("collapse_events", [])) for r in ok]
        print(f"truncated after RL (mean over envs, per seed): {trunc}; collapse events per seed: {events}")
        summary[name] = rows
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--jobs", type=int, default=3, help="runs at a time (one core each)")
    ap.add_argument("--config", default=None, help="config file (default: m1gym train's default)")
    ap.add_argument("--variant", action="append", default=[], help='JSON: {"name": ..., "set": ["key=value", ...]}')
    ap.add_argument("--variants", help="a JSON file holding a list of variants (as --variant)")
    ap.add_argument("--out", default="runs/main_job")
    ap.add_argument("--eval-n", type=int, default=None,
                    help="held-out responses per env (default: eval.tasks_per_env x eval.samples of the config)")
    args = ap.parse_args()
    variants = [json.loads(v) for v in args.variant]
    if args.variants:
        variants += json.loads(Path(args.variants).read_text())
    variants = variants or [{"name": "default", "set": []}]
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    jobs = [(v, s) for v in variants for s in seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda vs: run_one(out, vs[0], vs[1], args.config), jobs))
    n = args.eval_n
    if n is None:
        from m1gym.trainer.config import load_config

        from m1gym.trainer.cli import DEFAULT_CONFIG

        cfg = load_config(args.config or DEFAULT_CONFIG)
        n = cfg.eval.tasks_per_env * cfg.eval.samples
    summary = summarize(results, n)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0 if all("report" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
