"""What the pool runs and what it gives back: ``Job`` and ``Result``.

A ``Job`` is one item: score ``response`` against a task, or generate a task from ``seed`` and
``level``. A ``Result`` is its outcome: ``value`` (the score as a dict, or the generated task as a
dict) when ``error`` is None, else ``error`` (a short code: ``timeout``, ``worker_crashed``,
``invalid_task``, ``generation_failed``, ``internal``) and ``message`` (human text).

Both are named tuples, and between processes they travel as the plain tuples they are made of
(``tuple(job)``, ``tuple(result)``), rebuilt on arrival with ``as_job`` / ``as_result``: pickle
stores a named tuple through ``__reduce_ex__`` and rebuilds it through a Python-level ``__new__``,
about 2 us per item each way where a plain tuple costs 0.2 us, and at ~60 us of server CPU per
logic item that would show in the service's throughput.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Union

import orjson

#: ``Job.op`` values
SCORE, GENERATE = "score", "generate"


class Job(NamedTuple):
    #: "score" or "generate"
    op: str
    #: registered env name
    env: str
    #: the task as JSON bytes (what the service and the trainer send: one flat object to pickle,
    #: and the worker caches the parsed Task by those bytes), a task dict, or None (generate it from
    #: ``seed`` and ``level``)
    task: Union[bytes, dict, None]
    seed: Optional[int]
    level: Optional[int]
    response: Optional[str]

    @classmethod
    def score(cls, task: dict[str, Any], response: str) -> "Job":
        """Score ``response`` against a task given as a dict (``Task.to_dict()``)."""
        return cls(SCORE, task["env"], wire_task(task), None, None, response)


class Result(NamedTuple):
    #: the score (``reward, correct, format_ok, reason, details, elapsed_ms, task_id, error``) or the
    #: generated task, as a dict; None on error
    value: Optional[dict]
    #: None, or the error code
    error: Optional[str] = None
    message: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_score(self) -> Any:
        """The ``Score`` of a scoring result; an error scores 0 with the code and message as reason."""
        from ..core import Score

        if self.error is None:
            return Score.from_dict(self.value)
        return Score.fail(f"{self.error}: {self.message}", error=self.error)


_new = tuple.__new__


def ok(value: dict) -> Result:
    return _new(Result, (value, None, None))


def err(code: str, message: str) -> Result:
    return _new(Result, (None, code, message))


def make_job(op: str, env: str, task: Any, seed: Optional[int], level: Optional[int],
             response: Optional[str]) -> Job:
    """``Job(...)`` at half the cost (no keyword handling): the service builds one per item."""
    return _new(Job, (op, env, task, seed, level, response))


def as_result(raw: tuple) -> Result:
    """A Result from its wire form (a plain tuple)."""
    return _new(Result, raw)


def as_job(raw: tuple) -> Job:
    """A Job from its wire form (a plain tuple)."""
    return _new(Job, raw)


def wire_task(task: dict[str, Any]) -> Any:
    """A task as the workers get it: JSON bytes (cheap to ship, cached by content in the worker;
    see worker.py), or the dict itself when orjson cannot encode it (an int beyond 64 bits)."""
    try:
        return orjson.dumps(task, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return task
