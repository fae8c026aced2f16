"""Limits and failures on a real server (token, 1.5 s item timeout, batch <= 64, body <= 64 KiB,
queue <= 8): 401 / 413 / 429, a hanging verifier, a worker that kills itself, a worker SIGKILLed
from outside mid-batch. After each, the server keeps serving."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from svc_envs import TOKEN
from svc_envs import Echo

from m1gym.service import Client, ServiceError

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _echo_items(n: int, start: int = 0) -> list[dict]:
    env = Echo()
    return [{"task": env.generate(start + i, 0).to_dict(), "response": env.reference(env.generate(start + i, 0))}
            for i in range(n)]


def _post(srv, items, headers=AUTH, **kw) -> httpx.Response:
    return httpx.post(f"{srv.url}/v1/score", json={"items": items}, headers=headers, timeout=60, **kw)


def _still_serving(srv) -> None:
    r = _post(srv, _echo_items(3, start=500))
    assert r.status_code == 200 and [s["reward"] for s in r.json()["scores"]] == [1.0, 1.0, 1.0]


def test_bearer_token(fault_server):
    items = _echo_items(1)
    r = _post(fault_server, items, headers={})
    assert r.status_code == 401 and "missing bearer token" in r.json()["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = _post(fault_server, items, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "wrong bearer token" in r.json()["message"]
    r = httpx.get(f"{fault_server.url}/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401
    assert httpx.get(f"{fault_server.url}/healthz").status_code == 200  # probes need no token
    with pytest.raises(ServiceError) as info:
        Client(fault_server.url, token="nope", backoff=0.001).score(items)
    assert info.value.status == 401
    assert Client(fault_server.url, token=TOKEN).score(items)[0].reward == 1.0
    _still_serving(fault_server)


def test_oversized_body_and_batch(fault_server):
    big = [{"env": "test/echo", "seed": 1, "response": "x" * 70_000}]
    r = _post(fault_server, big)
    assert r.status_code == 413 and "65536 bytes" in r.json()["message"]

    def chunks():  # no Content-Length: the cap is enforced while reading
        yield b'{"items": [{"env": "test/echo", "seed": 1, "response": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}]}'

    r = httpx.post(f"{fault_server.url}/v1/score", content=chunks(), headers=AUTH, timeout=60)
    assert r.status_code == 413 and "exceeds the limit" in r.json()["message"]
    r = _post(fault_server, [{"env": "test/echo", "seed": i, "response": "x"} for i in range(65)])
    assert r.status_code == 413 and "65 items" in r.json()["message"] and "--max-batch" in r.json()["message"]
    r = httpx.post(f"{fault_server.url}/v1/tasks", json={"env": "test/echo", "n": 100}, headers=AUTH)
    assert r.status_code == 413
    # a client with batch_size under the cap splits the same list and succeeds
    with Client(fault_server.url, token=TOKEN, batch_size=64) as client:
        assert len(client.score(_echo_items(70))) == 70
    _still_serving(fault_server)


def test_hanging_verifier_times_out_and_the_batch_returns(fault_server):
    restarts = fault_server.metric("m1gym_worker_restarts_total", AUTH, reason="timeout")
    items = _echo_items(6)
    items.insert(2, {"env": "test/hang", "seed": 1, "response": "HANG"})
    t0 = time.monotonic()
    r = _post(fault_server, items)
    assert r.status_code == 200
    scores = r.json()["scores"]
    assert time.monotonic() - t0 < 30
    assert scores[2]["error"] == "timeout" and scores[2]["reward"] == 0.0 and "timeout" in scores[2]["reason"]
    assert [s["reward"] for i, s in enumerate(scores) if i != 2] == [1.0] * 6
    assert fault_server.metric("m1gym_worker_restarts_total", AUTH, reason="timeout") == restarts + 1
    _still_serving(fault_server)


def test_worker_that_dies_on_an_item(fault_server):
    items = _echo_items(5)
    items.insert(1, {"env": "test/crash", "seed": 1, "response": "CRASH"})
    r = _post(fault_server, items)
    assert r.status_code == 200
    scores = r.json()["scores"]
    assert scores[1]["error"] == "worker_crashed" and "retry" in scores[1]["reason"]
    assert [s["reward"] for i, s in enumerate(scores) if i != 1] == [1.0] * 5
    _still_serving(fault_server)


def test_worker_sigkilled_mid_batch(fault_server):
    before = {w["pid"] for w in httpx.get(f"{fault_server.url}/healthz").json()["workers"]}
    crashes = fault_server.metric("m1gym_worker_restarts_total", AUTH, reason="crash")
    items = [{"env": "test/slow", "seed": i, "response": "0.4"} for i in range(8)]  # ~1.6 s on 2 workers
    killed: list[int] = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not killed:
            for w in httpx.get(f"{fault_server.url}/healthz").json()["workers"]:
                if w["busy"] and w["pid"]:
                    time.sleep(0.1)  # inside its item by now
                    os.kill(w["pid"], signal.SIGKILL)
                    killed.append(w["pid"])
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    r = _post(fault_server, items)
    killer.join()
    assert killed and killed[0] in before
    assert r.status_code == 200
    scores = r.json()["scores"]
    # the killed worker's item was retried once on a live worker; nothing lost, nothing failed
    assert [s["error"] for s in scores] == [None] * 8 and [s["reward"] for s in scores] == [1.0] * 8
    assert fault_server.metric("m1gym_worker_restarts_total", AUTH, reason="crash") == crashes + 1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the replacement comes up
        workers = httpx.get(f"{fault_server.url}/healthz").json()["workers"]
        if all(w["alive"] for w in workers) and killed[0] not in {w["pid"] for w in workers}:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"worker {killed[0]} was not replaced: {workers}")
    _still_serving(fault_server)


def test_full_queue_answers_429_with_retry_after(fault_server):
    slow = [{"env": "test/slow", "seed": i, "response": "0.5"} for i in range(8)]
    background = threading.Thread(target=_post, args=(fault_server, slow))
    background.start()
    try:
        deadline = time.monotonic() + 10
        while httpx.get(f"{fault_server.url}/healthz").json()["queue_depth"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        r = _post(fault_server, _echo_items(1))
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) >= 1 and "queue is full" in r.json()["message"]
    finally:
        background.join()
    _still_serving(fault_server)
    # the client waits out 429s by itself
    with Client(fault_server.url, token=TOKEN) as client:
        background = threading.Thread(target=_post, args=(fault_server, slow))
        background.start()
        time.sleep(0.2)
        assert [s.reward for s in client.score(_echo_items(2))] == [1.0, 1.0]
        background.join()


def test_pathological_math_answer_times_out_alone(fault_server):
    import m1gym

    if "math/arithmetic" not in {s.name for s in m1gym.list_envs()}:
        pytest.skip("math/arithmetic is not registered")
    env = m1gym.get_env("math/arithmetic")
    tasks = [env.generate(i, 0) for i in range(4)]
    items = [{"task": t.to_dict(), "response": env.reference(t)} for t in tasks]
    items.insert(2, {"task": tasks[0].to_dict(), "response": "<answer>9^{9^{9^{9}}}</answer>"})
    scores = _post(fault_server, items).json()["scores"]
    # math-verify would give up after ~4 s; the server's 1.5 s item timeout fires first
    assert scores[2]["error"] == "timeout" and scores[2]["reward"] == 0.0
    assert [s["reward"] for i, s in enumerate(scores) if i != 2] == [1.0] * 4
    assert [s["reward"] for s in _post(fault_server, items[:2]).json()["scores"]] == [1.0, 1.0]
    _still_serving(fault_server)
