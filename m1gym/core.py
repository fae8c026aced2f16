"""The shared vocabulary: Task, Score, Environment.

Every part of m1gym speaks these three types. A Task is self-contained and JSON-serialisable so it
can be stored, sent over RPC and re-scored later without its generator. Scoring is a pure function
of (task, response): stateless, thread-safe, bounded in time, and it never raises on garbage input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

Message = dict[str, str]

#: Responses longer than this are cut before any verifier sees them (1 MB garbage is still scored 0).
MAX_RESPONSE_CHARS = 200_000


class TaskFormatError(ValueError):
    """A Task (or its JSON) is malformed."""


@dataclass
class Task:
    """One problem instance.

    id:     stable identifier (same generator + seed + level -> same id).
    env:    registered environment name, e.g. ``math/arithmetic``.
    prompt: chat messages shown to the policy.
    answer: ground truth or structured puzzle; hidden from the policy.
    meta:   level, knob values, generator version, source.
    """

    id: str
    env: str
    prompt: list[Message]
    answer: Any = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "env": self.env, "prompt": self.prompt, "answer": self.answer, "meta": self.meta}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "Task":
        if not isinstance(data, dict):
            raise TaskFormatError(f"a task must be a JSON object, got {type(data).__name__}")
        missing = [k for k in ("id", "env", "prompt") if k not in data]
        if missing:
            raise TaskFormatError(
                f"task is missing field(s) {missing}; expected the form printed by `m1gym sample NAME --json`"
            )
        prompt = data["prompt"]
        if isinstance(prompt, str):
            prompt = [{"role": "user", "content": prompt}]
        if not isinstance(prompt, list) or not all(
            isinstance(m, dict) and isinstance(m.get("content"), str) for m in prompt
        ):
            raise TaskFormatError("task field 'prompt' must be a list of {role, content} messages or a string")
        meta = data.get("meta")
        meta = {} if meta is None else meta
        if not isinstance(meta, dict):
            raise TaskFormatError("task field 'meta' must be an object")
        return cls(id=str(data["id"]), env=str(data["env"]), prompt=prompt, answer=data.get("answer"), meta=meta)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Task":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TaskFormatError(f"task is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @property
    def prompt_text(self) -> str:
        """The prompt as one string (user turns joined), for engines without a chat template."""
        return "\n\n".join(m["content"] for m in self.prompt)

    @property
    def level(self) -> int | None:
        return self.meta.get("level")


@dataclass
class Score:
    """The verdict on one response.

    reward:    the float RL uses.
    correct:   True/False for rule-verified tasks, None where correctness is not defined (GenRM).
    format_ok: the response followed the answer format (think block closed, one final answer).
    reason:    short human text; always set when reward is 0.
    details:   anything else (per-test tables, partial credit, parse errors).
    """

    reward: float
    correct: bool | None = None
    format_ok: bool = True
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Score":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_json(cls, text: str) -> "Score":
        return cls.from_dict(json.loads(text))

    @classmethod
    def fail(cls, reason: str, *, format_ok: bool = False, **details: Any) -> "Score":
        return cls(reward=0.0, correct=False, format_ok=format_ok, reason=reason, details=dict(details))

    @classmethod
    def ok(cls, reason: str = "correct", **details: Any) -> "Score":
        return cls(reward=1.0, correct=True, format_ok=True, reason=reason, details=dict(details))


def stable_seed(*parts: Any) -> int:
    """A 64-bit seed from a stable hash of the parts (never Python's salted ``hash()``)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def stable_rng(*parts: Any) -> random.Random:
    """A private ``random.Random`` for one generated instance; no global random state is touched."""
    return random.Random(stable_seed(*parts))


def coerce_response(response: Any) -> str:
    """Any response -> a bounded str. Bytes are decoded leniently; other objects become ''."""
    if isinstance(response, bytes):
        response = response.decode("utf-8", errors="replace")
    if not isinstance(response, str):
        return ""
    if len(response) > MAX_RESPONSE_CHARS:
        # Keep the tail: the final answer is at the end of a response.
        response = response[-MAX_RESPONSE_CHARS:]
    try:
        response.encode("utf-8")
    except UnicodeEncodeError:
        # lone surrogates cannot be written to files, sandboxes or JSON: replace them once, here
        response = response.encode("utf-8", errors="replace").decode("utf-8")
    return response


class Environment:
    """Base class of every single-turn environment.

    Subclasses set the class attributes and implement ``generate`` (procedural envs) or ``load``
    (dataset envs), ``_score`` and ``reference``. ``score`` wraps ``_score`` so that scoring never
    raises and always reports its time.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "rule"  # rule | sandbox | genrm
    description: ClassVar[str] = ""
    levels: ClassVar[Sequence[int]] = ()
    answer_format: ClassVar[str] = "free text in <answer>...</answer>"
    version: ClassVar[str] = "1"
    procedural: ClassVar[bool] = True
    #: share of tasks one constant answer may pass before the universal-answer probe fails
    #: (m1gym/probe.py); an env with a small answer space declares a higher one and says why
    chance_level: ClassVar[float] = 0.05
    chance_reason: ClassVar[str] = ""

    def __init__(self, **config: Any) -> None:
        self.config = dict(config)

    # ---- task creation -------------------------------------------------------------------
    def generate(self, seed: int, level: int | None = None, **knobs: Any) -> Task:
        raise NotImplementedError(f"{self.name} is not procedural; use load(path)")

    def load(self, path: str) -> Iterable[Task]:
        raise NotImplementedError(f"{self.name} does not load dataset files; use generate(seed, level)")

    def sample(self, n: int, seed: int = 0, level: int | None = None) -> list[Task]:
        """n tasks: seeds seed, seed+1, ... (generate's seed is per instance)."""
        return [self.generate(seed + i, level) for i in range(n)]

    def examples(self, n: int = 5, seed: int = 0) -> list[Task]:
        """A few tasks for checks and demos: generated for procedural envs, bundled for dataset envs."""
        if not self.procedural:
            raise NotImplementedError(f"{self.name}: dataset envs override examples() with bundled tasks")
        levels = list(self.levels) or [None]
        return [self.generate(seed + i, levels[i % len(levels)]) for i in range(n)]

    # ---- scoring -------------------------------------------------------------------------
    def _score(self, task: Task, response: str) -> Score:
        raise NotImplementedError

    def score(self, task: Task, response: Any) -> Score:
        start = time.perf_counter()
        try:
            if task.env != self.name and self.name:
                result = Score.fail(f"task belongs to env {task.env!r}, not {self.name!r}")
            else:
                result = self._score(task, coerce_response(response))
        except Exception as exc:  # a verifier bug must never take down a trainer or the service
            result = Score.fail(f"verifier error: {type(exc).__name__}: {exc}"[:500])
        result.elapsed_ms = (time.perf_counter() - start) * 1000.0
        return result

    async def ascore(self, task: Task, response: Any) -> Score:
        """Async scoring; CPU-bound envs run ``score`` in a thread, I/O-bound envs override this."""
        import asyncio  # here, not at the top: importing asyncio costs more than the rest of m1gym

        return await asyncio.to_thread(self.score, task, response)

    def score_batch(self, tasks: Sequence[Task], responses: Sequence[Any]) -> list[Score]:
        if len(tasks) != len(responses):
            raise ValueError(f"score_batch got {len(tasks)} tasks but {len(responses)} responses")
        return [self.score(t, r) for t, r in zip(tasks, responses)]

    def reference(self, task: Task) -> str:
        """A complete response that scores 1 (SFT data and the generator's self-check)."""
        raise NotImplementedError

    def probe_responses(self, task: Task) -> dict[str, str]:
        """Constant and degenerate responses (label -> response) that must not score on this task;
        the universal-answer probe scores them. Override to add the env's own degenerate answers."""
        from .probe_answers import default_probe_responses

        return default_probe_responses(task, self.kind)

    # ---- helpers for subclasses ----------------------------------------------------------
    def make_task(self, key: str, prompt: str, answer: Any, meta: dict[str, Any]) -> Task:
        """Build a Task with a stable id from (env, version, key)."""
        digest = hashlib.sha256(f"{self.name}|{self.version}|{key}".encode()).hexdigest()[:16]
        meta = {"generator_version": self.version, **meta}
        return Task(id=f"{self.name}:{digest}", env=self.name, prompt=[{"role": "user", "content": prompt}],
                    answer=answer, meta=meta)

    def rng(self, seed: int, level: int | None = None, index: int = 0) -> random.Random:
        return stable_rng(self.name, self.version, seed, level, index)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def reference_response(answer_text: str, reasoning: str | None = None) -> str:
    """The canonical response layout: optional think block, then the final answer tag."""
    think = f"<think>\n{reasoning.strip()}\n</think>\n" if reasoning else ""
    return f"{think}<answer>{answer_text}</answer>"
