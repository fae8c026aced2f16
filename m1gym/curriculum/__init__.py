"""Curriculum: phases and family weights, pass-rate filtering, difficulty control, length windows."""

from .config import CurriculumConfig, CurriculumConfigError, Source, curriculum_from_dict
from .controllers import LengthWindow, LevelController, PassRateTracker, keep_rate
from .scheduler import GroupResult, Scheduler

__all__ = ["CurriculumConfig", "CurriculumConfigError", "Source", "curriculum_from_dict", "LengthWindow",
           "LevelController", "PassRateTracker", "keep_rate", "GroupResult", "Scheduler"]
