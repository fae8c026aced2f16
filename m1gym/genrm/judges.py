"""Judges answer chat prompts. Two backends: any OpenAI-compatible chat-completions endpoint over
httpx (vLLM's server, `m1gym serve-model`, a hosted API), or a local transformers checkpoint run in
process. Both return the text and, when asked and available, per-token log-probs."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

Message = dict[str, str]


class JudgeUnavailable(RuntimeError):
    """The judge could not be reached or kept failing; the message names the endpoint and the fix."""


@dataclass
class TokenLogprob:
    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)


@dataclass
class JudgeReply:
    text: str
    logprobs: list[TokenLogprob] | None = None
    latency_ms: float = 0.0


@runtime_checkable
class Judge(Protocol):
    name: str

    def complete(self, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.0,
                 logprobs: bool = False) -> JudgeReply: ...


def _parse_choice(choice: dict[str, Any]) -> tuple[str, list[TokenLogprob] | None]:
    text = (choice.get("message") or {}).get("content")
    if text is None:
        text = choice.get("text", "")
    lp = choice.get("logprobs")
    tokens = None
    if isinstance(lp, dict) and isinstance(lp.get("content"), list):
        tokens = [TokenLogprob(c.get("token", ""), float(c.get("logprob", 0.0)),
                               {t.get("token", ""): float(t.get("logprob", 0.0)) for t in c.get("top_logprobs") or []})
                  for c in lp["content"]]
    return text or "", tokens


class HTTPJudge:
    """OpenAI-compatible `/v1/chat/completions`. Retries connection errors, timeouts and 5xx with
    exponential backoff, then raises JudgeUnavailable; 4xx are not retried.

    ``model`` is sent only when given: a server then answers with its one served model (vLLM and
    ``m1gym serve-model`` do), while a name it does not serve gets 404 from vLLM. Give the name the
    server was started with (vLLM's ``--served-model-name``) when it serves several, or for hosted
    APIs. For judges whose log-probs are used, start vLLM with ``--logprobs-mode
    processed_logprobs`` so they are those of the sampling distribution."""

    def __init__(self, base_url: str, model: str | None = None, *, api_key: str | None = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model, self.timeout, self.retries, self.backoff = model, timeout, retries, backoff
        self.name = f"http:{self.base_url}" + (f"#{model}" if model else "")
        key = api_key or os.environ.get("M1GYM_JUDGE_API_KEY")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout, headers=self._headers)

    def _body(self, messages, max_tokens, temperature, logprobs) -> dict[str, Any]:
        body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        if self.model:
            body["model"] = self.model
        if logprobs:
            body.update(logprobs=True, top_logprobs=5)
        return body

    def _delay(self, attempt: int) -> float:
        return self.backoff * (2 ** attempt) * (0.5 + random.random() / 2)

    def _handle(self, resp: httpx.Response, start: float) -> JudgeReply | None:
        if resp.status_code >= 500:
            return None
        if resp.status_code >= 400:
            raise JudgeUnavailable(f"judge at {self.base_url} rejected the request ({resp.status_code}): "
                                   f"{resp.text[:200]}")
        text, tokens = _parse_choice(resp.json()["choices"][0])
        return JudgeReply(text, tokens, (time.perf_counter() - start) * 1000)

    def complete(self, messages, *, max_tokens=512, temperature=0.0, logprobs=False) -> JudgeReply:
        body = self._body(messages, max_tokens, temperature, logprobs)
        last = "no attempt"
        for attempt in range(self.retries + 1):
            start = time.perf_counter()
            try:
                reply = self._handle(self._client.post(f"{self.base_url}/chat/completions", json=body), start)
                if reply is not None:
                    return reply
                last = "server error (5xx)"
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                time.sleep(self._delay(attempt))
        raise JudgeUnavailable(f"judge at {self.base_url} failed after {self.retries + 1} attempts ({last}); "
                               "check that the server runs (e.g. `m1gym serve-model PATH`) and the URL is right")

    async def acomplete(self, messages, *, max_tokens=512, temperature=0.0, logprobs=False) -> JudgeReply:
        body = self._body(messages, max_tokens, temperature, logprobs)
        last = "no attempt"
        async with httpx.AsyncClient(timeout=self.timeout, headers=self._headers) as client:
            for attempt in range(self.retries + 1):
                start = time.perf_counter()
                try:
                    reply = self._handle(await client.post(f"{self.base_url}/chat/completions", json=body), start)
                    if reply is not None:
                        return reply
                    last = "server error (5xx)"
                except (httpx.TransportError, httpx.TimeoutException) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if attempt < self.retries:
                    await asyncio.sleep(self._delay(attempt))
        raise JudgeUnavailable(f"judge at {self.base_url} failed after {self.retries + 1} attempts ({last})")

    def close(self) -> None:
        self._client.close()


class TransformersJudge:
    """A local checkpoint run in process (greedy by default).

    A transformers checkpoint (its own tokenizer and chat template) runs through ``generate``; an
    m1gym checkpoint (the directory holds ``m1gym_tokenizer.json``: the character tokenizer, not a
    transformers one) is loaded with ``m1gym.inference.model.load_model`` and sampled by the embedded
    rollout engine, its top-5 alternatives computed as ``serve-model`` computes them."""

    def __init__(self, path: str, device: str = "cpu"):
        import threading
        from pathlib import Path

        import torch

        self.name = f"local:{path}"
        self.device, self._torch, self._lock = device, torch, threading.Lock()
        self.engine = None
        if (Path(path) / "m1gym_tokenizer.json").exists():
            from ..inference.model import load_model
            from ..inference.rollout import EmbeddedEngine

            self.model, self.tokenizer = load_model(path, device=device)
            self.model.eval()
            self.engine = EmbeddedEngine(self.model, self.tokenizer, device=device)
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForCausalLM.from_pretrained(path).to(device).eval()

    def _complete_m1gym(self, messages, max_tokens, temperature, logprobs, start) -> JudgeReply:
        from ..inference.rollout import SamplingParams
        from ..inference.serve import topk_logprobs

        tok = self.tokenizer
        ids = tok.prompt_ids(messages)
        params = SamplingParams(max_new_tokens=max_tokens, temperature=temperature, repetition_k=0)
        with self._lock:
            r = self.engine.generate([ids], 1, params)[0][0]
            tops = topk_logprobs(self.model, ids, r.token_ids, 5, temperature) if logprobs else None
        tokens = None
        if logprobs:
            tokens = [TokenLogprob(tok.decode([t], skip_special=False), lp,
                                   {tok.decode([i], skip_special=False): v for i, v in top})
                      for t, lp, top in zip(r.token_ids, r.logprobs, tops)
                      if not (t == tok.eos_id and r.stop_reason == "eos")]
        return JudgeReply(r.text, tokens, (time.perf_counter() - start) * 1000)

    def complete(self, messages, *, max_tokens=512, temperature=0.0, logprobs=False) -> JudgeReply:
        torch = self._torch
        start = time.perf_counter()
        if self.engine is not None:
            return self._complete_m1gym(messages, max_tokens, temperature, logprobs, start)
        if getattr(self.tokenizer, "chat_template", None):
            prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = "\n\n".join(m["content"] for m in messages) + "\n\n"
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids.to(self.device)
        with self._lock, torch.no_grad():
            out = self.model.generate(ids, max_new_tokens=max_tokens, do_sample=temperature > 0,
                                      temperature=temperature if temperature > 0 else None,
                                      output_scores=logprobs, return_dict_in_generate=True)
        new = out.sequences[0, ids.shape[1]:]
        tokens = None
        if logprobs:
            tokens = []
            for tok_id, scores in zip(new.tolist(), out.scores):
                lp = torch.log_softmax(scores[0].float(), -1)
                top = torch.topk(lp, 5)
                tokens.append(TokenLogprob(self.tokenizer.decode([tok_id]), float(lp[tok_id]),
                                           {self.tokenizer.decode([i]): float(v)
                                            for v, i in zip(top.values.tolist(), top.indices.tolist())}))
        return JudgeReply(self.tokenizer.decode(new, skip_special_tokens=True), tokens,
                          (time.perf_counter() - start) * 1000)
