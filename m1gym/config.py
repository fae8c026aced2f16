"""One typed config loader for every config of m1gym: the trainer's (``m1gym.trainer.config``), the
curriculum's (``m1gym.curriculum.config``) and the reward service's (``m1gym.service.config``).

A config is a tree of dataclasses; the type annotation of a field is its schema, and the field is
documented where it is defined, by a ``#:`` comment block right above it (or a trailing ``#:``
comment on its line, or ``field(metadata={"doc": ...})``). From that one definition come:

- ``from_dict(cls, data)``: a mapping (parsed YAML) -> nested dataclasses. Unknown keys are rejected
  with their full dotted name and a close match (``trainer.stepz: unknown key (did you mean
  'steps'?)``, or ``it is a key of rollout: rollout.group_size`` for a key in the wrong section);
  values are coerced and checked against the annotation (``int``, ``float``, ``bool``, ``str``,
  ``Optional``, ``Literal`` choices, ``list``, ``tuple``, ``dict``, nested sections, lists of
  sections, ``Annotated[..., Range(...)]`` bounds); every error names the key, the bad value and
  the fix. Nothing here guesses: ``"yes"`` is not a bool and ``1.5`` is not an int.
- ``load(cls, path, overrides)``: a YAML file plus ``dotted.key=value`` overrides (value parsed as
  YAML), then ``from_dict``.
- ``describe(cls)`` / ``format_help(cls)``: every key with its type, default and doc (the text of
  ``m1gym train --help-config`` and ``m1gym serve --help-config``).
- ``to_dict(obj)``: the plain mapping ``from_dict`` reads back (what a run folder stores).

Rules between fields (options that exclude each other, cross-field ranges) live in each config's
``validate()``, next to the fields; this module knows nothing of trainers, curricula or services.
It imports nothing of m1gym above ``errors``.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .errors import UserError

__all__ = ["ConfigError", "Range", "FieldDoc", "from_dict", "load", "read_yaml", "apply_overrides", "to_dict",
           "describe", "format_help", "field_docs", "non_default", "check", "help_action"]


class ConfigError(UserError, ValueError):
    """A config file, override or value is invalid; the message names the key and the fix."""


@dataclass(frozen=True)
class Range:
    """Bounds of a number, used as ``Annotated[int, Range(ge=1)]``; checked on load and shown in help."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, value: float) -> str | None:
        for bound, ok, op in ((self.ge, lambda b: value >= b, ">="), (self.gt, lambda b: value > b, ">"),
                              (self.le, lambda b: value <= b, "<="), (self.lt, lambda b: value < b, "<")):
            if bound is not None and not ok(bound):
                return f"must be {self}, got {value!r}"
        return None

    def __str__(self) -> str:
        parts = [f"{op} {b:g}" for b, op in ((self.ge, ">="), (self.gt, ">"), (self.le, "<="), (self.lt, "<"))
                 if b is not None]
        return " and ".join(parts)


# ---- types ------------------------------------------------------------------------------------

def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _strip(tp: Any) -> tuple[Any, list[Range]]:
    """(the type without Annotated, its Range bounds)."""
    ranges: list[Range] = []
    while typing.get_origin(tp) is typing.Annotated:
        tp, *extras = typing.get_args(tp)
        ranges.extend(x for x in extras if isinstance(x, Range))
    return tp, ranges


def _optional_inner(tp: Any) -> Any | None:
    """X for Optional[X] (one non-None member), else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def type_name(tp: Any) -> str:
    """A short readable name of an annotation: ``int >= 1``, ``embedded | openai | vllm``, ``list[str]``."""
    tp, ranges = _strip(tp)
    bound = "".join(f" {r}" for r in ranges)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " | ".join(str(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        names = [type_name(a) for a in args if a is not type(None)]
        return " | ".join(names) + (" | null" if type(None) in args else "") + bound
    if origin in (list, tuple, dict):  # a tuple reads from a YAML list
        args = [type_name(a) for a in typing.get_args(tp) if a is not Ellipsis]
        name = "dict" if origin is dict else "list"
        return f"{name}[{', '.join(args)}]" if args else name
    if dataclasses.is_dataclass(tp):
        return "section"
    if tp is Any:
        return "any"
    return getattr(tp, "__name__", str(tp)) + bound


def _expected(tp: Any) -> str:
    tp, _ = _strip(tp)
    inner = _optional_inner(tp)
    if inner is not None:
        return _expected(inner) + " or null"
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(tp, type_name(tp))


def _example(tp: Any, default: Any) -> str:
    """A value of the right type for an error's fix: the default when there is one."""
    if default is not dataclasses.MISSING and default is not None and not dataclasses.is_dataclass(default):
        return _yaml_scalar(default)
    tp, _ = _strip(tp)
    inner = _optional_inner(tp)
    tp = inner if inner is not None else tp
    if typing.get_origin(tp) is typing.Literal:
        return _yaml_scalar(typing.get_args(tp)[0])
    return {bool: "true", int: "1", float: "0.5", str: "name"}.get(tp, "...")


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fail(key: str, value: Any, tp: Any, default: Any = dataclasses.MISSING) -> ConfigError:
    leaf = re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])
    return ConfigError(f"config key {key} must be {_expected(tp)}, got {value!r}; "
                       f"e.g. {leaf}: {_example(tp, default)}")


# ---- mapping -> dataclasses --------------------------------------------------------------------

def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def _convert(value: Any, tp: Any, key: str, root: tuple[type, str] | None, default: Any = dataclasses.MISSING) -> Any:
    tp, ranges = _strip(tp)
    out = _convert_plain(value, tp, key, root, default)
    for r in ranges:
        if out is not None:
            problem = r.check(out)
            if problem:
                raise ConfigError(f"config key {key} {problem}")
    return out


def _convert_plain(value: Any, tp: Any, key: str, root: tuple[type, str] | None, default: Any) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            return _convert(value, members[0], key, root, default)
        for arg in members:
            try:
                return _convert(value, arg, key, root, default)
            except ConfigError:
                continue
        raise _fail(key, value, tp, default)
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value in allowed and not (isinstance(value, bool) and not any(isinstance(a, bool) for a in allowed)):
            return value
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"config key {key}: {value!r} is not one of {', '.join(str(a) for a in allowed)}{hint}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        scalar = getattr(tp, "__config_scalar__", None)
        if scalar and isinstance(value, str):  # shorthand: `- math/arithmetic` for `- {env: math/arithmetic}`
            value = {scalar: value}
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key} is a section: it must be a mapping of keys to values, "
                              f"got {value!r}")
        return _build(tp, value, key, root)
    if origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis] or [Any]
        item_tp = args[0]
        if isinstance(value, str) and _strip(item_tp)[0] is str:
            value = [value]  # one string for a list of strings
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise _fail(key, value, tp, default)
        items = [_convert(v, item_tp, f"{key}[{i}]", root) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        key_tp, val_tp = (typing.get_args(tp) or (Any, Any))
        if not isinstance(value, dict):
            raise _fail(key, value, tp, default)
        return {_convert(k, key_tp, f"{key}.{k}", root): _convert(v, val_tp, f"{key}.{k}", root)
                for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _fail(key, value, tp, default)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _fail(key, value, tp, default)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-15 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise _fail(key, value, tp, default)
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):  # YAML read a number
            raise ConfigError(f"config key {key} must be a string, got the number {value!r}; quote it: "
                              f"{key.rsplit('.', 1)[-1]}: '{value}'")
        raise _fail(key, value, tp, default)
    raise ConfigError(f"config key {key}: unsupported type {type_name(tp)} in the config schema")


def _all_keys(cls: type, prefix: str = "", seen: frozenset = frozenset()) -> list[str]:
    """Every dotted key under a dataclass (list items as ``key[]``), for misplaced-key hints."""
    if cls in seen:
        return []
    out = []
    for f in dataclasses.fields(cls):
        dotted = f"{prefix}.{f.name}" if prefix else f.name
        out.append(dotted)
        sub = _section_type(_hints(cls)[f.name])
        if sub is not None:
            tp, is_list = sub
            out.extend(_all_keys(tp, dotted + ("[]" if is_list else ""), seen | {cls}))
    return out


def _section_type(tp: Any) -> tuple[type, bool] | None:
    """(dataclass, is a list of them) when a field holds a section, Optional section or list of sections."""
    tp, _ = _strip(tp)
    inner = _optional_inner(tp)
    tp = inner if inner is not None else tp
    if dataclasses.is_dataclass(tp):
        return tp, False
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        item, _ = _strip(item)
        if dataclasses.is_dataclass(item):
            return item, True
    return None


def _unknown(cls: type, name: str, key: str, prefix: str, root: tuple[type, str] | None) -> ConfigError:
    names = [f.name for f in dataclasses.fields(cls)]
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    if close:
        hint = f" (did you mean {close[0]!r}?)"
    else:
        hint = ""
        if root is not None:  # the right key in the wrong section
            homes = [k for k in _all_keys(*root) if k.rsplit(".", 1)[-1] == str(name)]
            if homes:
                hint = f" (it is a key of another section: {', '.join(homes[:3])})"
    where = f"of {prefix}" if prefix else "at the top level"
    return ConfigError(f"{key}: unknown key{hint}; the keys {where} are: {', '.join(names)}")


def _build(cls: type, data: dict, prefix: str, root: tuple[type, str] | None) -> Any:
    hints = _hints(cls)
    flds = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in flds:
            raise _unknown(cls, name, key, prefix, root)
        kwargs[name] = _convert(value, hints[name], key, root, _default_of(flds[name]))
    for name, f in flds.items():
        if name not in kwargs and f.default is dataclasses.MISSING and \
                f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            key = f"{prefix}.{name}" if prefix else name
            raise ConfigError(f"config key {key} is required; e.g. {name}: {_example(hints[name], dataclasses.MISSING)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{prefix or cls.__name__}: {exc}") from None


def from_dict(cls: type, data: Any, key: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping (``None`` = all defaults). ``key`` is the dotted prefix
    of the section in error messages (``"curriculum"`` for the trainer config's curriculum)."""
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        where = f"config key {key}" if key else "a config"
        raise ConfigError(f"{where} must be a mapping of keys to values, got {type(data).__name__}")
    return _build(cls, data, key, (cls, key))


def check(obj: Any, key: str = "") -> None:
    """Check a config built in code (not read from a mapping) as ``from_dict`` checks a file: types,
    choices and bounds of every field, recursively."""
    from_dict(type(obj), to_dict(obj), key)


# ---- files and overrides ------------------------------------------------------------------------

def read_yaml(path: str | Path, what: str = "config sections",
              hint: str = "use one of configs/*.yaml or write your own") -> dict[str, Any]:
    """A YAML file holding a mapping (empty file = {}), or a ConfigError naming the file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found; {hint}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read config {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p} must hold a mapping of {what} at the top level")
    return data


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Set ``dotted.key=value`` overrides in ``data`` (in place; value parsed as YAML, so ``null``,
    ``true``, ``[1, 2]`` and ``{a: 1}`` work). A list item is addressed by its index: ``mix.0.level=1``.
    Overrides edit the file's mapping before it is read, so ``weights.y=1`` on a file without
    ``weights`` gives ``{y: 1}``, not the default mapping plus ``y``."""
    import yaml

    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. trainer.steps=10")
        dotted, raw = item.split("=", 1)
        dotted = dotted.strip()
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: the value is not valid YAML ({exc})") from None
        parts = dotted.split(".")
        if not all(parts):
            raise ConfigError(f"override {item!r}: {dotted!r} is not a dotted key like trainer.steps")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            here = ".".join(parts[:i + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"override {dotted}: {here} needs an index below {len(node)}")
                node = node[int(part)]
                if not isinstance(node, (dict, list)):
                    raise ConfigError(f"override {dotted}: {here} is a value ({node!r}), not a section; "
                                      f"set it whole, e.g. {here}={{...}}")
                continue
            child = node.setdefault(part, {})
            if child is None:
                raise ConfigError(f"override {dotted}: {here} is null in the config; set the whole section, "
                                  f"e.g. {here}={{...}}")
            if not isinstance(child, (dict, list)):
                raise ConfigError(f"override {dotted}: {here} is a value ({child!r}), not a section; "
                                  f"set it whole, e.g. {here}={{...}}")
            node = child
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(f"override {dotted}: needs an index below {len(node)}")
            node[int(last)] = value
        else:
            node[last] = value
    return data


def load(cls: type, path: str | Path | None = None, overrides: Iterable[str] | None = None,
         data: dict[str, Any] | None = None) -> Any:
    """``cls`` from a YAML file (or ``data``), then ``overrides``; ``validate()`` is the caller's."""
    base: dict[str, Any] = dict(data or {})
    if path is not None:
        base = read_yaml(path)
    return from_dict(cls, apply_overrides(base, overrides or []))


def to_dict(obj: Any) -> Any:
    """The plain mapping of a config (tuples as lists), which ``from_dict`` reads back unchanged."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def non_default(obj: Any, name: str) -> bool:
    """Whether field ``name`` of a config section differs from its default (an option that is set)."""
    f = next(f for f in dataclasses.fields(obj) if f.name == name)
    return getattr(obj, name) != _default_of(f)


# ---- documentation ------------------------------------------------------------------------------

_FIELD = re.compile(r"^(\w+)\s*:(?!=)")
_DOC_CACHE: dict[type, dict[str, str]] = {}


def field_docs(cls: type) -> dict[str, str]:
    """The doc of each field: its ``#:`` comment block (and trailing ``#:`` comment), or
    ``metadata["doc"]``. Fields without one are absent."""
    if cls in _DOC_CACHE:
        return _DOC_CACHE[cls]
    docs: dict[str, str] = {}
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        lines = []
    while lines and not lines[0].lstrip().startswith("class "):
        lines.pop(0)  # decorators
    indent = None
    pending: list[str] = []
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        here = len(line) - len(line.lstrip())
        if indent is None:
            indent = here
        if here != indent:
            continue  # continuation lines, method bodies
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        m = _FIELD.match(stripped)
        if m:
            text = list(pending)
            trailing = re.search(r"\s#:\s?(.*)$", stripped)
            if trailing:
                text.append(trailing.group(1).strip())
            if text:
                docs[m.group(1)] = " ".join(text)
        pending = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("doc"):
            docs[f.name] = str(f.metadata["doc"])
    _DOC_CACHE[cls] = docs
    return docs


def _class_doc(cls: type) -> str:
    """The docstring a dataclass was written with (not the signature dataclasses makes up)."""
    doc = cls.__dict__.get("__doc__") or ""
    if doc.startswith(cls.__name__ + "("):
        return ""
    return " ".join(doc.split())


@dataclass
class FieldDoc:
    key: str            # dotted, list items as ``mix[].env``
    type: str           # readable annotation
    default: str        # YAML text of the default ("required" when there is none)
    doc: str
    section: bool       # a section heading (its keys follow)


def describe(cls: type, prefix: str = "") -> list[FieldDoc]:
    """Every key of ``cls`` (depth first), with its type, default and doc."""
    out: list[FieldDoc] = []
    hints = _hints(cls)
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        default = _default_of(f)
        sub = _section_type(hints[f.name])
        doc = docs.get(f.name, "")
        if sub is not None:
            tp, is_list = sub
            doc = _class_doc(tp) or doc  # the section's own docstring says more than a one-line field doc
            if is_list:
                out.append(FieldDoc(key, f"list of {{{', '.join(x.name for x in dataclasses.fields(tp))}}}",
                                    _yaml_scalar(to_dict(default)), doc, True))
                out.extend(describe(tp, key + "[]"))
            else:
                shown = "null (off)" if default is None else "section"
                out.append(FieldDoc(key, "section" + (" | null" if _optional_inner(_strip(hints[f.name])[0])
                                                       else ""), shown, doc, True))
                out.extend(describe(tp, key))
            continue
        shown = "required" if default is dataclasses.MISSING else _yaml_scalar(to_dict(default))
        out.append(FieldDoc(key, type_name(hints[f.name]), shown, doc, False))
    return out


def format_help(cls: type, title: str, prefix: str = "", width: int = 100) -> str:
    """The text of ``--help-config``: one entry per key, ``key: type = default`` then its doc."""
    lines = [title, ""]
    for d in describe(cls, prefix):
        if d.section:
            lines.append("")
            lines.append(f"{d.key}:  [{d.type}]" + (f" = {d.default}" if d.default not in ("section",) else ""))
        else:
            lines.append(f"  {d.key}: {d.type} = {d.default}")
        if d.doc:
            lines.extend(textwrap.wrap(d.doc, width=width, initial_indent="      ", subsequent_indent="      "))
    return "\n".join(lines).rstrip() + "\n"


def help_action(text: Any) -> type:
    """An argparse action (``--help-config``) that prints ``text()`` and exits, like ``--help``:
    ``parser.add_argument("--help-config", action=help_action(config_help), help=...)``."""
    import argparse

    class _HelpConfig(argparse.Action):
        def __init__(self, option_strings: Any, dest: str, **kwargs: Any):
            super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            print(text(), end="")
            parser.exit()

    return _HelpConfig
