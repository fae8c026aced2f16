"""Problem sets shipped as package data: ``data/<set>/<problem>/``.

Each problem directory holds ``problem.json`` (the fields of ``Problem`` except code), and the
code as separate files: ``reference.py`` / ``reference.cpp`` (accepted), ``wrong.py`` /
``wrong.cpp`` (must not be accepted), ``checker.py`` (checker program, when
``"checker": {"type": "program"}``), ``starter.py`` (call-based starter code). The ``m1gym`` set's
files are its source (plus a hand-worked ``samples.json`` per problem);
``scripts/author_code_problems.py`` computes the ``tests`` of each ``problem.json`` from its
reference and its generator (``--check`` says whether they are up to date).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from .problem import Problem, ProblemFormatError

DATA_DIR = Path(__file__).with_name("data")
_CODE_FILES = {"reference.py": ("solutions", "python"), "reference.cpp": ("solutions", "cpp"),
               "wrong.py": ("wrong", "python"), "wrong.cpp": ("wrong", "cpp")}


def builtin_sets() -> list[str]:
    return sorted(p.name for p in DATA_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def load_problem_dir(path: Path) -> Problem:
    meta_path = path / "problem.json"
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProblemFormatError(f"{meta_path}: {exc}") from None
    for fname, (field, lang) in _CODE_FILES.items():
        f = path / fname
        if f.exists():
            data.setdefault(field, {}).setdefault(lang, []).append(f.read_text(encoding="utf-8"))
    if (path / "checker.py").exists():
        data["checker"] = {"type": "program", "source": (path / "checker.py").read_text(encoding="utf-8")}
    if (path / "starter.py").exists():
        data["starter"] = (path / "starter.py").read_text(encoding="utf-8")
    data.setdefault("id", path.name)
    data.setdefault("source", "m1gym")
    return Problem.from_dict(data)


@functools.lru_cache(maxsize=None)
def _load(name: str) -> tuple[Problem, ...]:
    root = DATA_DIR / name
    if not root.is_dir():
        raise ProblemFormatError(f"unknown problem set {name!r}; shipped sets: {', '.join(builtin_sets())}")
    return tuple(load_problem_dir(p) for p in sorted(root.iterdir()) if (p / "problem.json").exists())


def load_builtin_set(name: str = "m1gym") -> list[Problem]:
    return list(_load(name))
