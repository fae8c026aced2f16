"""``m1gym train``: SFT warm start, held-out evaluation, CISPO RL on the fixed mix, evaluation again,
and a report (``RUN_DIR/report.json`` and a printed table: pass rate per env before and after RL)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .config import Config


def format_report(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [f"{'held-out pass rate':<34} {'SFT':>7} {'SFT+RL':>7} {'delta':>7}   {'greedy SFT':>10} {'greedy RL':>9}"]
    for name in before:
        b, a = before[name], after.get(name, {})
        lines.append(f"{name:<34} {b.get('sampled', float('nan')):>7.3f} {a.get('sampled', float('nan')):>7.3f} "
                     f"{a.get('sampled', 0) - b.get('sampled', 0):>+7.3f}   {b.get('greedy', float('nan')):>10.3f} "
                     f"{a.get('greedy', float('nan')):>9.3f}")
    return "\n".join(lines)


def run_train(cfg: Config, progress: bool = True, log: Any = print, resume: bool = True) -> dict[str, Any]:
    from .rl import RLTrainer, evaluate, latest_checkpoint
    from .sft import run_sft

    t0 = time.perf_counter()
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    sft_dir = run_sft(cfg, progress=progress, log=log) if cfg.sft.steps > 0 else None
    t_sft = time.perf_counter() - t0
    report_path = run_dir / "report.json"
    before = None
    if report_path.exists() and resume:
        old = json.loads(report_path.read_text())
        before = old.get("before")
    trainer = RLTrainer(cfg, init_from=str(sft_dir) if sft_dir else None, resume=resume, progress=progress)
    try:  # the scorer's workers are closed on any error, the first evaluation's included
        if before is None:
            if trainer.resumed_from is not None and sft_dir is not None:
                from ..inference.model import load_model

                m0, tok0 = load_model(sft_dir)
                before = evaluate(cfg, m0, tok0, scorer=trainer.scorer)
            else:
                before = evaluate(cfg, trainer.model, trainer.tokenizer, scorer=trainer.scorer)
            report_path.write_text(json.dumps({"before": before}, indent=1))
        t_eval0 = time.perf_counter()
        last = trainer.train()
        t_rl = time.perf_counter() - t_eval0
        # scored like the run: its pool, its per-item timeout
        after = evaluate(cfg, trainer.model, trainer.tokenizer, scorer=trainer.scorer)
    finally:
        trainer.close()
    report = {"before": before, "after": after, "steps": trainer.step_idx, "sft_dir": str(sft_dir) if sft_dir else None,
              "seconds": {"sft": t_sft, "rl": t_rl, "total": time.perf_counter() - t0}, "last_step": last,
              "collapse_events": trainer.guard.events}
    report_path.write_text(json.dumps(report, indent=1, default=str))
    log("")
    log(format_report(before, after))
    for ev in trainer.guard.events:
        log(f"collapse at step {ev['step']}: {'; '.join(ev['reasons'])}"
            + (f" (rolled back to {ev['rollback']['checkpoint']})" if ev.get("rollback") else ""))
    log(f"\nwall time {report['seconds']['total']:.0f}s (SFT {t_sft:.0f}s, RL {t_rl:.0f}s); run folder {run_dir}")
    return report
