"""Inference commands: ``m1gym model count|flops`` (presets, parameter counts, generation FLOPs) and
``m1gym serve-model`` (a checkpoint behind an OpenAI-compatible API). Heavy imports (torch,
transformers) happen inside the commands so that building the CLI stays fast."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError


def cmd_model_count(args: argparse.Namespace) -> int:
    from .model import PRESETS, build_meta, count_params, load_model

    if Path(args.preset).is_dir():
        model, _ = load_model(args.preset)
    elif args.preset in PRESETS:
        model = build_meta(args.preset)
    else:
        raise UserError(f"unknown preset {args.preset!r}; choose {', '.join(PRESETS)} or give a checkpoint dir")
    c = count_params(model)
    cfg = model.config
    n_soft = sum(t == "full_attention" for t in cfg.layer_types)
    print(f"{args.preset}: {cfg.num_hidden_layers} layers ({cfg.num_hidden_layers - n_soft} lightning + {n_soft} softmax), "
          f"hidden {cfg.hidden_size}, {cfg.num_local_experts} experts top-{cfg.num_experts_per_tok}")

    def fmt(n: int) -> str:
        return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.2f}M"

    print(f"total parameters   {fmt(c['total'])}")
    print(f"active parameters  {fmt(c['active'])}  (per token; excludes embeddings and LM head)")
    return 0


def cmd_model_flops(args: argparse.Namespace) -> int:
    from .flops import flops_table, parse_length

    if args.preset != "m1":
        raise UserError("only --preset m1 has the published shape to compare; use --preset m1")
    try:
        lengths = [parse_length(x) for x in args.lengths.split(",") if x.strip()]
        print(flops_table(lengths, args.vs))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return 0


def cmd_serve_model(args: argparse.Namespace) -> int:
    from .serve import serve

    if not Path(args.path).is_dir():
        raise UserError(f"{args.path} is not a checkpoint directory (write one with `m1gym sft` or `m1gym train`)")
    if args.max_new_tokens is not None and args.max_new_tokens < 1:
        raise UserError(f"--max-new-tokens must be >= 1 (got {args.max_new_tokens}); leave it out for no cap")
    serve(args.path, host=args.host, port=args.port, threads=args.threads, max_new_tokens=args.max_new_tokens,
          accept_weights=args.accept_weights)
    return 0


def add_commands(sub) -> None:
    model = sub.add_parser("model", help="model presets: parameter counts and generation FLOPs")
    msub = model.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    p = msub.add_parser("count", help="total and active parameters of a preset (built on the meta device)")
    p.add_argument("preset", help="tiny | small | m1 | checkpoint dir")
    p.set_defaults(func=cmd_model_count)
    p = msub.add_parser("flops", help="generation FLOPs vs another model (M1 Figure 1)")
    p.add_argument("--preset", default="m1")
    p.add_argument("--vs", default="deepseek-r1")
    p.add_argument("--lengths", default="32k,64k,100k,128k")
    p.set_defaults(func=cmd_model_flops)

    p = sub.add_parser("serve-model", help="serve a checkpoint over an OpenAI-compatible API "
                       "(/v1/chat/completions, /v1/completions, with logprobs)")
    p.add_argument("path")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-new-tokens", type=int, default=None,
                   help="cap on max_tokens of chat requests (larger requests are clamped; default: no cap)")
    p.add_argument("--accept-weights", action="store_true",
                   help="take new weights on POST /v1/weights (a trainer's rollout.engine: openai needs it); "
                        "anyone who can reach the port can then replace the model")
    p.set_defaults(func=cmd_serve_model)
