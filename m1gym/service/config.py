"""Settings of the reward service (``m1gym serve``): one typed, documented dataclass, read by the one
config loader (``m1gym.config``) from a YAML file (``--config``) and the command line.

Where a setting comes from, strongest first: the command-line flag, the YAML file given with
``--config`` (its keys are the flag names, with ``_`` or ``-``: ``max_batch`` or ``max-batch``;
``max_body_mb`` and ``import`` as on the command line), then, for ``token`` only, the
``M1GYM_TOKEN`` environment variable, then the default. Unknown keys are rejected with a close
match; types and bounds are checked before anything starts. ``m1gym serve --help-config`` lists every
key.

Exclusive options: ``ray_actor_cpus`` is only used with ``ray`` (an error without it). Documented,
not errors: with ``ray``, ``workers`` counts Ray actors instead of processes.

Importing this module is cheap (no FastAPI, no pools).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional

from ..config import ConfigError, Range, format_help, from_dict, non_default, read_yaml

__all__ = ["ServiceConfig", "load_service_config", "service_config_help", "ConfigError"]


@dataclass
class ServiceConfig:
    """Every ``m1gym serve`` flag (the YAML key is the field name)."""

    #: interface to bind (0.0.0.0 for all interfaces)
    host: str = "127.0.0.1"
    #: port (0 picks a free one and prints it)
    port: Annotated[int, Range(ge=0, le=65535)] = 8000
    #: scoring worker processes, or Ray actors with ``ray`` (default: CPU count, at most 8)
    workers: Annotated[int, Range(ge=1)] = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))
    #: None: local process pool; "auto": start a local Ray instance; else a Ray address to join
    ray: Optional[str] = None
    #: CPUs each Ray actor asks for (only with ``ray``; an error without it)
    ray_actor_cpus: Annotated[float, Range(gt=0)] = 1.0
    #: bearer token; None means no auth (the CLI falls back to ``$M1GYM_TOKEN``)
    token: Optional[str] = None
    #: seconds one item may take before it gets reward 0 with a timeout reason
    item_timeout: Annotated[float, Range(gt=0)] = 30.0
    #: most items in one /v1/score or /get_reward request, and most tasks in one /v1/tasks
    max_batch: Annotated[int, Range(ge=1)] = 4096
    #: largest request body in bytes (``max_body_mb`` in MiB on the command line and in YAML)
    max_body_bytes: Annotated[int, Range(ge=1)] = 32 * 1024 * 1024
    #: most items accepted and not yet scored; beyond it requests get 429 + Retry-After
    max_queue: Annotated[int, Range(ge=1)] = 65536
    #: extra modules (dotted names or .py paths) that register environments (``import`` in YAML too)
    imports: tuple[str, ...] = ()
    #: env for bare-answer labels in /get_reward
    label_env: Optional[str] = None
    #: seconds a worker may take to start (import every env)
    startup_timeout: Annotated[float, Range(gt=0)] = 120.0
    #: tasks handed out by /v1/tasks kept for scoring by ``task_id`` (least recently used go first; 0 = off)
    task_cache: Annotated[int, Range(ge=0)] = 50_000
    #: uvicorn's log level
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "warning"

    def validate(self) -> "ServiceConfig":
        if self.ray is None and non_default(self, "ray_actor_cpus"):
            raise ConfigError("ray_actor_cpus (--ray-actor-cpus) is only used with ray (--ray auto|ADDRESS), which is "
                              "not set; set ray or remove ray_actor_cpus")
        return self


#: YAML keys spelled as on the command line -> (field, conversion)
_ALIASES = {"max_body_mb": ("max_body_bytes", lambda v: int(float(v) * 1024 * 1024)), "import": ("imports", None)}


def _normalise(raw: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name in _ALIASES:
            name, conv = _ALIASES[name]
            if conv is not None and value is not None:
                try:
                    value = conv(value)
                except (TypeError, ValueError):
                    raise ConfigError(f"{where}: {key} must be a number, got {value!r}") from None
        if name in out:
            raise ConfigError(f"{where}: {key} is given twice (as {name} and an alias of it); keep one")
        out[name] = value
    return out


def _flag_error(exc: ConfigError) -> ConfigError:
    """A config error about a value given as a flag, in the flag's words."""
    msg = str(exc)
    if msg.startswith("config key "):
        name, rest = msg[len("config key "):].split(" ", 1)
        flag = "--" + ("max-body-mb" if name == "max_body_bytes" else name.replace("_", "-"))
        return ConfigError(f"{flag} {rest}")
    return exc


def load_service_config(path: str | None = None, flags: dict[str, Any] | None = None,
                        environ: dict[str, str] | None = None) -> ServiceConfig:
    """The service's settings: ``flags`` (flag name -> value; None = not given) over the YAML file at
    ``path`` over ``$M1GYM_TOKEN`` (token only) over the defaults; validated."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if path:
        where = f"config {path}"
        values = _normalise(read_yaml(path, what="flag names to values", hint="check the --config path"), where)
        try:
            from_dict(ServiceConfig, values)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    given = _normalise({k: v for k, v in (flags or {}).items() if v is not None}, "command line")
    try:
        from_dict(ServiceConfig, given)
    except ConfigError as exc:
        raise _flag_error(exc) from None
    if "imports" in given:  # --import adds to the file's imports
        base = values.get("imports") or ()
        values["imports"] = [*([base] if isinstance(base, str) else base), *given.pop("imports")]
    values.update(given)
    if not values.get("token") and environ.get("M1GYM_TOKEN"):
        values["token"] = environ["M1GYM_TOKEN"]
    return from_dict(ServiceConfig, values).validate()


def service_config_help() -> str:
    return format_help(ServiceConfig, "`m1gym serve` settings: each is a flag (--max-batch) and a key of the "
                                      "YAML file given with --config (max_batch). Format: key: type = default.")
