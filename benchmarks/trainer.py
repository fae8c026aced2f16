"""Trainer throughput: rollout tokens/s, trainer tokens/s, and the share of step time spent in rollout,
scoring and update; plus one CISPO step vs one GRPO step (the loss choice should not matter).

    python benchmarks/trainer.py                       # CPU, tiny preset, configs/tiny.yaml mix
    python benchmarks/trainer.py --device cuda         # GPU, small preset in bf16
    python benchmarks/trainer.py --init CKPT           # start from a warm start (realistic lengths)
    python benchmarks/trainer.py --device cuda --synthetic --lightning both --prompt-len 4096
                                                       # fused lightning attention vs the block loop

All numbers of one table come from the same process; compare ratios, not absolute times. The two
losses' steps alternate (after one untimed warm-up step each), so neither pays more first-time
costs than the other, and by default the learning rate is 0 (``--same-batches``) so that both
sample the same responses: the CISPO / GRPO ratio then compares the same work but for the loss,
and an untimed third trainer runs every step first, taking the costs of first-seen shapes.
Dynamic sampling is off so that every step runs a full update whatever the rewards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_trainer(loss: str, args, init: str | None):
    from m1gym.trainer.config import load_config
    from m1gym.trainer.rl import RLTrainer

    base = ROOT / ("configs/gpu-small.yaml" if args.device.startswith("cuda") else "configs/tiny.yaml")
    run_dir = tempfile.mkdtemp(prefix="m1gym-bench-")
    overrides = [f"run_dir={run_dir}", f"loss.name={loss}", f"trainer.steps={args.steps}",
                 "trainer.dynamic_sampling=false", "trainer.checkpoint_every=0", "trainer.plots=false",
                 f"trainer.tasks_per_step={args.tasks}", f"rollout.group_size={args.group}",
                 f"model.device={args.device}"]
    if args.same_batches:
        # learning rate 0: both trainers keep the starting weights, so with the same seed they sample
        # the same responses and each step does the same work but for the loss; with learning, the
        # two losses move the policy apart and the step times compare different response lengths
        overrides += ["trainer.lr=0"]
    if args.device.startswith("cuda"):
        overrides += ["model.preset=small", "model.dtype=bfloat16", f"rollout.max_new_tokens={args.max_new}"]
    cfg = load_config(base, overrides)
    return RLTrainer(cfg, init_from=init, resume=False, progress=False)


def run_both(args, init: str | None) -> tuple[dict[str, list], list]:
    """CISPO and GRPO trainers side by side, their steps alternating, who goes first swapping every
    step. With ``--same-batches`` a third, untimed "pacer" trainer (built last, stepped first) runs
    each step's exact shapes before the timed two: costs paid the first time a shape is seen land on
    the pacer, and its step times are returned so the table shows them. Why: on an H100, with the
    same responses, the trainer that met a step's lengths first took 2.2x the step time of the other,
    in rollout as much as in update (so not the loss). The cause is not known: fla-core's kernels
    neither specialise nor autotune on the sequence length. The pacer is built last and stepped
    first, so its table tells a first-in-time cost (the pacer is slow) from a first-built-instance
    one (CISPO, built first, stays slow)."""
    trainers = {loss: make_trainer(loss, args, init) for loss in ("cispo", "grpo")}
    pacer = make_trainer("grpo", args, init) if args.same_batches else None
    for tr in ([pacer] if pacer else []) + list(trainers.values()):
        tr.step()  # warm-up step, not timed
    rows: dict[str, list] = {loss: [] for loss in trainers}
    pacer_rows = []
    order = list(trainers)
    for _ in range(args.steps):
        if pacer is not None:
            pacer_rows.append(pacer.step())
        for loss in order:
            rows[loss].append(trainers[loss].step())
        order.reverse()
    for tr in list(trainers.values()) + ([pacer] if pacer else []):
        tr.close()
    return rows, pacer_rows


def synthetic(args):
    """Model-only timing without environments: random prompts, random 0/1 rewards; one step =
    rollout + ``updates_per_batch`` minibatch updates, for CISPO and GRPO on the same batch."""
    import random

    import torch

    from m1gym.trainer.batch import group_logprobs
    from m1gym.trainer.config import LossConfig
    from m1gym.trainer.losses import policy_loss
    from m1gym.inference.model import build_model
    from m1gym.trainer.rl import group_advantages
    from m1gym.inference.rollout import EmbeddedEngine, SamplingParams

    cuda = args.device.startswith("cuda")
    preset, dtype = ("small", "bfloat16") if cuda else ("tiny", "float32")
    model, tok = build_model(preset, device=args.device, dtype=dtype, attn_implementation="sdpa" if cuda else "eager")
    engine = EmbeddedEngine(model, tok, batch_size=args.tasks * args.group)
    rng = random.Random(0)
    prompts = [[tok.bos_id, tok.user_id] + [rng.randrange(12, 100) for _ in range(args.prompt_len)] + [tok.assistant_id]
               for _ in range(args.tasks)]
    params = SamplingParams(max_new_tokens=args.max_new, repetition_k=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6, betas=(0.9, 0.95), eps=1e-15)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    out = {}
    timed = {"cispo": [], "grpo": []}
    for loss_name in ("cispo", "grpo") * (1 + max(1, args.steps)):  # first pair warms up, then --steps timed pairs
        cfg = LossConfig(name=loss_name)
        sync(); t0 = time.perf_counter()
        groups = engine.generate(prompts, args.group, params, seed=1)
        sync(); t1 = time.perf_counter()
        n_gen = sum(len(r.token_ids) for g in groups for r in g)
        n_tok = 0
        for chunk in range(4):
            gs = groups[chunk::4]
            if not gs:
                continue
            logp, _, mask = group_logprobs(model, [g[0].prompt_ids for g in gs], [[r.token_ids for r in g] for g in gs],
                                           pad_id=tok.pad_id)
            old = torch.zeros_like(logp)
            for i, r in enumerate(r for g in gs for r in g):
                old[i, :len(r.logprobs)] = torch.tensor(r.logprobs, device=old.device)
            adv = torch.tensor([a for g in gs for a in group_advantages([rng.random() < 0.5 for _ in g])],
                               device=logp.device)
            res = policy_loss(logp, old, adv, mask, cfg)
            opt.zero_grad(set_to_none=True)
            res.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            n_tok += int(mask.sum()) + sum(len(g[0].prompt_ids) for g in gs)
        sync(); t2 = time.perf_counter()
        timed[loss_name].append((n_gen, n_tok, t1 - t0, t2 - t1))
    for loss_name, steps in timed.items():
        steps = steps[1:]  # drop the warm-up step
        gen, tok_n, roll, upd = (sum(x[i] for x in steps) for i in range(4))
        out[loss_name] = {"rollout_tok_s": gen / roll, "train_tok_s": tok_n / upd,
                          "rollout_share": roll / (roll + upd), "scoring_share": 0.0,
                          "update_share": upd / (roll + upd), "step_s": (roll + upd) / len(steps)}
    return out


def compare_lightning(args) -> int:
    """The same synthetic CISPO/GRPO steps with fused lightning attention and with transformers'
    block loop (M1GYM_FUSED_LIGHTNING=0), one process, one table."""
    import os

    import torch

    if not args.device.startswith("cuda"):
        print("--lightning both: needs --device cuda (on a CPU both paths are the same block loop)", file=sys.stderr)
        return 2
    results = {}
    for path, flag in (("fused", "1"), ("reference", "0")):
        os.environ["M1GYM_FUSED_LIGHTNING"] = flag
        results[path] = synthetic(args)
        torch.cuda.empty_cache()
    f, r = results["fused"], results["reference"]
    n_seq = args.tasks * args.group
    print(f"synthetic steps, small/bf16 on {args.device}: {n_seq} sequences of {args.prompt_len} prompt + "
          f"<= {args.max_new} generated tokens")
    print(f"{'':<30}{'fused':>11}{'reference':>11}{'fused/ref':>11}")
    for loss in ("cispo", "grpo"):
        for key, label in (("rollout_tok_s", "rollout tokens/s"), ("train_tok_s", "trainer tokens/s"),
                           ("step_s", "step time (s)")):
            a, b = f[loss][key], r[loss][key]
            fmt = ".2f" if key == "step_s" else ".0f"
            ratio = b / a if key == "step_s" else a / b  # speed-up either way
            print(f"{loss + ' ' + label:<30}{a:>11{fmt}}{b:>11{fmt}}{ratio:>10.2f}x")
    for path in ("fused", "reference"):
        print(f"CISPO / GRPO step time ({path}): {results[path]['cispo']['step_s'] / results[path]['grpo']['step_s']:.3f}")
    return 0


def summarise(rows):
    gen_tokens = rollout_time = upd_tokens = upd_time = 0.0
    shares = {"rollout": [], "scoring": [], "update": []}
    for r in rows:
        total = r["time_step"]
        shares["rollout"].append(r["time_rollout"] / total)
        shares["scoring"].append(r["time_scoring"] / total)
        shares["update"].append(r["time_update"] / total)
        rollout_time += r["time_rollout"]
        upd_time += r["time_update"]
        gen_tokens += r["len_mean"] * r["groups_scored"] * r.get("group_size", 1)
        upd_tokens += r["tokens_per_s"] * total
    return {"step_s": statistics.mean(r["time_step"] for r in rows), "len_mean": statistics.mean(r["len_mean"] for r in rows),
            "rollout_share": statistics.mean(shares["rollout"]), "scoring_share": statistics.mean(shares["scoring"]),
            "update_share": statistics.mean(shares["update"]),
            "rollout_tok_s": gen_tokens / max(rollout_time, 1e-9), "train_tok_s": upd_tokens / max(upd_time, 1e-9)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--max-new", type=int, default=256, help="response length on GPU")
    p.add_argument("--init", help="checkpoint dir to start from (e.g. a cached SFT warm start)")
    p.add_argument("--synthetic", action="store_true", help="model only: random prompts and rewards, no envs")
    p.add_argument("--same-batches", action=argparse.BooleanOptionalAction, default=True,
                   help="learning rate 0, so CISPO and GRPO steps sample the same responses and the step "
                        "times compare the same work (default); --no-same-batches trains for real")
    p.add_argument("--prompt-len", type=int, default=128)
    p.add_argument("--lightning", choices=("auto", "both"), default="auto",
                   help="with --synthetic on CUDA: 'both' times the fused path and the reference loop in one run")
    args = p.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("--device cuda: no CUDA device here", file=sys.stderr)
        return 2
    if args.synthetic and args.lightning == "both":
        return compare_lightning(args)
    if args.synthetic:
        results = synthetic(args)
        c, g = results["cispo"], results["grpo"]
        print(f"synthetic (no envs, random rewards) on {args.device}:")
        print(f"{'':<26}{'cispo':>10}{'grpo':>10}")
        for key, label in (("rollout_tok_s", "rollout tokens/s"), ("train_tok_s", "trainer tokens/s"),
                           ("rollout_share", "share: rollout"), ("update_share", "share: update"), ("step_s", "step time (s)")):
            fmt = ".1%" if "share" in key else (".3f" if key == "step_s" else ".0f")
            print(f"{label:<26}{c[key]:>10{fmt}}{g[key]:>10{fmt}}")
        print(f"CISPO / GRPO step time: {c['step_s'] / g['step_s']:.3f}")
        return 0
    results = {}
    timed, pacer_rows = run_both(args, args.init)
    for loss, rows in timed.items():
        for r in rows:
            r["group_size"] = args.group
        results[loss] = summarise(rows)
    c, g = results["cispo"], results["grpo"]
    preset = "small/bf16" if args.device.startswith("cuda") else "tiny/fp32"
    print(f"trainer benchmark: {preset} on {args.device}, {args.tasks} tasks x G={args.group}, {args.steps} timed steps per loss")
    print(f"{'':<26}{'cispo':>10}{'grpo':>10}")
    print(f"{'rollout tokens/s':<26}{c['rollout_tok_s']:>10.0f}{g['rollout_tok_s']:>10.0f}")
    print(f"{'trainer tokens/s':<26}{c['train_tok_s']:>10.0f}{g['train_tok_s']:>10.0f}")
    print(f"{'share: rollout':<26}{c['rollout_share']:>10.1%}{g['rollout_share']:>10.1%}")
    print(f"{'share: scoring':<26}{c['scoring_share']:>10.1%}{g['scoring_share']:>10.1%}")
    print(f"{'share: update':<26}{c['update_share']:>10.1%}{g['update_share']:>10.1%}")
    print(f"{'response length (mean)':<26}{c['len_mean']:>10.1f}{g['len_mean']:>10.1f}")
    print(f"{'step time (s)':<26}{c['step_s']:>10.3f}{g['step_s']:>10.3f}")
    if pacer_rows:
        pacer_s = statistics.mean(r["time_step"] for r in pacer_rows)
        print(f"{'pacer step time (s)':<26}{pacer_s:>10.3f}{'':>10}   (the same step, run first: "
              f"first-time costs {pacer_s / ((c['step_s'] + g['step_s']) / 2):.2f}x)")
    print(f"CISPO / GRPO step time: {c['step_s'] / g['step_s']:.3f} (target: within 5% on GPU)"
          + ("" if args.same_batches else " (learning on: the two runs' responses differ; see --same-batches)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
