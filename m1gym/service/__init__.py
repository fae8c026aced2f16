"""The reward service: ``m1gym serve`` (FastAPI on uvicorn over a worker pool), ``Client`` /
``AsyncClient`` to call it, and reward functions for verl, TRL and OpenRLHF (``adapters``).

Importing this package is cheap: the server parts (FastAPI, the pools) load only when used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Client", "AsyncClient", "ServiceError", "ServiceConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("Client", "AsyncClient", "ServiceError"):
        from . import client

        return getattr(client, name)
    if name == "ServiceConfig":
        from .config import ServiceConfig

        return ServiceConfig
    if name == "create_app":
        from . import app

        return app.create_app
    raise AttributeError(f"module 'm1gym.service' has no attribute {name!r}")
