"""The API of a real `m1gym serve` over loopback: catalogue, tasks, scoring == in-process, bad
requests, OpenRLHF /get_reward, the Python client and the trainer adapters."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest
import svc_envs
from svc_envs import Echo, in_process_env, mixed_items, verdict

import m1gym
from m1gym.service import AsyncClient, Client, ServiceError
from m1gym.service import adapters
from m1gym.service.labels import LabelError


def test_catalogue_and_openapi(server):
    envs = httpx.get(f"{server.url}/v1/envs").json()["envs"]
    names = {e["name"] for e in envs}
    # every built-in env is served (test doubles other suites registered in this process are not)
    builtin = {s.name for s in m1gym.list_envs() if s.factory.__module__.startswith("m1gym.")}
    assert builtin <= names
    assert set(svc_envs.TEST_ENVS) <= names  # and the --import'ed ones
    one = httpx.get(f"{server.url}/v1/envs/test/echo").json()
    assert one["name"] == "test/echo" and one["levels"] == [0, 1, 2] and one["procedural"] is True
    missing = httpx.get(f"{server.url}/v1/envs/test/ecko")
    assert missing.status_code == 404
    assert "test/ecko" in missing.json()["message"] and "test/echo" in missing.json()["message"]
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert {"/v1/envs", "/v1/tasks", "/v1/score", "/get_reward", "/healthz"} <= set(schema["paths"])
    assert {"ScoreRequest", "ScoreItem", "ScoreResult", "TasksRequest"} <= set(schema["components"]["schemas"])
    # /v1/score parses its body by hand (the fast path) but still publishes ScoreRequest
    body_schema = schema["paths"]["/v1/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ScoreRequest"}
    assert schema["components"]["schemas"]["ScoreRequest"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/ScoreItem"}
    assert "response" in schema["components"]["schemas"]["ScoreItem"]["required"]
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["backend"] == "process" and len(health["workers"]) == 2
    httpx.post(f"{server.url}/v1/score", json={"items": [{"env": "test/echo", "seed": 1, "response": "x"}]})
    metrics = httpx.get(f"{server.url}/metrics").text
    for needle in ('m1gym_requests_total{endpoint="/v1/score",status="200"}',
                   'm1gym_item_latency_seconds_bucket{env="test/echo",le="0.01"}',
                   'm1gym_items_total{env="test/echo",outcome="ok"}', "m1gym_queue_depth 0.0",
                   'm1gym_worker_restarts_total{reason="crash"}', "m1gym_workers_alive 2.0"):
        assert needle in metrics, needle


def test_tasks_are_the_in_process_tasks(server):
    with Client(server.url) as client:
        got = client.tasks("test/echo", n=3, seed=5, level=1)
        assert [t.to_dict() for t in got] == [Echo().generate(5 + i, 1).to_dict() for i in range(3)]
        logic = [s.name for s in m1gym.list_envs() if s.name.startswith("logic/") and s.procedural][:3]
        for name in logic:
            env = m1gym.get_env(name)
            assert [t.to_dict() for t in client.tasks(name, n=2, seed=7)] == \
                   [json.loads(env.generate(7 + i, None).to_json()) for i in range(2)]
        # tasks handed out by /v1/tasks can be scored by id alone
        raw = client.score_raw([{"task_id": got[0].id, "response": Echo().reference(got[0])},
                                {"task_id": got[1].id, "response": "<answer>x</answer>"},
                                {"task_id": "test/echo:never-issued", "response": "x"}])
        assert [(r["reward"], r["error"], r["task_id"]) for r in raw] == [
            (1.0, None, got[0].id), (0.0, None, got[1].id), (0.0, "unknown_task", "test/echo:never-issued")]
        assert "task cache" in raw[2]["reason"]
    r = httpx.post(f"{server.url}/v1/tasks", json={"env": "test/nope", "n": 1})
    assert r.status_code == 404 and "test/nope" in r.json()["message"]
    r = httpx.post(f"{server.url}/v1/tasks", json={"env": "test/echo", "n": 1, "level": 9})
    assert r.status_code == 422 and "level" in r.json()["message"] and "[0, 1, 2]" in r.json()["message"]
    r = httpx.post(f"{server.url}/v1/tasks", json={"env": "test/echo", "n": 0})
    assert r.status_code == 422 and r.json()["fields"] == ["n"]
    dataset_envs = [s.name for s in m1gym.list_envs() if not s.procedural]
    if dataset_envs:
        r = httpx.post(f"{server.url}/v1/tasks", json={"env": dataset_envs[0], "n": 1})
        assert r.status_code == 422 and "not procedural" in r.json()["message"]


def test_http_scores_equal_in_process_scores(server):
    pairs = mixed_items()
    assert len(pairs) >= 200
    expected = [verdict(in_process_env(t.env).score(t, r).to_dict()) for t, r in pairs]
    with Client(server.url, batch_size=64) as client:  # several requests, results stitched in order
        raw = client.score_raw([{"task": t, "response": r} for t, r in pairs])
    assert [x["error"] for x in raw] == [None] * len(pairs)
    assert [x["task_id"] for x in raw] == [t.id for t, _ in pairs]
    mismatches = [(pairs[i][0].env, expected[i], verdict(raw[i])) for i in range(len(pairs))
                  if verdict(raw[i]) != expected[i]]
    assert not mismatches, mismatches[:3]
    assert {e[0] for e in expected} >= {0.0, 1.0}  # the mix holds right and wrong answers
    # the {env, seed, level} form regenerates the same task on the server
    names = sorted({t.env for t, _ in pairs})
    by_ref = []
    for i, name in enumerate(names * 2):
        env = in_process_env(name)
        level = sorted(env.levels)[0] if env.levels else None
        task = env.generate(i, level)
        by_ref.append({"env": name, "seed": i, "level": level, "response": env.reference(task) if i % 2 else "0"})
    with Client(server.url) as client:
        raw2 = client.score_raw(by_ref)
    for item, res in zip(by_ref, raw2):
        env = in_process_env(item["env"])
        task = env.generate(item["seed"], item["level"])
        assert res["task_id"] == task.id
        assert verdict(res) == verdict(env.score(task, item["response"]).to_dict())


def test_bad_requests_get_clear_errors_and_the_server_keeps_answering(server):
    url = f"{server.url}/v1/score"
    ok_item = {"env": "test/echo", "seed": 1, "level": 0, "response": "x"}
    cases = [
        (httpx.post(url, content=b'{"items": [{"response": '), 400, "malformed JSON", []),
        (httpx.post(url, json={"items": [{"env": "test/echo", "seed": 1}]}), 422, "response", ["items.0.response"]),
        (httpx.post(url, json={"itemz": []}), 422, "items", ["items"]),
        (httpx.post(url, json={"items": [{**ok_item, "respnse": "y"}]}), 422, "respnse", ["items.0.respnse"]),
        (httpx.post(url, json={"items": [{"response": "x"}]}), 422, "'task'", ["items.0"]),
        (httpx.post(url, json={"items": "all of them"}), 422, "items", ["items"]),
        (httpx.post(f"{server.url}/v1/tasks", json={"env": "test/echo", "n": "three"}), 422, "n", ["n"]),
        (httpx.get(f"{server.url}/v2/score"), 404, "/v2/score", []),
        (httpx.get(url), 405, "GET", []),
    ]
    for response, status, needle, fields in cases:
        body = response.json()
        assert response.status_code == status, body
        assert needle in body["message"], body
        assert set(fields) <= set(body["fields"]), body
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    # bad items inside a good batch: per-item errors, the rest scored
    task = Echo().generate(3, 1)
    items = [{"task": task.to_dict(), "response": Echo().reference(task)},
             {"env": "test/nosuch", "seed": 1, "response": "x"},
             {"task": {"id": "t1", "env": "test/echo"}, "response": "x"},
             {"env": "test/echo", "seed": 1, "level": 99, "response": "x"},
             {"task": task.to_dict(), "response": ""}]
    res = httpx.post(url, json={"items": items}).json()["scores"]
    assert [r["error"] for r in res] == [None, "unknown_env", "invalid_task", "generation_failed", None]
    assert res[0]["reward"] == 1.0 and res[4]["reward"] == 0.0
    assert "test/nosuch" in res[1]["reason"] and "prompt" in res[2]["reason"] and "level 99" in res[3]["reason"]
    assert all(r["reward"] == 0.0 for r in res[1:4])
    # values pydantic coerces (seed "3") leave the hand-written fast path and are still scored
    coerced = httpx.post(url, json={"items": [{"env": "test/echo", "seed": "3", "level": 1,
                                               "response": Echo().reference(task)}]})
    assert coerced.status_code == 200 and coerced.json()["scores"][0]["reward"] == 1.0, coerced.text


def test_200_concurrent_clients_x_20_requests(server):
    echo = Echo()
    before = server.metric("m1gym_items_total", env="test/echo", outcome="ok")

    async def one_client(c: int, stats: dict) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            for r in range(20):
                seeds = [c * 1000 + r * 10 + k for k in range(1 + (c + r) % 3)]
                tasks = [echo.generate(s, s % 3) for s in seeds]
                # right answer for even seeds, a wrong one for odd seeds
                items = [{"task": t.to_dict(), "response": echo.reference(t) if s % 2 == 0 else "<answer>x</answer>"}
                         for s, t in zip(seeds, tasks)]
                resp = await http.post("/v1/score", json={"items": items})
                stats["status"].append(resp.status_code)
                if resp.status_code != 200:
                    continue
                scores = resp.json()["scores"]
                stats["items"] += len(items)
                ok = len(scores) == len(items) and all(
                    sc["task_id"] == t.id and sc["details"]["echo"] == t.id and sc["error"] is None
                    and sc["reward"] == (1.0 if s % 2 == 0 else 0.0) for s, t, sc in zip(seeds, tasks, scores))
                stats["wrong"] += 0 if ok else 1

    async def main() -> dict:
        stats = {"status": [], "items": 0, "wrong": 0}
        await asyncio.wait_for(asyncio.gather(*(one_client(c, stats) for c in range(200))), timeout=240)
        return stats

    stats = asyncio.run(main())
    assert len(stats["status"]) == 4000
    assert set(stats["status"]) == {200}, {s: stats["status"].count(s) for s in set(stats["status"])}
    assert stats["wrong"] == 0
    # every item scored exactly once: nothing lost, nothing scored twice
    assert server.metric("m1gym_items_total", env="test/echo", outcome="ok") - before == stats["items"]
    assert server.metric("m1gym_queue_depth") == 0


def test_openrlhf_get_reward(server):
    echo = Echo()
    tasks = [echo.generate(i, 1) for i in range(6)]
    prompts = [t.prompt_text for t in tasks]
    responses = [echo.reference(t) for t in tasks]
    responses[5] = "<answer>wrong</answer>"
    labels = [tasks[0].to_json(),                                           # Task JSON string
              tasks[1].to_dict(),                                           # task object
              json.dumps({"env": "test/echo", "seed": 2, "level": 1}),      # procedural reference
              {"env": "test/echo", "answer": tasks[3].answer},              # bare ground truth
              "not json and no --label-env",                                # unusable label
              tasks[5].to_json()]
    body = {"query": [p + r for p, r in zip(prompts, responses)], "prompts": prompts, "labels": labels}
    out = httpx.post(f"{server.url}/get_reward", json=body).json()
    assert out["rewards"] == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert out["scores"] == out["rewards"]
    assert out["extra_logs"]["error"] == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert out["extra_logs"]["correct"] == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    r = httpx.post(f"{server.url}/get_reward", json={"query": ["a", "b"], "labels": [tasks[0].to_json()]})
    assert r.status_code == 422 and "labels" in r.json()["message"]
    r = httpx.post(f"{server.url}/get_reward", json={"query": ["a"]})
    assert r.status_code == 422 and "labels" in r.json()["message"]


def test_client_sync_async_and_cli(server, tmp_path):
    echo = Echo()
    tasks = [echo.generate(i, 0) for i in range(10)]
    items = [(t, echo.reference(t)) for t in tasks]
    with Client(server.url, batch_size=3) as client:
        assert [s.reward for s in client.score(items)] == [1.0] * 10
        assert client.health()["status"] == "ok"
        assert "test/echo" in {e["name"] for e in client.envs()}
        bad = client.score([{"env": "test/nosuch", "seed": 0, "response": "x"}])[0]
        assert bad.reward == 0.0 and bad.details["error"] == "unknown_env"

    async def run_async() -> list[float]:
        async with AsyncClient(server.url, batch_size=4, concurrency=3) as client:
            got = await client.tasks("test/echo", n=9, seed=0, level=0)
            assert [t.id for t in got] == [echo.generate(i, 0).id for i in range(9)]
            return [s.reward for s in await client.score(items)]

    assert asyncio.run(run_async()) == [1.0] * 10
    # `m1gym score --server URL` goes through this client
    (tmp_path / "task.json").write_text(tasks[0].to_json())
    (tmp_path / "resp.txt").write_text(echo.reference(tasks[0]))
    out = subprocess.run([sys.executable, "-m", "m1gym.cli", "score", "--task", str(tmp_path / "task.json"),
                          "--response", str(tmp_path / "resp.txt"), "--server", server.url, "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reward"] == 1.0


def test_client_retries_5xx_and_429_but_not_4xx():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(503, json={"error": "unavailable", "message": "starting"})
        if len(calls) == 2:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "queue_full", "message": "full"})
        if request.url.path == "/v1/score":
            n = len(json.loads(request.content)["items"])
            return httpx.Response(200, json={"scores": [{"reward": 0.5, "error": None}] * n})
        return httpx.Response(401, json={"error": "unauthorized", "message": "wrong bearer token"})

    client = Client("http://svc.test", transport=httpx.MockTransport(handler), backoff=0.001)
    assert [s.reward for s in client.score([{"env": "e", "seed": 1, "response": "r"}])] == [0.5]
    assert len(calls) == 3
    with pytest.raises(ServiceError, match="wrong bearer token") as info:
        client.envs()
    assert info.value.status == 401 and len(calls) == 4  # 4xx: no retry
    dead = Client("http://127.0.0.1:9", retries=2, backoff=0.001, timeout=2)
    with pytest.raises(ServiceError, match="cannot reach the reward service .* 3 attempts"):
        dead.health()


def test_verl_and_trl_adapters(server):
    echo = Echo()
    tasks = [echo.generate(i, 2) for i in range(4)]
    right, wrong = echo.reference(tasks[0]), "<answer>0</answer>"
    kw = {"server_url": server.url}
    r = adapters.compute_score("test/echo", right, tasks[0].to_json(), None, **kw)
    assert r["score"] == 1.0 and r["acc"] is True and r["service_error"] is False
    # ground truth as a bare answer: data_source names the env
    assert adapters.compute_score("test/echo", right, tasks[0].answer, {}, **kw)["score"] == 1.0
    assert adapters.compute_score("test/echo", wrong, {"env": "test/echo", "seed": 0, "level": 2}, **kw)["acc"] is False
    batch = adapters.compute_score_batch(["test/echo"] * 4, [echo.reference(t) for t in tasks],
                                         [t.to_json() for t in tasks], None, **kw)
    assert [b["score"] for b in batch] == [1.0] * 4
    assert asyncio.run(adapters.compute_score_async("x", right, tasks[0].to_dict(), None, **kw))["score"] == 1.0
    with pytest.raises(LabelError, match="ground_truth"):
        adapters.compute_score(None, right, "42", None, **kw)

    trl = adapters.trl_reward(server.url)
    completions = [[{"role": "assistant", "content": echo.reference(t)}] for t in tasks]
    completions[1] = [{"role": "assistant", "content": wrong}]
    got = trl(prompts=[t.prompt for t in tasks], completions=completions, completion_ids=None,
              task=[t.to_json() for t in tasks])
    assert got == [1.0, 0.0, 1.0, 1.0] and trl.__name__ == "m1gym_reward"
    trl_seed = adapters.trl_reward_async(server.url, env="test/echo")
    got = asyncio.run(trl_seed(prompts=["p"] * 2, completions=[echo.reference(tasks[0]), wrong],
                               seed=[0, 1], level=[2, 2]))
    assert got == [1.0, 0.0]
    with pytest.raises(LabelError, match="column"):
        trl(prompts=["p"], completions=["x"], other=[1])
