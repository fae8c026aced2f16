"""Docker images for SWE tasks, layered on the project's base image, built without network.

Three layers, each tagged by a content hash of its recipe (so a machine builds each once, and a
changed recipe gets a new tag; ``m1gym swe prune`` removes the old ones):

    m1gym-base:<h>                      the sandbox's debootstrap image (``m1gym sandbox build-base``)
    m1gym-swe-tools:<h>                 + git, patch (Debian packages) and pytest (wheels), ``python``
    m1gym-swe-env:<repo>-<version>-<h>  + the (repository, version)'s ``pip_packages``
    m1gym-swe:<instance>-<h>            + the repository at ``base_commit`` in /testbed, no later history

Nothing is fetched inside a container (every build runs with ``network_mode=none``): the host
downloads the Debian packages with ``apt-get download`` (versions of the base image's suite, so they
match what debootstrap installed) and the wheels with ``pip download`` into a cache directory
(``$M1GYM_CACHE/swe`` or ``~/.cache/m1gym/swe``), and the build copies them in.

History: a bundled sample is committed once with a fixed identity and date, which reproduces its
``base_commit`` exactly (checked). A SWE-bench instance is fetched from a local clone with
``git fetch --depth 1 <clone> <base_commit>`` into an empty repository: HEAD is the original base
commit, the repository is shallow (no parents, no other refs, no tags, no remote), so neither
``git log`` nor ``git log --all`` nor the object store holds a commit past the base.

A task whose instance names ``image`` uses that image as is (e.g. SWE-bench's own images); nothing
is built, and a missing image is an error naming the fix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from .instance import Instance, iter_tree, sample_repo_dir

RECIPE_VERSION = 1
TOOLS_REPO, ENV_REPO, INSTANCE_REPO = "m1gym-swe-tools", "m1gym-swe-env", "m1gym-swe"
LAYER_LABEL = "m1gym.swe.layer"  # tools | env | instance
RECIPE_LABEL = "m1gym.swe.recipe"
BASE_LABEL = "m1gym.swe.base"
PARENT_LABEL = "m1gym.swe.parent"
TOOLS_DEBS = ("git", "patch")
TOOLS_REQUIREMENTS = ("pytest>=7",)
#: the sample repositories are committed with this identity and date (scripts/make_swe_samples.py)
SAMPLE_GIT_ENV = {"GIT_AUTHOR_NAME": "m1gym", "GIT_AUTHOR_EMAIL": "samples@m1gym.invalid",
                  "GIT_COMMITTER_NAME": "m1gym", "GIT_COMMITTER_EMAIL": "samples@m1gym.invalid",
                  "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}

Log = Callable[[str], None]


class ImageError(RuntimeError):
    """An image could not be found or built; the message names the fix."""


def _quiet(_: str) -> None:
    pass


def cache_dir() -> Path:
    root = os.environ.get("M1GYM_CACHE") or str(Path.home() / ".cache" / "m1gym")
    return Path(root) / "swe"


def _h(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _slug(text: str, limit: int = 60) -> str:
    s = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-.") or "x"
    return s[:limit].rstrip("-.")


def base_tag() -> str:
    from ...sandbox import base_image_tag

    return base_image_tag()


def tools_tag() -> str:
    return f"{TOOLS_REPO}:{_h(RECIPE_VERSION, base_tag(), TOOLS_DEBS, TOOLS_REQUIREMENTS)}"


def env_tag(inst: Instance) -> str:
    h = _h(RECIPE_VERSION, tools_tag(), inst.repo, inst.version, sorted(inst.pip_packages))
    return f"{ENV_REPO}:{_slug(inst.repo)}-{_slug(inst.version or 'any', 20)}-{h}"


def instance_tag(inst: Instance) -> str:
    h = _h(RECIPE_VERSION, env_tag(inst), inst.instance_id, inst.repo, inst.base_commit, inst.repo_dir)
    return f"{INSTANCE_REPO}:{_slug(inst.instance_id, 90)}-{h}"


def image_for(inst: Instance) -> str:
    """The image a task runs in: its own ``image`` field, else its instance image tag."""
    return inst.image or instance_tag(inst)


# ---- host-side helpers: git, apt, pip -----------------------------------------------------------

def _git_env(extra: dict | None = None) -> dict:
    # the user's config (signing, hooks, autocrlf) must not change the commit we make
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}
    env.update(extra or {})
    return env


def _git(cwd: str | Path, *args: str, extra_env: dict | None = None) -> str:
    if not shutil.which("git"):
        raise ImageError("git is not installed on this host; install it (apt-get install -y git) to build SWE images")
    proc = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, env=_git_env(extra_env))
    if proc.returncode != 0:
        raise ImageError(f"git {' '.join(args[:3])} failed in {cwd}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def find_clone(inst: Instance, repos_dir: str | None = None) -> Path | None:
    """A local clone of ``inst.repo`` under ``repos_dir`` (or $M1GYM_SWE_REPOS): ``owner__name``,
    ``owner/name`` or ``name``."""
    root = repos_dir or os.environ.get("M1GYM_SWE_REPOS")
    if not root:
        return None
    owner, _, name = inst.repo.rpartition("/")
    for cand in (f"{owner}__{name}", f"{owner}/{name}", name, f"{name}.git"):
        p = Path(root) / cand
        if (p / ".git").exists() or (p / "HEAD").is_file():
            return p
    return None


def git_show_files(clone: Path, commit: str, paths: Iterable[str] | None) -> dict[str, str] | None:
    if paths is None:
        return None
    out = {}
    for path in paths:
        proc = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=str(clone), capture_output=True,
                              env=_git_env())
        if proc.returncode == 0:
            out[path] = proc.stdout.decode("utf-8", errors="replace")
    return out


def git_ls_files(clone: Path, commit: str) -> list[str]:
    return _git(clone, "ls-tree", "-r", "--name-only", commit).splitlines()


def prepare_repo(inst: Instance, dest: Path, repos_dir: str | None = None) -> None:
    """Write the repository at ``base_commit`` with no later history into ``dest`` (see module doc)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = sample_repo_dir(inst)
    if root is not None:
        for p in iter_tree(root):
            target = dest / p.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
        _git(dest, "init", "-q")
        _git(dest, "add", "-A")
        _git(dest, "commit", "-q", "--no-verify", "-m", "base", extra_env=SAMPLE_GIT_ENV)
    else:
        clone = find_clone(inst, repos_dir)
        if clone is None:
            raise ImageError(
                f"no source for repository {inst.repo}: clone it to <repos_dir>/{inst.repo.replace('/', '__')} "
                f"(git clone https://github.com/{inst.repo}) and pass --repos-dir / set $M1GYM_SWE_REPOS, "
                "or set the instance's `image` field to an existing image")
        _git(dest, "init", "-q")
        upload = "git -c uploadpack.allowAnySHA1InWant=true upload-pack"
        _git(dest, "-c", "protocol.file.allow=always", "fetch", "-q", "--depth", "1", "--no-tags",
             f"--upload-pack={upload}", f"file://{clone.resolve()}", inst.base_commit)
        _git(dest, "-c", "advice.detachedHead=false", "checkout", "-q", "-B", "main", "FETCH_HEAD")
        with contextlib.suppress(OSError):
            (dest / ".git" / "FETCH_HEAD").unlink()
    head = _git(dest, "rev-parse", "HEAD").strip()
    if head != inst.base_commit:
        hint = ("regenerate the samples with `python scripts/make_swe_samples.py`" if inst.sample
                else "check the instance's base_commit")
        raise ImageError(f"{inst.instance_id}: the prepared repository is at {head[:12]}, not base_commit "
                         f"{inst.base_commit[:12]}; {hint}")
    shutil.rmtree(dest / ".git" / "hooks", ignore_errors=True)


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


# ---- building --------------------------------------------------------------------------------

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
    from ...sandbox.docker_sandbox import connect

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


def _labels(layer: str, parent: str, **extra: str) -> dict[str, str]:
    return {LAYER_LABEL: layer, RECIPE_LABEL: str(RECIPE_VERSION), BASE_LABEL: base_tag(), PARENT_LABEL: parent,
            **{f"m1gym.swe.{k}": v for k, v in extra.items()}}


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


# ---- listing and pruning ---------------------------------------------------------------------

def swe_images(client) -> list[dict]:
    """Every SWE image here: tag, layer, parent, whether it is stale and why."""
    rows = []
    images = client.images.list(filters={"label": LAYER_LABEL})
    tags_here = {t for img in images for t in img.tags} | {t for img in client.images.list() for t in img.tags}
    current_base = base_tag()
    for img in images:
        labels = img.labels or {}
        for tag in img.tags or [img.short_id]:
            why = ""
            if labels.get(RECIPE_LABEL) != str(RECIPE_VERSION):
                why = f"recipe {labels.get(RECIPE_LABEL)} (now {RECIPE_VERSION})"
            elif labels.get(BASE_LABEL) != current_base:
                why = f"built on {labels.get(BASE_LABEL)} (now {current_base})"
            elif labels.get(LAYER_LABEL) == "tools" and tag != tools_tag():
                why = f"old tools recipe (now {tools_tag()})"
            elif labels.get(PARENT_LABEL) and labels.get(PARENT_LABEL) not in tags_here:
                why = f"its parent {labels.get(PARENT_LABEL)} is gone"
            rows.append({"tag": tag, "layer": labels.get(LAYER_LABEL, "?"), "parent": labels.get(PARENT_LABEL, ""),
                         "size_mb": round((img.attrs.get("Size") or 0) / 1e6, 1), "stale": why})
    order = {"instance": 0, "env": 1, "tools": 2}
    return sorted(rows, key=lambda r: (order.get(r["layer"], 3), r["tag"]))


def stale_parents(rows: list[dict]) -> None:
    """Mark images whose parent is stale as stale too (in place)."""
    changed = True
    while changed:
        changed = False
        stale = {r["tag"] for r in rows if r["stale"]}
        for r in rows:
            if not r["stale"] and r["parent"] in stale:
                r["stale"] = f"its parent {r['parent']} is stale"
                changed = True


def prune(client=None, *, everything: bool = False, dry_run: bool = False, log: Log = print) -> list[str]:
    """Remove stale SWE images (``everything``: all SWE images), children before parents."""
    client = client or _client()
    rows = swe_images(client)
    stale_parents(rows)
    victims = [r for r in rows if everything or r["stale"]]
    removed = []
    for r in victims:  # rows are sorted instance -> env -> tools
        if dry_run:
            log(f"would remove {r['tag']} ({r['stale'] or 'all'})")
            removed.append(r["tag"])
            continue
        try:
            client.images.remove(r["tag"])
            removed.append(r["tag"])
            log(f"removed {r['tag']} ({r['stale'] or 'all'})")
        except Exception as exc:  # noqa: BLE001 - in use by a container, already gone
            log(f"could not remove {r['tag']}: {exc}")
    return removed
