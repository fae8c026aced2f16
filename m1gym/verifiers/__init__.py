"""Pure checking functions. Nothing here knows about environments."""

from .extract import answer_region, extract_answer, last_boxed
from .format import FormatCheck, check_format
from .math import MathVerdict, check_math, check_math_batch

__all__ = ["answer_region", "extract_answer", "last_boxed", "check_format", "FormatCheck", "MathVerdict",
           "check_math", "check_math_batch"]
