"""The environment registry: register, make, list_envs.

A spec names its factory as a ``"module:Class"`` entry point, as gymnasium's do, and the registry
imports that module when the env is first made, so listing the catalogue imports no environment.
The built-in envs are listed in ``m1gym/catalogue.py``, generated from what the env modules
themselves register (``python scripts/env_catalogue.py --write``; tests/foundation/test_catalogue.py
fails when it is out of date). A module keeps its one-line registration at the bottom
(``register_logic(Sudoku)``): imported through its entry point, that call finds its catalogue entry
and takes its place. Third-party envs come from the ``m1gym.envs`` entry points, loaded on first
use, or from modules named on the command line (``--import``, :func:`load_imports`).

Every single-turn environment is also a one-step gymnasium env ``m1gym/<name>-v0`` (with ``/`` in
the name written as ``.``, since gymnasium ids allow one namespace only). Multi-turn envs (the SWE
agent) are gymnasium envs only: they are listed here, marked ``multi_turn``, but ``make`` and
``get_env``, which serve stateless single-turn scorers, refuse them and name their gymnasium id.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.abc
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

from .core import Environment

ENTRY_POINT_GROUP = "m1gym.envs"
KINDS = ("rule", "sandbox", "genrm")

#: Built-in environment packages; each lists the modules that register its envs in ``ENV_MODULES``
#: (read by scripts/env_catalogue.py, which writes m1gym/catalogue.py).
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


class MultiTurnEnvError(ValueError):
    """``make``/``get_env`` of a multi-turn env: those are gymnasium envs (``gymnasium.make``)."""


def entry_point_of(factory: Any) -> str:
    """``"module:Qualname"`` of a factory object."""
    return f"{getattr(factory, '__module__', '?')}:{getattr(factory, '__qualname__', repr(factory))}"


def resolve(entry_point: str) -> Any:
    """The object a ``"module:Qualname"`` entry point names (importing its module)."""
    module, _, qualname = entry_point.partition(":")
    if not module or not qualname:
        raise ValueError(f"an entry point is 'module:Qualname', got {entry_point!r}")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class EnvSpec:
    """Metadata of one registered environment.

    ``entry_point`` is where its factory lives (``"m1gym.envs.logic.sudoku:Sudoku"``); ``factory``
    imports it on first access. The other fields are what ``m1gym envs list`` shows.
    """

    name: str
    entry_point: str
    kind: str
    description: str
    levels: tuple[int, ...]
    answer_format: str
    procedural: bool
    multi_turn: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    #: extra gymnasium ids of this env (the SWE agent's older ``m1gym/swe-agent-v0``)
    gym_aliases: tuple[str, ...] = ()
    #: the factory once imported (given at registration, or resolved from ``entry_point``)
    _factory: list = field(default_factory=list, repr=False, compare=False)
    #: declared by entry point only (the catalogue): the module's own registration takes its place
    _declared: bool = field(default=False, repr=False, compare=False)

    @property
    def factory(self) -> Callable[..., Any]:
        if not self._factory:  # imported outside the registry's lock (the module registers under it)
            factory = resolve(self.entry_point)
            if not self._factory:
                self._factory.append(factory)
        return self._factory[0]

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

    def catalogue_entry(self) -> dict[str, Any]:
        """The fields m1gym/catalogue.py records (everything but the factory object)."""
        return {"name": self.name, "entry_point": self.entry_point, "kind": self.kind,
                "description": self.description, "levels": tuple(self.levels),
                "answer_format": self.answer_format, "procedural": self.procedural,
                "multi_turn": self.multi_turn, "defaults": dict(self.defaults),
                "gym_aliases": tuple(self.gym_aliases)}


_REGISTRY: dict[str, EnvSpec] = {}
_LOCK = threading.RLock()
_plugins_loaded = False


def register(name: str, factory: Callable[..., Any] | str, *, kind: str | None = None,
             description: str | None = None, levels: Sequence[int] | None = None,
             answer_format: str | None = None, procedural: bool | None = None,
             multi_turn: bool = False, gym_aliases: Sequence[str] = (), **defaults: Any) -> EnvSpec:
    """Register an environment factory (usually the Environment subclass) under ``name``.

    ``factory`` is the class (or any callable) or its ``"module:Class"`` entry point. Metadata not
    given is read from the factory's class attributes (for an entry point that imports its module:
    give all of kind, description, levels, answer_format and procedural to keep it lazy).
    ``defaults`` are keyword arguments passed to the factory by ``make`` (overridable there).
    ``multi_turn=True`` registers a ``gymnasium.Env`` class: listed, and a gymnasium id, but no
    ``make``/``get_env``.
    """
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"environment name must be a non-empty string without surrounding spaces, got {name!r}")
    declared = isinstance(factory, str)
    if declared:
        entry_point = factory
        if None in (kind, description, levels, answer_format, procedural):
            factory = resolve(entry_point)  # read the metadata not given from the class
    else:
        entry_point = entry_point_of(factory)
    meta = factory if not isinstance(factory, str) else None
    kind = kind or getattr(meta, "kind", "rule")
    if kind not in KINDS:
        raise ValueError(f"environment {name!r}: kind must be one of {KINDS}, got {kind!r}")
    spec = EnvSpec(
        name=name, entry_point=entry_point, kind=kind,
        description=description if description is not None else (getattr(meta, "description", "") or ""),
        levels=tuple(levels if levels is not None else getattr(meta, "levels", ())),
        answer_format=answer_format or getattr(meta, "answer_format", ""),
        procedural=procedural if procedural is not None else bool(getattr(meta, "procedural", True)),
        multi_turn=multi_turn, defaults=dict(defaults), gym_aliases=tuple(gym_aliases),
        _factory=[] if meta is None else [meta], _declared=declared,
    )
    with _LOCK:
        old = _REGISTRY.get(name)
        if old is not None and declared and not old._declared and old.entry_point == entry_point:
            return old  # importing the entry point's module (for its metadata) registered it already
        if old is not None and not (old._declared and old.entry_point == entry_point):
            stale = (" (m1gym/catalogue.py is out of date: run `python scripts/env_catalogue.py --write`)"
                     if old._declared and entry_point.startswith("m1gym.") else "")
            raise DuplicateEnvError(f"environment {name!r} is already registered (by {old.entry_point}){stale}")
        # a module registering what its catalogue entry declared takes that entry's place
        _REGISTRY[name] = spec
    if old is None:
        _register_gym(spec)
    return spec


def unregister(name: str) -> None:
    """Remove an environment (tests and notebooks)."""
    with _LOCK:
        spec = _REGISTRY.pop(name, None)
        _INSTANCES.pop(name, None)
    gymnasium = _gymnasium()
    if spec is not None and gymnasium is not None:
        for gym_id in _gym_ids(spec):
            gymnasium.registry.pop(gym_id, None)


def module_exists(name: str) -> bool:
    """Is there a module of this dotted name (False also when its parent package is absent)?"""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _register_builtins() -> None:
    """The built-in catalogue, declared by entry point (imports no environment module)."""
    from .catalogue import ENVS

    for entry in ENVS:
        entry = dict(entry)
        register(entry.pop("name"), entry.pop("entry_point"), kind=entry.pop("kind"),
                 description=entry.pop("description"), levels=entry.pop("levels"),
                 answer_format=entry.pop("answer_format"), procedural=entry.pop("procedural"),
                 multi_turn=entry.pop("multi_turn"), gym_aliases=entry.pop("gym_aliases"),
                 **entry.pop("defaults"))
        assert not entry, f"unknown catalogue field(s) {sorted(entry)}"


def _load_plugins() -> None:
    """The ``m1gym.envs`` entry points of installed packages, once (on first use)."""
    global _plugins_loaded
    with _LOCK:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            obj = ep.load()
            # An entry point may name a module (registering on import) or a callable that registers.
            if callable(obj) and not isinstance(obj, type):
                obj()


_loaded_imports: dict[str, ModuleType] = {}


def load_imports(imports: Sequence[str]) -> list[ModuleType]:
    """Import modules that register environments, each once: dotted module names (found from the
    current directory too, as ``python -m`` finds them) or paths to ``.py`` files (imported as
    ``m1gym_user_envs_<stem>``). Raises ImportError naming the one that failed."""
    modules = []
    for text in imports:
        module = _loaded_imports.get(text)
        if module is None:
            module = _import_one(text)
            _loaded_imports[text] = module
        modules.append(module)
    return modules


def _import_one(text: str) -> ModuleType:
    if text.endswith(".py") or os.sep in text or (os.altsep and os.altsep in text):
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            raise ImportError(f"--import {text}: no such file")
        mod_name = "m1gym_user_envs_" + path.stem
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"--import {text}: cannot load this file as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(mod_name, None)
            raise
        return module
    try:
        return importlib.import_module(text)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name != text.split(".")[0] or cwd in sys.path or "" in sys.path:
            raise
        sys.path.insert(0, cwd)  # what `python -m` and `python script.py` would have on the path
        try:
            return importlib.import_module(text)
        except ModuleNotFoundError as again:
            if again.name == text.split(".")[0]:
                raise ImportError(f"--import {text}: no module named {text!r} here ({cwd}) or on the "
                                  "Python path; give a module name or a path to a .py file") from None
            raise


def get_spec(name: str) -> EnvSpec:
    with _LOCK:
        spec = _REGISTRY.get(name)
    if spec is None:
        _load_plugins()
        with _LOCK:
            spec = _REGISTRY.get(name)
            if spec is None:
                raise UnknownEnvError(name, sorted(_REGISTRY))
    return spec


_INSTANCES: dict[str, Environment] = {}


def make(name: str, **overrides: Any) -> Environment:
    """A new environment instance with the registered defaults, overridden by ``overrides``."""
    spec = get_spec(name)
    if spec.multi_turn:
        ids = " or ".join(f"gymnasium.make({i!r})" for i in _gym_ids(spec))
        raise MultiTurnEnvError(f"{name} is a multi-turn gymnasium env, not a single-turn Environment: "
                                f"use {ids} (after `import m1gym`)")
    env = spec.factory(**{**spec.defaults, **overrides})
    if getattr(env, "name", None) != name and isinstance(env, Environment):
        env.name = name  # one class may serve several names (e.g. code/<set>)
    return env


def get_env(name: str) -> Environment:
    """A shared default instance (envs are stateless, so one instance serves all threads)."""
    env = _INSTANCES.get(name)
    if env is None:
        made = make(name)  # outside the lock: making may import the env's module, which registers
        with _LOCK:
            env = _INSTANCES.setdefault(name, made)
    return env


def list_envs(kind: str | None = None) -> list[EnvSpec]:
    """Every registered env (multi-turn ones included, marked), sorted by name; imports none."""
    _load_plugins()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    with _LOCK:
        return [s for _, s in sorted(_REGISTRY.items()) if kind is None or s.kind == kind]


def env_names(kind: str | None = None) -> list[str]:
    return [s.name for s in list_envs(kind)]


# ---- gymnasium view --------------------------------------------------------------------------
# Importing gymnasium (and numpy with it) costs more than the rest of `import m1gym`, so the ids are
# registered when gymnasium is imported: right away if it already is, else by a one-shot import
# hook that runs after `import gymnasium` finishes. `import m1gym, gymnasium; gymnasium.make(...)`
# works in either order.

def _gymnasium() -> Any:
    """The gymnasium module once fully imported, else None (never imports it)."""
    module = sys.modules.get("gymnasium")
    return module if module is not None and hasattr(module, "register") and hasattr(module, "registry") else None


def _gym_ids(spec: EnvSpec) -> tuple[str, ...]:
    return (spec.gym_id, *spec.gym_aliases)


def _register_gym(spec: EnvSpec) -> None:
    gymnasium = _gymnasium()
    if gymnasium is None:
        return  # registered by _register_gym_view when gymnasium is imported
    for gym_id in _gym_ids(spec):
        if gym_id in gymnasium.registry:
            continue
        if spec.multi_turn:  # the gymnasium.Env class itself
            gymnasium.register(id=gym_id, entry_point=spec.entry_point, kwargs=dict(spec.defaults))
        else:  # step() always terminates
            gymnasium.register(id=gym_id, entry_point="m1gym.gym_env:SingleTurnEnv", kwargs={"env_name": spec.name})


def _register_gym_view() -> None:
    """Every registered env (entry-point plugins included) as a gymnasium id."""
    _load_plugins()
    with _LOCK:
        specs = list(_REGISTRY.values())
    for spec in specs:
        _register_gym(spec)


class _AfterGymnasiumImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: on the first ``import gymnasium`` it takes itself off ``sys.meta_path``
    and has gymnasium's own loader run, then registers the ids."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "gymnasium":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec = importlib.util.find_spec("gymnasium")
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRegister(spec.loader)
        return spec


class _ThenRegister(importlib.abc.Loader):
    def __init__(self, loader: Any):
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # leave gymnasium as it would be
        self.loader.exec_module(module)
        _register_gym_view()


def _install_gym_view() -> None:
    if _gymnasium() is not None:
        _register_gym_view()
    elif not any(isinstance(f, _AfterGymnasiumImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterGymnasiumImport())


_register_builtins()
