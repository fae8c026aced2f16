"""Where a task's repository comes from: the bundled sample or a local clone, at its base commit.

History: a bundled sample is committed once with a fixed identity and date, which reproduces its
``base_commit`` exactly (checked). A SWE-bench instance is fetched from a local clone with
``git fetch --depth 1 <clone> <base_commit>`` into an empty repository: HEAD is the original base
commit, the repository is shallow (no parents, no other refs, no tags, no remote), so neither
``git log`` nor ``git log --all`` nor the object store holds a commit past the base.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable

from .images import ImageError
from .instance import Instance, iter_tree, sample_repo_dir

#: the sample repositories are committed with this identity and date (scripts/make_swe_samples.py)
SAMPLE_GIT_ENV = {"GIT_AUTHOR_NAME": "m1gym", "GIT_AUTHOR_EMAIL": "samples@m1gym.invalid",
                  "GIT_COMMITTER_NAME": "m1gym", "GIT_COMMITTER_EMAIL": "samples@m1gym.invalid",
                  "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


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


def base_files(inst: Instance, repos_dir: str | None = None, paths: Iterable[str] | None = None) -> dict[str, str] | None:
    """Text of the repository's files at the base commit (all, or ``paths``), when the source is here:
    a bundled sample, or a clone under ``repos_dir``. None when it is not."""
    root = sample_repo_dir(inst)
    if root is not None:
        files = {str(p.relative_to(root)): p.read_text(encoding="utf-8", errors="replace") for p in iter_tree(root)}
        return files if paths is None else {k: v for k, v in files.items() if k in set(paths)}
    clone = find_clone(inst, repos_dir)
    if clone is None:
        return None
    return git_show_files(clone, inst.base_commit, paths)
