"""The ``m1gym`` command line.

Core commands live here (envs, sample, score). Each subsystem adds its own commands from a module
``m1gym/<part>/cli.py`` exposing ``add_commands(subparsers)``; commands set ``func`` on their parser.
A user error (``UserError``, unknown env, bad task file) prints one clear line and exits 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any, Sequence

from .errors import UserError  # noqa: F401  (re-exported: ``m1gym.cli.UserError`` is the old home)

#: subsystem CLI modules, added when present
PLUGIN_MODULES = (
    "m1gym.envs.logic.cli",
    "m1gym.sandbox.cli",
    "m1gym.envs.code.cli",
    "m1gym.envs.swe.cli",
    "m1gym.service.cli",
    "m1gym.integrations.cli",
    "m1gym.genrm.cli",
    "m1gym.inference.cli",
    "m1gym.trainer.cli",
    "m1gym.curriculum.cli",
)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str))


# ---- envs ------------------------------------------------------------------------------------

def _add_import_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--import", dest="imports", action="append", default=None, metavar="MODULE|FILE.py",
                   help="import a module (a name importable from here, or a .py file) that registers your own "
                        "envs; repeatable")


def load_user_envs(args: argparse.Namespace) -> list[str]:
    """Import the ``--import`` modules of a command (one clear line when one fails); their names."""
    import traceback

    from .registry import load_imports

    imports = list(getattr(args, "imports", None) or [])
    for text in imports:
        try:
            load_imports([text])
        except Exception as exc:  # the user's module failed: say where, in one line
            message = str(exc)
            if not message.startswith("--import"):
                frames = traceback.extract_tb(exc.__traceback__)
                where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
                message = f"--import {text}: {type(exc).__name__}: {exc}{where}"
            raise UserError(message) from None
    return imports


def cmd_envs_list(args: argparse.Namespace) -> int:
    from .registry import list_envs

    load_user_envs(args)
    specs = list_envs(args.kind)
    if args.json:
        for s in specs:
            _print_json(s.to_dict())
        return 0
    width = max((len(s.name) for s in specs), default=4)
    for s in specs:
        levels = f"{min(s.levels)}-{max(s.levels)}" if s.levels else "-"
        turn = "[multi-turn] " if s.multi_turn else ""
        print(f"{s.name:<{width}}  {s.kind:<7}  levels {levels:<5}  {turn}{s.description}")
    print(f"\n{len(specs)} environments")
    return 0


def cmd_envs_show(args: argparse.Namespace) -> int:
    from .registry import get_spec

    load_user_envs(args)
    spec = get_spec(args.name)
    info = spec.to_dict()
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:>14}: {value}")
    return 0


def cmd_envs_check(args: argparse.Namespace) -> int:
    from .checker import check_envs
    from .registry import env_names, get_spec

    imports = load_user_envs(args)
    if args.all:
        names = env_names()
    elif args.names:
        names = args.names
    else:
        raise UserError("name an environment or pass --all, e.g. `m1gym envs check math/arithmetic`")
    if args.probe_tasks < 0:
        raise UserError(f"--probe-tasks must be >= 0, got {args.probe_tasks}")
    probe_n = 0 if args.no_probe else args.probe_tasks
    for name in names:
        get_spec(name)  # an unknown name is one clear line, before any work
    report = check_envs(names, samples=args.samples, quick=args.quick, probe_n=probe_n, imports=imports)
    print(report.text())
    return 0 if report.ok else 1


def cmd_envs_probe(args: argparse.Namespace) -> int:
    from .probe import probe, probe_tasks
    from .registry import make

    load_user_envs(args)
    env = make(args.name)
    if args.chance is not None and not 0 <= args.chance <= 1:
        raise UserError(f"--chance is a share of tasks between 0 and 1, got {args.chance}")
    if args.tasks:
        tasks = load_tasks_file(args.tasks)
        wrong = sorted({t.env for t in tasks if t.env != env.name})
        if wrong:
            raise UserError(f"{args.tasks} holds tasks of {wrong}, not {env.name!r}; probe each env with its own tasks")
    else:
        if args.n < 1:
            raise UserError(f"--n must be >= 1, got {args.n}")
        if not env.procedural:
            raise UserError(f"{args.name} is a dataset environment: pass its tasks with --tasks FILE")
        tasks = probe_tasks(env, args.n)
    result = probe(env, tasks, chance_level=args.chance)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.text())
    return 0 if result.ok else 1


# ---- sample / score --------------------------------------------------------------------------

def cmd_sample(args: argparse.Namespace) -> int:
    from .registry import make

    load_user_envs(args)
    env = make(args.name)
    if not getattr(env, "procedural", True):
        raise UserError(f"{args.name} is a dataset environment; load tasks from a file instead of sampling")
    for i in range(args.n):
        task = env.generate(args.seed + i, args.level)
        if args.json:
            row = task.to_dict()
            row["reference"] = env.reference(task)
            _print_json(row)
        else:
            print(f"--- {task.id} (level {task.meta.get('level')})")
            print(task.prompt_text)
            print(f"--- reference response:\n{env.reference(task)}\n")
    return 0


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


def load_task_file(path: str):
    """A Task from a file holding one JSON object (the first line of `m1gym sample --json` output)."""
    from .core import Task, TaskFormatError

    text = _read_text(path).strip()
    if not text:
        raise UserError(f"task file {path} is empty; make one with `m1gym sample NAME --json > task.json`")
    first = text.splitlines()[0] if text.startswith("{") and "\n" in text else text
    try:
        return Task.from_json(first)
    except TaskFormatError as exc:
        try:
            return Task.from_json(text)
        except TaskFormatError:
            raise UserError(f"{path}: {exc}") from None


def load_tasks_file(path: str):
    """Every Task in a file: JSON lines (as `m1gym sample --json` writes them) or one JSON array."""
    from .core import Task, TaskFormatError

    text = _read_text(path).strip()
    if not text:
        raise UserError(f"task file {path} is empty; make one with `m1gym sample NAME --n 50 --json > tasks.jsonl`")
    if text.startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise UserError(f"{path}: expected a JSON array of tasks or one task per line")
        try:
            return [Task.from_dict(row) for row in rows]
        except TaskFormatError as exc:
            raise UserError(f"{path}: {exc}") from None
    tasks = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            tasks.append(Task.from_json(line))
        except TaskFormatError as exc:
            raise UserError(f"{path}, line {lineno}: {exc} (one JSON task per line)") from None
    return tasks


def cmd_score(args: argparse.Namespace) -> int:
    from .registry import get_env

    load_user_envs(args)
    task = load_task_file(args.task)
    response = _read_text(args.response)
    name = args.name or task.env
    if task.env != name:
        raise UserError(f"the task belongs to {task.env!r}, not {name!r}")
    if args.server:
        from .service.client import Client

        with Client(args.server, token=args.token) as client:
            score = client.score([{"task": task.to_dict(), "response": response}])[0]
    else:
        score = get_env(name).score(task, response)
    if args.json:
        _print_json(score.to_dict())
    else:
        print(f"reward {score.reward:g}  correct {score.correct}  format_ok {score.format_ok}")
        print(f"reason: {score.reason}")
        if score.details:
            print(f"details: {json.dumps(score.details, default=str)[:2000]}")
    return 0


# ---- parser ----------------------------------------------------------------------------------

def _plugin_exists(mod_name: str) -> bool:
    """Is there such a CLI module? Checked on disk: ``find_spec`` would import its package first."""
    from pathlib import Path

    *package, leaf = mod_name.split(".")[1:]
    return Path(__file__).parent.joinpath(*package, f"{leaf}.py").is_file()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="m1gym", description="m1gym: verifiable RL environments, rewards and a CISPO trainer (the MiniMax-M1 recipe)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    envs = sub.add_parser("envs", help="list, show and check environments")
    esub = envs.add_subparsers(dest="envs_command", metavar="SUBCOMMAND")
    p = esub.add_parser("list", help="list registered environments")
    p.add_argument("--kind", choices=["rule", "sandbox", "genrm"])
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_import_option(p)
    p.set_defaults(func=cmd_envs_list)
    p = esub.add_parser("show", help="metadata of one environment")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    _add_import_option(p)
    p.set_defaults(func=cmd_envs_show)
    p = esub.add_parser("check", help="run the environment contract checks")
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true", help="check every registered environment")
    p.add_argument("--samples", type=int, default=5, help="tasks per level to check")
    p.add_argument("--quick", action="store_true", help="skip the cross-process determinism check")
    p.add_argument("--no-probe", action="store_true", help="skip the universal-answer probe")
    p.add_argument("--probe-tasks", type=int, default=20,
                   help="tasks per env for the universal-answer probe (sandbox envs: at most 5)")
    _add_import_option(p)
    p.set_defaults(func=cmd_envs_check)
    p = esub.add_parser("probe", help="score constant/degenerate answers on tasks: does any pass above chance?")
    p.add_argument("name")
    p.add_argument("--tasks", help="JSONL task file (as written by `m1gym sample --json`); default: generate --n")
    p.add_argument("--n", type=int, default=20, help="tasks to generate when --tasks is not given")
    p.add_argument("--chance", type=float, default=None,
                   help="share of tasks a constant may pass (default: the env's chance_level, 0.05 unless declared)")
    p.add_argument("--json", action="store_true", help="the result as one JSON object")
    _add_import_option(p)
    p.set_defaults(func=cmd_envs_probe)

    p = sub.add_parser("sample", help="generate tasks (JSON lines with --json)")
    p.add_argument("name")
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level", type=int, default=None)
    p.add_argument("--json", action="store_true")
    _add_import_option(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("score", help="score a response to a task")
    p.add_argument("name", nargs="?", help="environment (default: the task's env)")
    p.add_argument("--task", required=True, help="task JSON file (as printed by `m1gym sample --json`)")
    p.add_argument("--response", required=True, help="response file, or - for stdin")
    p.add_argument("--server", help="score through a running `m1gym serve` at this URL")
    p.add_argument("--token", help="bearer token for --server")
    p.add_argument("--json", action="store_true")
    _add_import_option(p)
    p.set_defaults(func=cmd_score)

    for mod_name in PLUGIN_MODULES:
        if _plugin_exists(mod_name):
            importlib.import_module(mod_name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .core import TaskFormatError
    from .registry import MultiTurnEnvError, UnknownEnvError

    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # a group without a subcommand: show its help
        parser.parse_args([*(argv or sys.argv[1:]), "--help"])
        return 2
    try:
        return int(func(args) or 0)
    except (UserError, UnknownEnvError, TaskFormatError, MultiTurnEnvError) as exc:
        hint = ""
        if isinstance(exc, UnknownEnvError) and hasattr(args, "imports") and not args.imports:
            hint = (" An env registered in your own module needs that module: pass --import MODULE "
                    "(a module name or a .py file).")
        print(f"m1gym: error: {exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("m1gym: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    # `python -m m1gym.cli`: run the imported module's main (this file as __main__ is a second
    # module object; plugins and tests see m1gym.cli)
    from m1gym.cli import main as _main

    sys.exit(_main())
