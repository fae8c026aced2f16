"""Fixtures for the SWE tests: the real Docker daemon (skip without one, fail under CI=true; the
sandbox engineer's ``require_docker``), the sample images built once per session, and a check that
this process leaves no labelled container behind."""

import pytest

from m1gym.envs.swe import Grader, samples
from m1gym.envs.swe.image_builder import ImageBuilder


@pytest.fixture(scope="session")
def docker_client():
    from m1gym.sandbox.testing import require_docker

    sb = require_docker(pool=False)
    client = sb._ensure()
    yield client
    sb.close()


@pytest.fixture(scope="session")
def builder(docker_client):
    return ImageBuilder(docker_client)


@pytest.fixture(scope="session")
def sample_images(builder):
    """{sample name: image tag}; built once (cached by content hash across sessions too)."""
    return {inst.sample: builder.ensure(inst) for inst in samples()}


@pytest.fixture(scope="session")
def grader(sample_images, builder):
    g = Grader(builder=builder, test_timeout=120)
    yield g
    g.close()


@pytest.fixture(scope="session")
def by_name():
    return {inst.sample: inst for inst in samples()}


@pytest.fixture(scope="session", autouse=True)
def no_leftover_containers():
    """After the session: no labelled container owned by this process is left."""
    yield
    try:
        from m1gym.sandbox.docker_client import connect
        from m1gym.sandbox.testing import own_containers

        client = connect(timeout=10)
    except Exception:  # noqa: BLE001 - no daemon: nothing can be left
        return
    import time

    deadline = time.monotonic() + 10
    # SWE envs use fresh containers only; warm pool containers belong to other suites' sandboxes
    while own_containers(client, include_pool=False) and time.monotonic() < deadline:
        time.sleep(0.2)  # auto-remove is asynchronous
    left = [c.name for c in own_containers(client, include_pool=False)]
    assert not left, f"containers left behind: {left}"
