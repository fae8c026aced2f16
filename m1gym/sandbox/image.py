"""The base image: a Debian root filesystem made with debootstrap and ``docker import``-ed.

No image is ever pulled (no registry is reachable). ``m1gym sandbox build-base`` runs debootstrap
(variant minbase, plus python3 and g++) against the Debian mirror apt on this machine already uses,
adds the unprivileged ``runner`` user, precompiles ``bits/stdc++.h`` for the judge's C++ flags,
builds the init's static spawn helper (``launch.c``), strips docs and caches, and imports the
tree as ``m1gym-base:<recipe hash>``. The tag is a content hash of the recipe below (and of the
helper's source), so a machine builds it once, and a changed recipe gets a new tag.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable

from .docker_client import connect

IMAGE_REPO = "m1gym-base"
RECIPE_LABEL = "m1gym.recipe"
#: images built on a base image name its tag in this label, so that pruning old base images removes
#: the images built on them first (the sandbox prunes them knowing nothing of what they are)
DERIVED_LABEL = "m1gym.base"
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SANDBOX_UID = 10001
SANDBOX_USER = "runner"
#: the judge compiles C++ with exactly these flags; the precompiled header is built with them too
CXX_FLAGS = ("-std=c++17", "-O2", "-pipe")
#: and links with gold: a third of the compile time of a small program is the link, and gold does
#: it in ~14 ms against ~21 ms for the default ld.bfd (lld and mold start slower; measured here)
CXX_LINK_FLAGS = ("-fuse-ld=gold",)
LAUNCH_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "launch.c")
LAUNCH_PATH = "/usr/local/libexec/m1gym-launch"  # the init's fast spawn path (see container_init._spawn)


def cxx_command(source: str, output: str) -> list[str]:
    """The sandbox's C++ compile-and-link command for one source file."""
    return ["g++", *CXX_FLAGS, *CXX_LINK_FLAGS, "-o", output, source]


RECIPE = {
    "version": 2,
    "variant": "minbase",
    "packages": ["python3", "g++"],
    "user": {"name": SANDBOX_USER, "uid": SANDBOX_UID},
    "pch": {"header": "bits/stdc++.h", "flags": list(CXX_FLAGS)},
    "linker": "gold",
    "strip": ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt/archives",
              "var/lib/apt/lists"],
}


def suite() -> str:
    return os.environ.get("M1GYM_DEBIAN_SUITE", DEFAULT_SUITE)


def recipe() -> dict:
    with open(LAUNCH_SOURCE, "rb") as fh:
        launcher = hashlib.sha256(fh.read()).hexdigest()[:12]
    return {**RECIPE, "suite": suite(), "launcher": launcher}


def recipe_hash() -> str:
    return hashlib.sha256(json.dumps(recipe(), sort_keys=True).encode()).hexdigest()[:12]


def base_image_tag() -> str:
    """The tag of the base image for the current recipe (``M1GYM_SANDBOX_IMAGE`` overrides)."""
    return os.environ.get("M1GYM_SANDBOX_IMAGE") or f"{IMAGE_REPO}:{recipe_hash()}"


def find_mirror() -> str:
    """The Debian mirror apt uses here (deb822 .sources or one-line sources.list), else deb.debian.org."""
    env = os.environ.get("M1GYM_DEBIAN_MIRROR")
    if env:
        return env
    candidates: list[str] = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                continue
            suites = fields.get("suites", "").split()
            if any(s in (suite(), "stable") for s in suites):
                candidates += fields.get("uris", "").split()
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] in (suite(), "stable"):
                candidates.append(parts[1])
    for uri in candidates:
        if "security" not in uri and uri.startswith(("http://", "https://", "file:/")):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def image_exists(client, tag: str | None = None) -> bool:
    import docker.errors

    try:
        client.images.get(tag or base_image_tag())
        return True
    except docker.errors.ImageNotFound:
        return False


class BuildError(RuntimeError):
    pass


def _run(cmd: list[str], log: Callable[[str], None], *, prefix: str = "", progress: bool = False) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    tail: list[str] = []
    count = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-20:]
        if progress and line.startswith("I: "):
            count += 1
            step = line[3:]
            if not step.startswith(("Retrieving ", "Validating ", "Extracting ", "Unpacking ", "Configuring ")) \
                    or count % 25 == 0:
                log(f"{prefix}[{count:4d}] {step}")
    if proc.wait() != 0:
        raise BuildError(f"{' '.join(cmd[:3])} ... failed (status {proc.returncode}):\n" + "\n".join(tail))


def build_base(client=None, *, mirror: str | None = None, force: bool = False,
               log: Callable[[str], None] = print, cache_dir: str | None = None) -> str:
    """Build (or find) the base image and return its tag. Needs root, debootstrap and a mirror."""
    client = client or connect()
    tag = base_image_tag()
    if not force and image_exists(client, tag):
        log(f"base image {tag} already present; nothing to do (use --force to rebuild)")
        return tag
    if os.geteuid() != 0:
        raise BuildError("building the base image needs root (debootstrap and chroot); rerun as root or with sudo")
    if not shutil.which("debootstrap"):
        raise BuildError("debootstrap is not installed; run `apt-get install -y debootstrap` "
                         "(or `bash scripts/ensure_docker.sh`)")
    mirror = mirror or find_mirror()
    cache_dir = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "m1gym", "debootstrap")
    os.makedirs(cache_dir, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="m1gym-rootfs-", dir=os.environ.get("M1GYM_BUILD_DIR")) as tmp:
        root = os.path.join(tmp, "rootfs")
        log(f"[1/4] debootstrap {suite()} ({RECIPE['variant']} + {', '.join(RECIPE['packages'])}) from {mirror}")
        _run(["debootstrap", f"--variant={RECIPE['variant']}", f"--include={','.join(RECIPE['packages'])}",
              f"--cache-dir={cache_dir}", suite(), root, mirror], log, prefix="      ", progress=True)
        log(f"[2/4] configure: user {SANDBOX_USER} ({SANDBOX_UID}), precompiled bits/stdc++.h "
            f"({time.monotonic() - t0:.0f}s)")
        _configure(root, log)
        log(f"[3/4] strip docs and caches ({time.monotonic() - t0:.0f}s)")
        for rel in RECIPE["strip"]:
            path = os.path.join(root, rel)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
                os.makedirs(path, exist_ok=True)
        log(f"[4/4] docker import as {tag} ({time.monotonic() - t0:.0f}s)")
        tarball = os.path.join(tmp, "rootfs.tar")
        _run(["tar", "--numeric-owner", "-C", root, "-cf", tarball, "."], log)
        repo, _, version = tag.rpartition(":")
        changes = [f"LABEL {RECIPE_LABEL}={recipe_hash()}", "ENV LANG=C.UTF-8", "WORKDIR /work"]
        client.api.import_image_from_file(tarball, repository=repo, tag=version, changes=changes)
    if not image_exists(client, tag):
        raise BuildError(f"docker import finished but {tag} is not listed; see the daemon log")
    log(f"built {tag} in {time.monotonic() - t0:.0f}s")
    return tag


def _configure(root: str, log: Callable[[str], None]) -> None:
    with open(os.path.join(root, "etc/passwd"), "a") as fh:
        fh.write(f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}:m1gym sandbox:/work:/usr/sbin/nologin\n")
    with open(os.path.join(root, "etc/group"), "a") as fh:
        fh.write(f"{SANDBOX_USER}:x:{SANDBOX_UID}:\n")
    for d in ("work", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
        os.chmod(os.path.join(root, d), 0o1777)
    headers = sorted(glob.glob(os.path.join(root, "usr/include/*/c++/*/bits/stdc++.h")))
    if not headers:
        raise BuildError("bits/stdc++.h not found in the new root filesystem; did the g++ package install?")
    header = headers[-1][len(root):]
    gch = header + ".gch"
    _run(["chroot", root, "g++", *CXX_FLAGS, "-x", "c++-header", header, "-o", gch], log)
    if not os.path.exists(os.path.join(root, "usr/bin/ld.gold")):
        raise BuildError("ld.gold not found in the new root filesystem; the judge links with gold "
                         f"({' '.join(CXX_LINK_FLAGS)}): use a suite whose binutils ships it")
    # the init's spawn helper: static, so starting it loads no shared library
    os.makedirs(os.path.join(root, os.path.dirname(LAUNCH_PATH).lstrip("/")), exist_ok=True)
    shutil.copy(LAUNCH_SOURCE, os.path.join(root, "tmp/m1gym-launch.c"))
    _run(["chroot", root, "gcc", "-O2", "-static", "-o", LAUNCH_PATH, "/tmp/m1gym-launch.c"], log)
    os.unlink(os.path.join(root, "tmp/m1gym-launch.c"))


def stale_images(client) -> list[str]:
    """Tags of m1gym-base images built from an older recipe."""
    current = base_image_tag()
    out = []
    for img in client.images.list(name=IMAGE_REPO):
        for t in img.tags:
            if t != current:
                out.append(t)
    return sorted(out)


def stale_derived_images(client) -> list[str]:
    """Tags of images labelled ``DERIVED_LABEL`` with a base tag other than the current one,
    newest first (a child is always newer than its parent, so removing in this order goes
    children before parents)."""
    current = base_image_tag()
    images = [img for img in client.images.list(filters={"label": DERIVED_LABEL})
              if (img.labels or {}).get(DERIVED_LABEL) != current]
    images.sort(key=lambda img: _created(img.attrs.get("Created", "")), reverse=True)
    return [t for img in images for t in img.tags]


def _created(stamp: str) -> tuple[str, float]:
    # docker's RFC 3339 time trims trailing zeros of the nanoseconds: order them as numbers
    whole, _, frac = stamp.rstrip("Z").partition(".")
    return whole, float("0." + frac) if frac.isdigit() else 0.0


if __name__ == "__main__":  # pragma: no cover
    print(base_image_tag(), find_mirror(), file=sys.stderr)
