"""Shared test configuration."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    # GPU tests skip cleanly on CPU machines (CI never has a GPU).
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:
        has_cuda = False
    if not has_cuda:
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def sandbox():
    """One pooled DockerSandbox for the whole run (skips without a daemon; fails under CI=true)."""
    from m1gym.sandbox.testing import require_docker

    sb = require_docker()
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def docker_client(sandbox):
    return sandbox._ensure()
