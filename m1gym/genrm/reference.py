"""Pick a prompt's reference answer from candidates by Swiss rounds judged pairwise (both orders),
with a Bradley-Terry fit over every judged pair as a second opinion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .judges import Judge
from .scoring import PairwiseScorer
from .swiss import SwissResult, bradley_terry, swiss_tournament


@dataclass
class ReferencePick:
    index: int
    text: str
    tournament: SwissResult
    bt_strengths: list[float]
    bt_agrees: bool
    judge_failures: int


def select_reference(question: str, candidates: Sequence[str], judge: Judge, rounds: int | None = None) -> ReferencePick:
    if not candidates:
        raise ValueError("select_reference needs at least one candidate")
    scorer = PairwiseScorer(judge)
    failures = 0

    def match(a: int, b: int) -> float:
        nonlocal failures
        res = scorer.compare(question, candidates[a], candidates[b])  # a judged against b, both seats
        if res.score is None:
            failures += 1
            return 0.5  # a failed judgement decides nothing
        return {1: 1.0, 0: 0.5, -1: 0.0}[res.score]

    result = swiss_tournament(len(candidates), match, rounds)
    strengths = bradley_terry(len(candidates), result.games)
    best = result.winner
    bt_best = max(range(len(candidates)), key=strengths.__getitem__)
    return ReferencePick(best, candidates[best], result, strengths, bt_best == best, failures)
