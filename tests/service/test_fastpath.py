"""The /v1/score hot path, without a server: the hand-written item check agrees with pydantic's
ScoreRequest and hands everything it does not accept as-is back to it; a worker scores a task sent
as JSON bytes like the dict, caches it by content, and reports bad bytes as ``invalid_task``; the
Ray actor runs its calls in its feeder's order."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from m1gym import registry
from m1gym.scoring import jobs, worker
from m1gym.service import schema
from svc_envs import Echo

TASK = {"id": "test/echo:1", "env": "test/echo", "prompt": "Repeat 42", "answer": "42", "meta": {"level": 0}}

WELL_FORMED = [
    {"items": []},
    {"items": [{"task": TASK, "response": "<answer>42</answer>"}]},
    {"items": [{"task_id": "abc", "response": "x"}, {"env": "test/echo", "seed": 3, "response": "x"},
               {"env": "test/echo", "seed": 3, "level": 1, "response": "x", "task": None}]},
    {"items": [{"env": "test/echo", "seed": -1, "response": ""}], "extra": "ignored like pydantic does"},
]

# each either coerced by pydantic (so its result, not the fast path's, must be used) or a 422
NOT_AS_IS = [
    None, [], "items", {"itemz": []}, {"items": "all of them"}, {"items": [1]},
    {"items": [{"env": "test/echo", "seed": 1}]},                              # no response
    {"items": [{"env": "test/echo", "seed": 1, "response": 3}]},               # response not a string
    {"items": [{"env": "test/echo", "seed": 1, "response": "x", "respnse": "y"}]},  # unknown field
    {"items": [{"response": "x"}]},                                            # no task / task_id / env
    {"items": [{"env": "test/echo", "response": "x"}]},                        # env without seed
    {"items": [{"env": "test/echo", "seed": "3", "response": "x"}]},           # pydantic coerces "3"
    {"items": [{"env": "test/echo", "seed": True, "response": "x"}]},          # bool is not taken as-is
    {"items": [{"env": "test/echo", "seed": 1.0, "response": "x"}]},
    {"items": [{"task": "not an object", "response": "x"}]},
    {"items": [{"task_id": 7, "response": "x"}]},
]


@pytest.mark.parametrize("data", WELL_FORMED)
def test_fast_check_equals_pydantic_on_well_formed_requests(data):
    assert schema.fast_score_items(data) == schema.score_items_checked(data)


@pytest.mark.parametrize("data", NOT_AS_IS)
def test_fast_check_defers_everything_else_to_pydantic(data):
    assert schema.fast_score_items(data) is None
    try:
        checked = schema.score_items_checked(data)
    except ValidationError:
        return  # a 422 with pydantic's message
    assert checked and all(isinstance(t[2], int) for t in checked)  # e.g. seed "3" -> 3


@pytest.fixture
def echo_env(monkeypatch):
    """test/echo for run_job, without registering it (other test directories must not see it)."""
    env, real = Echo(), registry.get_env
    monkeypatch.setattr(registry, "get_env", lambda name: env if name == "test/echo" else real(name))
    worker._task_cache.clear()
    yield env
    worker._task_cache.clear()


def test_worker_scores_json_bytes_like_the_dict_and_caches_by_content(echo_env):
    good = "<answer>42</answer>"
    raw = orjson.dumps(TASK)
    by_dict = worker.run_job(("score", "test/echo", TASK, None, None, good))
    by_bytes = worker.run_job(("score", "test/echo", raw, None, None, good))
    again = worker.run_job(("score", "test/echo", orjson.dumps(TASK), None, None, good))  # equal bytes: a hit
    assert by_dict.error is by_bytes.error is again.error is None
    assert by_dict.value["reward"] == by_bytes.value["reward"] == again.value["reward"] == 1.0
    assert list(worker._task_cache) == [raw]
    # the same id with another answer is another task: the cache is keyed by content, not by id
    edited = orjson.dumps({**TASK, "answer": "43"})
    res = worker.run_job(("score", "test/echo", edited, None, None, good))
    assert res.ok and res.value["reward"] < 1.0 and len(worker._task_cache) == 2


@pytest.mark.parametrize("raw, needle", [(b'{"id": "x", "env": "test/echo"', "not valid JSON"),
                                         (b'{"id": "x", "env": "test/echo"}', "prompt"),
                                         (b'[1, 2]', "JSON object")])
def test_worker_reports_bad_task_bytes_as_invalid_task(echo_env, raw, needle):
    res = worker.run_job(("score", "test/echo", raw, None, None, "x"))
    assert res.value is None and res.error == "invalid_task" and needle in res.message, res


def test_task_cache_is_bounded(echo_env, monkeypatch):
    monkeypatch.setattr(worker, "TASK_CACHE_SIZE", 3)
    for k in range(5):
        task = {**TASK, "id": f"test/echo:{k}"}
        assert worker.run_job(("score", "test/echo", orjson.dumps(task), None, None, "x")).ok
    assert len(worker._task_cache) == 3
    assert b"test/echo:4" in list(worker._task_cache)[-1]


def test_task_cache_is_bounded_in_bytes(echo_env):
    """Clients choose task sizes: 30 distinct 8 MB tasks must not stay in a worker (issue 15)."""
    pad = "x" * (8 << 20)
    for k in range(30):
        task = {**TASK, "id": f"test/echo:{k}", "meta": {"pad": pad}}
        assert worker.run_job(("score", "test/echo", orjson.dumps(task), None, None, "x")).ok
    held = sum(len(raw) for raw in worker._task_cache)
    assert held <= worker.TASK_CACHE_BYTES and worker._task_cache.nbytes == held
    small = [orjson.dumps({**TASK, "id": f"test/echo:s{k}", "meta": {"pad": "y" * (1 << 20)}}) for k in range(40)]
    for raw in small:  # tasks under the entry cap are cached, oldest dropped when the bytes run out
        assert worker.run_job(("score", "test/echo", raw, None, None, "x")).ok
    assert small[-1] in worker._task_cache and small[0] not in worker._task_cache
    assert sum(len(raw) for raw in worker._task_cache) == worker._task_cache.nbytes <= worker.TASK_CACHE_BYTES


def test_ray_actor_runs_calls_in_its_feeders_order(monkeypatch):
    """A threaded actor may start its calls in any order; ``run`` waits for its sequence number, so
    an item never overtakes (or gets stuck behind) a later one, such as a hang."""
    import threading
    import time

    monkeypatch.setattr(worker, "warm_checkers", lambda: None)
    monkeypatch.setattr(worker, "preload_envs", lambda: None)
    monkeypatch.setattr(worker, "settle_gc", lambda: None)
    order: list = []

    def fake_run_job(job, deadline_s=None):
        order.append(job)
        time.sleep(0.02)
        return jobs.ok({"job": job})

    monkeypatch.setattr(worker, "run_job", fake_run_job)
    actor = worker.WorkerActor()
    results: dict = {}
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, actor.run([k], f"tag{k}", k)))
               for k in (3, 1, 2, 0)]  # arrive out of order
    for t in threads:
        t.start()
        time.sleep(0.005)
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2, 3]
    assert results == {k: [jobs.ok({"job": k})] for k in range(4)}
    assert actor.progress() == (None, 0.0)
