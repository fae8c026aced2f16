"""The stability guard: notices when an RL run breaks, while it breaks.

None of the reference trainers ships one; runs there collapse silently and the table at the end
hides it (issue 14: a tiny run whose responses all became ``<answer>3</answer></answer>...`` up to
the length cap). Each step the guard reads the step's health metrics (format rate, entropy,
truncation rate) and compares the mean of the last ``recent`` steps with the mean of the
``window`` steps before them. A ``collapse`` event fires when

* the format rate falls below ``format_drop`` x its reference (default: halves),
* the entropy rises above ``entropy_rise`` x its reference (doubles: the policy is walking away) or
  falls below ``entropy_collapse`` x it (collapses onto one response), by at least
  ``entropy_min_change`` nats: a sharp policy's entropy of a few hundredths doubles or quarters
  from sampling noise alone,
* the truncation rate rises by more than ``truncation_jump`` (responses run into the cap).

The trainer writes the event into the step's metrics and the run's report and, when
``guard.rollback`` is on, reloads the newest checkpoint from before the degradation with the
learning rate cut.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

WATCHED = ("format_rate", "entropy", "truncation_rate")


class StabilityGuard:
    def __init__(self, cfg: Any):
        self.cfg = cfg
        self.history: deque[dict[str, float]] = deque(maxlen=cfg.window + cfg.recent)
        self.events: list[dict[str, Any]] = []

    def _mean(self, rows: list[dict[str, float]], key: str) -> float | None:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return float(np.mean(vals)) if vals else None

    def update(self, step: int, row: dict[str, Any]) -> dict[str, Any] | None:
        """Feed one step's metrics; returns the event (also kept in ``events``) or None."""
        if not self.cfg.enabled:
            return None
        self.history.append({k: (float(row[k]) if row.get(k) is not None else None) for k in WATCHED})
        if len(self.history) < self.history.maxlen:
            return None
        rows = list(self.history)
        ref_rows, now_rows = rows[:self.cfg.window], rows[self.cfg.window:]
        ref = {k: self._mean(ref_rows, k) for k in WATCHED}
        now = {k: self._mean(now_rows, k) for k in WATCHED}
        reasons = []
        c = self.cfg
        if ref["format_rate"] and now["format_rate"] is not None and now["format_rate"] < c.format_drop * ref["format_rate"]:
            reasons.append(f"format rate {ref['format_rate']:.2f} -> {now['format_rate']:.2f}")
        if ref["entropy"] and now["entropy"] is not None and abs(now["entropy"] - ref["entropy"]) >= c.entropy_min_change:
            if now["entropy"] > c.entropy_rise * ref["entropy"]:
                reasons.append(f"entropy rose {ref['entropy']:.3f} -> {now['entropy']:.3f}")
            elif now["entropy"] < c.entropy_collapse * ref["entropy"]:
                reasons.append(f"entropy collapsed {ref['entropy']:.3f} -> {now['entropy']:.3f}")
        if ref["truncation_rate"] is not None and now["truncation_rate"] is not None \
                and now["truncation_rate"] - ref["truncation_rate"] > c.truncation_jump:
            reasons.append(f"truncation rate {ref['truncation_rate']:.2f} -> {now['truncation_rate']:.2f}")
        if not reasons:
            return None
        # the degradation began at most `recent` steps ago: a rollback goes to before that
        event = {"step": step, "reasons": reasons, "good_before": step - c.recent + 1}
        self.events.append(event)
        self.history.clear()  # judge the run afresh after an event (no event per step of one collapse)
        return event

    def state_dict(self) -> dict[str, Any]:
        return {"history": list(self.history), "events": list(self.events)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history.clear()
        self.history.extend(state["history"])
        self.events = list(state["events"])
