"""``m1gym logic ...`` commands: calibrate the levels, import SynLogic-format data."""

from __future__ import annotations

import argparse
import sys


def _user_error(msg: str) -> Exception:
    from ...errors import UserError

    return UserError(msg)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from . import calibrate as cal

    try:
        names = cal.resolve_tasks(args.tasks)
    except ValueError as exc:
        raise _user_error(f"{exc}; see `m1gym envs list`") from None
    if args.n < 1:
        raise _user_error("--n must be at least 1")
    if args.out and not args.out.endswith((".json", ".md", ".markdown", ".txt")):
        raise _user_error("--out must end in .json (JSON) or .md (Markdown table)")
    solver = None
    if args.solver:
        try:
            solver = cal.command_solver(args.solver, timeout=args.solver_timeout)
        except ValueError as exc:
            raise _user_error(f"--solver: {exc}") from None
    progress = None
    if not args.quiet:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(names) * len(args.levels or [0, 1, 2, 3, 4]), file=sys.stderr,
                       leave=False, desc="calibrate")

            def progress(label: str) -> None:
                bar.set_postfix_str(label[6:], refresh=False)
                bar.update(1)
        except ImportError:  # pragma: no cover
            progress = None
    rows = cal.calibrate(names, levels=args.levels, n=args.n, seed=args.seed, progress=progress, solver=solver)
    if progress is not None:
        bar.close()
    print(cal.format_table(rows))
    print(f"\ntokens = ceil(prompt chars / 4); {args.n} instances per row; pass rates of garbage, "
          "random-shaped and reference answers")
    if args.out:
        cal.write(rows, args.out)
        print(f"wrote {args.out}")
    return 0 if all(r.reference_pass == 1.0 and not r.failures for r in rows) else 1


def cmd_import_synlogic(args: argparse.Namespace) -> int:
    from . import synlogic

    if args.list:
        print("SynLogic tasks that map to m1gym tasks: " + ", ".join(synlogic.mapped_tasks()))
        return 0
    if not args.file:
        raise _user_error("give a SynLogic .jsonl/.json/.parquet file, e.g. "
                          "`m1gym logic import-synlogic data.parquet --out tasks.jsonl`")
    if not args.out:
        raise _user_error("give --out FILE for the converted tasks (JSON lines)")
    try:
        tasks, report = synlogic.import_synlogic(args.file, args.out, tasks=args.tasks)
    except synlogic.SynLogicFormatError as exc:
        raise _user_error(str(exc)) from None
    print(report.text())
    print(f"wrote {len(tasks)} tasks to {args.out}; score them with `m1gym score --task ...` "
          "or the reward service")
    if report.rows and not tasks:
        return 1
    return 0


def add_commands(subparsers) -> None:
    logic = subparsers.add_parser("logic", help="logic tasks: calibrate levels, import SynLogic data")
    sub = logic.add_subparsers(dest="logic_command", metavar="SUBCOMMAND")

    p = sub.add_parser("calibrate", help="prompt size, generation time and baseline pass rates per level")
    p.add_argument("--tasks", nargs="+", help="task names (default: every logic task)")
    p.add_argument("--levels", nargs="+", type=int, help="levels (default: all of each task)")
    p.add_argument("--n", type=int, default=20, help="instances per task and level (default 20)")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--out", help="write the table to FILE (.json or .md)")
    p.add_argument("--solver", metavar="CMD",
                   help="also score this command: prompt on stdin, response on stdout (run without a shell)")
    p.add_argument("--solver-timeout", type=float, default=60.0, help="seconds per solver call (default 60)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("import-synlogic", help="convert SynLogic-format rows (JSONL/Parquet) to m1gym tasks")
    p.add_argument("file", nargs="?", help="SynLogic .jsonl, .json or .parquet file")
    p.add_argument("--out", help="output JSONL of m1gym tasks")
    p.add_argument("--tasks", nargs="+", help="only these tasks")
    p.add_argument("--list", action="store_true", help="list the tasks whose SynLogic rows map")
    p.set_defaults(func=cmd_import_synlogic)
