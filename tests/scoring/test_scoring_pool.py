"""The scoring pool from synchronous code (``SyncPool``, what the trainer uses): results in order,
a hanging item times out alone, a worker that dies is replaced and its item retried once. Real
worker processes; the test env comes in through ``imports``, as a user's env does."""

from __future__ import annotations

from pathlib import Path

import pytest

from m1gym.scoring import Job, ProcessPool, Result, SyncPool
from m1gym.scoring.jobs import as_job, as_result

HERE = Path(__file__).resolve().parent
ENVS = str(HERE / "pool_envs.py")
NAME = "test/pool_probe"
TIMEOUT = 4.0


def task(k: int) -> dict:
    return {"id": f"{NAME}:{k}", "env": NAME, "prompt": [{"role": "user", "content": f"Say {k}"}],
            "answer": str(k), "meta": {}}


@pytest.fixture(scope="module")
def pool():
    with SyncPool(ProcessPool(2, imports=[ENVS], item_timeout=TIMEOUT)) as p:
        yield p


def test_job_and_result_are_named_and_travel_as_plain_tuples():
    job = Job.score(task(7), "7")
    assert (job.op, job.env, job.response) == ("score", NAME, "7") and isinstance(job.task, bytes)
    assert type(tuple(job)) is tuple and as_job(tuple(job)) == job and type(as_job(tuple(job))) is Job
    res = as_result(({"reward": 1.0}, None, None))
    assert type(res) is Result and res.ok and res.value == {"reward": 1.0}
    bad = Result(None, "timeout", "too slow")
    assert not bad.ok and bad.to_score().reward == 0.0 and bad.to_score().reason == "timeout: too slow"


def test_results_come_back_in_order(pool):
    # more items than one chunk per worker: chunks interleave across the two workers
    jobs = [Job.score(task(k), str(k) if k % 3 else "nope") for k in range(70)]
    results = pool.run(jobs)
    assert all(type(r) is Result and r.ok for r in results)
    assert [r.value["task_id"] for r in results] == [f"{NAME}:{k}" for k in range(70)]
    assert [r.value["reward"] for r in results] == [1.0 if k % 3 else 0.0 for k in range(70)]
    assert len({r.value["details"]["pid"] for r in results}) == 2  # both workers took part
    assert pool.run([]) == []


def test_a_hanging_item_times_out_alone_and_its_worker_is_replaced(pool):
    before = pool.restarts
    pids = {w["pid"] for w in pool.workers_info()}
    pairs = [(1, "1"), (2, "HANG"), (3, "3"), (4, "nope"), (5, "5"), (6, "6")]
    results = pool.run([Job.score(task(k), r) for k, r in pairs])
    assert results[1].error == "timeout" and results[1].value is None
    assert f"{TIMEOUT:g}s" in results[1].message
    assert [r.error for i, r in enumerate(results) if i != 1] == [None] * 5
    assert [r.value["reward"] for i, r in enumerate(results) if i != 1] == [1.0, 1.0, 0.0, 1.0, 1.0]
    assert pool.restarts == before + 1
    assert len(pids - {w["pid"] for w in pool.workers_info()}) == 1  # the hung worker is gone
    # the pool scores on after the replacement
    assert [r.value["reward"] for r in pool.run([Job.score(task(9), "9")] * 4)] == [1.0] * 4


def test_a_worker_that_dies_is_replaced_and_the_item_retried_once(pool, tmp_path):
    before = pool.restarts
    once = f"EXIT_ONCE:{tmp_path / 'died'}"
    results = pool.run([Job.score(task(1), "1"), Job.score(task(2), "EXIT"), Job.score(task(3), "3"),
                        Job.score(task(4), once), Job.score(task(5), "5")])
    assert results[1].error == "worker_crashed" and "retry" in results[1].message  # died twice
    assert results[3].ok and results[3].value["reason"] == "survived the retry"  # died once
    assert [results[i].value["reward"] for i in (0, 2, 3, 4)] == [1.0] * 4
    assert pool.restarts == before + 3  # EXIT twice, EXIT_ONCE once


def test_trainer_scorer_turns_a_timeout_into_a_zero_score(tmp_path):
    from m1gym.core import Task
    from m1gym.trainer.scoring import PoolScorer

    tasks = [Task.from_dict(task(k)) for k in range(3)]
    scorer = PoolScorer(1, item_timeout=TIMEOUT, imports=[ENVS])
    try:
        scores = scorer.score(tasks, ["0", "HANG", "nope"])
    finally:
        scorer.close()
    assert [s.reward for s in scores] == [1.0, 0.0, 0.0]
    assert scores[1].reason.startswith("timeout: ") and "scoring.item_timeout" in scores[1].reason
    assert scores[1].details == {"error": "timeout"} and scores[2].reason == "wrong answer"
    with pytest.raises(RuntimeError, match="closed"):
        scorer.pool.run([Job.score(task(0), "0")])
