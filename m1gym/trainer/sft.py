"""SFT warm start: teach the model the answer format on reference solutions from the mix's envs,
so RL starts from a non-zero pass rate.

Data: ``Environment.reference(task)`` for fresh tasks of the mix (seeds below eval.seed_offset, so
held-out tasks are never trained on). With ``sft.strip_think`` (the tiny preset's default) the
``<think>`` block is removed and the target is only the final ``<answer>...</answer>``: a model of a
million parameters cannot learn to write multi-line reasoning in minutes, and short targets keep
rollouts short. Loss: cross-entropy on response tokens only (the prompt is context).

A finished warm start is cached by a hash of everything that determines it (model preset, mix,
SFT settings, seed, prompt limit), so a second ``m1gym train`` reuses it.
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import Config, config_hash
from .precision import compute_context

_THINK_RE = re.compile(r"<think>.*?</think>\s*", re.DOTALL)


def sft_target(reference: str, strip_think: bool) -> str:
    return _THINK_RE.sub("", reference).strip() if strip_think else reference


def cache_root(cfg: Config) -> Path:
    base = cfg.sft.cache_dir or os.environ.get("M1GYM_CACHE") or str(Path.home() / ".cache" / "m1gym")
    return Path(base) / "sft"


def sft_key(cfg: Config) -> str:
    return config_hash({"model": cfg.model.preset, "dtype": cfg.model.dtype, "mix": [vars(e) for e in cfg.mix],
                        "sft": {k: v for k, v in vars(cfg.sft).items() if k not in ("cache", "cache_dir")},
                        "seed": cfg.seed, "max_prompt": cfg.rollout.max_prompt_tokens, "version": 3})


def sft_batch(sampler: Any, envs: dict, tokenizer: Any, cfg: Config, step: int) -> list[tuple[list[int], list[int]]]:
    rows = []
    for i in range(cfg.sft.batch_size):
        task, prompt = sampler.task("sft", step, i)
        target = sft_target(envs[task.env].reference(task), cfg.sft.strip_think)
        rows.append((prompt, tokenizer.encode(target) + [tokenizer.eos_id]))
    return rows


def sft_loss(model: Any, rows: list[tuple[list[int], list[int]]], pad_id: int) -> tuple[torch.Tensor, int]:
    L = max(len(p) + len(r) for p, r in rows)
    ids = torch.full((len(rows), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), L - 1))
    for i, (p, r) in enumerate(rows):
        ids[i, :len(p) + len(r)] = torch.tensor(p + r)
        mask[i, len(p) - 1:len(p) + len(r) - 1] = 1.0
    dev = next(model.parameters()).device
    ids, mask = ids.to(dev), mask.to(dev)
    logits = model(input_ids=ids).logits[:, :-1].float()
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                            reduction="none").view_as(mask)
    return (nll * mask).sum() / mask.sum(), int(mask.sum())


def run_sft(cfg: Config, out_dir: str | Path | None = None, progress: bool = True, log: Any = print) -> Path:
    """Train the warm start (or reuse the cached one); returns the checkpoint directory."""
    from tqdm import tqdm

    from ..inference.model import DTYPES, build_model, save_checkpoint_model
    from .rl import TaskSampler, seed_everything, set_threads

    key = sft_key(cfg)
    cached = cache_root(cfg) / key
    if cfg.sft.cache and (cached / "COMPLETE").exists():
        log(f"sft: reusing cached warm start {cached}")
        return cached
    set_threads(cfg.model.threads)
    seed_everything(cfg.seed)
    # float32 master weights; the configured dtype is the compute dtype (as in RL)
    model, tok = build_model(cfg.model.preset, seed=cfg.seed, device=cfg.model.device, dtype="float32",
                             attn_implementation=cfg.model.attn_implementation)
    compute = compute_context(model, DTYPES[cfg.model.dtype])
    sampler = TaskSampler(cfg, tok)
    s = cfg.sft
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, betas=tuple(cfg.trainer.betas), eps=cfg.trainer.eps)

    def lr_at(step: int) -> float:  # linear warmup, cosine decay to 10%
        if step < s.warmup_steps:
            return s.lr * (step + 1) / s.warmup_steps
        frac = (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps)
        return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    model.train()
    bar = tqdm(range(s.steps), desc="sft", disable=not progress, dynamic_ncols=True)
    losses, t0, n_tok = [], time.perf_counter(), 0
    history = []
    for step in bar:
        rows = sft_batch(sampler, sampler.envs, tok, cfg, step)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        with compute:
            loss, nt = sft_loss(model, rows, tok.pad_id)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        n_tok += nt
        history.append({"step": step + 1, "loss": losses[-1]})
        if step % 10 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
    bar.close()
    dest = Path(out_dir) if out_dir is not None else cached
    tmp = dest.with_name(dest.name + ".tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    save_checkpoint_model(model, tok, tmp)
    import json

    (tmp / "sft_history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (tmp / "COMPLETE").write_text(json.dumps({"final_loss": float(np.mean(losses[-10:])),
                                              "seconds": time.perf_counter() - t0}))
    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    log(f"sft: {s.steps} steps, final loss {np.mean(losses[-10:]):.3f}, {time.perf_counter() - t0:.0f}s -> {dest}")
    return dest
