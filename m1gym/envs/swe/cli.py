"""`m1gym swe build-images | images | prune`."""

from __future__ import annotations

import argparse
import time


def _user_error(msg: str) -> Exception:
    from ...errors import UserError

    return UserError(msg)


def _instances(args: argparse.Namespace):
    from ...core import TaskFormatError
    from .instance import load_instances, samples

    out = []
    try:
        for path in args.dataset or []:
            out += load_instances(path)
    except TaskFormatError as exc:
        raise _user_error(str(exc)) from None
    if args.samples or not args.dataset:
        out += samples()
    return out


def cmd_build_images(args: argparse.Namespace) -> int:
    from ...sandbox import SandboxError
    from .image_builder import ImageBuilder
    from .images import ImageError

    insts = _instances(args)
    builder = ImageBuilder(repos_dir=args.repos_dir, log=lambda s: print(s, flush=True))
    t0 = time.monotonic()
    failed = 0
    try:
        print(f"tools image: {builder.tools()}")
    except (ImageError, SandboxError) as exc:
        raise _user_error(str(exc).splitlines()[0] + (" (see above)" if "\n" in str(exc) else "")) from None
    for inst in insts:
        try:
            tag = builder.instance(inst, force=args.force) if not inst.image else builder.ensure(inst)
            print(f"ok    {inst.instance_id:<40} {tag}", flush=True)
        except (ImageError, SandboxError) as exc:
            failed += 1
            print(f"FAIL  {inst.instance_id:<40} {exc}", flush=True)
    print(f"{len(insts) - failed}/{len(insts)} instance images ready in {time.monotonic() - t0:.1f}s")
    return 0 if not failed else 1


def cmd_images(args: argparse.Namespace) -> int:
    from ...sandbox import SandboxError
    from ...sandbox.docker_client import connect
    from .image_prune import stale_parents, swe_images

    try:
        client = connect(timeout=10)
    except SandboxError as exc:
        raise _user_error(str(exc)) from None
    rows = swe_images(client)
    stale_parents(rows)
    for r in rows:
        print(f"{r['layer']:<8} {r['tag']:<70} {r['size_mb']:>8.1f} MB  {'STALE: ' + r['stale'] if r['stale'] else ''}")
    print(f"{len(rows)} SWE images, {sum(1 for r in rows if r['stale'])} stale")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from ...sandbox import SandboxError
    from ...sandbox.docker_client import connect
    from .image_prune import prune

    try:
        client = connect(timeout=10)
    except SandboxError as exc:
        raise _user_error(str(exc)) from None
    removed = prune(client, everything=args.all, dry_run=args.dry_run)
    print(f"{'would remove' if args.dry_run else 'removed'} {len(removed)} SWE image(s)")
    return 0


def add_commands(subparsers) -> None:
    sp = subparsers.add_parser("swe", help="SWE task images: build them, list them, prune stale ones")
    sub = sp.add_subparsers(dest="swe_command", metavar="SUBCOMMAND")
    p = sub.add_parser("build-images", help="build the tools, environment and instance images (cached by content hash)")
    p.add_argument("--dataset", action="append", metavar="FILE",
                   help="SWE-bench .json/.jsonl/.parquet file (repeatable); default: the bundled samples")
    p.add_argument("--samples", action="store_true", help="also build the bundled samples when --dataset is given")
    p.add_argument("--repos-dir", help="directory of local clones (owner__name) for dataset instances "
                                       "(default $M1GYM_SWE_REPOS)")
    p.add_argument("--force", action="store_true", help="rebuild the instance images even when their tags exist")
    p.set_defaults(func=cmd_build_images)
    p = sub.add_parser("images", help="list SWE images and which are stale")
    p.set_defaults(func=cmd_images)
    p = sub.add_parser("prune", help="remove stale SWE images (older recipe, old base image, parent gone)")
    p.add_argument("--all", action="store_true", help="remove every SWE image, not only stale ones")
    p.add_argument("--dry-run", action="store_true", help="print what would be removed")
    p.set_defaults(func=cmd_prune)
