"""What SWE images are called and how they are labelled; the error and cache folder their modules share.

Three layers on the project's base image, each tagged by a content hash of its recipe (so a machine
builds each once, and a changed recipe gets a new tag; ``m1gym swe prune`` removes the old ones):

    m1gym-base:<h>                      the sandbox's debootstrap image (``m1gym sandbox build-base``)
    m1gym-swe-tools:<h>                 + git, patch (Debian packages) and pytest (wheels), ``python``
    m1gym-swe-env:<repo>-<version>-<h>  + the (repository, version)'s ``pip_packages``
    m1gym-swe:<instance>-<h>            + the repository at ``base_commit`` in /testbed, no later history

The rest, one job a module: ``repo_source`` (the repository at its base commit: git helpers, clones,
samples), ``host_downloads`` (.deb files and wheels fetched on the host), ``image_builder`` (the
builds, with no network) and ``image_prune`` (listing and removing stale images).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Callable

from .instance import Instance

RECIPE_VERSION = 1
TOOLS_REPO, ENV_REPO, INSTANCE_REPO = "m1gym-swe-tools", "m1gym-swe-env", "m1gym-swe"
LAYER_LABEL = "m1gym.swe.layer"  # tools | env | instance
RECIPE_LABEL = "m1gym.swe.recipe"
BASE_LABEL = "m1gym.swe.base"
PARENT_LABEL = "m1gym.swe.parent"
TOOLS_DEBS = ("git", "patch")
TOOLS_REQUIREMENTS = ("pytest>=7",)

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


def _labels(layer: str, parent: str, **extra: str) -> dict[str, str]:
    from ...sandbox.image import DERIVED_LABEL

    # DERIVED_LABEL lets `m1gym sandbox prune --images` remove these before an old base image
    return {LAYER_LABEL: layer, RECIPE_LABEL: str(RECIPE_VERSION), BASE_LABEL: base_tag(), PARENT_LABEL: parent,
            DERIVED_LABEL: base_tag(), **{f"m1gym.swe.{k}": v for k, v in extra.items()}}
