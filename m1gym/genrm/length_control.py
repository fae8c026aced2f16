"""Length-controlled win rate (in the spirit of AlpacaEval's LC): a logistic regression of the verdict
on tanh of the normalised length difference, read off at zero difference. Ties are half wins."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class LCResult:
    raw_win_rate: float
    lc_win_rate: float
    length_coef: float
    n: int

    @property
    def gap(self) -> float:
        """Raw minus LC, in points; AlpacaEval warns above 10."""
        return 100 * (self.raw_win_rate - self.lc_win_rate)


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 50) -> np.ndarray:
    X = np.column_stack([np.ones_like(x), x])
    w = np.zeros(2)
    for _ in range(iters):  # Newton / IRLS with a small ridge for separable data
        p = 1 / (1 + np.exp(-(X @ w)))
        grad = X.T @ (p - y) + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def length_controlled_win_rate(outcomes: Sequence[float], cand_lengths: Sequence[float],
                               ref_lengths: Sequence[float]) -> LCResult:
    y = np.asarray(outcomes, dtype=float)
    if len(y) == 0:
        raise ValueError("no judged pairs")
    diff = np.asarray(cand_lengths, dtype=float) - np.asarray(ref_lengths, dtype=float)
    scale = diff.std() or 1.0
    w = _fit(np.tanh(diff / scale), y)
    return LCResult(raw_win_rate=float(y.mean()), lc_win_rate=float(1 / (1 + math.exp(-w[0]))),
                    length_coef=float(w[1]), n=len(y))
