"""The curriculum's three controllers: pass-rate tracking and filtering, per-env difficulty levels, and
staged output-length windows. Each is a small state machine fed with results, with a state dict."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .config import DifficultyConfig, PassFilterConfig, WindowConfig


class PassRateTracker:
    """Pass rates per task id and per (env, level); the keep rule is low < p < high (M1: 0 < p < 0.9)."""

    def __init__(self, cfg: PassFilterConfig):
        self.cfg = cfg
        self.tasks: dict[str, list[int]] = {}         # id -> [passes, attempts]
        self.levels: dict[str, list[int]] = {}        # "env@level" -> [passes, attempts]

    def record(self, task_id: str, env: str, level: int | None, correct: Iterable[bool]) -> None:
        c = list(correct)
        for table, key in ((self.tasks, task_id), (self.levels, f"{env}@{level}")):
            row = table.setdefault(key, [0, 0])
            row[0] += sum(bool(x) for x in c)
            row[1] += len(c)

    def pass_rate(self, task_id: str) -> float | None:
        row = self.tasks.get(task_id)
        return row[0] / row[1] if row and row[1] else None

    def keep(self, task_id: str) -> bool:
        """Unseen or rarely seen tasks are kept; seen ones only inside the band."""
        row = self.tasks.get(task_id)
        if not row or row[1] < self.cfg.min_samples:
            return True
        return keep_rate(row[0] / row[1], self.cfg)

    def level_table(self) -> dict[str, float]:
        return {k: p / n for k, (p, n) in sorted(self.levels.items()) if n}

    def state_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "levels": self.levels}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.tasks = {k: list(v) for k, v in state["tasks"].items()}
        self.levels = {k: list(v) for k, v in state["levels"].items()}


def keep_rate(p: float, cfg: PassFilterConfig) -> bool:
    return cfg.low < p < cfg.high


class LevelController:
    """Level up above ``up`` accuracy over a full window, down below ``down``, within [lo, hi]."""

    def __init__(self, cfg: DifficultyConfig, lo: int, hi: int, start: int | None = None):
        if lo > hi:
            raise ValueError(f"level bounds reversed: {lo} > {hi}")
        self.cfg, self.lo, self.hi = cfg, lo, hi
        self.level = lo if start is None else min(max(start, lo), hi)
        self.window: deque[bool] = deque(maxlen=cfg.window)
        self.changes: list[tuple[int, int]] = []      # (from, to)

    def record(self, correct: Iterable[bool]) -> int | None:
        """Feed answers at the current level; returns the new level when it changed."""
        for c in correct:
            self.window.append(bool(c))
            if len(self.window) < self.cfg.window:
                continue
            acc = sum(self.window) / len(self.window)
            new = self.level
            if acc > self.cfg.up and self.level < self.hi:
                new = self.level + 1
            elif acc < self.cfg.down and self.level > self.lo:
                new = self.level - 1
            if new != self.level:
                self.changes.append((self.level, new))
                self.level = new
                self.window.clear()  # accuracy at the old level says little about the new one
                return new
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"level": self.level, "window": list(self.window), "changes": self.changes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.level = state["level"]
        self.window = deque(state["window"], maxlen=self.cfg.window)
        self.changes = [tuple(c) for c in state["changes"]]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    f, c = math.floor(k), math.ceil(k)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


@dataclass
class LengthWindow:
    """Staged output-length windows (M1: 40K -> 48K -> ... -> 80K). Advance when the p99 response length
    reaches ``p99_ratio`` x window and the rolling perplexity of generated text has settled."""

    cfg: WindowConfig
    stage: int = 0
    p99s: deque = field(default_factory=deque)
    ppls: deque = field(default_factory=deque)
    advanced_at: list[int] = field(default_factory=list)

    @property
    def window(self) -> int:
        return self.cfg.stages[self.stage]

    @property
    def long_stage(self) -> bool:
        """In the second half of the stages (logic is down-weighted there)."""
        return len(self.cfg.stages) > 1 and self.stage >= len(self.cfg.stages) / 2

    def overlong_buffer(self) -> int:
        return max(1, int(self.window * self.cfg.overlong_buffer))

    def ppl_settled(self) -> bool:
        h = self.cfg.history
        if len(self.ppls) < h:
            return False
        recent = list(self.ppls)[-h:]
        half = h // 2
        a, b = sum(recent[:half]) / half, sum(recent[half:]) / (h - half)
        return abs(b - a) / max(abs(a), 1e-9) < self.cfg.ppl_tolerance

    def update(self, step: int, lengths: Sequence[int], perplexity: float | None) -> bool:
        """Feed one step's response lengths and generated-text perplexity; True when the window advanced."""
        self.p99s.append(percentile(lengths, 99))
        if perplexity is not None and math.isfinite(perplexity):
            self.ppls.append(perplexity)
        while len(self.p99s) > self.cfg.history:
            self.p99s.popleft()
        while len(self.ppls) > self.cfg.history:
            self.ppls.popleft()
        if self.stage + 1 >= len(self.cfg.stages):
            return False
        if self.p99s[-1] >= self.cfg.p99_ratio * self.window and self.ppl_settled():
            self.stage += 1
            self.advanced_at.append(step)
            self.ppls.clear()  # perplexity must settle again at the new length
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "p99s": list(self.p99s), "ppls": list(self.ppls), "advanced_at": self.advanced_at}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stage = state["stage"]
        self.p99s, self.ppls = deque(state["p99s"]), deque(state["ppls"])
        self.advanced_at = list(state["advanced_at"])
