"""``m1gym serve-model PATH``: a checkpoint behind a minimal OpenAI-compatible completions API.

``POST /v1/completions`` with ``prompt`` (text, or a list of token ids), ``n``, ``max_tokens``,
``temperature``, ``top_p``, ``seed``, ``logprobs`` answers with ``choices[i].text``,
``choices[i].logprobs.tokens`` ("token_id:N" when ``return_tokens_as_token_ids`` is set, as in vLLM),
``token_logprobs`` and ``finish_reason`` ("stop" at EOS, "length", or "repetition"). Sampling runs
through the embedded engine, so the numbers are the same as in process. ``GET /v1/models`` lists
the one model. Meant for loopback use by ``rollout.engine: openai`` and GenRM judges.
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Union

from pydantic import BaseModel, Field


class CompletionRequest(BaseModel):
    model: str = "m1gym"
    prompt: Union[str, list[int]]
    n: int = Field(1, ge=1, le=64)
    max_tokens: int = Field(32, ge=1, le=8192)
    temperature: float = Field(1.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: Optional[int] = None
    logprobs: Optional[int] = None
    return_tokens_as_token_ids: bool = False
    #: m1gym extension: the repetition stop of the embedded engine (0 = off)
    repetition_k: int = 0
    repetition_p: float = 0.99


def create_app(path: str, threads: int = 1):
    import torch
    from fastapi import FastAPI, HTTPException

    from .model import load_model
    from .rollout import EmbeddedEngine, SamplingParams

    if threads > 0:
        torch.set_num_threads(threads)
    model, tok = load_model(path)
    engine = EmbeddedEngine(model, tok)
    lock = threading.Lock()
    app = FastAPI(title="m1gym serve-model")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "m1gym", "object": "model", "root": path}]}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> dict[str, Any]:
        if isinstance(req.prompt, str):
            ids = tok.prompt_ids([{"role": "user", "content": req.prompt}])
        else:
            ids = list(req.prompt)
            if any(not 0 <= i < tok.vocab_size for i in ids):
                raise HTTPException(400, f"prompt token ids must lie in [0, {tok.vocab_size})")
        params = SamplingParams(max_new_tokens=req.max_tokens, temperature=req.temperature, top_p=req.top_p,
                                repetition_k=req.repetition_k, repetition_p=req.repetition_p)
        with lock:
            group = engine.generate([ids], req.n, params, seed=req.seed or 0)[0]
        choices = []
        for i, r in enumerate(group):
            toks = [f"token_id:{t}" if req.return_tokens_as_token_ids else tok.decode([t], skip_special=False)
                    for t in r.token_ids]
            choices.append({"index": i, "text": r.text,
                            "logprobs": {"tokens": toks, "token_logprobs": r.logprobs} if req.logprobs is not None else None,
                            "finish_reason": {"eos": "stop"}.get(r.stop_reason, r.stop_reason)})
        return {"object": "text_completion", "model": req.model, "choices": choices,
                "usage": {"prompt_tokens": len(ids), "completion_tokens": sum(len(r.token_ids) for r in group)}}

    return app


def serve(path: str, host: str = "127.0.0.1", port: int = 8000, threads: int = 1) -> None:
    import uvicorn

    uvicorn.run(create_app(path, threads), host=host, port=port, log_level="warning")
