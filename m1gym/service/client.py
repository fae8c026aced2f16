"""``Client`` / ``AsyncClient``: call a running ``m1gym serve`` from Python.

    from m1gym.service import Client

    with Client("http://127.0.0.1:8000", token=None) as client:
        tasks = client.tasks("logic/sudoku", n=4, seed=0, level=1)
        scores = client.score([{"task": t, "response": text} for t, text in zip(tasks, responses)])

Items are ``{"task": Task | dict, "response": str}`` or ``{"env", "seed", "level", "response"}``
(or ``(task, response)`` pairs). Large lists are split into ``batch_size`` requests (sent
``concurrency`` at a time by the async client). Connection errors, 5xx and 429 are retried with
exponential backoff (429 honours ``Retry-After``); other 4xx raise ``ServiceError`` at once with
the server's message. Scoring is a pure function, so a retried request is safe.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any, Iterable, Optional, Sequence

import httpx

from ..core import Score, Task

DEFAULT_URL = "http://127.0.0.1:8000"


class ServiceError(RuntimeError):
    """The service refused a request (``status``, ``code``) or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: Optional[int] = None, code: Optional[str] = None):
        super().__init__(message)
        self.status, self.code = status, code


def _normalise(item: Any) -> dict[str, Any]:
    if isinstance(item, (tuple, list)) and len(item) == 2:
        item = {"task": item[0], "response": item[1]}
    if not isinstance(item, dict):
        raise TypeError(f"a score item is a dict {{task, response}} or a (task, response) pair, got {type(item).__name__}")
    out = dict(item)
    task = out.get("task")
    if isinstance(task, Task):
        out["task"] = task.to_dict()
    elif isinstance(task, str):
        out["task"] = Task.from_json(task).to_dict()
    if "response" not in out:
        raise TypeError("a score item needs 'response'")
    return out


def to_score(result: dict[str, Any]) -> Score:
    """A wire result -> Score; a service-level error is kept in ``details['error']``."""
    score = Score.from_dict(result)
    if result.get("error"):
        score.details = {**(score.details or {}), "error": result["error"]}
    return score


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)] or []


class _Base:
    def __init__(self, url: str = DEFAULT_URL, token: Optional[str] = None, *, timeout: float = 120.0,
                 batch_size: int = 256, retries: int = 4, backoff: float = 0.25, max_backoff: float = 8.0):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get("M1GYM_TOKEN") or None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def _delay(self, attempt: int, response: Optional[httpx.Response]) -> float:
        if response is not None and response.status_code == 429:
            try:
                return min(self.max_backoff * 4, float(response.headers.get("retry-after", "1")))
            except ValueError:
                pass
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base * (0.5 + random.random() / 2)

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
                message, code = body.get("message") or str(body), body.get("error")
            except ValueError:
                message, code = response.text[:500], None
            raise ServiceError(f"{response.status_code} from {response.request.url}: {message}",
                               response.status_code, code)
        return response.json()

    @staticmethod
    def _retryable(response: httpx.Response) -> bool:
        return response.status_code >= 500 or response.status_code == 429

    def _unreachable(self, exc: Exception) -> ServiceError:
        return ServiceError(f"cannot reach the reward service at {self.url} after {self.retries + 1} attempts "
                            f"({type(exc).__name__}: {exc}); is `m1gym serve` running there?")

    def _score_body(self, items: Sequence[Any]) -> dict[str, Any]:
        return {"items": [_normalise(it) for it in items]}


class Client(_Base):
    """Synchronous client (a context manager; ``close()`` otherwise)."""

    def __init__(self, url: str = DEFAULT_URL, token: Optional[str] = None, *, transport: Any = None, **kw: Any):
        super().__init__(url, token, **kw)
        self._http = httpx.Client(base_url=self.url, headers=self.headers, timeout=self.timeout,
                                  transport=transport)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        last: Optional[Exception] = None
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                last = exc
            else:
                if not self._retryable(response) or attempt == self.retries:
                    return self._check(response)
            if attempt < self.retries:
                time.sleep(self._delay(attempt, response))
        raise self._unreachable(last or RuntimeError("no response"))

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/healthz")

    def envs(self, kind: Optional[str] = None) -> list[dict[str, Any]]:
        return self.request("GET", "/v1/envs", params={"kind": kind} if kind else None)["envs"]

    def env(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/envs/{name}")

    def tasks(self, env: str, n: int = 1, seed: int = 0, level: Optional[int] = None) -> list[Task]:
        out: list[Task] = []
        for start in range(0, n, self.batch_size):
            k = min(self.batch_size, n - start)
            body = {"env": env, "n": k, "seed": seed + start, "level": level}
            out += [Task.from_dict(t) for t in self.request("POST", "/v1/tasks", json=body)["tasks"]]
        return out

    def score_raw(self, items: Iterable[Any]) -> list[dict[str, Any]]:
        """Wire results (with ``error`` and ``task_id``), in order."""
        items = list(items)
        out: list[dict[str, Any]] = []
        for batch in _batches(items, self.batch_size):
            out += self.request("POST", "/v1/score", json=self._score_body(batch))["scores"]
        return out

    def score(self, items: Iterable[Any]) -> list[Score]:
        return [to_score(r) for r in self.score_raw(items)]

    def get_reward(self, query: list[str], prompts: Optional[list[str]] = None,
                   labels: Optional[list[Any]] = None) -> dict[str, Any]:
        return self.request("POST", "/get_reward", json={"query": query, "prompts": prompts, "labels": labels})


class AsyncClient(_Base):
    """Asynchronous client; batches of one call go out ``concurrency`` at a time."""

    def __init__(self, url: str = DEFAULT_URL, token: Optional[str] = None, *, concurrency: int = 4,
                 transport: Any = None, **kw: Any):
        super().__init__(url, token, **kw)
        self.concurrency = max(1, concurrency)
        self._http = httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=self.timeout,
                                       transport=transport)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, json: Any = None, params: Any = None) -> Any:
        last: Optional[Exception] = None
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = await self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                last = exc
            else:
                if not self._retryable(response) or attempt == self.retries:
                    return self._check(response)
            if attempt < self.retries:
                await asyncio.sleep(self._delay(attempt, response))
        raise self._unreachable(last or RuntimeError("no response"))

    async def health(self) -> dict[str, Any]:
        return await self.request("GET", "/healthz")

    async def envs(self, kind: Optional[str] = None) -> list[dict[str, Any]]:
        return (await self.request("GET", "/v1/envs", params={"kind": kind} if kind else None))["envs"]

    async def env(self, name: str) -> dict[str, Any]:
        return await self.request("GET", f"/v1/envs/{name}")

    async def tasks(self, env: str, n: int = 1, seed: int = 0, level: Optional[int] = None) -> list[Task]:
        starts = list(range(0, n, self.batch_size))
        sem = asyncio.Semaphore(self.concurrency)

        async def one(start: int) -> list[Task]:
            body = {"env": env, "n": min(self.batch_size, n - start), "seed": seed + start, "level": level}
            async with sem:
                data = await self.request("POST", "/v1/tasks", json=body)
            return [Task.from_dict(t) for t in data["tasks"]]

        parts = await asyncio.gather(*(one(s) for s in starts))
        return [t for part in parts for t in part]

    async def score_raw(self, items: Iterable[Any]) -> list[dict[str, Any]]:
        items = list(items)
        sem = asyncio.Semaphore(self.concurrency)

        async def one(batch: Sequence[Any]) -> list[dict[str, Any]]:
            async with sem:
                return (await self.request("POST", "/v1/score", json=self._score_body(batch)))["scores"]

        parts = await asyncio.gather(*(one(b) for b in _batches(items, self.batch_size)))
        return [r for part in parts for r in part]

    async def score(self, items: Iterable[Any]) -> list[Score]:
        return [to_score(r) for r in await self.score_raw(items)]

    async def get_reward(self, query: list[str], prompts: Optional[list[str]] = None,
                         labels: Optional[list[Any]] = None) -> dict[str, Any]:
        return await self.request("POST", "/get_reward", json={"query": query, "prompts": prompts, "labels": labels})
