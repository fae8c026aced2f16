"""Trainer commands: ``m1gym sft``, ``m1gym rl``, ``m1gym train``, ``m1gym plot`` (``model`` and
``serve-model`` are inference's: m1gym/inference/cli.py). Heavy imports (torch, transformers) happen
inside the commands so that building the CLI stays fast."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import help_action

DEFAULT_CONFIG = "configs/tiny.yaml"


def _user_error(msg: str) -> Exception:
    from ..errors import UserError

    return UserError(msg)


def _config(args: argparse.Namespace):
    from .config import ConfigError, load_config

    path = args.config
    if path is None:
        path = DEFAULT_CONFIG
        if not Path(path).exists():  # run from outside the checkout: the repo's copy
            alt = Path(__file__).resolve().parents[2] / DEFAULT_CONFIG
            path = str(alt) if alt.exists() else None
    overrides = list(args.set or [])
    for flag, key in (("steps", "trainer.steps"), ("run_dir", "run_dir"), ("seed", "seed"), ("sft_steps", "sft.steps")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{key}={value}")
    try:
        return load_config(path, overrides)
    except ConfigError as exc:
        raise _user_error(str(exc)) from None


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help=f"YAML config (default {DEFAULT_CONFIG})")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config key, e.g. --set trainer.steps=10 (repeatable)")
    p.add_argument("--run-dir", dest="run_dir", help="run folder (config key run_dir)")
    p.add_argument("--steps", type=int, help="RL steps (config key trainer.steps)")
    p.add_argument("--seed", type=int, help="seed (config key seed)")
    p.add_argument("--sft-steps", dest="sft_steps", type=int, help="SFT steps (config key sft.steps)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--help-config", action=help_action(_config_help),
                   help="print every config key with its type, default and meaning, and exit")


def _config_help() -> str:
    from .config import config_help

    return config_help()


def _check_mix(cfg) -> None:
    from ..registry import UnknownEnvError, get_spec

    for e in cfg.mix:
        try:
            get_spec(e.env)
        except UnknownEnvError as exc:
            raise _user_error(f"config mix: {exc}") from None
    if not cfg.mix:
        raise _user_error("the config's mix is empty; add entries like `- {env: math/arithmetic, level: 0}`")


def cmd_sft(args: argparse.Namespace) -> int:
    from .sft import run_sft

    cfg = _config(args)
    _check_mix(cfg)
    out = run_sft(cfg, out_dir=args.out, progress=not args.quiet)
    print(f"warm start: {out}")
    return 0


def cmd_rl(args: argparse.Namespace) -> int:
    from .rl import RLTrainer, evaluate

    cfg = _config(args)
    _check_mix(cfg)
    if args.init and not Path(args.init).is_dir():
        raise _user_error(f"--init {args.init} is not a checkpoint directory")
    trainer = RLTrainer(cfg, init_from=args.init, resume=not args.no_resume, progress=not args.quiet)
    try:
        last = trainer.train()
        print(f"done: {trainer.step_idx} steps, last reward {last.get('reward_mean', float('nan')):.3f}, "
              f"run folder {cfg.run_dir}")
        if args.eval:  # scored like the run (its pool and per-item timeout)
            res = evaluate(cfg, trainer.model, trainer.tokenizer, scorer=trainer.scorer)
            for name, row in res.items():
                print(f"{name:<34} " + "  ".join(f"{k} {v:.3f}" for k, v in row.items()))
    finally:
        trainer.close()
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import run_train

    cfg = _config(args)
    _check_mix(cfg)
    run_train(cfg, progress=not args.quiet, resume=not args.no_resume)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .metrics import plot_run

    try:
        files = plot_run(args.run_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise _user_error(str(exc)) from None
    for f in files:
        print(f)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("sft", help="SFT warm start on reference solutions of the mix's envs")
    _add_config_args(p)
    p.add_argument("--out", help="write the checkpoint here (default: the SFT cache)")
    p.set_defaults(func=cmd_sft)

    p = sub.add_parser("rl", help="CISPO RL on the fixed mix (no SFT; --init a checkpoint)")
    _add_config_args(p)
    p.add_argument("--init", help="start from this checkpoint dir (e.g. the output of `m1gym sft`)")
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in the run folder")
    p.add_argument("--eval", action="store_true", help="print held-out pass rates at the end")
    p.set_defaults(func=cmd_rl)

    p = sub.add_parser("train", help="the main job: SFT warm start, then CISPO RL, with a before/after report")
    _add_config_args(p)
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in the run folder")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("plot", help="write PNG curves of a run's metrics into RUN_DIR/plots")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_plot)
