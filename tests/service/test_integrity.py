"""Issue 15 on a real server: items that fail before reaching a worker are counted in
m1gym_items_total, and a sandbox item ends with its item (a client's long time limit is capped by
the server's per-item timeout; no container keeps running for it)."""

from __future__ import annotations

import time

import httpx
import pytest
from svc_envs import TOKEN

from m1gym.envs.code import Problem

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _post(srv, items, headers=None, path="/v1/score"):
    return httpx.post(f"{srv.url}{path}", json={"items": items}, headers=headers or {}, timeout=120)


@pytest.mark.parametrize("item, code, env", [
    ({"env": "no/such-env", "seed": 1, "response": "x"}, "unknown_env", "unknown"),
    ({"task_id": "never-handed-out", "response": "x"}, "unknown_task", "unknown"),
    ({"task": {"id": "t", "prompt": "p", "answer": "a"}, "response": "x"}, "invalid_task", "unknown"),
    ({"env": "logic/sudoku", "seed": 1, "level": 99, "response": "x"}, "generation_failed", "logic/sudoku"),
])
def test_items_failed_by_the_server_are_counted(server, item, code, env):
    before = server.metric("m1gym_items_total", env=env, outcome=code)
    r = _post(server, [item, item])
    assert r.status_code == 200 and [s["error"] for s in r.json()["scores"]] == [code, code]
    assert server.metric("m1gym_items_total", env=env, outcome=code) == before + 2


def test_bad_openrlhf_labels_are_counted(server):
    before = server.metric("m1gym_items_total", env="unknown", outcome="invalid_task")
    r = httpx.post(f"{server.url}/get_reward", json={"query": ["q"], "labels": [{"no": "env"}]}, timeout=60)
    assert r.status_code == 200 and r.json()["rewards"] == [0.0]
    assert server.metric("m1gym_items_total", env="unknown", outcome="invalid_task") == before + 1


def test_a_client_label_never_becomes_a_metric_label(server):
    _post(server, [{"env": "evil\nlabel" * 50, "seed": 1, "response": "x"}])
    assert "evil" not in httpx.get(f"{server.url}/metrics").text


def _code_task(time_limit_s: float, tests: int) -> dict:
    problem = Problem(id="t/long-limit", statement="print a+b", time_limit_s=time_limit_s,
                      tests=[{"input": f"{i} 1\n", "output": f"{i + 1}\n"} for i in range(tests)])
    answer = problem.to_dict()
    answer.pop("statement")
    return {"id": "code/m1gym:long-limit", "env": "code/m1gym", "prompt": "print a+b", "answer": answer,
            "meta": {"level": 0}}


@pytest.mark.docker
def test_a_long_client_time_limit_ends_with_the_item(fault_server):
    """60 s a test x 30 tests asked by the client; the server's item timeout (1.5 s) wins: the
    item gets reward 0 and no container of the server's workers runs the program afterwards."""
    from m1gym.sandbox.docker_client import labelled_containers
    from m1gym.sandbox.testing import require_docker

    client = require_docker()._ensure()
    pids = {w["pid"] for w in httpx.get(f"{fault_server.url}/healthz").json()["workers"]}
    response = "<answer>\n```python\nimport time\ntime.sleep(1000)\n```\n</answer>"
    r = _post(fault_server, [{"task": _code_task(60.0, 30), "response": response}], AUTH)
    assert r.status_code == 200
    score = r.json()["scores"][0]
    assert score["reward"] == 0.0 and (score["error"] == "timeout" or "TLE" in score["reason"]), score

    def busy():
        """Containers of the server's workers (old or new) that run anything but their agent."""
        out = []
        owners = {f"{w}" for w in pids} | {str(w["pid"]) for w in
                                            httpx.get(f"{fault_server.url}/healthz").json()["workers"]}
        for c in labelled_containers(client):
            if c.labels.get("m1gym.owner", "").rpartition(":")[2] not in owners or c.status != "running":
                continue
            try:
                procs = client.api.top(c.id)["Processes"] or []
            except Exception:  # noqa: BLE001 - removed meanwhile
                continue
            if len(procs) > 1:  # an idle container holds its agent only
                out.append(c.name)
        return out

    give_up = time.monotonic() + 15  # far below the 1800 s the client asked for
    while busy() and time.monotonic() < give_up:
        time.sleep(0.3)
    assert busy() == []
