"""Building SWE images (tools, environment, instance layers) without network, each tag once.

A task whose instance names ``image`` uses that image as is (e.g. SWE-bench's own images); nothing
is built, and a missing image is an error naming the fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from .host_downloads import fetch_debs, fetch_wheels
from .images import (TOOLS_REQUIREMENTS, ImageError, Log, _labels, _quiet, _slug, base_tag, cache_dir, env_tag,
                     instance_tag, tools_tag)
from .instance import Instance
from .repo_source import prepare_repo

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _build_lock(tag: str):
    """One build of a tag at a time: across threads (a lock) and processes (a lock file)."""
    import fcntl

    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(tag, threading.Lock())
    with lock:
        d = cache_dir() / "locks"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / (_slug(tag, 200) + ".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _client():
    from ...sandbox.docker_client import connect

    return connect()


def image_exists(client, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def _docker_build(client, ctx: Path, tag: str, labels: dict[str, str], log: Log) -> None:
    """``docker build`` of ``ctx`` with no network; the log's tail in the error."""
    tail: list[str] = []
    try:
        label_line = "LABEL " + " ".join(f"{json.dumps(k)}={json.dumps(' '.join(v.split()))}"
                                         for k, v in sorted(labels.items()))
        with open(ctx / "Dockerfile", "a") as fh:
            fh.write(label_line + "\n")
        stream = client.api.build(path=str(ctx), tag=tag, rm=True, forcerm=True, network_mode="none",
                                  decode=True, pull=False)
        for chunk in stream:
            if "error" in chunk:
                raise ImageError(f"docker build of {tag} failed: {chunk['error'].strip()}\n" + "\n".join(tail[-15:]))
            text = chunk.get("stream", "")
            for line in text.splitlines():
                if line.strip():
                    tail.append(line.rstrip())
                    if line.startswith("Step "):
                        log(f"      {line.strip()[:120]}")
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - API errors become one message
        raise ImageError(f"docker build of {tag} failed: {type(exc).__name__}: {exc}") from None
    if not image_exists(client, tag):
        raise ImageError(f"docker build of {tag} finished but the image is missing:\n" + "\n".join(tail[-15:]))


class ImageBuilder:
    """Finds or builds the images of SWE instances. Thread-safe; builds each tag once."""

    def __init__(self, client=None, *, repos_dir: str | None = None, log: Log | None = None):
        self._client = client
        self.repos_dir = repos_dir
        self.log = log or _quiet
        self._probe: dict | None = None

    def __deepcopy__(self, memo: dict) -> "ImageBuilder":
        return self  # a shared service holding a daemon connection

    @property
    def client(self):
        if self._client is None:
            self._client = _client()
        return self._client

    # -- the base image, probed once ------------------------------------------------------------
    def probe_base(self) -> dict:
        """Python version and installed Debian packages of the base image (cached per base tag)."""
        if self._probe is not None:
            return self._probe
        base = base_tag()
        path = cache_dir() / "probe" / f"{_slug(base, 200)}.json"
        if path.is_file():
            self._probe = json.loads(path.read_text())
            return self._probe
        if not image_exists(self.client, base):
            raise ImageError(f"base image {base} is missing; build it with `m1gym sandbox build-base`")
        from ...sandbox import DockerSandbox, Limits

        with DockerSandbox(base, pool=False) as sb, sb.session(Limits(wall_s=60)) as s:
            r = s.run(["sh", "-c", "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'; "
                                   "dpkg-query -W -f '${Package}\\n'"])
        if not r.ok:
            raise ImageError(f"probing {base} failed: {r.summary()} {r.stderr[-300:]!r}")
        lines = r.stdout.decode().split()
        self._probe = {"python": lines[0], "packages": sorted(set(lines[1:])),
                       "suite": os.environ.get("M1GYM_DEBIAN_SUITE", "bookworm")}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self._probe))
        return self._probe

    # -- layers ---------------------------------------------------------------------------------
    def tools(self, force: bool = False) -> str:
        tag = tools_tag()
        if not force and image_exists(self.client, tag):
            return tag
        with _build_lock(tag):
            if not force and image_exists(self.client, tag):
                return tag
            base = base_tag()
            probe = self.probe_base()
            self.log(f"building {tag} (git, patch, pytest on {base})")
            debs = fetch_debs(set(probe["packages"]), probe["suite"], self.log)
            wheels = fetch_wheels(TOOLS_REQUIREMENTS, probe["python"], self.log)
            with tempfile.TemporaryDirectory(prefix="m1gym-swe-tools-") as tmp:
                ctx = Path(tmp)
                shutil.copytree(debs, ctx / "debs", ignore=shutil.ignore_patterns("COMPLETE"))
                shutil.copytree(wheels, ctx / "wheels", ignore=shutil.ignore_patterns("COMPLETE"))
                reqs = " ".join(f"'{r}'" for r in TOOLS_REQUIREMENTS)
                (ctx / "Dockerfile").write_text(
                    f"FROM {base}\n"
                    "COPY debs /tmp/m1gym-debs\n"
                    "COPY wheels /tmp/m1gym-wheels\n"
                    "RUN dpkg -i /tmp/m1gym-debs/*.deb > /dev/null \\\n"
                    " && ln -sf /usr/bin/python3 /usr/local/bin/python \\\n"
                    " && python3 $(ls /tmp/m1gym-wheels/pip-*.whl | head -1)/pip install -q --no-index "
                    "--find-links /tmp/m1gym-wheels --break-system-packages --root-user-action=ignore "
                    f"--disable-pip-version-check --no-cache-dir {reqs} \\\n"
                    " && rm -rf /tmp/m1gym-debs /tmp/m1gym-wheels /var/log/dpkg.log /var/cache/debconf/*-old \\\n"
                    " && git --version && patch --version | head -1 && python -m pytest --version\n")
                _docker_build(self.client, ctx, tag, _labels("tools", base), self.log)
            return tag

    def env(self, inst: Instance, force: bool = False) -> str:
        tag = env_tag(inst)
        if not force and image_exists(self.client, tag):
            return tag
        parent = self.tools()
        with _build_lock(tag):
            if not force and image_exists(self.client, tag):
                return tag
            self.log(f"building {tag} ({inst.repo} {inst.version}: "
                     f"{', '.join(inst.pip_packages) or 'no extra packages'})")
            with tempfile.TemporaryDirectory(prefix="m1gym-swe-env-") as tmp:
                ctx = Path(tmp)
                lines = [f"FROM {parent}"]
                if inst.pip_packages:
                    wheels = fetch_wheels(inst.pip_packages, self.probe_base()["python"], self.log)
                    shutil.copytree(wheels, ctx / "wheels", ignore=shutil.ignore_patterns("COMPLETE"))
                    reqs = " ".join("'" + r.replace("'", "") + "'" for r in inst.pip_packages)
                    lines += ["COPY wheels /tmp/m1gym-wheels",
                              "RUN python3 $(ls /tmp/m1gym-wheels/pip-*.whl | head -1)/pip install -q --no-index "
                              "--find-links /tmp/m1gym-wheels --break-system-packages --root-user-action=ignore "
                              f"--disable-pip-version-check --no-cache-dir {reqs} && rm -rf /tmp/m1gym-wheels"]
                (ctx / "Dockerfile").write_text("\n".join(lines) + "\n")
                _docker_build(self.client, ctx, tag,
                              _labels("env", parent, repo=inst.repo, version=inst.version), self.log)
            return tag

    def instance(self, inst: Instance, force: bool = False) -> str:
        tag = instance_tag(inst)
        if not force and image_exists(self.client, tag):
            return tag
        parent = self.env(inst)
        with _build_lock(tag):
            if not force and image_exists(self.client, tag):
                return tag
            self.log(f"building {tag} ({inst.repo} at {inst.base_commit[:12]})")
            with tempfile.TemporaryDirectory(prefix="m1gym-swe-inst-") as tmp:
                ctx = Path(tmp)
                prepare_repo(inst, ctx / "repo", self.repos_dir)
                public = {"instance_id": inst.instance_id, "repo": inst.repo, "version": inst.version,
                          "base_commit": inst.base_commit, "test_cmd": inst.test_cmd}
                (ctx / "instance.json").write_text(json.dumps(public, indent=2) + "\n")
                (ctx / "Dockerfile").write_text(
                    f"FROM {parent}\n"
                    f"COPY repo {inst.repo_dir}\n"
                    "COPY instance.json /etc/m1gym-swe-instance.json\n")
                _docker_build(self.client, ctx, tag,
                              _labels("instance", parent, instance_id=inst.instance_id, repo=inst.repo,
                                      base_commit=inst.base_commit, test_cmd=inst.test_cmd), self.log)
            return tag

    def ensure(self, inst: Instance, *, build: bool = True) -> str:
        """The image ``inst`` runs in, built when missing (``build=False``: error instead)."""
        if inst.image:
            if not image_exists(self.client, inst.image):
                raise ImageError(f"{inst.instance_id}: image {inst.image} (named by the task) is not present; "
                                 f"load it (`docker load` / `docker pull` where a registry is reachable) or "
                                 "remove the task's `image` field to build one from the repository")
            return inst.image
        tag = instance_tag(inst)
        if image_exists(self.client, tag):
            return tag
        if not build:
            raise ImageError(f"{inst.instance_id}: image {tag} is not built; run `m1gym swe build-images`")
        return self.instance(inst)


_SHARED: ImageBuilder | None = None
_SHARED_LOCK = threading.Lock()


def shared_builder() -> ImageBuilder:
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ImageBuilder()
        return _SHARED
