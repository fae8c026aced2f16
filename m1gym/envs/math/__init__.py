"""Math environments: ten procedural families (``math/<family>``) and ``math/dataset``.

Every answer is checked by ``m1gym.verifiers.math`` (math-verify + sympy in killable worker
processes). Families: arithmetic, fractions, percentages, linear, systems, quadratic, polynomial,
counting, number_theory, probability; each with levels 0-4 and a step-by-step reference solution.
"""

from .base import MathEnv, MathFamily, Problem, Retry, register_family
from . import algebra, arithmetic, dataset, discrete, equations, fractions, percentages  # noqa: F401  (register)
from .dataset import MathDataset, DatasetError

FAMILIES = ("arithmetic", "fractions", "percentages", "linear", "systems", "quadratic", "polynomial",
            "counting", "number_theory", "probability")

__all__ = ["MathEnv", "MathFamily", "MathDataset", "DatasetError", "Problem", "Retry", "register_family", "FAMILIES"]
