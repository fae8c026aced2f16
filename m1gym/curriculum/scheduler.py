"""The curriculum scheduler: which tasks go into each batch.

1. Phases (M1): rule-verified families only until ``general.start_step``; then general tasks are
   ramped in, their share growing linearly to ``general.max_share``. The ramp holds while the GenRM
   length-bias monitor has fired within the last ramp period (``note_bias_event``).
2. Family weights adapt online: each rule-verified family is sampled in proportion to its base weight
   times (1 - its recent success), with a floor, so solved families fade and struggling ones get
   practice (Kimi's rule). Logic is down-weighted in the long-window stages.
3. Procedural envs draw at the level their controller holds (up above 0.7 accuracy, down below 0.3);
   dataset envs cycle through their tasks. Tasks whose pass rate left the band 0 < p < 0.9 are skipped.
4. Length windows advance in stages; the trainer's overlong penalty follows ``overlong()``.

The scheduler is deterministic given its seed, and its full state is a JSON-able dict saved with the
trainer's checkpoints.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..core import Task
from ..registry import get_env
from .config import CurriculumConfig
from .controllers import LengthWindow, LevelController, PassRateTracker

MAX_FILTER_RETRIES = 20


@dataclass
class GroupResult:
    """The scored responses of one task."""

    task: Task
    correct: Sequence[bool]
    rewards: Sequence[float] = ()
    lengths: Sequence[int] = ()


@dataclass
class StepEvents:
    level_changes: dict[str, tuple[int, int]] = field(default_factory=dict)
    window_advanced: bool = False
    window: int = 0


class Scheduler:
    def __init__(self, cfg: CurriculumConfig, seed: int = 0):
        self.cfg = cfg
        self.rng = random.Random(seed)
        self.envs = {s.env: get_env(s.env) for s in cfg.sources}
        self.sources = {s.env: s for s in cfg.sources}
        self.controllers: dict[str, LevelController] = {}
        for s in cfg.sources:
            env = self.envs[s.env]
            if env.procedural and env.levels:
                lo = min(env.levels) if s.min_level is None else s.min_level
                hi = max(env.levels) if s.max_level is None else s.max_level
                self.controllers[s.env] = LevelController(cfg.difficulty, lo, hi, s.start_level)
        self.tracker = PassRateTracker(cfg.pass_filter)
        self.window = LengthWindow(cfg.windows)
        self.family_success: dict[str, deque] = {}
        self.position: dict[str, int] = {s.env: 0 for s in cfg.sources}  # next seed / dataset index
        self._datasets: dict[str, list[Task]] = {}
        self.step = 0
        self.general_share = 0.0
        self.last_bias_step: int | None = None
        self.skipped = 0

    # ---- weights -------------------------------------------------------------------------------
    @property
    def families(self) -> list[str]:
        return sorted({s.family for s in self.cfg.sources})

    @property
    def phase(self) -> str:
        return "rule-only" if self.general_share == 0 else "mixed"

    def success(self, family: str) -> float | None:
        d = self.family_success.get(family)
        return sum(d) / len(d) if d else None

    def family_weights(self) -> dict[str, float]:
        rule = [f for f in self.families if f != "general"]
        if not rule:
            return {"general": 1.0}  # a general-only curriculum
        raw = {}
        for f in rule:
            w = self.cfg.family_weights.get(f, 0.0)
            if self.cfg.adaptive:
                s = self.success(f)
                w *= max(self.cfg.weight_floor, 1.0 - s) if s is not None else 1.0
            if f == "logic" and self.window.long_stage:
                w *= self.cfg.windows.logic_long_window_factor
            raw[f] = w
        total = sum(raw.values()) or 1.0
        has_general = "general" in self.families
        share = self.general_share if has_general else 0.0
        out = {f: (1 - share) * w / total for f, w in raw.items()}
        if has_general:
            out["general"] = share
        return out

    def _advance_general_ramp(self) -> None:
        g = self.cfg.general
        if "general" not in self.families or self.step < g.start_step:
            return
        held = (g.hold_on_bias and self.last_bias_step is not None
                and self.step - self.last_bias_step < max(1, g.ramp_steps))
        if not held:
            self.general_share = min(g.max_share, self.general_share + g.max_share / max(1, g.ramp_steps))

    def note_bias_event(self, step: int) -> None:
        """Called when the length-bias monitor fires: the general ramp holds for one ramp period."""
        self.last_bias_step = step

    # ---- drawing tasks -------------------------------------------------------------------------
    def _dataset(self, env_name: str) -> list[Task]:
        if env_name not in self._datasets:
            self._datasets[env_name] = list(self.envs[env_name].examples(10_000))
            if not self._datasets[env_name]:
                raise ValueError(f"curriculum source {env_name} has no tasks")
        return self._datasets[env_name]

    def _draw(self, env_name: str) -> Task:
        env = self.envs[env_name]
        pos = self.position[env_name]
        self.position[env_name] = pos + 1
        if env.procedural:
            ctl = self.controllers.get(env_name)
            return env.generate(pos, ctl.level if ctl else None)
        data = self._dataset(env_name)
        return data[pos % len(data)]

    def _choose_source(self) -> str:
        weights = self.family_weights()
        fams = [f for f in weights if weights[f] > 0]
        fam = self.rng.choices(fams, [weights[f] for f in fams])[0]
        srcs = [s for s in self.cfg.sources if s.family == fam]
        return self.rng.choices([s.env for s in srcs], [s.weight for s in srcs])[0]

    def next_batch(self, n: int) -> list[Task]:
        tasks = []
        for _ in range(n):
            task = None
            for _ in range(MAX_FILTER_RETRIES):
                # a fresh source choice per retry: a source whose tasks are all filtered out (say,
                # a fixed problem set the model never solves) does not hold the draw hostage
                task = self._draw(self._choose_source())
                if self.tracker.keep(task.id):
                    break
                self.skipped += 1
            tasks.append(task)  # after the retries, the last draw stands (never an empty batch)
        return tasks

    # ---- feedback ------------------------------------------------------------------------------
    def record(self, results: Sequence[GroupResult]) -> dict[str, tuple[int, int]]:
        """Feed scored groups; returns level changes {env: (old, new)}."""
        changes = {}
        for r in results:
            src = self.sources.get(r.task.env)
            if src is None:
                continue
            level = r.task.meta.get("level")
            self.tracker.record(r.task.id, r.task.env, level, r.correct)
            fam = self.family_success.setdefault(src.family, deque(maxlen=self.cfg.success_window))
            fam.extend(bool(c) for c in r.correct)
            ctl = self.controllers.get(r.task.env)
            if ctl is not None and level == ctl.level:
                old = ctl.level
                if ctl.record(r.correct) is not None:
                    changes[r.task.env] = (old, ctl.level)
        return changes

    def end_step(self, lengths: Sequence[int], perplexity: float | None) -> StepEvents:
        """Close a training step: window stages, the general ramp."""
        advanced = self.window.update(self.step, lengths, perplexity)
        self.step += 1
        self._advance_general_ramp()
        return StepEvents(window_advanced=advanced, window=self.window.window)

    def overlong(self) -> tuple[int, int]:
        """(max response length, soft-penalty buffer) for the current window."""
        return self.window.window, self.window.overlong_buffer()

    def metrics(self) -> dict[str, float]:
        m: dict[str, float] = {"curriculum/window": self.window.window, "curriculum/general_share": self.general_share,
                               "curriculum/skipped": self.skipped}
        for f, w in self.family_weights().items():
            m[f"curriculum/weight/{f}"] = w
            s = self.success(f)
            if s is not None:
                m[f"curriculum/success/{f}"] = s
        for env, ctl in self.controllers.items():
            m[f"curriculum/level/{env}"] = ctl.level
        return m

    # ---- checkpointing -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = self.rng.getstate()
        return {
            "rng": [state[0], list(state[1]), state[2]],
            "controllers": {k: c.state_dict() for k, c in self.controllers.items()},
            "tracker": self.tracker.state_dict(), "window": self.window.state_dict(),
            "family_success": {k: list(v) for k, v in self.family_success.items()},
            "position": dict(self.position), "step": self.step, "general_share": self.general_share,
            "last_bias_step": self.last_bias_step, "skipped": self.skipped,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        v, internal, gauss = state["rng"]
        self.rng.setstate((v, tuple(internal), gauss))
        for k, c in state["controllers"].items():
            if k in self.controllers:
                self.controllers[k].load_state_dict(c)
        self.tracker.load_state_dict(state["tracker"])
        self.window.load_state_dict(state["window"])
        self.family_success = {k: deque(v, maxlen=self.cfg.success_window) for k, v in state["family_success"].items()}
        self.position.update(state["position"])
        self.step, self.general_share = state["step"], state["general_share"]
        self.last_bias_step, self.skipped = state["last_bias_step"], state["skipped"]
