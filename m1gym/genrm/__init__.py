"""Generative reward model: judges, pairwise and five-grade scoring, Swiss rounds, length-bias monitor."""

from .judges import HTTPJudge, Judge, JudgeReply, JudgeUnavailable, TransformersJudge
from .length_control import LCResult, length_controlled_win_rate
from .monitor import LengthBiasEvent, LengthBiasMonitor, MonitorConfig
from .scoring import FiveGradeScorer, GradeResult, PairwiseResult, PairwiseScorer
from .swiss import SwissResult, bradley_terry, swiss_tournament
from .verdicts import VerdictParseError, parse_grade, parse_pairwise

__all__ = ["HTTPJudge", "Judge", "JudgeReply", "JudgeUnavailable", "TransformersJudge", "LCResult",
           "length_controlled_win_rate", "LengthBiasEvent", "LengthBiasMonitor", "MonitorConfig",
           "FiveGradeScorer", "GradeResult", "PairwiseResult", "PairwiseScorer", "SwissResult", "bradley_terry",
           "swiss_tournament", "VerdictParseError", "parse_grade", "parse_pairwise"]
