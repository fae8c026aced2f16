"""Test helpers for suites that need the real Docker daemon (used by tests/sandbox and tests/code).

``require_docker()`` returns a pooled ``DockerSandbox`` when the daemon answers and the base image
exists. Otherwise it skips the test, except under CI (``CI=true``), where a missing daemon or
image is a failure: CI is supposed to have run ``scripts/ensure_docker.sh`` and
``m1gym sandbox build-base``.
"""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_docker(**kwargs):
    import pytest

    from .base import SandboxUnavailable
    from .docker_sandbox import DockerSandbox

    sb = DockerSandbox(**kwargs)
    try:
        sb.check()
    except SandboxUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true but the sandbox is unavailable: {exc}", pytrace=False)
        pytest.skip(f"Docker sandbox unavailable: {exc}")
    return sb


def own_containers(client, include_pool: bool = True) -> list:
    """Labelled containers owned by this process. ``include_pool=False`` leaves out warm pool
    containers, which other session-scoped sandboxes of the same test run legitimately keep alive."""
    from .docker_client import KIND_LABEL, labelled_containers, owner_id

    found = labelled_containers(client, owner_id())
    return found if include_pool else [c for c in found if c.labels.get(KIND_LABEL) != "pool"]
