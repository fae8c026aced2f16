"""Offline pass-rate filter (M1, POLARIS): sample k answers per task with a model, keep the tasks whose
pass rate p satisfies low < p < high (default 0 < p < 0.9), write the kept set.

Tasks come from a JSONL file of Task objects (as printed by ``m1gym sample --json``) or are generated
from an env. Scoring goes through ``Environment.score``, like everywhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..core import Task, TaskFormatError
from ..registry import get_env
from .config import PassFilterConfig
from .controllers import keep_rate


@dataclass
class FilterReport:
    total: int = 0
    kept: int = 0
    too_easy: int = 0
    too_hard: int = 0
    pass_rates: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.total} tasks: kept {self.kept}, dropped {self.too_easy} too easy (p >= high) and "
                f"{self.too_hard} too hard (p <= low)")


def read_tasks(path: str | Path) -> list[Task]:
    tasks = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    tasks.append(Task.from_json(line))
                except TaskFormatError as exc:
                    raise TaskFormatError(f"{path}:{lineno}: {exc}") from None
    return tasks


def filter_tasks(tasks: Sequence[Task], responses: Sequence[Sequence[str]], cfg: PassFilterConfig) -> tuple[list[Task], FilterReport]:
    """Keep tasks whose pass rate over their responses lies strictly inside (low, high)."""
    report = FilterReport(total=len(tasks))
    kept = []
    for task, resp in zip(tasks, responses):
        env = get_env(task.env)
        scores = [env.score(task, r) for r in resp]
        p = sum(bool(s.correct) for s in scores) / max(1, len(scores))
        report.pass_rates[task.id] = p
        if keep_rate(p, cfg):
            kept.append(task)
        elif p >= cfg.high:
            report.too_easy += 1
        else:
            report.too_hard += 1
    report.kept = len(kept)
    return kept, report


def sample_responses(model_path: str, tasks: Sequence[Task], k: int, *, max_new_tokens: int = 64,
                     temperature: float = 1.0, seed: int = 0) -> list[list[str]]:
    """k sampled responses per task from a checkpoint, with the embedded engine."""
    from ..inference.model import load_model
    from ..inference.decode import local_engine
    from ..inference.rollout import SamplingParams

    model, tok = load_model(model_path)
    engine = local_engine(model, tok, "auto")
    prompts = [tok.prompt_ids(t.prompt) for t in tasks]
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=temperature)
    groups = engine.generate(prompts, k, params, seed=seed)
    return [[r.text for r in g] for g in groups]


def write_tasks(tasks: Iterable[Task], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for t in tasks:
            fh.write(t.to_json() + "\n")


def report_json(report: FilterReport) -> dict[str, Any]:
    return json.loads(json.dumps(report.__dict__))
