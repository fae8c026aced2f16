"""Competitive-programming environments ``code/<set>``, judged in the Docker sandbox.

Every problem set shipped under ``data/`` registers as ``code/<set>`` (``code/m1gym``: problems
written for this project; the registration is at the bottom of env.py). Datasets in common formats
load with ``m1gym.envs.code.loaders``. Importing this package imports nothing else: the names
below are imported when first used.
"""

from __future__ import annotations

from ...lazy import lazy_exports

#: the modules that register code envs
ENV_MODULES = (f"{__name__}.env",)

_EXPORTS = {"CodeEnv": ".env", "extract_code": ".env", "Judge": ".judge", "JudgeResult": ".judge",
            "JudgeInputError": ".judge", "Problem": ".problem", "ProblemFormatError": ".problem",
            "builtin_sets": ".problems", "load_builtin_set": ".problems"}

__all__ = ["CodeEnv", "Judge", "JudgeResult", "JudgeInputError", "Problem", "ProblemFormatError", "extract_code",
           "load_builtin_set"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
