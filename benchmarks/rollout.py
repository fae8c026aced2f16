"""Rollout engine throughput (issue 18): today's EmbeddedEngine against the DecodeEngine, one run.

    python benchmarks/rollout.py                          # GPU: small preset, bf16, the full table
    python benchmarks/rollout.py --batches 8 64 256 --prompt-lens 256 4096 --new 512 \\
        --old-new 128 --long-batch 32 --long-new 16384 --json out.json

Every row generates exactly ``--new`` tokens per response (no EOS: the end-of-sequence id is set to
an id the model never emits; repetition stop off), from random prompts of the given length, one
response per prompt. For each engine: tokens/s = rows x new tokens / wall time of a whole
``generate`` (prefill included; the decode engine's second call, after the one that captured its
CUDA graphs), and the time per decode step: the decode engine's graph replays timed alone
(CUDA events, median of 50), the embedded engine's (wall - prefill) / steps. The embedded engine
generates ``--old-new`` tokens (its decode step costs the same at any position: ~36 ms on an H200,
issue 18); its tokens/s are per generated token like the new engine's.

Long generation: batch ``--long-batch``, ``--long-new`` new tokens, decode engine only: the time per
decode step over the first and the last 5% of steps (the lightning layers' state is constant-size;
the softmax layers' KV reads grow with the length).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class NoEos:
    """The model's tokenizer with an end-of-sequence id it never samples (every row runs to the cap)."""

    def __init__(self, tok):
        self._tok, self.eos_id, self.pad_id = tok, -1, tok.pad_id

    def decode(self, ids):
        return ""


def prompts_for(batch: int, length: int, seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, 100, (batch, length), generator=g).tolist()


def sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_decode(model, tok, batch, plen, new, sync_every, sparse_moe=False):
    import torch

    from m1gym.inference.decode import DecodeEngine
    from m1gym.inference.rollout import SamplingParams

    eng = DecodeEngine(model, NoEos(tok), batch_size=batch, sync_every=sync_every)
    eng.sparse_moe = sparse_moe
    sp = SamplingParams(max_new_tokens=new, temperature=1.0, repetition_k=0)
    prompts = prompts_for(batch, plen)
    t0 = time.perf_counter()
    eng.generate(prompts, 1, sp, seed=0)  # captures the graphs
    sync()
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = eng.generate(prompts, 1, sp, seed=1)
    sync()
    wall = time.perf_counter() - t0
    assert all(len(g[0].token_ids) == new for g in out)
    # the step alone: replays of the graph the run used last (batch bucket, KV bucket of the end)
    from m1gym.inference.decode import _len_bucket

    Lb = _len_bucket(plen + new, eng._L)
    mode = (1.0, 1.0)
    step_ms = None
    if torch.cuda.is_available():
        eng.active[:batch] = True
        eng.n_gen[:batch] = 0
        eng.max_new_t.fill_(1 << 40)
        eng.pos[:batch] = plen
        for _ in range(3):
            eng._run_step(batch, Lb, mode)
        times = []
        for _ in range(50):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            eng._run_step(batch, Lb, mode)
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b))
        step_ms = statistics.median(times)
    return {"engine": "decode-topk" if sparse_moe else "decode", "batch": batch, "prompt": plen, "new": new,
            "wall_s": wall, "first_call_s": first, "sparse_moe": eng._sparse_now,
            "tok_s": batch * new / wall, "step_ms": step_ms, "graphs": eng.stats.get("graphs")}


def run_embedded(model, tok, batch, plen, new):
    import torch

    from m1gym.inference.rollout import EmbeddedEngine, SamplingParams

    eng = EmbeddedEngine(model, NoEos(tok), batch_size=batch)
    prompts = prompts_for(batch, plen)
    sp1 = SamplingParams(max_new_tokens=1, temperature=1.0, repetition_k=0)
    sp = SamplingParams(max_new_tokens=new, temperature=1.0, repetition_k=0)
    with torch.no_grad():
        eng.generate(prompts[:2], 1, SamplingParams(max_new_tokens=4, temperature=1.0, repetition_k=0))  # warm-up
        sync()
        t0 = time.perf_counter()
        eng.generate(prompts, 1, sp1, seed=0)  # prefill (and one sampled token)
        sync()
        prefill = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = eng.generate(prompts, 1, sp, seed=0)
        sync()
        wall = time.perf_counter() - t0
    assert all(len(g[0].token_ids) == new for g in out)
    return {"engine": "embedded", "batch": batch, "prompt": plen, "new": new, "wall_s": wall,
            "tok_s": batch * new / wall, "step_ms": 1000 * max(wall - prefill, 0) / max(new - 1, 1)}


def profile_step(model, tok, batch, plen, steps=5, top=14):
    """The decode step's kernels at ``batch`` (eager, no graph: the same kernels a graph replays, with
    their launch gaps removed from the sums): kernels per step, GPU time per step, the heaviest ones."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from m1gym.inference.decode import DecodeEngine, _len_bucket
    from m1gym.inference.rollout import SamplingParams

    eng = DecodeEngine(model, NoEos(tok), batch_size=batch, cuda_graphs=False)
    eng.generate(prompts_for(batch, plen), 1, SamplingParams(max_new_tokens=32, temperature=1.0, repetition_k=0))
    Lb = _len_bucket(plen + 32, eng._L)
    eng.active[:batch] = True
    eng.n_gen[:batch] = 0
    eng.max_new_t.fill_(1 << 40)
    eng.pos[:batch] = plen
    eng._run_step(batch, Lb, (1.0, 1.0))
    sync()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            eng._run_step(batch, Lb, (1.0, 1.0))
        sync()
    by_name: dict[str, list[float]] = {}
    for ev in prof.events():
        if ev.device_type == torch.autograd.DeviceType.CUDA:
            by_name.setdefault(ev.name, []).append(ev.time_range.elapsed_us())
    n = sum(len(v) for v in by_name.values()) / steps
    busy = sum(sum(v) for v in by_name.values()) / steps
    heavy = sorted(by_name.items(), key=lambda kv: -sum(kv[1]))[:top]
    return {"batch": batch, "prompt": plen, "kernels_per_step": n, "gpu_us_per_step": busy,
            "top": [(k[:70], len(v) / steps, sum(v) / steps) for k, v in heavy]}


def run_long(model, tok, batch, plen, new, sync_every):
    from m1gym.inference.decode import DecodeEngine
    from m1gym.inference.rollout import SamplingParams

    eng = DecodeEngine(model, NoEos(tok), batch_size=batch, sync_every=sync_every)
    sp = SamplingParams(max_new_tokens=new, temperature=1.0, repetition_k=0)
    prompts = prompts_for(batch, plen, seed=2)
    eng.generate(prompts, 1, SamplingParams(max_new_tokens=64, temperature=1.0, repetition_k=0), seed=0)
    eng.trace = []
    t0 = time.perf_counter()
    out = eng.generate(prompts, 1, sp, seed=0)
    sync()
    wall = time.perf_counter() - t0
    assert all(len(g[0].token_ids) == new for g in out)
    tr = [t for t in eng.trace if t[1] == batch]
    n = max(1, len(tr) // 20)

    def per_step(rows):  # ms per step, the chunks whose KV bucket was captured already (first use excluded)
        return 1000 * sum(r[4] for r in rows) / sum(r[3] for r in rows)

    seen, steady = set(), []
    for r in tr:  # a chunk that captured its graph (first use of its buckets) is not a decode timing
        if (r[1], r[2]) in seen:
            steady.append(r)
        seen.add((r[1], r[2]))
    start, end = steady[:n], steady[-n:]
    return {"engine": "decode", "batch": batch, "prompt": plen, "new": new, "wall_s": wall,
            "tok_s": batch * new / wall, "start_ms": per_step(start), "end_ms": per_step(end),
            "graphs": eng.stats.get("graphs")}


def main() -> int:
    import torch

    from m1gym.inference.model import build_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--batches", type=int, nargs="+", default=[8, 64, 256])
    ap.add_argument("--prompt-lens", type=int, nargs="+", default=[256, 4096])
    ap.add_argument("--new", type=int, default=512)
    ap.add_argument("--old-new", type=int, default=128, help="tokens the embedded engine generates (0: skip it)")
    ap.add_argument("--long-batch", type=int, default=32)
    ap.add_argument("--long-new", type=int, default=16384, help="0: skip the long-generation row")
    ap.add_argument("--sync-every", type=int, default=16)
    ap.add_argument("--topk-moe", action="store_true",
                    help="also time the decode engine with its top-k grouped-GEMM MoE (sparse_moe) against the dense default")
    ap.add_argument("--profile", action="store_true",
                    help="also list the decode step's kernels per batch (count, GPU time, the heaviest)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    model, tok = build_model(args.preset, seed=0, device=args.device, dtype=args.dtype,
                             attn_implementation="sdpa" if args.device.startswith("cuda") else "eager")
    model.eval()
    from m1gym.kernels.lightning import fla_available
    from m1gym.kernels.lightning_decode import triton_available

    info = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
            "fla": fla_available(), "triton": triton_available(args.device), "torch": torch.__version__}
    print(json.dumps(info), flush=True)
    rows = []

    def save():
        if args.json:
            Path(args.json).write_text(json.dumps({"info": info, "rows": rows}, indent=1))

    for plen in args.prompt_lens:
        for b in args.batches:
            for fn in (("decode", lambda: run_decode(model, tok, b, plen, args.new, args.sync_every)),
                       ("decode-topk", lambda: run_decode(model, tok, b, plen, args.new, args.sync_every, True)),
                       ("embedded", lambda: run_embedded(model, tok, b, plen, args.old_new))):
                if (fn[0] == "embedded" and not args.old_new) or (fn[0] == "decode-topk" and not args.topk_moe):
                    continue
                try:
                    r = fn[1]()
                except Exception as exc:  # report and go on: one failed row should not lose the table
                    r = {"engine": fn[0], "batch": b, "prompt": plen, "error": f"{type(exc).__name__}: {exc}"[:300]}
                rows.append(r)
                print(json.dumps(r), flush=True)
                save()
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
    long = None
    if args.long_new:
        try:
            long = run_long(model, tok, args.long_batch, 256, args.long_new, args.sync_every)
        except Exception as exc:
            long = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        rows.append({"long": long})
        print(json.dumps(long), flush=True)
        save()
    # the table
    print(f"\n{args.preset} preset, {args.dtype}, {info['device']}, fla={info['fla']}, triton={info['triton']}")
    print(f"| prompt | batch | embedded tok/s | embedded step ms | decode tok/s | decode step ms | tok/s ratio | step ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for plen in args.prompt_lens:
        for b in args.batches:
            d = next((r for r in rows if r.get("engine") == "decode" and r["batch"] == b and r["prompt"] == plen), {})
            e = next((r for r in rows if r.get("engine") == "embedded" and r["batch"] == b and r["prompt"] == plen), {})

            def f(r, k, fmt):
                return format(r[k], fmt) if r.get(k) is not None else (r.get("error", "-")[:40] if k in ("tok_s",) else "-")
            ratio = f"{d['tok_s'] / e['tok_s']:.1f}x" if d.get("tok_s") and e.get("tok_s") else "-"
            sratio = f"{e['step_ms'] / d['step_ms']:.1f}x" if d.get("step_ms") and e.get("step_ms") else "-"
            print(f"| {plen} | {b} | {f(e, 'tok_s', ',.0f')} | {f(e, 'step_ms', '.2f')} | {f(d, 'tok_s', ',.0f')} | "
                  f"{f(d, 'step_ms', '.3f')} | {ratio} | {sratio} |")
    topk = [r for r in rows if r.get("engine") == "decode-topk"]
    if topk:
        print("\ndecode engine, MoE over all experts (dense, the default) vs each row's top-k experts (grouped GEMM):")
        print("| prompt | batch | dense tok/s | dense step ms | top-k tok/s | top-k step ms | top-k / dense step |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in topk:
            d = next((x for x in rows if x.get("engine") == "decode" and x["batch"] == r["batch"]
                      and x["prompt"] == r["prompt"]), {})
            if d.get("step_ms") and r.get("step_ms"):
                print(f"| {r['prompt']} | {r['batch']} | {d['tok_s']:,.0f} | {d['step_ms']:.3f} | {r['tok_s']:,.0f} | "
                      f"{r['step_ms']:.3f} | {r['step_ms'] / d['step_ms']:.2f}x |")
    if args.profile:
        for b in args.batches:
            pr = profile_step(model, tok, b, args.prompt_lens[0])
            rows.append({"profile": pr})
            save()
            print(f"\ndecode step kernels, batch {b}, prompt {pr['prompt']}: {pr['kernels_per_step']:.0f} kernels, "
                  f"{pr['gpu_us_per_step']:.0f} us of GPU time a step (eager)")
            for name, cnt, us in pr["top"]:
                print(f"  {us:8.1f} us  {cnt:5.0f}x  {name}")
    if long and "error" not in long:
        print(f"\nlong generation: batch {long['batch']}, prompt 256, {long['new']} new tokens: "
              f"{long['tok_s']:,.0f} tok/s, step {long['start_ms']:.3f} ms at the start, {long['end_ms']:.3f} ms "
              f"at the end (end/start {long['end_ms'] / long['start_ms']:.2f}x)")
    elif long:
        print(f"\nlong generation: {long['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
