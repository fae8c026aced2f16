import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sandbox():
    """A pooled DockerSandbox (skips without a daemon; fails under CI=true)."""
    from m1gym.sandbox.testing import require_docker

    sb = require_docker()
    yield sb
    sb.close()
