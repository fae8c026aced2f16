"""Real `m1gym serve` processes on free loopback ports, shared by the service tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PLUGIN = str(HERE / "svc_plugin.py")
from svc_envs import TOKEN  # noqa: E402


class Server:
    def __init__(self, name: str, args: list[str]):
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"m1gym-{name}-", suffix=".log")[1])
        cmd = [sys.executable, "-m", "m1gym.cli", "serve", "--port", "0", "--import", PLUGIN, *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("M1GYM_TOKEN", None)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        self.url = ""

    def wait(self, timeout: float = 120.0) -> "Server":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"listening on (http://\S+)", self.log.read_text(errors="replace"))
            if m:
                self.url = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()  # (removes the log; its tail is in the failure message)
        pytest.fail(f"server {self.name} did not start:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.unlink(missing_ok=True)

    def metric(self, name: str, headers: dict | None = None, **labels: str) -> float:
        text = httpx.get(f"{self.url}/metrics", headers=headers or {}).text
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                key, _, value = line.rpartition(" ")
                lab = key[len(name):].strip("{}")
                if all(part in lab.split(",") for part in want.split(",") if part):
                    total += float(value)
        return total


@pytest.fixture(scope="session")
def _servers():
    # Both start at once (their workers import every env in parallel).
    main = Server("main", ["--workers", "2"])
    faults = Server("faults", ["--workers", "2", "--token", TOKEN, "--item-timeout", "1.5", "--max-batch", "64",
                               "--max-body-mb", "0.0625", "--max-queue", "8"])
    try:
        yield {"main": main.wait(), "faults": faults.wait()}
    finally:
        main.stop()
        faults.stop()


@pytest.fixture(scope="session")
def server(_servers) -> Server:
    """2 workers, no token, default limits."""
    return _servers["main"]


@pytest.fixture(scope="session")
def fault_server(_servers) -> Server:
    """token TOKEN, 1.5 s item timeout, batches <= 64, bodies <= 64 KiB, queue <= 8 items."""
    return _servers["faults"]


@pytest.fixture(scope="session")
def ray_server():
    # item timeout well above a cold math-checker start on a loaded 2-core machine (the hang test waits it out)
    srv = Server("ray", ["--workers", "2", "--ray", "auto", "--item-timeout", "15"])
    try:
        yield srv.wait(timeout=180)
    finally:
        srv.stop()
