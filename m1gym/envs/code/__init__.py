"""Competitive-programming environments ``code/<set>``, judged in the Docker sandbox.

Every problem set shipped under ``data/`` registers as ``code/<set>`` (``code/m1gym``: problems
written for this project). Datasets in common formats load with ``m1gym.envs.code.loaders``.
"""

from __future__ import annotations

from ...registry import register
from .env import CodeEnv, extract_code
from .judge import Judge, JudgeInputError, JudgeResult
from .problem import Problem, ProblemFormatError
from .problems import builtin_sets, load_builtin_set

__all__ = ["CodeEnv", "Judge", "JudgeResult", "JudgeInputError", "Problem", "ProblemFormatError", "extract_code",
           "load_builtin_set"]

for _set in builtin_sets():
    _levels = sorted({int(p.level) for p in load_builtin_set(_set)})
    if _levels:
        register(f"code/{_set}", CodeEnv, kind="sandbox", levels=_levels, problem_set=_set,
                 description=f"competitive programming: the {_set} problem set, judged in the Docker sandbox")
