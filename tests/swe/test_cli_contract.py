"""`m1gym envs check` on the SWE envs, the `m1gym swe` commands, pruning, cleanup at interpreter exit."""

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from m1gym.checker import check_envs
from m1gym.cli import main
from m1gym.envs.swe.image_builder import _docker_build
from m1gym.envs.swe.image_prune import prune, swe_images
from m1gym.envs.swe.images import LAYER_LABEL, RECIPE_LABEL, _labels, tools_tag

pytestmark = pytest.mark.docker


def test_envs_check_passes(sample_images):
    report = check_envs(["swe/bugfix", "swe/localize", "swe/testgen"], samples=2, quick=True)
    assert report.ok, report.text()


def test_cli_build_images_and_list(sample_images, capsys):
    assert main(["swe", "build-images"]) == 0  # cached: every tag exists
    out = capsys.readouterr().out
    assert f"tools image: {tools_tag()}" in out and "6/6 instance images ready" in out
    assert main(["swe", "images"]) == 0
    assert "SWE images" in capsys.readouterr().out
    assert main(["swe", "build-images", "--dataset", "/nonexistent.jsonl"]) == 2


def test_prune_removes_only_stale_images(sample_images, docker_client):
    tag = "m1gym-swe-env:prune-test-stale"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Dockerfile").write_text(f"FROM {tools_tag()}\n")
        labels = {**_labels("env", tools_tag(), repo="x/y", version="0"), RECIPE_LABEL: "0"}
        _docker_build(docker_client, Path(tmp), tag, labels, lambda s: None)
    try:
        rows = {r["tag"]: r for r in swe_images(docker_client)}
        assert rows[tag]["stale"].startswith("recipe 0") and rows[tag]["layer"] == "env"
        assert not rows[tools_tag()]["stale"]
        assert tag in prune(docker_client, dry_run=True, log=lambda s: None)
        removed = prune(docker_client, log=lambda s: None)
        assert tag in removed and not set(removed) & set(sample_images.values())
        left = {t for img in docker_client.images.list(filters={"label": LAYER_LABEL}) for t in img.tags}
        assert tag not in left and set(sample_images.values()) <= left
    finally:
        try:
            docker_client.images.remove(tag)
        except Exception:  # noqa: BLE001 - already pruned
            pass


def test_agent_container_goes_away_when_the_process_dies(sample_images, docker_client):
    """An episode left open by a process that dies without any clean-up (os._exit) leaves nothing."""
    code = textwrap.dedent("""
        import os, sys
        from m1gym.envs.swe import SWEAgentEnv, samples
        env = SWEAgentEnv([s for s in samples() if s.sample == "textkit"])
        env.reset(seed=0)
        print(env.ws.session.container.name, flush=True)
        os._exit(0)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    name = proc.stdout.strip()
    assert proc.returncode == 0 and name.startswith("m1gym-"), proc.stderr[-500:]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and docker_client.containers.list(all=True, filters={"name": name}):
        time.sleep(0.2)
    assert not docker_client.containers.list(all=True, filters={"name": name})
