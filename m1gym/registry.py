"""The environment registry: register, make, list_envs.

Built-in environments register themselves when their package is imported; the registry imports
the built-in packages and the ``m1gym.envs`` entry points on first use, so importing m1gym stays
cheap. Every single-turn environment is also a one-step gymnasium env ``m1gym/<name>-v0`` (with
``/`` in the name written as ``.``, since gymnasium ids allow one namespace only).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Sequence

from .core import Environment

ENTRY_POINT_GROUP = "m1gym.envs"
KINDS = ("rule", "sandbox", "genrm")

#: Built-in environment packages, imported on first use when present.
BUILTIN_PACKAGES = (
    "m1gym.envs.math",
    "m1gym.envs.logic",
    "m1gym.envs.code",
    "m1gym.envs.swe",
    "m1gym.envs.general",
)


class UnknownEnvError(KeyError):
    def __init__(self, name: str, known: Sequence[str]):
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        # also suggest names that merely contain the query (e.g. "sudoku" -> "logic/sudoku")
        close += [k for k in known if name and name in k and k not in close][:5]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        self.name, self.suggestions = name, close
        super().__init__(f"unknown environment {name!r}.{hint} Run `m1gym envs list` to see all {len(known)}.")

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return self.args[0]


class DuplicateEnvError(ValueError):
    pass


@dataclass(frozen=True)
class EnvSpec:
    """Metadata of one registered environment."""

    name: str
    factory: Callable[..., Environment]
    kind: str
    description: str
    levels: tuple[int, ...]
    answer_format: str
    procedural: bool
    multi_turn: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def gym_id(self) -> str:
        return f"m1gym/{self.name.replace('/', '.')}-v0"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "description": self.description,
            "levels": list(self.levels), "answer_format": self.answer_format,
            "procedural": self.procedural, "multi_turn": self.multi_turn,
            "gym_id": None if self.multi_turn else self.gym_id, "defaults": dict(self.defaults),
        }


_REGISTRY: dict[str, EnvSpec] = {}
_LOCK = threading.RLock()
_loaded = False


def register(name: str, factory: Callable[..., Environment], *, kind: str | None = None,
             description: str | None = None, levels: Sequence[int] | None = None,
             answer_format: str | None = None, procedural: bool | None = None,
             multi_turn: bool = False, **defaults: Any) -> EnvSpec:
    """Register an environment factory (usually the Environment subclass) under ``name``.

    Metadata not given is read from the factory's class attributes. ``defaults`` are keyword
    arguments passed to the factory by ``make`` (overridable there).
    """
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"environment name must be a non-empty string without surrounding spaces, got {name!r}")
    kind = kind or getattr(factory, "kind", "rule")
    if kind not in KINDS:
        raise ValueError(f"environment {name!r}: kind must be one of {KINDS}, got {kind!r}")
    spec = EnvSpec(
        name=name, factory=factory, kind=kind,
        description=description if description is not None else (getattr(factory, "description", "") or ""),
        levels=tuple(levels if levels is not None else getattr(factory, "levels", ())),
        answer_format=answer_format or getattr(factory, "answer_format", ""),
        procedural=procedural if procedural is not None else bool(getattr(factory, "procedural", True)),
        multi_turn=multi_turn, defaults=dict(defaults),
    )
    with _LOCK:
        if name in _REGISTRY:
            raise DuplicateEnvError(f"environment {name!r} is already registered (by {_REGISTRY[name].factory!r})")
        _REGISTRY[name] = spec
    if not multi_turn:
        _register_gym(spec)
    return spec


def unregister(name: str) -> None:
    """Remove an environment (tests and notebooks)."""
    with _LOCK:
        spec = _REGISTRY.pop(name, None)
    if spec is not None and not spec.multi_turn:
        try:
            import gymnasium

            gymnasium.registry.pop(spec.gym_id, None)
        except ImportError:
            pass


def module_exists(name: str) -> bool:
    """Is there a module of this dotted name (False also when its parent package is absent)?"""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _load_builtins() -> None:
    global _loaded
    with _LOCK:
        if _loaded:
            return
        _loaded = True
        for pkg in BUILTIN_PACKAGES:
            if module_exists(pkg):
                importlib.import_module(pkg)  # a broken built-in must fail loudly, not vanish
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            # An entry point may name a module (registering on import) or a callable that registers.
            if callable(obj) and not isinstance(obj, type):
                obj()


def get_spec(name: str) -> EnvSpec:
    _load_builtins()
    with _LOCK:
        spec = _REGISTRY.get(name)
        if spec is None:
            raise UnknownEnvError(name, sorted(_REGISTRY))
        return spec


_INSTANCES: dict[str, Environment] = {}


def make(name: str, **overrides: Any) -> Environment:
    """A new environment instance with the registered defaults, overridden by ``overrides``."""
    spec = get_spec(name)
    env = spec.factory(**{**spec.defaults, **overrides})
    if getattr(env, "name", None) != name and isinstance(env, Environment):
        env.name = name  # one class may serve several names (e.g. code/<set>)
    return env


def get_env(name: str) -> Environment:
    """A shared default instance (envs are stateless, so one instance serves all threads)."""
    env = _INSTANCES.get(name)
    if env is None:
        with _LOCK:
            env = _INSTANCES.get(name) or make(name)
            _INSTANCES[name] = env
    return env


def list_envs(kind: str | None = None) -> list[EnvSpec]:
    _load_builtins()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    with _LOCK:
        return [s for _, s in sorted(_REGISTRY.items()) if kind is None or s.kind == kind]


def env_names(kind: str | None = None) -> list[str]:
    return [s.name for s in list_envs(kind)]


# ---- gymnasium view --------------------------------------------------------------------------

def _register_gym(spec: EnvSpec) -> None:
    try:
        import gymnasium
    except ImportError:
        return
    if spec.gym_id in gymnasium.registry:
        return
    gymnasium.register(id=spec.gym_id, entry_point="m1gym.gym_env:SingleTurnEnv",
                       kwargs={"env_name": spec.name})  # step() always terminates
