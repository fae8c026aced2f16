"""Lightning attention on a CUDA GPU: forward+backward time of (a) the transformers-style block loop,
(b) the fused fla-core path, (c) causal softmax attention through PyTorch SDPA (flash), at batch 1,
16 heads, head dim 128, bf16; decode time per token at 1K and 64K context for the fused state update
vs SDPA against a KV cache; numerics of the fused path against float64.

    python benchmarks/lightning_attention.py [--lengths 1024,4096,16384,65536] [--json OUT]

Targets (issue "GPU path"): (b) >= 40x faster than (a) at 16K; (b) faster than (c) from 8K up and
>= 15x at 64K; decode per token flat in context for (b). Ratios are measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("M1GYM_NO_AUTOLOAD", "1")

from m1gym.kernels.lightning import (lightning_blockwise, lightning_decode_step, lightning_fused,  # noqa: E402
                                     minimax_slopes, relative_error)


def timed(fn, warmup=3, iters=10) -> float:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def fwd_bwd(kind, T, H=16, D=128, dtype=torch.bfloat16):
    g = torch.Generator(device="cuda").manual_seed(T)
    q, k, v = (F.silu(torch.randn(1, H, T, D, device="cuda", dtype=dtype, generator=g)) * 0.1 for _ in range(3))
    q, k, v = (x.requires_grad_() for x in (q, k, v))
    slopes = minimax_slopes(H, 1, 8, device="cuda")
    do = torch.randn(1, H, T, D, device="cuda", dtype=dtype, generator=g)

    def run():
        if kind == "loop":
            o, _ = lightning_blockwise(q, k, v, slopes, block_size=256)
        elif kind == "fused":
            o, _ = lightning_fused(q, k, v, slopes, output_final_state=False)
        else:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        torch.autograd.grad(o, (q, k, v), do)

    iters = 3 if (kind == "loop" and T >= 16384) else 10
    return timed(run, warmup=2, iters=iters)


def decode(kind, ctx, H=16, D=128, dtype=torch.bfloat16, steps=32):
    slopes = minimax_slopes(H, 1, 8, device="cuda")
    q, k, v = (torch.randn(1, H, 1, D, device="cuda", dtype=dtype) for _ in range(3))
    if kind == "fused":
        state = torch.zeros(1, H, D, D, device="cuda", dtype=torch.float32)

        def run():
            s = state
            for _ in range(steps):
                _, s = lightning_decode_step(q, k, v, slopes, s)
    else:
        K = torch.randn(1, H, ctx, D, device="cuda", dtype=dtype)
        V = torch.randn(1, H, ctx, D, device="cuda", dtype=dtype)

        def run():
            for _ in range(steps):
                F.scaled_dot_product_attention(q, K, V)
    return timed(run) / steps


def numerics(T=4096, H=4, D=128):
    g = torch.Generator(device="cpu").manual_seed(0)
    q64, k64, v64 = (F.silu(torch.randn(1, H, T, D, generator=g, dtype=torch.float64)).cuda() * 0.1 for _ in range(3))
    slopes = minimax_slopes(H, 1, 8, dtype=torch.float64, device="cuda")
    ref, _ = lightning_blockwise(q64, k64, v64, slopes)
    out = {}
    for dtype in (torch.float32, torch.bfloat16):
        o, _ = lightning_fused(q64.to(dtype), k64.to(dtype), v64.to(dtype), slopes.float())
        out[str(dtype).split(".")[-1]] = relative_error(o, ref)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="1024,4096,8192,16384,65536")
    ap.add_argument("--loop-max", type=int, default=65536, help="skip the loop above this length")
    ap.add_argument("--json")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("benchmarks/lightning_attention.py needs a CUDA GPU; nothing to do on this machine")
        return 0
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    rows = []
    print(f"\n{'T':>7} {'loop ms':>9} {'fused ms':>9} {'sdpa ms':>9} {'loop/fused':>11} {'sdpa/fused':>11}")
    for T in (int(x) for x in args.lengths.split(",")):
        loop = fwd_bwd("loop", T) if T <= args.loop_max else float("nan")
        fused, sdpa = fwd_bwd("fused", T), fwd_bwd("sdpa", T)
        rows.append({"T": T, "loop_ms": loop, "fused_ms": fused, "sdpa_ms": sdpa})
        print(f"{T:>7} {loop:>9.2f} {fused:>9.2f} {sdpa:>9.2f} {loop / fused:>11.1f} {sdpa / fused:>11.2f}")
    print(f"\n{'context':>8} {'fused us/tok':>13} {'sdpa+kv us/tok':>15}")
    dec = []
    for ctx in (1024, 65536):
        f, s = decode("fused", ctx) * 1000, decode("sdpa", ctx) * 1000
        dec.append({"context": ctx, "fused_us": f, "sdpa_us": s})
        print(f"{ctx:>8} {f:>13.1f} {s:>15.1f}")
    num = numerics()
    print(f"\nrelative error vs float64 (T=4096): float32 {num['float32']:.2e} (target < 5e-3), "
          f"bf16 {num['bfloat16']:.2e} (target < 2e-2)")
    by_t = {r["T"]: r for r in rows}
    checks = []
    if 16384 in by_t:
        r = by_t[16384]
        checks.append(("fused >= 40x loop at 16K", r["loop_ms"] / r["fused_ms"] >= 40))
    checks += [(f"fused faster than SDPA at {t}", by_t[t]["sdpa_ms"] > by_t[t]["fused_ms"]) for t in by_t if t >= 8192]
    if 65536 in by_t:
        checks.append(("fused >= 15x SDPA at 64K", by_t[65536]["sdpa_ms"] / by_t[65536]["fused_ms"] >= 15))
    checks.append(("decode flat in context (64K/1K < 1.5)", dec[1]["fused_us"] / dec[0]["fused_us"] < 1.5))
    print()
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"fwd_bwd": rows, "decode": dec, "numerics": num, "checks": checks,
                       "device": torch.cuda.get_device_name()}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
