"""m1gym: verifiable RL environments, rewards and a CISPO training loop (the MiniMax-M1 recipe)."""

from __future__ import annotations

import os

from .core import Environment, Score, Task, reference_response
from .registry import EnvSpec, UnknownEnvError, get_env, list_envs, make, register

__version__ = "0.1.0"
__all__ = ["Environment", "Score", "Task", "EnvSpec", "UnknownEnvError", "register", "make", "get_env",
           "list_envs", "reference_response", "__version__"]

# The built-in catalogue is registered by entry point (m1gym/catalogue.py): no env module, sympy or
# torch is imported here; an env's module is imported when it is first made. Every env is also a
# gymnasium id, registered as soon as gymnasium is imported (before or after m1gym), so
# `gymnasium.make("m1gym/<name>-v0")` works after `import m1gym`. M1GYM_NO_AUTOLOAD=1 (set by
# worker processes) leaves the gymnasium ids and the entry-point plugins out.
if os.environ.get("M1GYM_NO_AUTOLOAD") != "1":
    from .registry import _install_gym_view

    _install_gym_view()


def __getattr__(name: str):
    # PrimeIntellect verifiers: `vf.load_environment("m1gym", env=...)` imports this package and calls
    # its load_environment (resolved lazily: it imports verifiers and datasets)
    if name == "load_environment":
        from .integrations.verifiers import load_environment

        return load_environment
    raise AttributeError(f"module 'm1gym' has no attribute {name!r}")
