"""The default reaction to a length-bias event: switch the pairwise scorer to length-controlled
scoring, fitted on a probe set the hook re-judges, and record the raw vs length-controlled win rates.

Probe items are (question, candidate, reference). Adding padded copies of references as candidates
(the MT-Bench padding probe) makes the fit see pure-length differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .length_control import LCResult, length_controlled_win_rate
from .monitor import LengthBiasEvent
from .scoring import LengthCorrection, PairwiseScorer


def padded_probe(question: str, reference: str) -> tuple[str, str, str]:
    """A candidate that repeats the reference's content: longer, not better."""
    return question, reference + "\n\n" + reference, reference


@dataclass
class RecalibrationHook:
    scorer: PairwiseScorer
    probes: Sequence[tuple[str, str, str]]
    history: list[dict] = field(default_factory=list)

    def __call__(self, event: LengthBiasEvent) -> LCResult | None:
        outcomes, cand_lens, ref_lens = [], [], []
        for question, cand, ref in self.probes:
            res = self.scorer.compare(question, cand, ref)
            if res.score is None:
                continue
            outcomes.append((res.score + 1) / 2)
            cand_lens.append(len(cand))
            ref_lens.append(len(ref))
        if not outcomes:
            self.history.append({"step": event.step, "error": "no probe could be judged"})
            return None
        lc = length_controlled_win_rate(outcomes, cand_lens, ref_lens)
        scale = float(np.std(np.subtract(cand_lens, ref_lens))) or 1.0
        self.scorer.length_correction = LengthCorrection(lc.length_coef, scale)
        self.history.append({"step": event.step, "raw_win_rate": lc.raw_win_rate, "lc_win_rate": lc.lc_win_rate,
                             "length_coef": lc.length_coef, "probes": lc.n})
        return lc
