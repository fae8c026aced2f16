"""``m1gym serve``: run the reward service on uvicorn."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from ..config import help_action


def add_commands(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the reward service (HTTP scoring for any trainer)",
        description="Serve every registered environment over HTTP: /v1/envs, /v1/tasks, /v1/score, "
                    "/get_reward (OpenRLHF), /healthz, /metrics. See docs/service.md.")
    p.add_argument("--config", help="YAML file whose keys are the flag names (host, port, workers, ...); "
                                    "flags given on the command line win (--help-config lists them)")
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one and prints it)")
    p.add_argument("--workers", type=int, default=None,
                   help="scoring worker processes, or Ray actors with --ray (default: CPU count, at most 8)")
    p.add_argument("--ray", metavar="ADDRESS|auto", default=None,
                   help="score on Ray actors: 'auto' starts a local Ray instance, an address joins a cluster")
    p.add_argument("--ray-actor-cpus", type=float, default=None, help="CPUs per Ray actor (default 1)")
    p.add_argument("--token", default=None, help="require 'Authorization: Bearer TOKEN' (default: $M1GYM_TOKEN)")
    p.add_argument("--item-timeout", type=float, default=None,
                   help="seconds per item before it scores 0 with a timeout reason (default 30)")
    p.add_argument("--max-batch", type=int, default=None, help="most items per request (default 4096)")
    p.add_argument("--max-body-mb", type=float, default=None, help="largest request body in MiB (default 32)")
    p.add_argument("--max-queue", type=int, default=None,
                   help="most items waiting; beyond it requests get 429 + Retry-After (default 65536)")
    p.add_argument("--import", dest="imports", action="append", default=None, metavar="MODULE|FILE.py",
                   help="import a module (or .py file) that registers your own envs; repeatable")
    p.add_argument("--task-cache", type=int, default=None,
                   help="tasks from /v1/tasks kept for scoring by task_id (default 50000; 0 disables)")
    p.add_argument("--label-env", default=None,
                   help="env for bare-answer labels in /get_reward (e.g. a math env)")
    p.add_argument("--log-level", default=None, choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default warning)")
    p.add_argument("--help-config", action=help_action(service_config_help),
                   help="print every setting (flag and YAML key) with its type, default and meaning, and exit")
    p.set_defaults(func=cmd_serve)


def service_config_help() -> str:
    from .config import service_config_help as text

    return text()


def build_config(args: argparse.Namespace):
    """The service's settings from the flags over ``--config`` (see ``m1gym.service.config``)."""
    from .config import load_service_config

    flags = {"host": args.host, "port": args.port, "workers": args.workers, "ray": args.ray,
             "ray_actor_cpus": args.ray_actor_cpus, "token": args.token, "item_timeout": args.item_timeout,
             "max_batch": args.max_batch, "max_body_mb": args.max_body_mb, "max_queue": args.max_queue,
             "imports": args.imports, "task_cache": args.task_cache, "label_env": args.label_env,
             "log_level": args.log_level}
    return load_service_config(args.config, flags)  # a ConfigError is a UserError: one line, exit 2


def _bind(host: str, port: int) -> socket.socket:
    from ..errors import UserError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port "
                        "(0 picks a free one) or --host") from None
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    from ..errors import UserError

    config = build_config(args)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise UserError(f"the service needs fastapi and uvicorn ({exc}); pip install 'm1gym'") from None
    if config.ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UserError("--ray needs Ray: pip install 'm1gym[ray]'") from None
    if config.label_env:
        from ..registry import get_spec

        get_spec(config.label_env)  # unknown env -> one clear line
    sock = _bind(config.host, int(config.port))
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def ready() -> None:
        from ..registry import list_envs

        n = config.workers
        backend = (f"Ray actor{'s' if n != 1 else ''} ({config.ray})" if config.ray
                   else f"worker process{'es' if n != 1 else ''}")
        auth = "bearer token required" if config.token else "no auth"
        print(f"m1gym serve: listening on {url} ({n} {backend}, {len(list_envs())} envs, {auth})",
              flush=True)

    try:
        app = create_app(config, on_ready=ready)
    except Exception as exc:  # a broken --import module
        raise UserError(f"--import failed: {type(exc).__name__}: {exc}") from None
    server = uvicorn.Server(uvicorn.Config(app, log_level=config.log_level, access_log=False,
                                           timeout_graceful_shutdown=5, lifespan="on"))
    server.run(sockets=[sock])
    if not server.started:
        print("m1gym serve: the server did not start (see the error above)", file=sys.stderr)
        return 1
    return 0
