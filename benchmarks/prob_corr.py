"""Train/inference probability agreement (M1 Figure 3): Pearson correlation between the rollout
engine's per-token probabilities and the trainer's for the same sampled tokens.

M1 found its first RL runs stuck because the training and inference kernels disagreed (correlation
~0.9) and fixed it with an FP32 LM head (-> ~0.99). m1gym keeps float32 master weights and runs bf16
compute under autocast, with the LM head in float32; this script measures the agreement in that
setting and, for contrast, with the whole model cast to bf16 and with the head in bf16 too.

    python benchmarks/prob_corr.py --device cuda --sft-steps 300 --max-new 512    # small preset, bf16

The warm start is an SFT of the small preset on the gpu-small mix (a random model's near-uniform
distribution says little). Prints one row per setting and log-prob pass (flat / cached group).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[0, 1])


def main() -> int:
    from m1gym.trainer.batch import flat_logprobs, group_logprobs
    from m1gym.trainer.config import load_config
    from m1gym.inference.model import load_model
    from m1gym.inference.modeling_m1 import FP32Head
    from m1gym.trainer.rl import TaskSampler
    from m1gym.inference.rollout import EmbeddedEngine, SamplingParams
    from m1gym.trainer.sft import run_sft

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--config", default="configs/gpu-small.yaml")
    ap.add_argument("--sft-steps", type=int, default=300)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new", type=int, default=512)
    args = ap.parse_args()
    over = [f"sft.steps={args.sft_steps}", f"model.device={args.device}", "run_dir=runs/prob_corr"]
    if args.device == "cpu":
        over += ["model.preset=tiny", "model.dtype=float32", "model.attn_implementation=eager", "sft.batch_size=16"]
    cfg = load_config(args.config, over)
    t0 = time.time()
    ckpt = run_sft(cfg, progress=False, log=lambda *a: None)
    print(f"warm start: {ckpt} ({time.time() - t0:.0f}s)")
    compute = getattr(torch, cfg.model.dtype)
    sampler = TaskSampler(cfg, None)
    settings = [("fp32 master + autocast, fp32 head", "float32", True, True),
                ("bf16 weights, fp32 head", cfg.model.dtype, False, True),
                ("bf16 weights, bf16 head", cfg.model.dtype, False, False)]
    print(f"{'setting':<36} {'pass':<6} {'tokens':>7} {'prob_corr':>9} {'max |dlogp|':>11}")
    for name, dtype, autocast, fp32_head in settings:
        model, tok = load_model(ckpt, device=args.device, dtype=dtype, attn_implementation=cfg.model.attn_implementation)
        sampler.tokenizer = tok
        if not fp32_head and isinstance(model.lm_head, FP32Head):
            model.lm_head.__class__ = torch.nn.Linear
        prompts = [sampler.task("probcorr", i)[1] for i in range(args.prompts)]
        ctx = (lambda: torch.autocast(device_type=torch.device(args.device).type, dtype=compute)) if autocast \
            else contextlib.nullcontext
        engine = EmbeddedEngine(model, tok, batch_size=args.prompts * args.n)
        params = SamplingParams(max_new_tokens=args.max_new, temperature=1.0, repetition_k=0)
        with torch.no_grad(), ctx():
            outs = engine.generate(prompts, args.n, params, seed=1)
        for pass_name, fn in (("flat", flat_logprobs), ("group", group_logprobs)):
            with torch.no_grad(), ctx():
                logp, _, mask = fn(model, prompts, [[r.token_ids for r in g] for g in outs], pad_id=tok.pad_id)
            roll, train = [], []
            for i, r in enumerate(x for g in outs for x in g):
                k = len(r.logprobs)
                roll.extend(r.logprobs)
                train.extend(logp[i, :k].float().cpu().tolist())
            diff = float(np.max(np.abs(np.asarray(roll) - np.asarray(train))))
            print(f"{name:<36} {pass_name:<6} {len(roll):>7} {pearson(np.exp(roll), np.exp(train)):>9.4f} {diff:>11.3e}")
        del model, engine
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
