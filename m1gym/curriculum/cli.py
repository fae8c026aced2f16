"""`m1gym filter`: the offline pass-rate filter."""

from __future__ import annotations

import json


def cmd_filter(args) -> int:
    from ..errors import UserError
    from ..core import TaskFormatError
    from .config import PassFilterConfig
    from .filter import filter_tasks, read_tasks, sample_responses, write_tasks

    if not 0 <= args.low < args.high <= 1:
        raise UserError(f"--low and --high must satisfy 0 <= low < high <= 1, got {args.low} and {args.high}")
    if args.tasks:
        try:
            tasks = read_tasks(args.tasks)
        except OSError as exc:
            raise UserError(f"cannot read {args.tasks}: {exc.strerror}") from None
        except TaskFormatError as exc:
            raise UserError(str(exc)) from None
    elif args.env:
        from ..registry import make

        env = make(args.env)
        tasks = [env.generate(args.seed + i, args.level) for i in range(args.n)]
    else:
        raise UserError("give --tasks FILE (JSON lines of tasks) or --env NAME [--n N --level L]")
    try:
        responses = sample_responses(args.model, tasks, args.k, max_new_tokens=args.max_new_tokens,
                                     temperature=args.temperature, seed=args.seed)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    kept, report = filter_tasks(tasks, responses, PassFilterConfig(low=args.low, high=args.high))
    write_tasks(kept, args.out)
    print(report.summary() + f"; wrote {args.out}")
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(report.__dict__, fh, indent=1)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("filter", help="keep tasks a model solves sometimes: sample k answers, keep low < pass < high")
    p.add_argument("--model", required=True, help="checkpoint directory (e.g. RUN_DIR/sft)")
    p.add_argument("--tasks", help="JSON lines of tasks (as printed by `m1gym sample --json`)")
    p.add_argument("--env", help="or generate tasks from this env")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--level", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=8, help="answers sampled per task")
    p.add_argument("--low", type=float, default=0.0, help="keep pass rates strictly above this")
    p.add_argument("--high", type=float, default=0.9, help="keep pass rates strictly below this")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--out", required=True, help="where to write the kept tasks (JSON lines)")
    p.add_argument("--report", help="also write the pass rate of every task here (JSON)")
    p.set_defaults(func=cmd_filter)
