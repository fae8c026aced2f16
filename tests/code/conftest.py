import pytest

from m1gym.sandbox.testing import require_docker


@pytest.fixture(scope="session")
def sandbox():
    """A pooled DockerSandbox (skips without a daemon; fails under CI=true)."""
    sb = require_docker()
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def docker_client(sandbox):
    return sandbox._ensure()
