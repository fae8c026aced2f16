"""Train/inference probability agreement (M1 Figure 3): Pearson correlation between the rollout
engine's per-token probabilities and the trainer's for the same sampled tokens.

M1 found its first RL runs stuck because the training and inference kernels disagreed (correlation
~0.9) and fixed it with an FP32 LM head (-> ~0.99). m1gym keeps float32 master weights and runs bf16
compute under autocast, with the LM head in float32; this script measures the agreement in that
setting and, for contrast, with the whole model cast to bf16 and with the head in bf16 too.

    python benchmarks/prob_corr.py --device cuda --sft-steps 300 --max-new 512    # small preset, bf16
    python benchmarks/prob_corr.py --device cuda --engines decode --passes flat   # the decode engine only

The warm start is an SFT of the small preset on the gpu-small mix (a random model's near-uniform
distribution says little). Prints one row per setting, rollout engine (``embedded``: today's
reference; ``decode``: m1gym.inference.decode, CUDA graphs and the fused decode kernel) and
log-prob pass (flat / cached group). Responses run to ``--max-new`` tokens unless they end on EOS
(the repetition stop is off).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
import torch


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))[0, 1])


class NoEos:
    """A tokenizer whose end-of-sequence id the model never samples (full-length responses)."""

    def __init__(self, tok):
        self._tok, self.eos_id, self.pad_id = tok, -1, tok.pad_id

    def decode(self, ids):
        return self._tok.decode(ids)


def main() -> int:
    from m1gym.trainer.batch import flat_logprobs, group_logprobs
    from m1gym.trainer.config import load_config
    from m1gym.inference.model import load_model
    from m1gym.inference.modeling_m1 import FP32Head
    from m1gym.trainer.rl import TaskSampler
    from m1gym.inference.decode import DecodeEngine
    from m1gym.inference.rollout import EmbeddedEngine, SamplingParams
    from m1gym.trainer.sft import run_sft

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--config", default="configs/gpu-small.yaml")
    ap.add_argument("--sft-steps", type=int, default=300)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new", type=int, default=512)
    ap.add_argument("--engines", default="embedded,decode", help="comma-separated: embedded, decode")
    ap.add_argument("--passes", default="flat,group", help="comma-separated trainer passes: flat, group")
    ap.add_argument("--settings", default="0,1,2", help="indices of the settings below to run")
    ap.add_argument("--no-eos", action="store_true",
                    help="the engines never stop on EOS: every response is --max-new tokens long")
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
    settings = [settings[int(i)] for i in args.settings.split(",")]
    engines = {"embedded": EmbeddedEngine, "decode": DecodeEngine}
    passes = {"flat": flat_logprobs, "group": group_logprobs}
    print(f"{'setting':<36} {'engine':<9} {'pass':<6} {'tokens':>7} {'prob_corr':>9} {'max |dlogp|':>11} "
          f"{'mean |dlogp|':>12}")
    for name, dtype, autocast, fp32_head in settings:
        model, tok = load_model(ckpt, device=args.device, dtype=dtype, attn_implementation=cfg.model.attn_implementation)
        sampler.tokenizer = tok
        if not fp32_head and isinstance(model.lm_head, FP32Head):
            model.lm_head.__class__ = torch.nn.Linear
        prompts = [sampler.task("probcorr", i)[1] for i in range(args.prompts)]
        ctx = (lambda: torch.autocast(device_type=torch.device(args.device).type, dtype=compute)) if autocast \
            else contextlib.nullcontext
        params = SamplingParams(max_new_tokens=args.max_new, temperature=1.0, repetition_k=0)
        for eng_name in args.engines.split(","):
            engine = engines[eng_name](model, NoEos(tok) if args.no_eos else tok, batch_size=args.prompts * args.n)
            with torch.no_grad(), ctx():
                outs = engine.generate(prompts, args.n, params, seed=1)
            for pass_name in args.passes.split(","):
                with torch.no_grad(), ctx():
                    logp, _, mask = passes[pass_name](model, prompts, [[r.token_ids for r in g] for g in outs],
                                                      pad_id=tok.pad_id)
                roll, train = [], []
                for i, r in enumerate(x for g in outs for x in g):
                    k = len(r.logprobs)
                    roll.extend(r.logprobs)
                    train.extend(logp[i, :k].float().cpu().tolist())
                d = np.abs(np.asarray(roll) - np.asarray(train))
                print(f"{name:<36} {eng_name:<9} {pass_name:<6} {len(roll):>7} "
                      f"{pearson(np.exp(roll), np.exp(train)):>9.4f} {float(d.max()):>11.3e} {float(d.mean()):>12.3e}",
                      flush=True)
            del engine
        del model
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
