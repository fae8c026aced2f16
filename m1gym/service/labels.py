"""Turning other trainers' ``label`` / ``ground_truth`` values into m1gym score items.

Trainers carry one opaque value per sample (OpenRLHF ``labels``, verl ``ground_truth``, a TRL
dataset column). m1gym accepts, in this order:

1. a Task object, or its JSON string (``{"id", "env", "prompt", "answer", "meta"}``, as printed by
   ``m1gym sample NAME --json``): scored exactly as generated. The recommended form.
2. ``{"env": NAME, "seed": S, "level": L}`` (object or JSON string): a procedural task, regenerated
   on the server (the same task on every machine).
3. ``{"env": NAME, "answer": A, "meta": {...}}``: a task built from a bare ground truth, for envs
   whose verifier needs only the answer (e.g. math).
4. a bare answer (string or number) together with a default env (``--label-env`` on the server,
   verl's ``data_source`` when it is a registered env, ``env=`` for the TRL function).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Optional


class LabelError(ValueError):
    """A label could not be turned into a task; the message says which forms are accepted."""


FORMS = ("a Task object/JSON (m1gym sample NAME --json), {env, seed, level}, {env, answer}, "
         "or a bare answer with a default env")


def _as_obj(label: Any) -> Any:
    if isinstance(label, (bytes, bytearray)):
        label = label.decode("utf-8", errors="replace")
    if isinstance(label, str):
        text = label.strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise LabelError(f"label looks like JSON but does not parse ({exc}); expected {FORMS}") from None
    return label


def item_from_label(label: Any, response: str, *, default_env: Optional[str] = None,
                    prompt: Optional[str] = None) -> dict[str, Any]:
    """A ``/v1/score`` item (``{"task"|"env"+"seed", "response"}``) for one label."""
    obj = _as_obj(label)
    if isinstance(obj, dict):
        if "id" in obj and "env" in obj and "prompt" in obj:
            return {"task": obj, "response": response}
        env = obj.get("env") or default_env
        if not isinstance(env, str) or not env:
            raise LabelError(f"label object has no 'env' (and no default env is set); expected {FORMS}")
        if "seed" in obj:
            return {"env": env, "seed": obj["seed"], "level": obj.get("level"), "response": response}
        if "answer" in obj:
            return {"task": _answer_task(env, obj["answer"], obj.get("meta") or {}, obj.get("prompt", prompt)),
                    "response": response}
        raise LabelError(f"label object for env {env!r} needs 'seed' or 'answer'; expected {FORMS}")
    if obj is None:
        raise LabelError(f"label is missing; expected {FORMS}")
    if default_env is None:
        raise LabelError(f"label {str(obj)[:60]!r} is a bare answer but no default env is set "
                         "(start the server with --label-env NAME, or send {env, answer})")
    return {"task": _answer_task(default_env, obj, {}, prompt), "response": response}


def _answer_task(env: str, answer: Any, meta: dict[str, Any], prompt: Optional[str]) -> dict[str, Any]:
    key = json.dumps([env, answer, meta], sort_keys=True, default=str)
    return {"id": f"{env}:label-{hashlib.sha256(key.encode()).hexdigest()[:16]}", "env": env,
            "prompt": [{"role": "user", "content": prompt or ""}], "answer": answer, "meta": dict(meta)}


#: chat-template end tokens a trainer leaves in decoded text (OpenRLHF decodes with
#: skip_special_tokens=False): <|im_end|>, <|endoftext|>, <｜end▁of▁sentence｜>, </s>, <eos>, <pad>, ...
_END_TOKENS = re.compile(r"(?:\s*(?:<\|[^<>|\s]{1,40}\|>|<｜[^<>｜\s]{1,40}｜>|</s>|<eos>|<pad>|<end_of_turn>|"
                         r"<\|end\|>))+\s*$")


def response_from_query(query: str, prompt: Optional[str]) -> str:
    """OpenRLHF sends prompt + response decoded as one ``query`` string: keep what follows the prompt
    (so an answer written in the prompt is never taken for the model's) minus the end-of-turn tokens
    the decode left at the end."""
    response = query
    if prompt:
        if query.startswith(prompt):
            response = query[len(prompt):]
        elif prompt in query:
            response = query[query.index(prompt) + len(prompt):]
        else:
            tail = prompt[-200:]  # decode(encode(prompt)) can differ early on (BOS, unknown characters)
            at = query.rfind(tail)
            if at >= 0:
                response = query[at + len(tail):]
    return _END_TOKENS.sub("", response)
