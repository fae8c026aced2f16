"""The 41 logic tasks (shared/LOGIC_TASKS.md), one module each, registered as ``logic/<task>``.

Every module in this package except the helpers below is a task module (``ENV_MODULES``), so a new
task is added by dropping one file in (then ``python scripts/env_catalogue.py --write`` lists it in
m1gym/catalogue.py). Importing this package imports no task: the registry imports a task module when
its env is first made.
"""

from __future__ import annotations

import pkgutil

_NOT_TASKS = {"base", "cli", "calibrate", "synlogic", "solvers"}

#: the task modules, each registering one ``logic/<task>`` env at its bottom (``register_logic``)
ENV_MODULES = tuple(f"{__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
                    if m.name not in _NOT_TASKS and not m.name.startswith("_"))
