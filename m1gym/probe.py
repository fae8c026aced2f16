"""The universal-answer probe: does any constant response earn reward across many tasks?

A policy under RL finds an answer that scores on most tasks within a few hundred steps (``\\infty``
once scored 1 on 304 of 320 math tasks) and then learns nothing else. The probe scores a fixed list
of constant and degenerate responses against N tasks of an environment and reports, per constant,
the share of tasks it passes (reward 1) and its mean reward. An env fails the probe when any one
constant passes more than its chance level of the tasks, or earns more than that in mean reward
(partial-credit envs).

    from m1gym.probe import probe
    result = probe("math/linear", tasks)            # tasks: your dataset, or None to generate N
    print(result.text()); assert result.ok

The candidates come from ``env.probe_responses(task)`` (label -> response). The default
(``default_probe_responses``, in m1gym/probe_answers.py) is a fixed list of constants, plus
programs and patches for sandbox envs; an env overrides it to add its own degenerate answers, and
declares ``chance_level`` (default 5%) with a ``chance_reason`` when its answer space is small (a
yes/no task passes half the time by chance).
``m1gym envs check`` runs the probe on every env; ``m1gym envs probe ENV --tasks FILE`` runs it on a
dataset.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .core import Environment, Task
# the candidate list lives low so core's Environment.probe_responses can use it without a cycle
from .probe_answers import CONSTANT_ANSWERS, PATCHES, PROGRAMS, SANDBOX_TEXT, default_probe_responses  # noqa: F401

#: share of tasks one constant may pass before the probe fails (an env may declare its own)
DEFAULT_CHANCE_LEVEL = 0.05
#: tasks per env when the probe generates them
DEFAULT_TASKS = 20
#: threads scoring a sandbox env's tasks at once (rule envs use score_batch)
SANDBOX_WORKERS = 4


@dataclass
class ConstantResult:
    """One candidate over the probed tasks."""

    label: str
    tasks: int
    passes: int  # tasks where it earned reward >= 1
    mean_reward: float
    example: str = ""  # the reason of one passing verdict (or of the first verdict)

    @property
    def share(self) -> float:
        return self.passes / self.tasks if self.tasks else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "tasks": self.tasks, "passes": self.passes, "share": self.share,
                "mean_reward": self.mean_reward, "example": self.example}


@dataclass
class ProbeResult:
    env: str
    chance_level: float
    chance_reason: str
    rows: list[ConstantResult] = field(default_factory=list)

    def over(self) -> list[ConstantResult]:
        """The candidates that score above the chance level (by pass share or mean reward)."""
        return [r for r in self.rows if r.share > self.chance_level + 1e-12
                or r.mean_reward > self.chance_level + 1e-12]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.over()

    @property
    def tasks(self) -> int:
        return max((r.tasks for r in self.rows), default=0)

    def worst(self) -> ConstantResult | None:
        """The candidate with the highest pass share or mean reward (the first such on a tie)."""
        return max(self.rows, key=lambda r: max(r.share, r.mean_reward), default=None)

    def summary(self) -> str:
        """One line for `m1gym envs check`."""
        level = f"chance level {self.chance_level:.0%}"
        if not self.rows:
            return "no tasks probed"
        bad = self.over()
        if bad:
            shown = ", ".join(f"{r.label!r} passes {r.passes}/{r.tasks} (mean reward {r.mean_reward:.2f})"
                              for r in bad[:3])
            return f"{shown} > {level}"
        w = self.worst()
        assert w is not None
        if w.passes == 0 and w.mean_reward <= 0:
            return f"{len(self.rows)} constants x {self.tasks} tasks; none scores"
        return (f"{len(self.rows)} constants x {self.tasks} tasks; worst {w.label!r} passes "
                f"{w.passes}/{w.tasks}, mean reward {w.mean_reward:.2f} (<= {level})")

    def text(self) -> str:
        """The per-constant table."""
        width = max((len(r.label) for r in self.rows), default=8)
        lines = [f"{self.env}: {self.tasks} tasks, chance level {self.chance_level:.0%}"
                 + (f" ({self.chance_reason})" if self.chance_reason else "")]
        for r in sorted(self.rows, key=lambda r: (-max(r.share, r.mean_reward), r.label)):
            mark = "FAIL" if r in self.over() else "ok  "
            lines.append(f"{mark} {r.label:<{width}}  passes {r.passes:>4}/{r.tasks:<4} {r.share:6.1%}  "
                         f"mean reward {r.mean_reward:.3f}" + (f"  e.g. {r.example}" if r.passes else ""))
        lines.append("probe " + ("passes" if self.ok else "FAILS") + ": " + self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "ok": self.ok, "chance_level": self.chance_level,
                "chance_reason": self.chance_reason, "rows": [r.to_dict() for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


def probe_tasks(env: Environment, n: int = DEFAULT_TASKS, seed: int = 10_000) -> list[Task]:
    """n tasks spread over the env's levels (procedural), or up to n bundled examples."""
    if not env.procedural:
        return list(env.examples(n))
    levels = list(env.levels) or [None]
    return [env.generate(seed + i, levels[i % len(levels)]) for i in range(n)]


MOST_COMMON = "most common reference answer"


def _most_common_reference(env: Environment, tasks: Sequence[Task]) -> str | None:
    """The reference response shared by the most tasks (None when no two tasks share one)."""
    counts: dict[str, int] = {}
    for t in tasks:
        try:
            ref = env.reference(t)
        except Exception:  # an env without references still gets the fixed list
            return None
        if isinstance(ref, str):
            counts[ref] = counts.get(ref, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best and best[1] > 1 else None


def _env(env: Environment | str) -> Environment:
    if isinstance(env, str):
        from .registry import make

        return make(env)
    return env


def probe(env: Environment | str, tasks: Iterable[Task] | None = None, *, n: int = DEFAULT_TASKS,
          chance_level: float | None = None, mode_from: Iterable[Task] | None = None,
          workers: int | None = None) -> ProbeResult:
    """Score every candidate of ``env.probe_responses`` against the tasks (or n generated ones).

    A trainer calls this on a new dataset before training on it: a constant that passes more than
    the chance level of the tasks is a reward it would learn instead of the task. Besides the
    fixed list, the reference response most tasks share is tried on every task (a generator or
    dataset bias: "no solution" for a quarter of the puzzles). It is picked from ``mode_from``
    (other tasks, so a small sample does not pick its own coincidences) or else from the tasks.
    """
    env = _env(env)
    if workers is None:
        workers = SANDBOX_WORKERS if env.kind == "sandbox" else 1
    task_list: Sequence[Task] = list(tasks) if tasks is not None else probe_tasks(env, n)
    level = float(getattr(env, "chance_level", DEFAULT_CHANCE_LEVEL) if chance_level is None else chance_level)
    result = ProbeResult(env.name, level, str(getattr(env, "chance_reason", "") or ""))
    if not task_list:
        return result
    wrong = sorted({t.env for t in task_list if t.env != env.name})
    if wrong:
        raise ValueError(f"probe of {env.name}: tasks belong to {wrong}; probe each env with its own tasks")
    per_task = [env.probe_responses(t) for t in task_list]
    mode = _most_common_reference(env, list(mode_from) if mode_from is not None else task_list)
    if mode is not None:  # the answer most tasks share, given to every task (a generator's bias)
        for responses in per_task:
            responses[MOST_COMMON] = mode
    labels: list[str] = []
    for responses in per_task:  # first-seen order; a task may add its own labels
        labels.extend(k for k in responses if k not in labels)
    for label in labels:
        idx = [i for i, r in enumerate(per_task) if label in r]
        batch = [(task_list[i], per_task[i][label]) for i in idx]
        if workers > 1:  # sandbox envs wait on containers: score a label's tasks concurrently
            with ThreadPoolExecutor(workers) as pool:
                scores = list(pool.map(lambda tr: env.score(*tr), batch))
        else:
            scores = env.score_batch([t for t, _ in batch], [r for _, r in batch])
        passed = [s for s in scores if s.reward >= 1.0]
        example = (passed[0] if passed else scores[0]).reason[:120] if scores else ""
        mean = sum(s.reward for s in scores) / len(scores) if scores else 0.0
        result.rows.append(ConstantResult(label, len(scores), len(passed), mean, example))
    return result


__all__ = ["probe", "probe_tasks", "ProbeResult", "ConstantResult", "default_probe_responses",
           "CONSTANT_ANSWERS", "PROGRAMS", "PATCHES", "DEFAULT_CHANCE_LEVEL", "DEFAULT_TASKS"]
