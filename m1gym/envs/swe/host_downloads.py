"""Host-side downloads for the SWE tools and environment layers, cached on disk.

Nothing is fetched inside a container (every build runs with ``network_mode=none``): the host
downloads the Debian packages with ``apt-get download`` (versions of the base image's suite, so they
match what debootstrap installed) and the wheels with ``pip download`` into a cache directory
(``$M1GYM_CACHE/swe`` or ``~/.cache/m1gym/swe``), and the build copies them in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from .images import TOOLS_DEBS, ImageError, Log, _h, _quiet, cache_dir


def _run_host(cmd: list[str], what: str, fix: str, cwd: str | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-600:]
        raise ImageError(f"{what} failed: {tail}\nFix: {fix}")
    return proc.stdout


def _host_codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return ""
    m = re.search(r"^VERSION_CODENAME=(\S+)", text, re.M)
    return m.group(1).strip('"') if m else ""


def fetch_debs(installed: set[str], suite: str, log: Log = _quiet) -> Path:
    """git, patch and their dependencies missing from the base image, as .deb files (cached).

    ``$M1GYM_SWE_DEBS`` names a directory of .deb files to use instead (a host that is not Debian).
    """
    override = os.environ.get("M1GYM_SWE_DEBS")
    if override:
        if not list(Path(override).glob("*.deb")):
            raise ImageError(f"$M1GYM_SWE_DEBS={override} holds no .deb files")
        return Path(override)
    key = _h(sorted(installed), suite, TOOLS_DEBS)
    out = cache_dir() / "debs" / key
    if (out / "COMPLETE").is_file():
        return out
    fix_host = (f"build on a Debian {suite} host (apt-get update first), or put the .deb files of "
                f"{', '.join(TOOLS_DEBS)} and their dependencies in a directory and set $M1GYM_SWE_DEBS")
    if not shutil.which("apt-get") or _host_codename() != suite:
        raise ImageError(f"the SWE tools layer needs Debian packages of {suite}; this host is "
                         f"{_host_codename() or 'not Debian'}. Fix: {fix_host}")
    text = _run_host(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                      "--no-breaks", "--no-replaces", "--no-enhances", *TOOLS_DEBS], "apt-cache depends", fix_host)
    closure = sorted({line.strip() for line in text.splitlines() if re.match(r"^[a-z0-9][a-z0-9+.-]*$", line.strip())})
    missing = [p for p in closure if p not in installed]
    specs = []
    for pkg in missing:
        madison = _run_host(["apt-cache", "madison", pkg], f"apt-cache madison {pkg}", fix_host)
        version = None
        for line in madison.splitlines():  # " perl | 5.36.0-7+deb12u3 | http://... bookworm/main amd64 Packages"
            cols = [c.strip() for c in line.split("|")]
            if len(cols) == 3 and re.search(rf"\s{re.escape(suite)}/main\s", " " + cols[2] + " "):
                version = cols[1]
                break
        specs.append(f"{pkg}={version}" if version else pkg)
    tmp = Path(tempfile.mkdtemp(prefix="debs-", dir=str(cache_dir())))
    log(f"      apt-get download {len(specs)} packages ({', '.join(missing)})")
    _run_host(["apt-get", "download", "-q", *specs], "apt-get download", f"run `apt-get update`; {fix_host}",
              cwd=str(tmp))
    return _publish(tmp, out, specs)


def _publish(tmp: Path, out: Path, contents: list[str]) -> Path:
    """Move a finished download folder into the cache at ``out``, marked COMPLETE with what it holds
    (a rename, so readers never see half a folder; when a concurrent build got there first, keep theirs)."""
    (tmp / "COMPLETE").write_text("\n".join(contents) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, out)
    return out


def fetch_wheels(requirements: Iterable[str], pyver: str, log: Log = _quiet) -> Path:
    """Wheels for ``requirements`` (and pip, to install them) for CPython ``pyver`` on Linux (cached)."""
    reqs = sorted(set(requirements) | {"pip"})
    key = _h(reqs, pyver)
    out = cache_dir() / "wheels" / key
    if (out / "COMPLETE").is_file():
        return out
    nodot = pyver.replace(".", "")
    tmp = Path(tempfile.mkdtemp(prefix="wheels-", dir=str(cache_dir())))
    log(f"      pip download {' '.join(reqs)} (CPython {pyver})")
    import sys

    _run_host([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--dest", str(tmp),
               "--only-binary=:all:", "--python-version", pyver, "--implementation", "cp",
               "--abi", f"cp{nodot}", "--abi", "abi3", "--abi", "none",
               "--platform", "manylinux_2_36_x86_64", "--platform", "linux_x86_64", "--platform", "any", *reqs],
              "pip download", "check the requirement names and that PyPI (or your pip index) is reachable from "
              "this host; every requirement needs a wheel (no source builds happen in the image)")
    return _publish(tmp, out, reqs)
