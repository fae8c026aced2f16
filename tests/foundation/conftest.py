import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import m1gym  # noqa: E402
from m1gym import registry  # noqa: E402
from toy_envs import AddEnv, BrokenEnv  # noqa: E402


@pytest.fixture
def toy_envs():
    """Registers the test doubles for one test and removes them afterwards."""
    m1gym.register("test/add", AddEnv)
    m1gym.register("test/broken", BrokenEnv)
    yield
    registry.unregister("test/add")
    registry.unregister("test/broken")
