"""Rollout engines behind one interface.

``engine.generate(prompts, n, params, seed)`` takes token-id prompts and returns, for every prompt,
``n`` ``Rollout`` records with the same schema whatever the engine:

    token_ids    sampled response tokens (the stop token included when it is EOS)
    logprobs     log-prob of each sampled token under the sampling distribution (logits / temperature,
                 before top-p truncation): the pi_old of the importance ratio
    text         decoded response
    stop_reason  "eos" | "length" | "repetition"

Engines:
* ``EmbeddedEngine``: the transformers model in this process. Batched sampling with the model's own
  cache (each prompt is prefilled once and its cache repeated for its n samples), temperature and
  top-p, and M1's repetition stop: a response ends once K consecutive sampled tokens each had
  probability > p (K = 3000, p = 0.99 in the paper). Sampling noise comes from one generator per
  response seeded from (seed, prompt index, sample index), so results do not depend on how prompts
  are split into batches or workers.
* ``OpenAIEngine``: any OpenAI-compatible completions server (vLLM's, or ``m1gym serve-model``);
  new weights go to ``m1gym serve-model --accept-weights`` through ``POST /v1/weights``.
* ``VLLMEngine``: vLLM in process, when the ``vllm`` extra is installed, on a checkpoint directory;
  new weights go to its workers through ``collective_rpc``.

Engines whose weights live outside the trainer's model have ``sync_weights(model)``; the trainer
calls it after every update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from ..core import stable_seed


@dataclass
class SamplingParams:
    max_new_tokens: int = 32
    temperature: float = 1.0
    top_p: float = 1.0
    #: K of the repetition stop (0 disables) and its probability threshold
    repetition_k: int = 3000
    repetition_p: float = 0.99


@dataclass
class Rollout:
    prompt_ids: list[int]
    token_ids: list[int]
    logprobs: list[float]
    text: str
    stop_reason: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"prompt_ids": self.prompt_ids, "token_ids": self.token_ids, "logprobs": self.logprobs,
                "text": self.text, "stop_reason": self.stop_reason, "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Rollout":
        return cls(d["prompt_ids"], d["token_ids"], d["logprobs"], d["text"], d["stop_reason"], d.get("meta", {}))


class RolloutEngine:
    """Interface: generate n responses per prompt; update_weights after each optimiser round."""

    def generate(self, prompts: Sequence[Sequence[int]], n: int, params: SamplingParams, seed: int = 0,
                 offset: int = 0) -> list[list[Rollout]]:
        """``offset``: index of prompts[0] in the caller's full list (per-response noise is keyed by
        (seed, offset + i, sample), so a list split across workers samples as the whole list would)."""
        raise NotImplementedError

    def update_weights(self, state_dict: dict[str, torch.Tensor]) -> None:  # pragma: no cover - engines override
        pass

    def close(self) -> None:
        pass


def sample_from_logits(logits: torch.Tensor, params: SamplingParams, uniforms: torch.Tensor | None):
    """(token ids, log-prob of each under logits/temperature, probability of each) for a [B, V] batch.

    Greedy when temperature == 0 (log-probs then under temperature 1). Top-p keeps the smallest set
    of tokens whose probability reaches top_p; the drawn token is found by inverse CDF with the
    given uniforms, one per row.
    """
    logits = logits.float()
    temp = params.temperature if params.temperature > 0 else 1.0
    logp = torch.log_softmax(logits / temp, dim=-1)
    if params.temperature == 0 or uniforms is None:
        tokens = torch.argmax(logp, dim=-1)
    else:
        probs = logp.exp()
        sorted_p, order = torch.sort(probs, dim=-1, descending=True)
        if params.top_p < 1.0:
            cum = torch.cumsum(sorted_p, dim=-1)
            keep = (cum - sorted_p) < params.top_p  # the first token is always kept
            sorted_p = sorted_p * keep
        cdf = torch.cumsum(sorted_p, dim=-1)
        target = uniforms.to(cdf.dtype) * cdf[:, -1]
        pick = torch.searchsorted(cdf, target[:, None]).clamp(max=cdf.shape[-1] - 1)
        tokens = order.gather(1, pick).squeeze(1)
    token_logp = logp.gather(1, tokens[:, None]).squeeze(1)
    return tokens, token_logp, token_logp.exp()


def cache_kwarg() -> str:
    """Name of the cache argument of MiniMax's forward: ``cache`` (transformers >= 5.2x) or
    ``past_key_values`` (earlier 5.x). We always keep our own cache object (updated in place)."""
    import inspect

    from transformers.models.minimax.modeling_minimax import MiniMaxModel

    params = inspect.signature(MiniMaxModel.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _masks(mask2d: torch.Tensor, prefill: bool) -> dict[str, Any]:
    """Explicit per-layer-type masks for left-padded rows.

    transformers' mask builder sizes the softmax-layer mask from the first cache layer, which for
    MiniMax is a lightning layer: with left padding the decode-step mask came out wrong (trainer and
    engine log-probs then differed by ~1e-4). We build the additive 4D mask ourselves; lightning
    layers get the 2D padding mask in prefill (they zero q, k, v at padding) and none in decode.
    """
    B, K = mask2d.shape
    neg = torch.finfo(torch.float32).min
    keep = mask2d.bool()[:, None, None, :]  # [B, 1, 1, K]
    if prefill:
        causal = torch.ones((K, K), dtype=torch.bool, device=mask2d.device).tril()
        keep = keep & causal[None, None]
        # a padding query row sees nothing; let it see itself so softmax stays finite
        keep = keep | torch.eye(K, dtype=torch.bool, device=mask2d.device)[None, None]
    full = torch.zeros(keep.shape, dtype=torch.float32, device=mask2d.device).masked_fill(~keep, neg)
    linear = mask2d if (prefill and not bool(mask2d.all())) else None
    return {"full_attention": full, "linear_attention": linear}


def _cache_apply(cache: Any, fn: Any, op: str, arg: Any) -> None:
    """Repeat or select batch rows of a MiniMaxCache (its own batch_* methods index past the
    linear-cache list when the last layer is a softmax layer)."""
    for i, entry in enumerate(cache.linear_cache):
        if isinstance(entry, torch.Tensor):
            cache.linear_cache[i] = fn(entry)
    for i, layer in enumerate(cache.layers):
        if i < len(cache.linear_cache) and isinstance(cache.linear_cache[i], torch.Tensor):
            continue
        if getattr(layer, "keys", None) is None or not isinstance(layer.keys, torch.Tensor) or layer.keys.numel() == 0:
            continue
        if op == "repeat":
            layer.batch_repeat_interleave(arg)
        else:
            layer.batch_select_indices(arg)


def left_padded(prompts: Sequence[Sequence[int]], pad_id: int, device: Any):
    """Token lists as one left-padded batch on ``device``: (ids, attention mask, position ids),
    positions counted from each row's first real token."""
    L = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), L), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(list(p), dtype=torch.long)
        mask[i, L - len(p):] = 1
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    return ids.to(device), mask.to(device), pos.to(device)


class EmbeddedEngine(RolloutEngine):
    """Batched sampling on a transformers causal LM in this process."""

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 64, device: str | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device or str(next(model.parameters()).device)

    def update_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state_dict)

    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]], n: int, params: SamplingParams, seed: int = 0,
                 offset: int = 0) -> list[list[Rollout]]:
        out: list[list[Rollout]] = []
        per_batch = max(1, self.batch_size // max(n, 1))
        for start in range(0, len(prompts), per_batch):
            chunk = prompts[start:start + per_batch]
            out.extend(self._generate_chunk(chunk, n, params, seed, offset + start))
        return out

    def _generate_chunk(self, prompts, n, params, seed, offset):
        from transformers.models.minimax.modeling_minimax import MiniMaxCache

        model = self.model
        was_training = model.training
        model.eval()
        dev = torch.device(self.device)
        eos = self.tokenizer.eos_id
        pad = getattr(self.tokenizer, "pad_id", eos)
        P = len(prompts)
        lens = [len(p) for p in prompts]
        ids, mask, pos = left_padded(prompts, pad, dev)
        cache = MiniMaxCache()
        ckw = cache_kwarg()
        res = model(input_ids=ids, attention_mask=_masks(mask, prefill=True), position_ids=pos, use_cache=True,
                    logits_to_keep=1, **{ckw: cache})
        logits = res.logits[:, -1, :]
        if n > 1:  # one prefill per prompt, its cache repeated for the n samples
            _cache_apply(cache, lambda t: t.repeat_interleave(n, dim=0), 'repeat', n)
            logits = logits.repeat_interleave(n, dim=0)
            mask = mask.repeat_interleave(n, dim=0)
        B = P * n
        next_pos = torch.tensor([lens[i // n] for i in range(B)], dtype=torch.long, device=dev)
        gens = []
        if params.temperature > 0:
            for i in range(B):
                g = torch.Generator()
                g.manual_seed(stable_seed("rollout", seed, offset + i // n, i % n) % (2 ** 63))
                gens.append(g)
        tokens_out: list[list[int]] = [[] for _ in range(B)]
        logps_out: list[list[float]] = [[] for _ in range(B)]
        stop = ["length"] * B
        confident_run = [0] * B
        active = list(range(B))  # rows still generating, in cache order
        K = params.repetition_k
        for step in range(params.max_new_tokens):
            uniforms = None
            if gens:
                uniforms = torch.cat([torch.rand(1, generator=gens[r]) for r in active]).to(dev)
            tok, tok_logp, tok_p = sample_from_logits(logits, params, uniforms)
            tok_l, logp_l, p_l = tok.tolist(), tok_logp.tolist(), tok_p.tolist()
            keep_rows = []
            for j, r in enumerate(active):
                tokens_out[r].append(tok_l[j])
                logps_out[r].append(logp_l[j])
                confident_run[r] = confident_run[r] + 1 if p_l[j] > params.repetition_p else 0
                if tok_l[j] == eos:
                    stop[r] = "eos"
                elif K > 0 and confident_run[r] >= K:
                    stop[r] = "repetition"
                else:
                    keep_rows.append(j)
            if not keep_rows or step == params.max_new_tokens - 1:
                break
            if len(keep_rows) < len(active):
                sel = torch.tensor(keep_rows, dtype=torch.long, device=dev)
                _cache_apply(cache, lambda t: t[sel], 'select', sel)
                tok, mask, next_pos = tok[sel], mask[sel], next_pos[sel]
                active = [active[j] for j in keep_rows]
            mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=dev)], dim=1)
            res = model(input_ids=tok[:, None], attention_mask=_masks(mask, prefill=False),
                        position_ids=next_pos[:, None], use_cache=True, **{ckw: cache})
            logits = res.logits[:, -1, :]
            next_pos = next_pos + 1
        if was_training:
            model.train()
        results: list[list[Rollout]] = []
        for i in range(P):
            group = []
            for s in range(n):
                r = i * n + s
                group.append(Rollout(list(prompts[i]), tokens_out[r], logps_out[r],
                                     self.tokenizer.decode(tokens_out[r]), stop[r]))
            results.append(group)
        return results


def response_seed(seed: int, prompt_index: int, sample: int, bits: int = 31) -> int:
    """The sampling seed of one response, keyed by (seed, prompt index, sample index) as the
    embedded engine's noise is: no two responses of a batch share a seed, and the same request gives
    the same rollouts however prompts are batched. ``bits`` bounds it for servers with a small seed
    field."""
    return stable_seed("rollout", seed, prompt_index, sample) % (2 ** bits)


def weights_payload(state: dict[str, torch.Tensor]) -> bytes:
    """A state dict as safetensors bytes (CPU, contiguous): the body of ``POST /v1/weights``."""
    from safetensors.torch import save

    return save({k: v.detach().to("cpu").contiguous() for k, v in state.items()})


class OpenAIEngine(RolloutEngine):
    """Rollouts from an OpenAI-compatible ``/v1/completions`` server (vLLM, ``m1gym serve-model``).

    Prompts are sent as token-id lists, one request per (prompt, sample) with that response's own
    seed (``response_seed``); the server must return per-token log-probs. Token ids come back through
    vLLM's ``return_tokens_as_token_ids`` ("token_id:N"), or are re-encoded with our tokenizer when the
    server returns plain strings. The log-probs must be those of the sampling distribution (after
    temperature): ``m1gym serve-model`` returns those; a vLLM server must be started with
    ``--logprobs-mode processed_logprobs`` (its default is the raw model's).

    The server samples with its own weights, so a trainer must push every update to it:
    ``sync_weights(model)`` posts the state dict to ``POST /v1/weights`` (``m1gym serve-model PATH
    --accept-weights``). With ``weight_sync=True`` (the trainer's case) the engine checks at
    construction that the server takes weights and refuses one that cannot: a run against it would
    sample from the initial policy forever. ``weight_sync=False`` serves evaluation against a
    fixed model.
    """

    def __init__(self, url: str, tokenizer: Any, model_name: str | None = "m1gym", timeout: float = 600.0,
                 weight_sync: bool = True):
        import httpx

        self.url = url.rstrip("/")
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.client = httpx.Client(timeout=timeout)
        self.weight_version = 0
        if weight_sync:
            self._check_takes_weights()

    def _check_takes_weights(self) -> None:
        import httpx

        try:
            resp = self.client.get(f"{self.url}/v1/weights")
        except httpx.HTTPError as exc:
            self.client.close()
            raise ConnectionError(f"rollout server {self.url} unreachable ({exc}); start it "
                                  "(`m1gym serve-model PATH --accept-weights`) or fix rollout.url") from None
        if resp.status_code != 200:
            self.client.close()
            raise RuntimeError(
                f"rollout server {self.url} cannot take new weights (GET /v1/weights answered {resp.status_code}): "
                "training against it would sample every step from the initial policy. Serve the policy with "
                "`m1gym serve-model CHECKPOINT --accept-weights`, or use rollout.engine: vllm or embedded")
        self.weight_version = int(resp.json().get("version", 0))

    def sync_weights(self, model: Any) -> None:
        """Send the policy's weights to the server (``POST /v1/weights``, safetensors body)."""
        import httpx

        try:
            resp = self.client.post(f"{self.url}/v1/weights", content=weights_payload(model.state_dict()),
                                    headers={"content-type": "application/octet-stream"})
        except httpx.HTTPError as exc:
            raise ConnectionError(f"rollout server {self.url} unreachable while sending weights ({exc})") from None
        if resp.status_code != 200:
            raise RuntimeError(f"rollout server {self.url} refused the new weights ({resp.status_code}): "
                               f"{resp.text[:300]}")
        self.weight_version = int(resp.json()["version"])

    def generate(self, prompts, n, params, seed=0, offset=0):
        results = []
        for i, prompt in enumerate(prompts):
            results.append([self._one(prompt, params, response_seed(seed, offset + i, s)) for s in range(n)])
        return results

    def _one(self, prompt: Sequence[int], params: SamplingParams, seed: int) -> Rollout:
        import httpx

        body = {"prompt": list(prompt), "n": 1, "max_tokens": params.max_new_tokens,
                "temperature": params.temperature, "top_p": params.top_p, "logprobs": 0, "seed": seed,
                "return_tokens_as_token_ids": True, "repetition_k": params.repetition_k,
                "repetition_p": params.repetition_p}
        if self.model_name:
            body["model"] = self.model_name
        try:
            resp = self.client.post(f"{self.url}/v1/completions", json=body)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"rollout server {self.url} unreachable ({exc}); start it "
                                  "(`m1gym serve-model PATH --accept-weights` or vLLM's server) or fix rollout.url") from None
        if resp.status_code != 200:
            raise RuntimeError(f"rollout server {self.url} answered {resp.status_code}: {resp.text[:300]}")
        choice = resp.json()["choices"][0]
        lp = choice.get("logprobs") or {}
        ids: list[int] = []
        for t in lp.get("tokens") or []:
            if isinstance(t, str) and t.startswith("token_id:"):
                ids.append(int(t.split(":", 1)[1]))
            else:
                ids.extend(self.tokenizer.encode(t))
        logprobs = [float(x) for x in (lp.get("token_logprobs") or [])]
        if len(logprobs) != len(ids):
            raise RuntimeError("rollout server returned tokens that do not map one-to-one to our "
                               "tokenizer; serve the same tokenizer with return_tokens_as_token_ids")
        finish = choice.get("finish_reason") or "length"
        reason = {"stop": "eos", "length": "length"}.get(finish, finish)
        return Rollout(list(prompt), ids, logprobs, choice.get("text", ""), reason)

    def close(self) -> None:
        self.client.close()


class VLLMWeightSync:
    """vLLM worker extension (``worker_extension_cls``): lets ``LLM.collective_rpc`` hand new
    weights to the model on every worker by method name."""

    def m1gym_load_weights(self, weights: list[tuple[str, torch.Tensor]]) -> int:
        model = self.model_runner.model  # type: ignore[attr-defined]  # the worker this is mixed into
        return len(model.load_weights(weights=weights) or ())


class VLLMEngine(RolloutEngine):
    """vLLM in process (``pip install m1gym[vllm]``), on a checkpoint directory written by
    ``save_checkpoint_model`` (``from_policy`` writes one from the live policy).

    * log-probs: the engine is created with ``logprobs_mode="processed_logprobs"``, so the log-prob
      of each token is under the sampling distribution (after temperature) like the embedded
      engine's pi_old, not the raw model's. (vLLM's processed log-probs are also after top-p
      truncation; ours are before it: keep ``top_p = 1`` for exact agreement.)
    * seeds: one request per (prompt, sample) with ``response_seed``; vLLM batches them and its
      prefix cache shares each prompt's prefill.
    * ``sync_weights(model)``: the policy's tensors in the checkpoint layout (``checkpoint_tensors``:
      fused experts split into vLLM's per-expert ``w1``/``w2``/``w3`` names) go to every worker's
      ``load_weights`` through ``collective_rpc``, then the prefix cache is reset (cached prompt
      states were computed with the old weights).
    * the repetition stop is applied afterwards by truncating at the K-th consecutive confident
      token (vLLM has no such stopping rule).

    Not run on our CPU machines; the weight names and config are tested against vLLM's loader
    restated as data (tests/trainer/vllm_minimax.py).
    """

    def __init__(self, model_path: str | Any, tokenizer: Any, **kwargs: Any):  # pragma: no cover - needs vllm
        self.model_path = check_vllm_checkpoint(model_path)
        try:
            from vllm import LLM
        except ImportError:
            raise ImportError("rollout.engine: vllm needs the vllm extra (`pip install m1gym[vllm]`); "
                              "or use engine: openai against a running vLLM server") from None
        kwargs.setdefault("logprobs_mode", "processed_logprobs")
        kwargs.setdefault("worker_extension_cls", f"{__name__}.VLLMWeightSync")
        self.llm = LLM(model=str(self.model_path), skip_tokenizer_init=True, **kwargs)
        self.tokenizer = tokenizer
        self.weight_version = 0

    @classmethod
    def from_policy(cls, model: Any, tokenizer: Any, workdir: str | Any, **kwargs: Any) -> "VLLMEngine":  # pragma: no cover
        """Write the policy to ``workdir`` (a checkpoint directory) and start vLLM on it."""
        from .model import save_checkpoint_model

        save_checkpoint_model(model, tokenizer, workdir)
        return cls(workdir, tokenizer, **kwargs)

    def sync_weights(self, model: Any) -> None:
        from .model import checkpoint_tensors

        weights = [(name, t.detach()) for name, t in checkpoint_tensors(model)]
        self.llm.collective_rpc("m1gym_load_weights", args=(weights,))
        self.llm.reset_prefix_cache()
        self.weight_version += 1

    def generate(self, prompts, n, params, seed=0, offset=0):  # pragma: no cover - needs vllm
        from vllm import SamplingParams as VSP
        from vllm.inputs import TokensPrompt

        requests, sps = [], []
        for i, p in enumerate(prompts):
            for s in range(n):
                requests.append(TokensPrompt(prompt_token_ids=list(p)))
                sps.append(VSP(n=1, max_tokens=params.max_new_tokens, temperature=params.temperature,
                               top_p=params.top_p, logprobs=0, seed=response_seed(seed, offset + i, s, bits=63),
                               stop_token_ids=[self.tokenizer.eos_id]))
        outs = self.llm.generate(requests, sps)
        results = []
        for i, prompt in enumerate(prompts):
            group = []
            for out in outs[i * n:(i + 1) * n]:
                c = out.outputs[0]
                ids = list(c.token_ids)
                lps = [d[t].logprob for d, t in zip(c.logprobs, ids)]
                reason, run = ("eos" if ids and ids[-1] == self.tokenizer.eos_id else "length"), 0
                for j, lp in enumerate(lps):
                    run = run + 1 if math.exp(lp) > params.repetition_p else 0
                    if params.repetition_k and run >= params.repetition_k:
                        ids, lps, reason = ids[:j + 1], lps[:j + 1], "repetition"
                        break
                group.append(Rollout(list(prompt), ids, lps, self.tokenizer.decode(ids), reason))
            results.append(group)
        return results


def check_vllm_checkpoint(path: Any):
    """The checkpoint directory vLLM is to load, or a ValueError naming what is wrong and the fix."""
    import json
    from pathlib import Path

    from .model import ARCHITECTURE, vllm_problems

    p = Path(str(path))
    if not (p / "config.json").exists():
        raise ValueError(f"rollout.engine: vllm loads a checkpoint directory, not {str(path)!r} (no config.json): "
                         "give the directory of a checkpoint written by m1gym (save_checkpoint_model), or let "
                         "the trainer write the policy with VLLMEngine.from_policy(model, tokenizer, workdir)")
    cfg = json.loads((p / "config.json").read_text())
    if cfg.get("architectures") != [ARCHITECTURE] or "rotary_dim" not in cfg:
        raise ValueError(f"{p} was written by an older m1gym (architecture {cfg.get('architectures')}, "
                         f"rotary_dim {cfg.get('rotary_dim')}): vLLM would not load it or would rotate the whole "
                         "head. Re-save it: load_model(path) then save_checkpoint_model(model, tok, new_path)")
    from transformers import MiniMaxConfig

    problems = vllm_problems(MiniMaxConfig.from_pretrained(str(p)))
    if problems:
        raise ValueError(f"{p}: vLLM's MiniMax model would compute something else: " + "; ".join(problems))
    return p
