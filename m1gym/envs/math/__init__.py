"""Math environments: procedural families (``math/<family>``) and ``math/dataset``.

Every answer is checked by ``m1gym.verifiers.math`` (math-verify + sympy in killable worker
processes). Families: arithmetic, fractions, percentages, linear, systems, quadratic, polynomial,
counting, number_theory, probability; each with levels 0-4 and a step-by-step reference solution.

Every module in this package except ``base`` registers environments (``ENV_MODULES``), as the
logic tasks do: a new family is one file holding a ``MathFamily`` subclass and ``register_family``
at its bottom (then ``python scripts/env_catalogue.py --write``). Importing this package imports
neither sympy nor a family; the names below are imported when first used.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

_HELPERS = {"base"}

#: the modules that register math envs (families and the dataset env)
ENV_MODULES = tuple(f"{__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
                    if m.name not in _HELPERS and not m.name.startswith("_"))

_EXPORTS = {"MathEnv": ".base", "MathFamily": ".base", "Problem": ".base", "Retry": ".base",
            "register_family": ".base", "MathDataset": ".dataset", "DatasetError": ".dataset"}

__all__ = ["MathEnv", "MathFamily", "MathDataset", "DatasetError", "Problem", "Retry", "register_family", "FAMILIES",
           "ENV_MODULES"]


def _families() -> tuple[str, ...]:
    """The family names of the built-in ``MathFamily`` envs, sorted (imports the family modules)."""
    from ...registry import list_envs
    from .base import MathFamily

    return tuple(sorted(s.name.split("/", 1)[1] for s in list_envs()
                        if s.entry_point.startswith(__name__ + ".") and isinstance(s.factory, type)
                        and issubclass(s.factory, MathFamily)))


def __getattr__(name: str) -> Any:
    if name == "FAMILIES":
        value: Any = _families()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
