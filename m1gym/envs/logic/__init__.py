"""The 41 logic tasks (shared/LOGIC_TASKS.md), one module each, registered as ``logic/<task>``.

Every module in this package except the helpers below is a task module and is imported here, so a
new task is added by dropping one file in.
"""

from __future__ import annotations

import importlib
import pkgutil

_NOT_TASKS = {"base", "cli", "calibrate", "synlogic", "solvers"}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_TASKS and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
