"""Online length-bias monitoring: is the policy farming the judge's taste for longer answers?

Fed once per training step with the scored groups (reward, length, rule-verified correctness when
known), the monitor keeps a rolling window of steps and computes the signals of REFERENCE.md:

- ``corr``: mean within-group Pearson correlation of reward with length, among responses of equal
  correctness (so real quality differences do not count as bias);
- ``p_longer``: over pairs in a group with equal correctness and different rewards, the share where the
  longer response got the higher reward (0.5 = no preference; humans sit near 0.64);
- ``length_trend`` / ``reward_trend`` / ``success_trend``: per-step slopes over the window, relative to
  the window's mean (length and GenRM reward rising while rule-verified success stays flat is the
  classic hacking pattern);
- ``gain_share``: share of the reward gain between the window's halves explained by the length change
  through a pooled within-group reward~length regression (hacked RLHF runs: 70-90%).

An event fires when (corr > corr_threshold and p_longer > p_longer_threshold) for ``patience``
consecutive updates, or when the trend pattern holds with gain_share > gain_share_threshold. Hooks
(e.g. the GenRM's recalibration: switch to length-controlled scoring and re-judge a probe set) run on
each event; a cooldown of one window follows. All signals are returned as metrics every step.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

#: one response: (reward, length in tokens, correct or None)
Sample = tuple[float, float, "bool | None"]


@dataclass
class MonitorConfig:
    window: int = 20               # steps kept
    min_pairs: int = 20            # fewer comparable pairs -> signals are None (too little evidence)
    corr_threshold: float = 0.3
    p_longer_threshold: float = 0.7   # AlpacaEval's bar for judges
    gain_share_threshold: float = 0.6
    trend_threshold: float = 0.01  # relative slope per step that counts as rising
    patience: int = 3


@dataclass
class LengthBiasEvent:
    step: int
    triggered: list[str]
    signals: dict[str, float | None]
    evidence: str


@dataclass
class LengthBiasMonitor:
    config: MonitorConfig = field(default_factory=MonitorConfig)
    hooks: list[Callable[[LengthBiasEvent], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._steps: deque[list[list[Sample]]] = deque(maxlen=self.config.window)
        self._streak = 0
        self._cooldown = 0
        self.events: list[LengthBiasEvent] = []
        self.last_signals: dict[str, float | None] = {}

    def add_hook(self, hook: Callable[[LengthBiasEvent], None]) -> None:
        self.hooks.append(hook)

    # ---- signals -----------------------------------------------------------------------------
    def _equal_correctness_subgroups(self):
        for step in self._steps:
            for group in step:
                by: dict = {}
                for r, l, c in group:
                    by.setdefault(c, []).append((r, l))
                yield from by.values()

    def signals(self) -> dict[str, float | None]:
        cfg = self.config
        corrs, wins, pairs = [], 0, 0
        xs, ys = [], []
        for sub in self._equal_correctness_subgroups():
            if len(sub) < 2:
                continue
            r = np.array([s[0] for s in sub], dtype=float)
            l = np.array([s[1] for s in sub], dtype=float)
            xs.extend(l - l.mean())
            ys.extend(r - r.mean())
            if len(sub) >= 3 and r.std() > 0 and l.std() > 0:
                corrs.append(float(np.corrcoef(r, l)[0, 1]))
            for (r1, l1), (r2, l2) in itertools.combinations(sub, 2):
                if r1 != r2 and l1 != l2:
                    pairs += 1
                    wins += (r1 > r2) == (l1 > l2)
        out: dict[str, float | None] = {
            "corr": float(np.mean(corrs)) if corrs and pairs >= cfg.min_pairs else None,
            "p_longer": wins / pairs if pairs >= cfg.min_pairs else None,
            "pairs": float(pairs),
        }
        # trends over steps
        means = []
        for step in self._steps:
            flat = [s for g in step for s in g]
            if flat:
                succ = [float(c) for _, _, c in flat if c is not None]
                means.append((np.mean([s[1] for s in flat]), np.mean([s[0] for s in flat]),
                              np.mean(succ) if succ else np.nan))
        if len(means) >= 4:
            m = np.array(means)
            t = np.arange(len(m), dtype=float)

            def rel_slope(col):
                v = m[:, col]
                if np.isnan(v).any():
                    return None
                scale = abs(v.mean()) or 1.0
                return float(np.polyfit(t, v, 1)[0] / scale)

            out["length_trend"], out["reward_trend"], out["success_trend"] = rel_slope(0), rel_slope(1), rel_slope(2)
            half = len(m) // 2
            gain = m[half:, 1].mean() - m[:half, 1].mean()
            dlen = m[half:, 0].mean() - m[:half, 0].mean()
            x, y = np.array(xs), np.array(ys)
            slope = float((x @ y) / (x @ x)) if len(x) and x @ x > 0 else 0.0
            out["gain_share"] = float(np.clip(slope * dlen / gain, 0.0, 1.0)) if gain > 1e-9 else 0.0
        else:
            out.update(length_trend=None, reward_trend=None, success_trend=None, gain_share=None)
        return out

    # ---- feeding -----------------------------------------------------------------------------
    def update(self, step: int, groups: Sequence[Sequence[Sample]]) -> LengthBiasEvent | None:
        self._steps.append([list(g) for g in groups])
        cfg = self.config
        sig = self.signals()
        self.last_signals = sig
        triggered = []
        corr, pl = sig.get("corr"), sig.get("p_longer")
        if corr is not None and pl is not None and corr > cfg.corr_threshold and pl > cfg.p_longer_threshold:
            self._streak += 1
        else:
            self._streak = 0
        if self._streak >= cfg.patience:
            triggered.append("reward_follows_length")
        lt, rt, st, gs = (sig.get(k) for k in ("length_trend", "reward_trend", "success_trend", "gain_share"))
        if (lt is not None and rt is not None and gs is not None and lt > cfg.trend_threshold
                and rt > cfg.trend_threshold and (st is None or st <= cfg.trend_threshold / 2)
                and gs > cfg.gain_share_threshold):
            triggered.append("length_gain_without_success")
        if self._cooldown > 0:
            self._cooldown -= 1
            return None
        if not triggered:
            return None
        fmt = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in sig.items()}
        event = LengthBiasEvent(step, triggered, sig, f"length bias at step {step}: {', '.join(triggered)}; {fmt}")
        self.events.append(event)
        self._cooldown = cfg.window
        self._streak = 0
        for hook in self.hooks:
            hook(event)
        return event

    def metrics(self) -> dict[str, float]:
        return {f"length_bias/{k}": v for k, v in self.last_signals.items() if v is not None}
