"""`m1gym serve --ray auto` (a real local Ray instance, 2 CPUs, no dashboard) gives the same scores
as the process pool, and pins a hanging verifier and an actor-killing verifier on their items."""

from __future__ import annotations

import httpx
import pytest
from svc_envs import mixed_items, verdict

from m1gym.service import Client

pytestmark = pytest.mark.ray


def test_ray_scores_equal_process_pool_scores(ray_server, server):
    pairs = mixed_items(per_env=4, echo=30)
    items = [{"task": t.to_dict(), "response": r} for t, r in pairs]
    items.insert(7, {"env": "test/hang", "seed": 1, "response": "HANG"})
    items.insert(20, {"env": "test/crash", "seed": 1, "response": "CRASH"})
    with Client(ray_server.url, batch_size=128) as ray_client, Client(server.url, batch_size=128) as pool_client:
        health = ray_client.health()
        assert health["backend"] == "ray" and len(health["workers"]) == 2
        by_ray = ray_client.score_raw(items)
        by_pool = pool_client.score_raw([it for i, it in enumerate(items) if i not in (7, 20)])
    assert by_ray[7]["error"] == "timeout" and by_ray[7]["reward"] == 0.0, by_ray[7]
    assert by_ray[20]["error"] == "worker_crashed" and by_ray[20]["reward"] == 0.0, by_ray[20]  # killed 2 actors
    del by_ray[20], by_ray[7]
    assert [r["error"] for r in by_ray] == [None] * len(pairs), [r for r in by_ray if r["error"]][:3]
    diff = [(a, b) for a, b in zip(by_ray, by_pool) if verdict(a) != verdict(b)]
    assert not diff, diff[:3]
    assert {r["reward"] for r in by_ray} >= {0.0, 1.0}
    # the actor that hung was replaced and the service keeps scoring
    r = httpx.post(f"{ray_server.url}/v1/score", json={"items": items[:5]}, timeout=60)
    assert r.status_code == 200 and [verdict(x) for x in r.json()["scores"]] == [verdict(x) for x in by_pool[:5]]
