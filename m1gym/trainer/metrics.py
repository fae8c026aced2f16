"""Run metrics: one JSON object per step in ``metrics.jsonl`` plus TensorBoard events; PNG plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

#: fields that depend on wall-clock time (excluded when comparing runs for exact resume)
TIME_FIELDS = ("tokens_per_s", "time_step", "time_rollout", "time_scoring", "time_update", "wall")


class MetricsWriter:
    def __init__(self, run_dir: str | Path, resume_lines: int | None = None, start_step: int = 0,
                 tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / "metrics.jsonl"
        if resume_lines is not None and self.path.exists():
            # drop lines written after the checkpoint we resume from
            lines = self.path.read_text().splitlines()[:resume_lines]
            self.path.write_text("".join(line + "\n" for line in lines))
        elif resume_lines is None and self.path.exists():
            self.path.unlink()
        self.lines = len(self.path.read_text().splitlines()) if self.path.exists() else 0
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(self.run_dir / "tb"), purge_step=start_step or None)
            except Exception:  # tensorboard missing: JSONL still written
                self.tb = None

    def write(self, step: int, row: dict[str, Any]) -> None:
        row = {"step": step, **row}
        with self.path.open("a") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
        self.lines += 1
        if self.tb is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step" and math.isfinite(value):
                    self.tb.add_scalar(key, value, step)
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; give the run folder of `m1gym train` / `m1gym rl`")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


PLOT_GROUPS = {
    "reward": ["reward_mean", "pass_rate"],
    "length": ["len_mean", "len_p99"],
    "entropy": ["entropy"],
    "is_weights": ["clip_frac", "ratio_max"],
    "train_inference_corr": ["prob_corr"],
    "grad_norm": ["grad_norm"],
    "throughput": ["tokens_per_s"],
}


def plot_run(run_dir: str | Path) -> list[Path]:
    """PNG curves of a run's metrics into RUN_DIR/plots/; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run_dir)
    if not rows:
        raise ValueError(f"{run_dir}/metrics.jsonl has no rows yet")
    out_dir = Path(run_dir) / "plots"
    out_dir.mkdir(exist_ok=True)
    steps = [r["step"] for r in rows]
    written = []
    groups = dict(PLOT_GROUPS)
    per_env = sorted({k for r in rows for k in r if k.startswith("pass_rate/")})
    if per_env:
        groups["pass_rate_per_env"] = per_env
    for name, keys in groups.items():
        keys = [k for k in keys if any(k in r for r in rows)]
        if not keys:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for k in keys:
            xs = [s for s, r in zip(steps, rows) if isinstance(r.get(k), (int, float))]
            ys = [r[k] for r in rows if isinstance(r.get(k), (int, float))]
            ax.plot(xs, ys, label=k)
        ax.set_xlabel("step")
        ax.set_title(name)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written
