"""``m1gym export``: write an env's tasks as a verl / TRL / OpenRLHF / SkyRL dataset file."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_export(args: argparse.Namespace) -> int:
    from m1gym.errors import UserError
    from m1gym.integrations.export import ExportError, export

    try:
        path, count, origin = export(args.name, args.format, args.out, n=args.n, seed=args.seed, level=args.level,
                                     source=args.source, split=args.split)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    print(f"m1gym export: {count} {args.name} task(s) ({origin}) -> {path} ({args.format})", file=sys.stderr)
    return 0


def add_commands(subparsers: Any) -> None:
    from m1gym.integrations.export import FORMATS

    p = subparsers.add_parser(
        "export", help="write an env's tasks as a trainer's dataset (verl, TRL, OpenRLHF, SkyRL)",
        description="Write tasks in the file layout a trainer reads, each row labelled with its Task JSON so "
                    "m1gym's reward adapters score it exactly. See docs/service.md.")
    p.add_argument("name", help="environment, e.g. math/arithmetic")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="output file: .parquet (verl, skyrl, trl) or .jsonl (openrlhf, trl)")
    p.add_argument("--n", type=int, default=0, help="number of tasks (generated envs: required; with --from: at most)")
    p.add_argument("--seed", type=int, default=0, help="first seed (tasks use seed..seed+n-1)")
    p.add_argument("--level", type=int, default=None, help="difficulty level (default: the env's default)")
    p.add_argument("--from", dest="source", default=None,
                   help="read tasks from a file instead: Task JSON lines, or a file the env's loader reads")
    p.add_argument("--split", default="train", help="split name stored in extra_info (verl, skyrl)")
    p.set_defaults(func=cmd_export)
