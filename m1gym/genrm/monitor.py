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
        # per-step summaries, so a step costs O(its responses) once and signals() is O(window)
        self._steps: deque[dict[str, float]] = deque(maxlen=self.config.window)
        self._streak = 0
        self._cooldown = 0
        self.events: list[LengthBiasEvent] = []
        self.last_signals: dict[str, float | None] = {}

    def add_hook(self, hook: Callable[[LengthBiasEvent], None]) -> None:
        self.hooks.append(hook)

    # ---- signals -----------------------------------------------------------------------------
    @staticmethod
    def summarize(groups: Sequence[Sequence[Sample]]) -> dict[str, float]:
        """One step's sufficient statistics, vectorised over groups (padded to the largest)."""
        groups = [g for g in groups if len(g)]
        if not groups:
            return {"n": 0.0}
        n = max(len(g) for g in groups)
        G = len(groups)
        R = np.zeros((G, n))
        L = np.zeros((G, n))
        C = np.full((G, n), -2, dtype=np.int8)  # -2 padding, -1 unknown, 0 wrong, 1 right
        for i, g in enumerate(groups):
            k = len(g)
            R[i, :k] = [s[0] for s in g]
            L[i, :k] = [s[1] for s in g]
            C[i, :k] = [-1 if s[2] is None else int(bool(s[2])) for s in g]
        valid = C > -2
        # pairs of equal correctness with different rewards and lengths: does the longer win?
        iu = np.triu_indices(n, 1)
        same = (C[:, :, None] == C[:, None, :])[:, iu[0], iu[1]] & valid[:, iu[0]] & valid[:, iu[1]]
        dr = (R[:, :, None] - R[:, None, :])[:, iu[0], iu[1]]
        dl = (L[:, :, None] - L[:, None, :])[:, iu[0], iu[1]]
        comparable = same & (dr != 0) & (dl != 0)
        wins = float(((np.sign(dr) == np.sign(dl)) & comparable).sum())
        pairs = float(comparable.sum())
        # within-subgroup (group x correctness) centred sums and correlations
        corr_sum = corr_n = sxy = sxx = 0.0
        for c in (-1, 0, 1):
            m = C == c
            cnt = m.sum(1)
            ok = cnt >= 2
            if not ok.any():
                continue
            mr = np.where(ok, (R * m).sum(1) / np.maximum(cnt, 1), 0)[:, None]
            ml = np.where(ok, (L * m).sum(1) / np.maximum(cnt, 1), 0)[:, None]
            x, y = (L - ml) * m, (R - mr) * m
            xy, xx, yy = (x * y).sum(1), (x * x).sum(1), (y * y).sum(1)
            sxy += float(xy[ok].sum())
            sxx += float(xx[ok].sum())
            has = (cnt >= 3) & (xx > 0) & (yy > 0)
            corr_sum += float((xy[has] / np.sqrt(xx[has] * yy[has])).sum())
            corr_n += float(has.sum())
        known = C >= 0
        return {"n": float(valid.sum()), "wins": wins, "pairs": pairs, "corr_sum": corr_sum, "corr_n": corr_n,
                "sxy": sxy, "sxx": sxx, "len": float(L[valid].mean()), "reward": float(R[valid].mean()),
                "success": float(C[known].mean()) if known.any() else float("nan")}

    def signals(self) -> dict[str, float | None]:
        cfg = self.config
        steps = [s for s in self._steps if s.get("n")]
        pairs = sum(s["pairs"] for s in steps)
        corr_n = sum(s["corr_n"] for s in steps)
        enough = pairs >= cfg.min_pairs
        out: dict[str, float | None] = {
            "corr": sum(s["corr_sum"] for s in steps) / corr_n if corr_n and enough else None,
            "p_longer": sum(s["wins"] for s in steps) / pairs if enough else None,
            "pairs": float(pairs),
        }
        if len(steps) >= 4:
            m = np.array([[s["len"], s["reward"], s["success"]] for s in steps])
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
            sxx = sum(s["sxx"] for s in steps)
            slope = sum(s["sxy"] for s in steps) / sxx if sxx > 0 else 0.0
            out["gain_share"] = float(np.clip(slope * dlen / gain, 0.0, 1.0)) if gain > 1e-9 else 0.0
        else:
            out.update(length_trend=None, reward_trend=None, success_trend=None, gain_share=None)
        return out

    # ---- feeding -----------------------------------------------------------------------------
    def update(self, step: int, groups: Sequence[Sequence[Sample]]) -> LengthBiasEvent | None:
        self._steps.append(self.summarize(groups))
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

    def state_dict(self) -> dict:
        """Everything needed to continue exactly (checkpointed with the trainer)."""
        return {"steps": list(self._steps), "streak": self._streak, "cooldown": self._cooldown,
                "events": [vars(e) for e in self.events], "last_signals": dict(self.last_signals)}

    def load_state_dict(self, state: dict) -> None:
        self._steps = deque(state["steps"], maxlen=self.config.window)
        self._streak, self._cooldown = state["streak"], state["cooldown"]
        self.events = [LengthBiasEvent(**e) for e in state["events"]]
        self.last_signals = dict(state["last_signals"])

    def metrics(self) -> dict[str, float]:
        return {f"length_bias/{k}": v for k, v in self.last_signals.items() if v is not None}
