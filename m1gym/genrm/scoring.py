"""Pairwise scoring against a reference (both orders judged) and five-grade scoring against ground truth.

Pairwise (M1's general tasks): the candidate is judged once as A and once as B. It scores 1 when both
orders prefer it, -1 when both prefer the reference, and 0 for ties and for inconsistent orders
(position bias), which are counted. Verdict tokens' probabilities, when the judge returns log-probs,
give a soft score in [-1, 1] beside the hard one.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from .judges import Judge, JudgeReply, JudgeUnavailable
from .templates import FIVE_GRADE_V1, PAIRWISE_V1, Template
from .verdicts import (PAIRWISE_TOKENS, VerdictParseError, grade_to_reward, parse_grade, parse_pairwise,
                       verdict_probabilities)


@dataclass
class JudgeStats:
    """Counters shared by all scoring calls of one scorer (thread-safe)."""

    calls: int = 0
    parse_failures: int = 0
    unavailable: int = 0
    inconsistent: int = 0
    pairs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            d = {k: getattr(self, k) for k in ("calls", "parse_failures", "unavailable", "inconsistent", "pairs")}
        d["inconsistency_rate"] = d["inconsistent"] / d["pairs"] if d["pairs"] else 0.0
        return d


@dataclass
class PairwiseResult:
    score: int | None          # 1 better, 0 similar / inconsistent, -1 worse; None when the judge failed
    consistent: bool
    verdicts: tuple[str | None, str | None]
    soft: float | None = None  # from verdict-token probabilities, when available
    error: str | None = None
    template: str = PAIRWISE_V1.id
    length_controlled: float | None = None  # score with the fitted length preference removed


@dataclass(frozen=True)
class LengthCorrection:
    """A fitted length preference (LC regression coefficient on tanh(length difference / scale))."""

    coef: float
    scale: float

    def adjust(self, score: float, cand_len: int, ref_len: int) -> float:
        """Remove the length term from a pairwise score in [-1, 1] (as a win probability in logit space)."""
        p = min(max((score + 1) / 2, 0.02), 0.98)
        logit = math.log(p / (1 - p)) - self.coef * math.tanh((cand_len - ref_len) / self.scale)
        return 2 / (1 + math.exp(-logit)) - 1


@dataclass
class GradeResult:
    grade: int | None
    reward: float | None
    soft_reward: float | None = None
    error: str | None = None
    template: str = FIVE_GRADE_V1.id


def _verdict_token_probs(reply: JudgeReply, tokens: tuple[str, ...]) -> dict[str, float] | None:
    if not reply.logprobs:
        return None
    for entry in reversed(reply.logprobs):  # the verdict is at the end of the output
        if entry.token.strip() in tokens:
            return verdict_probabilities(entry.top or {entry.token: entry.logprob}, tokens)
    return None


class PairwiseScorer:
    def __init__(self, judge: Judge, template: Template = PAIRWISE_V1, *, use_logprobs: bool = False,
                 max_tokens: int = 512):
        self.judge, self.template, self.use_logprobs, self.max_tokens = judge, template, use_logprobs, max_tokens
        self.stats = JudgeStats()
        self.length_correction: LengthCorrection | None = None  # set by the recalibration hook

    def _ask(self, question: str, a: str, b: str) -> tuple[str | None, dict | None, str | None]:
        self.stats.bump(calls=1)
        try:
            reply = self.judge.complete(self.template.messages(question=question, a=a, b=b),
                                        max_tokens=self.max_tokens, logprobs=self.use_logprobs)
        except JudgeUnavailable as exc:
            self.stats.bump(unavailable=1)
            return None, None, str(exc)
        try:
            verdict = parse_pairwise(reply.text)
        except VerdictParseError as exc:
            self.stats.bump(parse_failures=1)
            return None, None, f"unparseable verdict: {exc}"
        return verdict, _verdict_token_probs(reply, PAIRWISE_TOKENS), None

    def compare(self, question: str, candidate: str, reference: str) -> PairwiseResult:
        v1, p1, e1 = self._ask(question, candidate, reference)   # candidate in seat A
        v2, p2, e2 = self._ask(question, reference, candidate)   # candidate in seat B
        if e1 or e2:
            return PairwiseResult(None, False, (v1, v2), error=e1 or e2, template=self.template.id)
        self.stats.bump(pairs=1)
        cand1 = {"A": 1, "B": -1, "TIE": 0}[v1]
        cand2 = {"B": 1, "A": -1, "TIE": 0}[v2]
        consistent = cand1 == cand2
        if not consistent:
            self.stats.bump(inconsistent=1)
        soft = None
        if p1 and p2:
            soft = ((p1["A"] - p1["B"]) + (p2["B"] - p2["A"])) / 2
        score = cand1 if consistent else 0
        lc = None
        if self.length_correction is not None:
            lc = self.length_correction.adjust(soft if soft is not None else score, len(candidate), len(reference))
        return PairwiseResult(score, consistent, (v1, v2), soft, template=self.template.id, length_controlled=lc)


class FiveGradeScorer:
    def __init__(self, judge: Judge, template: Template = FIVE_GRADE_V1, *, use_logprobs: bool = False,
                 max_tokens: int = 512):
        self.judge, self.template, self.use_logprobs, self.max_tokens = judge, template, use_logprobs, max_tokens
        self.stats = JudgeStats()

    def grade(self, question: str, response: str, reference: str) -> GradeResult:
        self.stats.bump(calls=1)
        try:
            reply = self.judge.complete(self.template.messages(question=question, response=response,
                                                               reference=reference),
                                        max_tokens=self.max_tokens, logprobs=self.use_logprobs)
        except JudgeUnavailable as exc:
            self.stats.bump(unavailable=1)
            return GradeResult(None, None, error=str(exc), template=self.template.id)
        try:
            g = parse_grade(reply.text)
        except VerdictParseError as exc:
            self.stats.bump(parse_failures=1)
            return GradeResult(None, None, error=f"unparseable verdict: {exc}", template=self.template.id)
        soft = None
        probs = _verdict_token_probs(reply, tuple("12345"))
        if probs:
            soft = grade_to_reward(sum(int(k) * v for k, v in probs.items()))
        return GradeResult(g, grade_to_reward(g), soft, template=self.template.id)


def result_details(result: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(result).items() if v is not None}
