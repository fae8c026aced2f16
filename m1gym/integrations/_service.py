"""Where the adapters find the reward service, and the clients they share.

Address: an explicit ``server_url`` / ``token``, else ``$M1GYM_SERVER`` (default
``http://127.0.0.1:8000``) and ``$M1GYM_TOKEN``. Clients are created on first use, never at import
or construction time, so an adapter object can be pickled into another process (TRL's async
trainer, verl's prime manager, Ray) and opens its own connections there. They are cached per
process (a forked child does not reuse its parent's sockets) and, for the async client, per event
loop (an httpx.AsyncClient is bound to the loop that made it).
"""

from __future__ import annotations

import asyncio
import difflib
import os
import threading
import weakref
from typing import Any, Optional

from m1gym.service.client import AsyncClient, Client
from m1gym.service.labels import LabelError

DEFAULT_SERVER = "http://127.0.0.1:8000"

_lock = threading.Lock()
_sync: dict[tuple, Client] = {}
_async: "weakref.WeakKeyDictionary[Any, dict[tuple, AsyncClient]]" = weakref.WeakKeyDictionary()
_envs: dict[tuple, frozenset[str]] = {}
_envs_pending: "weakref.WeakKeyDictionary[Any, dict[tuple, asyncio.Future]]" = weakref.WeakKeyDictionary()


class UnknownEnvError(LabelError):
    """A label or setting names an env the reward service does not serve."""


def where(server_url: Optional[str] = None, token: Optional[str] = None) -> tuple[str, Optional[str]]:
    return (server_url or os.environ.get("M1GYM_SERVER") or DEFAULT_SERVER,
            token if token is not None else (os.environ.get("M1GYM_TOKEN") or None))


def client(server_url: Optional[str] = None, token: Optional[str] = None) -> Client:
    url, tok = where(server_url, token)
    key = (os.getpid(), url, tok)
    with _lock:
        c = _sync.get(key)
        if c is None:
            c = _sync[key] = Client(url, tok)
        return c


def aclient(server_url: Optional[str] = None, token: Optional[str] = None) -> AsyncClient:
    url, tok = where(server_url, token)
    per_loop = _async.setdefault(asyncio.get_running_loop(), {})
    key = (os.getpid(), url, tok)
    c = per_loop.get(key)
    if c is None:
        c = per_loop[key] = AsyncClient(url, tok)
    return c


def served_envs(server_url: Optional[str] = None, token: Optional[str] = None) -> frozenset[str]:
    """The env names the service serves (asked once per address and process)."""
    url, tok = where(server_url, token)
    key = (os.getpid(), url, tok)
    names = _envs.get(key)
    if names is None:
        names = _envs[key] = frozenset(e["name"] for e in client(url, tok).envs())
    return names


async def served_envs_async(server_url: Optional[str] = None, token: Optional[str] = None) -> frozenset[str]:
    url, tok = where(server_url, token)
    key = (os.getpid(), url, tok)
    names = _envs.get(key)
    if names is not None:
        return names
    # the samples verl scores at once all ask at start: one request serves them
    per_loop = _envs_pending.setdefault(asyncio.get_running_loop(), {})
    pending = per_loop.get(key)
    if pending is None:
        pending = per_loop[key] = asyncio.ensure_future(aclient(url, tok).envs())
    try:
        envs = await asyncio.shield(pending)
    finally:
        if pending.done():
            per_loop.pop(key, None)
    names = _envs[key] = frozenset(e["name"] for e in envs)
    return names


def check_env(name: str, served: frozenset[str], context: str) -> str:
    """``name`` if the service serves it; else an error naming close matches and the fix."""
    if name in served:
        return name
    close = difflib.get_close_matches(name, sorted(served), n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownEnvError(f"{context}: env {name!r} is not served by the reward service{hint}; list them with "
                          "`m1gym envs list` or GET /v1/envs, or start the server with --import MODULE for your own envs")


def item_env(item: dict[str, Any]) -> Optional[str]:
    """The env a /v1/score item names (None for a task_id item)."""
    task = item.get("task")
    if isinstance(task, dict):
        return task.get("env")
    return item.get("env")
