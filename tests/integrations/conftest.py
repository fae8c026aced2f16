"""Fixtures of the trainer-integration tests (helpers in integ_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integ_helpers import Server, build_tokenizer  # noqa: E402


@pytest.fixture(scope="session")
def server():
    srv = Server(["--workers", "2"])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def _service_env(server, monkeypatch):
    """Adapters that read the address from the environment (OpenRLHF's file, SkyRL) find this server."""
    monkeypatch.setenv("M1GYM_SERVER", server.url)
    monkeypatch.delenv("M1GYM_TOKEN", raising=False)


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def swe_grader():
    """A SWE grader on the real Docker daemon with the bundled samples' images (skips without Docker,
    fails under CI=true)."""
    from m1gym.envs.swe import Grader, samples
    from m1gym.envs.swe.image_builder import ImageBuilder
    from m1gym.sandbox.testing import require_docker

    sb = require_docker(pool=False)
    builder = ImageBuilder(sb._ensure())
    for inst in samples():
        builder.ensure(inst)
    grader = Grader(builder=builder, test_timeout=120)
    yield grader
    grader.close()
    sb.close()
