"""The reward service: a FastAPI app over a worker pool.

``create_app(ServiceConfig(...))`` returns the ASGI app ``m1gym serve`` runs on uvicorn. The
outermost layer (``_Guard``) enforces the bearer token and the body-size cap before any JSON is
parsed, and records request metrics; FastAPI validates bodies against ``schema.py``.

The ``/v1/score`` hot path is kept lean, because for cheap verifiers (logic: ~10-20 us a check)
the server's per-item work, not scoring, bounds throughput. What was measured (py-spy on a
loaded server, 256-item logic batches) and kept:

- the body is parsed once with orjson and checked by ``schema.fast_score_items`` (plain type
  checks, no pydantic model per item); anything it does not take as-is goes through pydantic's
  ``ScoreRequest``, so coercions and every 422 message are pydantic's, and the OpenAPI schema
  still publishes ``ScoreRequest`` for the endpoint;
- tasks go to the workers as JSON bytes (one flat object to pickle instead of a nested dict) and
  each worker caches the parsed ``Task`` by those bytes (``scoring/worker.py``); tasks handed out by
  ``/v1/tasks`` are kept as bytes already, so scoring by ``task_id`` re-encodes nothing;
- the server and the workers freeze the objects of start-up out of the cyclic GC
  (``scoring.worker.settle_gc``): with every env imported, the default GC walked ~100k objects over and
  over while a batch was parsed, tripling the cost of parsing.

Not done, and why: scoring inline in the server (a hanging verifier could not be killed without a
separate process), task-to-worker affinity (the per-worker cache already hits for repeated tasks;
affinity would fight load balancing and crash requeueing), larger chunks (measured no gain).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import secrets
import time
from typing import Any, Optional

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from .. import __version__
from ..registry import UnknownEnvError, get_spec, list_envs
from . import schema
from .labels import LabelError, item_from_label, response_from_query
from .metrics import ServiceMetrics
from ..scoring import ProcessPool, RayPool, load_imports, settle_gc, wire_task
from ..scoring.jobs import GENERATE, SCORE, Job, make_job

log = logging.getLogger("m1gym.service")

#: the env label of items whose env is not a registered one (labels never carry a client's string)
UNKNOWN_ENV_LABEL = "unknown"
#: paths that need no token (load balancer probes and the published schema)
OPEN_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
ENDPOINTS = frozenset({"/healthz", "/metrics", "/v1/envs", "/v1/tasks", "/v1/score", "/get_reward",
                       "/openapi.json", "/docs", "/redoc"})


from .config import ServiceConfig  # noqa: E402,F401  (defined with the other settings of `m1gym serve`)


def _error(status: int, code: str, message: str, fields: list[str] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": code, "message": message, "fields": fields or []}
    return JSONResponse(body, status_code=status, headers=headers)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 422: "validation_error", 429: "queue_full", 500: "internal",
                 503: "unavailable"}


class _BodyTooLarge(HTTPException):
    pass


class _Guard:
    """Outer ASGI layer: auth, body cap, request metrics. Runs before FastAPI parses anything."""

    def __init__(self, app: FastAPI, config: ServiceConfig, metrics: ServiceMetrics):
        self.app, self.config, self.metrics = app, config, metrics
        self.token = (config.token or "").encode() or None

    async def _reply(self, send: Any, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> None:
        body = orjson.dumps({"error": code, "message": message, "fields": []})
        hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        endpoint = path if path in ENDPOINTS else ("/v1/envs/{name}" if path.startswith("/v1/envs/") else "other")
        t0 = time.perf_counter()
        status_box = [500]

        async def send_tracked(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_tracked, path)
        finally:
            self.metrics.requests.labels(endpoint, str(status_box[0])).inc()
            self.metrics.request_latency.labels(endpoint).observe(time.perf_counter() - t0)

    async def _handle(self, scope: Any, receive: Any, send: Any, path: str) -> None:
        headers = dict(scope.get("headers") or [])
        if scope.get("method") == "POST" and not headers.get(b"content-type", b"").startswith(b"application/json"):
            # every POST body of this API is JSON: accept `curl -d '{...}'` without a content type
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-type"]
            scope["headers"].append((b"content-type", b"application/json"))
        if self.token is not None and path not in OPEN_PATHS:
            auth = headers.get(b"authorization", b"")
            if not auth:
                self.metrics.rejected.labels("unauthorized").inc()
                await self._reply(send, 401, "unauthorized", "missing bearer token: this server was started "
                                  "with a token (--token or M1GYM_TOKEN); send 'Authorization: Bearer <token>'",
                                  {"WWW-Authenticate": "Bearer"})
                return
            scheme, _, given = auth.partition(b" ")
            if scheme.lower() != b"bearer" or not secrets.compare_digest(given.strip(), self.token):
                self.metrics.rejected.labels("unauthorized").inc()
                await self._reply(send, 401, "unauthorized", "wrong bearer token: send the token the server "
                                  "was started with ('Authorization: Bearer <token>')",
                                  {"WWW-Authenticate": "Bearer"})
                return
        limit = self.config.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._reply(send, 400, "bad_request", "Content-Length header is not a number")
                return
            if declared > limit:
                self.metrics.rejected.labels("body_too_large").inc()
                await self._reply(send, 413, "payload_too_large", _too_large_msg(declared, limit))
                return
        received = 0

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    self.metrics.rejected.labels("body_too_large").inc()
                    raise _BodyTooLarge(413, _too_large_msg(received, limit))
            return message

        await self.app(scope, limited_receive, send)


def _too_large_msg(size: int, limit: int) -> str:
    return (f"request body of {size} bytes exceeds the limit of {limit} bytes; send smaller batches "
            "(Client(batch_size=...) splits them) or start the server with a larger --max-body-mb")


class _OrjsonRequest(Request):
    """Parses JSON bodies with orjson (several times faster than json on large score batches)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class _OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Any:
            return await handler(_OrjsonRequest(request.scope, request.receive))

        return route_handler


def _field_path(loc: Any) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def _build_pool(config: ServiceConfig, metrics: ServiceMetrics) -> Any:
    if config.ray:
        return RayPool(config.workers, address=config.ray, imports=config.imports, item_timeout=config.item_timeout,
                       actor_cpus=config.ray_actor_cpus, hooks=metrics)
    return ProcessPool(config.workers, imports=config.imports, item_timeout=config.item_timeout,
                       startup_timeout=config.startup_timeout, hooks=metrics)


def _err_result(code: str, message: str, task_id: Optional[str] = None) -> dict[str, Any]:
    return {"reward": 0.0, "correct": False, "format_ok": False, "reason": message, "details": {},
            "elapsed_ms": 0.0, "task_id": task_id, "error": code}


class ServiceState:
    """What the routes of one app share: the config, the metrics, the pool (None until the workers
    are up), the cache of tasks handed out by /v1/tasks, and the admission and scoring steps every
    scoring endpoint goes through. Lives at ``app.state.service``."""

    def __init__(self, config: ServiceConfig, on_ready: Any = None):
        self.config = config
        self.metrics = ServiceMetrics()
        self.pool: Any = None
        self.started = time.time()
        self.on_ready = on_ready
        #: task id -> (env, the task as JSON bytes: what the workers get, see scoring/worker.py)
        self.task_cache: collections.OrderedDict[str, tuple[str, Any]] = collections.OrderedDict()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI):
        pool = _build_pool(self.config, self.metrics)
        self.metrics.bind(lambda: pool.pending, lambda: sum(1 for w in pool.workers_info() if w["alive"]))
        try:
            await pool.start()
        except BaseException:
            await pool.close()
            raise
        self.pool = pool
        settle_gc()  # everything is imported and started: see scoring.worker.settle_gc
        if self.on_ready is not None:
            self.on_ready()
        try:
            yield
        finally:
            await pool.close()

    def remember(self, tasks: list[dict[str, Any]]) -> None:
        limit, cache = self.config.task_cache, self.task_cache
        if limit <= 0:
            return
        for t in tasks:
            cache[t["id"]] = (t["env"], wire_task(t))
            cache.move_to_end(t["id"])
        while len(cache) > limit:
            cache.popitem(last=False)

    def ready_pool(self) -> Any:
        p = self.pool
        if p is None:
            raise HTTPException(503, "the scoring workers are starting; retry shortly", headers={"Retry-After": "1"})
        return p

    def admit(self, n: int, what: str = "items") -> Any:
        p = self.ready_pool()
        config, metrics = self.config, self.metrics
        if n > config.max_batch:
            metrics.rejected.labels("batch_too_large").inc()
            raise HTTPException(413, f"batch of {n} {what} exceeds the limit of {config.max_batch}; split it "
                                     "(Client(batch_size=...) does) or start the server with a larger --max-batch")
        if p.pending and p.pending + n > config.max_queue:  # an empty queue takes any allowed batch
            metrics.rejected.labels("queue_full").inc()
            per_worker = max(1, len(p.workers_info()))
            retry = max(1, min(60, math.ceil(p.pending / (200.0 * per_worker))))
            raise HTTPException(429, f"the scoring queue is full ({p.pending} items waiting, limit "
                                     f"{config.max_queue}); retry after {retry}s",
                                headers={"Retry-After": str(retry)})
        return p

    def refused(self, code: str, message: str, task_id: Optional[str] = None,
                env: Optional[str] = None) -> dict[str, Any]:
        """The result of an item failed before any worker saw it, counted in m1gym_items_total like
        the others; the env label is a registered name or "unknown" (never a client's string)."""
        self.metrics.items.labels(env or UNKNOWN_ENV_LABEL, code).inc()
        return _err_result(code, message, task_id)

    async def score_items(self, items: list[tuple]) -> list[dict[str, Any]]:
        """Items as (task, env, seed, level, response[, task_id]) tuples -> result dicts, in order."""
        p = self.admit(len(items))
        refused, task_cache = self.refused, self.task_cache
        out: list[Any] = [None] * len(items)
        jobs, where = [], []
        specs: dict[Any, Any] = {}
        ids: list[Any] = []  # the task id each job's error result carries
        for i, (task, env, seed, level, response, *rest) in enumerate(items):
            task_id = rest[0] if rest else None
            wire = None
            if task is None and task_id is not None:
                hit = task_cache.get(task_id)
                if hit is None:
                    out[i] = refused("unknown_task", f"items.{i}: task_id {task_id!r} is not in this server's "
                                     "task cache (tasks from /v1/tasks are kept until evicted or the server "
                                     "restarts); send the full 'task' object instead", task_id)
                    continue
                task_cache.move_to_end(task_id)
                env, wire = hit
            elif task is not None:  # fully checked (Task.from_dict) in the worker, off the event loop
                env, task_id = task.get("env"), task.get("id")
                if not isinstance(env, str):
                    out[i] = refused("invalid_task", f"items.{i}.task: the task has no 'env' string; "
                                     "expected the form printed by `m1gym sample NAME --json`",
                                     task_id if isinstance(task_id, str) else None)
                    continue
            spec = specs.get(env)
            if spec is None:
                try:
                    spec = specs[env] = get_spec(env)
                except UnknownEnvError:
                    out[i] = refused("unknown_env", f"items.{i}: {_unknown_env(str(env))}", task_id)
                    continue
            if task is None and wire is None and level is not None and spec.levels and level not in spec.levels:
                out[i] = refused("generation_failed", f"items.{i}: level {level} is not a level of {env}; "
                                                      f"choose one of {list(spec.levels)}", env=env)
                continue
            if task is not None:
                wire = wire_task(task)
            jobs.append(make_job(SCORE, env, wire, seed, level, response))
            where.append(i)
            ids.append(task_id)
        if jobs:
            results = await p.run(jobs)
            for i, task_id, r in zip(where, ids, results):
                out[i] = r.value if r.error is None else _err_result(r.error, r.message, task_id)
        return out


def _unknown_env(name: str) -> UnknownEnvError:
    return UnknownEnvError(name, [s.name for s in list_envs()])


def _state(request: Request) -> ServiceState:
    return request.app.state.service


# ---- errors -----------------------------------------------------------------------------------

async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    for e in errors:
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx") or {}
            return _error(400, "bad_request", f"malformed JSON in the request body: "
                          f"{ctx.get('error', e.get('msg'))} (at character {(e.get('loc') or [0, '?'])[-1]})")
    fields = [_field_path(e.get("loc", ())) for e in errors]
    parts = [f"{_field_path(e.get('loc', ()))}: {e.get('msg')}" for e in errors[:10]]
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return _error(422, "validation_error", "invalid request: " + "; ".join(parts) + more, fields)


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint {request.method} {request.url.path}; see /openapi.json for the API"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}; see /openapi.json"
    return _error(exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), detail,
                  headers=getattr(exc, "headers", None))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("m1gym serve: unhandled error")
    return _error(500, "internal", f"internal error: {type(exc).__name__}: {exc}"[:500])


# ---- endpoints --------------------------------------------------------------------------------

router = APIRouter(route_class=_OrjsonRoute)


@router.get("/healthz", response_model=schema.Health, tags=["service"])
async def healthz(request: Request) -> Any:
    state = _state(request)
    p = state.pool
    workers = p.workers_info() if p is not None else []
    ok = p is not None and all(w["alive"] for w in workers)
    return {"status": "ok" if ok else "degraded", "version": __version__,
            "backend": p.backend if p is not None else "starting", "workers": workers,
            "queue_depth": p.pending if p is not None else 0, "envs": len(list_envs()),
            "uptime_s": round(time.time() - state.started, 3)}


@router.get("/metrics", tags=["service"], response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
async def prom(request: Request) -> Response:
    return Response(_state(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/v1/envs", response_model=schema.EnvList, tags=["catalogue"])
async def envs(kind: Optional[str] = None) -> Any:
    if kind is not None and kind not in ("rule", "sandbox", "genrm"):
        raise HTTPException(422, f"kind {kind!r} is not one of rule, sandbox, genrm")
    return {"envs": [s.to_dict() for s in list_envs(kind)]}


@router.get("/v1/envs/{name:path}", response_model=schema.EnvInfo, tags=["catalogue"],
            responses={404: {"model": schema.ErrorBody}})
async def env_info(name: str) -> Any:
    try:
        return get_spec(name).to_dict()
    except UnknownEnvError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/v1/tasks", response_model=schema.TasksResponse, tags=["tasks"],
             responses={404: {"model": schema.ErrorBody}, 413: {"model": schema.ErrorBody},
                        422: {"model": schema.ErrorBody}})
async def tasks(req: schema.TasksRequest, request: Request) -> Any:
    state = _state(request)
    try:
        spec = get_spec(req.env)
    except UnknownEnvError as exc:
        raise HTTPException(404, str(exc)) from None
    if not spec.procedural or spec.multi_turn:
        raise HTTPException(422, f"{req.env} is not procedural (a dataset or multi-turn env): it has no "
                                 "generator; load its tasks from a file and send them as 'task' objects")
    if req.level is not None and spec.levels and req.level not in spec.levels:
        raise HTTPException(422, f"level: {req.level} is not a level of {req.env}; "
                                 f"choose one of {list(spec.levels)}")
    p = state.admit(req.n, "tasks")
    jobs = [Job(GENERATE, req.env, None, req.seed + i, req.level, None) for i in range(req.n)]
    results = await p.run(jobs)
    bad = [r for r in results if r.error is not None]
    if bad:
        raise HTTPException(500, f"generating {req.env} failed: {bad[0].message}")
    state.remember([r.value for r in results])
    return Response(orjson.dumps({"tasks": [r.value for r in results]}, default=str),
                    media_type="application/json")


@router.post("/v1/score", response_model=schema.ScoreResponse, tags=["scoring"],
             responses={400: {"model": schema.ErrorBody}, 401: {"model": schema.ErrorBody},
                        413: {"model": schema.ErrorBody}, 422: {"model": schema.ErrorBody},
                        429: {"model": schema.ErrorBody}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/ScoreRequest"}}}}})
async def score(request: Request) -> Any:
    """Score a batch; results in order, each with its own ``error`` (one bad item never fails the batch)."""
    # The body is parsed here rather than by FastAPI (see schema.fast_score_items); the schema
    # published for it is still ScoreRequest (openapi_extra above, components in _openapi()).
    body = await request.body()
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from None
    items = schema.fast_score_items(data)
    if items is None:
        try:
            items = schema.score_items_checked(data)
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    results = await _state(request).score_items(items)
    return Response(orjson.dumps({"scores": results}, default=str, option=orjson.OPT_NON_STR_KEYS),
                    media_type="application/json")


@router.post("/get_reward", response_model=schema.GetRewardResponse, tags=["adapters"],
             responses={422: {"model": schema.ErrorBody}, 413: {"model": schema.ErrorBody}})
async def get_reward(req: schema.GetRewardRequest, request: Request) -> Any:
    """OpenRLHF's remote reward protocol (``--remote_rm_url http://host:port/get_reward``)."""
    state = _state(request)
    n = len(req.query)
    if req.prompts is not None and len(req.prompts) != n:
        raise HTTPException(422, f"prompts: {len(req.prompts)} prompts for {n} queries; send one per query")
    if req.labels is None:
        raise HTTPException(422, "labels: required (one per query): the task of each sample; OpenRLHF "
                                 "sends them with --label_key; see docs/service.md")
    if len(req.labels) != n:
        raise HTTPException(422, f"labels: {len(req.labels)} labels for {n} queries; send one per query")
    items: list[Any] = []
    for i in range(n):
        prompt = req.prompts[i] if req.prompts is not None else None
        try:
            items.append(item_from_label(req.labels[i], response_from_query(req.query[i], prompt),
                                         default_env=state.config.label_env, prompt=prompt))
        except LabelError as exc:
            items.append(exc)
    good = [(i, it) for i, it in enumerate(items) if not isinstance(it, LabelError)]
    scored = await state.score_items([(it.get("task"), it.get("env"), it.get("seed"), it.get("level"), it["response"])
                                      for _, it in good]) if good else []
    results: list[dict[str, Any]] = [
        state.refused("invalid_task", f"labels.{i}: {it}") if isinstance(it, LabelError) else {}
        for i, it in enumerate(items)]
    for (i, _), r in zip(good, scored):
        results[i] = r
    rewards = [float(r["reward"]) for r in results]
    return Response(orjson.dumps({
        "rewards": rewards,
        "scores": [min(1.0, max(0.0, x)) for x in rewards],
        "extra_logs": {"correct": [1.0 if r["correct"] else 0.0 for r in results],
                       "format_ok": [1.0 if r["format_ok"] else 0.0 for r in results],
                       "error": [0.0 if r["error"] is None else 1.0 for r in results]},
    }), media_type="application/json")


def _openapi(app: FastAPI) -> Any:
    """FastAPI's schema plus ScoreRequest (and ScoreItem), which /v1/score parses by hand."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = default_openapi()
            components = doc.setdefault("components", {}).setdefault("schemas", {})
            request_schema = schema.ScoreRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(request_schema.pop("$defs", {}))
            components["ScoreRequest"] = request_schema
        return app.openapi_schema

    return openapi


def create_app(config: ServiceConfig | None = None, *, on_ready: Any = None) -> Any:
    """The ASGI app: the routes of ``router`` over a ``ServiceState`` (``app.state.service``).
    ``on_ready()`` is called once the workers are up (the CLI prints the URL)."""
    config = config or ServiceConfig()
    load_imports(config.imports)  # the server validates env names against the same registry
    state = ServiceState(config, on_ready)
    app = FastAPI(title="m1gym reward service", version=__version__, lifespan=state.lifespan,
                  description="Score rollouts against m1gym's verifiable environments. "
                              "See docs/service.md for examples.")
    app.state.service = state
    app.router.route_class = _OrjsonRoute
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _internal)
    app.include_router(router)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return _Guard(app, config, state.metrics)
