"""`m1gym sandbox build-base | doctor | prune`."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import time


def _user_error(msg: str) -> Exception:
    from ..errors import UserError

    return UserError(msg)


def cmd_build_base(args: argparse.Namespace) -> int:
    from .base import SandboxUnavailable
    from .image import BuildError, build_base

    try:
        build_base(mirror=args.mirror, force=args.force, log=lambda s: print(s, flush=True))
    except (BuildError, SandboxUnavailable) as exc:
        raise _user_error(str(exc).splitlines()[0] + (" (see the output above)" if "\n" in str(exc) else "")) from None
    return 0


def doctor_report(smoke: bool = True) -> list[tuple[str, bool, str]]:
    """(check, ok, detail-or-fix) rows."""
    from .base import Limits, SandboxError
    from .docker_client import connect, labelled_containers, leaked_containers
    from .docker_sandbox import DockerSandbox
    from .image import LAUNCH_PATH, base_image_tag, find_mirror, image_exists, stale_images

    rows: list[tuple[str, bool, str]] = []
    tag = base_image_tag()
    try:
        client = connect(timeout=10)
    except SandboxError as exc:
        rows.append(("docker daemon", False, f"{exc}. Fix: run `bash scripts/ensure_docker.sh` "
                                             "(installs docker.io, starts dockerd) or start your daemon"))
        rows.append(("debootstrap", bool(shutil.which("debootstrap")),
                     "installed" if shutil.which("debootstrap") else "missing: apt-get install -y debootstrap"))
        return rows
    info = client.version()
    rows.append(("docker daemon", True, f"reachable, server {info.get('Version', '?')}"))
    if image_exists(client, tag):
        rows.append(("base image", True, tag))
    else:
        rows.append(("base image", False, f"{tag} missing. Fix: `m1gym sandbox build-base` "
                                          f"(debootstrap from {find_mirror()}, a few minutes)"))
    stale = stale_images(client)
    rows.append(("old base images", not stale,
                 "none" if not stale else f"{', '.join(stale)} (from an older recipe). Fix: `m1gym sandbox prune --images`"))
    rows.append(("debootstrap", bool(shutil.which("debootstrap")),
                 "installed" if shutil.which("debootstrap") else "missing (needed only to build). Fix: apt-get install -y debootstrap"))
    labelled = labelled_containers(client)
    leaked = leaked_containers(client)
    live = len(labelled) - len(leaked)
    rows.append(("leaked containers", not leaked,
                 f"none ({live} in use by live processes)" if not leaked else
                 f"{len(leaked)} left by dead processes: {', '.join(c.name for c in leaked[:5])}. "
                 "Fix: `m1gym sandbox prune` (also done automatically when a sandbox starts)"))
    if smoke and image_exists(client, tag):
        t0 = time.monotonic()
        try:
            with DockerSandbox(pool=False) as sb, sb.session(Limits(wall_s=20)) as s:
                r = s.run(["python3", "-c", "import os; print(os.getuid())"])
                ok = r.ok and r.stdout.strip() != b"0"
                detail = f"python3 ran as uid {r.stdout.decode().strip()} in {time.monotonic() - t0:.2f}s" if ok \
                    else f"run failed: {r.summary()} {r.stderr[-300:]!r}"
                if ok:
                    r2 = s.run(["g++", "--version"])
                    if not r2.ok:
                        ok, detail = False, f"g++ failed in the sandbox: {r2.summary()}"
                    elif not s.run(["test", "-x", LAUNCH_PATH]).ok:
                        ok, detail = False, (f"the image has no spawn helper {LAUNCH_PATH}, so every run "
                                             "takes the slower fork path")
        except SandboxError as exc:
            ok, detail = False, str(exc)
        rows.append(("sandbox smoke run", ok, detail + ("" if ok else
                                                         ". Fix: `m1gym sandbox build-base --force`; see the dockerd log")))
    return rows


def cmd_doctor(args: argparse.Namespace) -> int:
    rows = doctor_report(smoke=not args.no_run)
    width = max(len(r[0]) for r in rows)
    for name, ok, detail in rows:
        print(f"{'OK  ' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    bad = sum(1 for r in rows if not r[1])
    print("all good" if not bad else f"{bad} problem(s); follow the Fix hints above")
    return 0 if not bad else 1


def cmd_prune(args: argparse.Namespace) -> int:
    from .base import SandboxError
    from .docker_client import connect, labelled_containers, leaked_containers
    from .image import stale_derived_images, stale_images

    try:
        client = connect(timeout=10)
    except SandboxError as exc:
        raise _user_error(str(exc)) from None
    victims = labelled_containers(client) if args.all else leaked_containers(client)
    n = 0
    for c in victims:
        try:
            c.remove(force=True)
            n += 1
        except Exception:  # noqa: BLE001 - already gone
            pass
    print(f"removed {n} labelled container(s)" + ("" if args.all else " left by dead processes"))
    if args.images:
        # images built on an old base image first (they name it in their label), newest first
        for tag in stale_derived_images(client) + stale_images(client):
            try:
                client.images.remove(tag)
                print(f"removed image {tag}")
            except Exception as exc:  # noqa: BLE001
                print(f"could not remove {tag}: {exc}")
    return 0


def add_commands(subparsers) -> None:
    sp = subparsers.add_parser("sandbox", help="the Docker sandbox: build the base image, diagnose, clean up")
    sub = sp.add_subparsers(dest="sandbox_command", metavar="SUBCOMMAND")
    p = sub.add_parser("build-base", help="debootstrap a Debian root filesystem and docker-import it (once per recipe)")
    p.add_argument("--mirror", help="Debian mirror (default: the one apt uses here, or $M1GYM_DEBIAN_MIRROR)")
    p.add_argument("--force", action="store_true", help="rebuild even when the tag exists")
    p.set_defaults(func=cmd_build_base)
    p = sub.add_parser("doctor", help="check the daemon, images and leaked containers; print fixes")
    p.add_argument("--no-run", action="store_true", help="skip the smoke run in a container")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("prune", help="remove labelled containers left by dead processes")
    p.add_argument("--all", action="store_true", help="remove every labelled container, even of live processes")
    p.add_argument("--images", action="store_true",
                   help="also remove base images of older recipes and the images built on them (labelled "
                        "m1gym.base); SWE images of an older SWE recipe: `m1gym swe prune`")
    p.set_defaults(func=cmd_prune)
