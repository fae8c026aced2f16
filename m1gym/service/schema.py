"""The wire schema of the reward service. These pydantic models are the API: FastAPI validates
requests against them and publishes them as the OpenAPI schema at ``/openapi.json``.

Error codes carried by ``ScoreResult.error`` (``null`` when the item was scored):

``unknown_env``        the item names an environment this server does not serve
``unknown_task``       the item's ``task_id`` is not in this server's task cache
``invalid_task``       the task object is malformed (message names the field)
``generation_failed``  ``{env, seed, level}`` could not be turned into a task
``timeout``            the verifier ran past the per-item timeout; its worker was replaced
``worker_crashed``     the worker died on this item twice (it was retried once)
``internal``           anything else; the message says what
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

ErrorCode = Literal["unknown_env", "unknown_task", "invalid_task", "generation_failed", "timeout", "worker_crashed", "internal"]


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = "user"
    content: str


class TaskModel(BaseModel):
    """A self-contained task (the JSON printed by ``m1gym sample NAME --json``)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    env: str
    prompt: list[Message] | str
    answer: Any = None
    meta: dict[str, Any] = Field(default_factory=dict)


class EnvInfo(BaseModel):
    name: str
    kind: str
    description: str
    levels: list[int]
    answer_format: str
    procedural: bool
    multi_turn: bool = False
    gym_id: Optional[str] = None
    defaults: dict[str, Any] = Field(default_factory=dict)


class EnvList(BaseModel):
    envs: list[EnvInfo]


class TasksRequest(BaseModel):
    env: str = Field(description="registered environment name, e.g. logic/sudoku")
    n: int = Field(1, ge=1, description="number of tasks (seeds seed, seed+1, ...)")
    seed: int = Field(0, description="seed of the first task")
    level: Optional[int] = Field(None, description="difficulty level (the env's default when omitted)")


class TasksResponse(BaseModel):
    tasks: list[TaskModel]


class ScoreItem(BaseModel):
    """One response to score, for a full task, a ``task_id`` of a task this server handed out from
    ``/v1/tasks`` (kept in its task cache), or an ``{env, seed, level}`` reference to a procedural
    task (regenerated on the server, so it is the same task on every machine)."""

    model_config = ConfigDict(extra="forbid")
    response: str = Field(description="the model's full response text")
    task: Optional[dict[str, Any]] = Field(None, description="a task object (id, env, prompt, answer, meta)")
    task_id: Optional[str] = Field(None, description="id of a task this server generated (/v1/tasks)")
    env: Optional[str] = Field(None, description="with seed/level: the procedural env to generate from")
    seed: Optional[int] = None
    level: Optional[int] = None

    @model_validator(mode="after")
    def _task_or_env(self) -> "ScoreItem":
        if self.task is not None or self.task_id is not None:
            return self
        if self.env is None:
            raise ValueError("each item needs 'task' (a task object), 'task_id' (from /v1/tasks), "
                             "or 'env' with 'seed' (and 'level')")
        if self.seed is None:
            raise ValueError("an item given by 'env' needs 'seed' (and optionally 'level') to generate its task")
        return self


class ScoreRequest(BaseModel):
    items: list[ScoreItem] = Field(description="responses to score; results come back in the same order")


_ITEM_KEYS = frozenset(ScoreItem.model_fields)


def fast_score_items(data: Any) -> Optional[list[tuple]]:
    """``/v1/score`` items as ``(task, env, seed, level, response, task_id)`` tuples when ``data``
    is a well-formed ``ScoreRequest`` in its plain JSON form, else None.

    The hot path of the service: a hand-written check of exactly the values ``ScoreRequest`` takes
    without coercion, with no model object built per item (that cost more server time than a
    cheap verifier takes to score). Anything it does not accept as-is (a wrong type, a missing or
    unknown field, a value pydantic would coerce such as ``"seed": "3"``) returns None, and the
    caller validates with ``ScoreRequest`` itself: every 422 message comes from pydantic."""
    if type(data) is not dict:
        return None
    items = data.get("items")
    if type(items) is not list:
        return None
    out = []
    allowed = _ITEM_KEYS
    for it in items:
        if type(it) is not dict or not it.keys() <= allowed:
            return None
        response = it.get("response")
        task, task_id, env = it.get("task"), it.get("task_id"), it.get("env")
        seed, level = it.get("seed"), it.get("level")
        if (type(response) is not str or (task is not None and type(task) is not dict)
                or (task_id is not None and type(task_id) is not str) or (env is not None and type(env) is not str)
                or (seed is not None and type(seed) is not int) or (level is not None and type(level) is not int)):
            return None
        if task is None and task_id is None and (env is None or seed is None):
            return None
        out.append((task, env, seed, level, response, task_id))
    return out


def score_items_checked(data: Any) -> list[tuple]:
    """Like ``fast_score_items``, through pydantic (coercions and error messages included);
    raises pydantic's ValidationError."""
    req = ScoreRequest.model_validate(data)
    return [(it.task, it.env, it.seed, it.level, it.response, it.task_id) for it in req.items]


class ScoreResult(BaseModel):
    """A Score (see m1gym.core.Score) plus the service's per-item error."""

    reward: float
    correct: Optional[bool] = None
    format_ok: bool = False
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    elapsed_ms: float = 0.0
    task_id: Optional[str] = None
    error: Optional[ErrorCode] = Field(None, description="null when scored; else why this item failed")


class ScoreResponse(BaseModel):
    scores: list[ScoreResult]


class GetRewardRequest(BaseModel):
    """OpenRLHF remote reward model protocol."""

    model_config = ConfigDict(extra="allow")
    query: list[str] = Field(description="prompt + response texts, one per sample")
    prompts: Optional[list[str]] = Field(None, description="the prompts (the response is query minus prompt)")
    labels: Optional[list[Any]] = Field(
        None, description="one per sample: a task object / Task JSON string, {env, seed, level}, "
                          "{env, answer}, or a bare answer when the server has --label-env")


class GetRewardResponse(BaseModel):
    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]]


class WorkerInfo(BaseModel):
    pid: Optional[int]
    alive: bool
    busy: bool


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    backend: str
    workers: list[WorkerInfo]
    queue_depth: int
    envs: int
    uptime_s: float


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable code: bad_request, unauthorized, not_found, "
                                   "payload_too_large, validation_error, queue_full, internal")
    message: str = Field(description="what is wrong and how to fix it")
    fields: list[str] = Field(default_factory=list, description="request fields at fault (validation errors)")
