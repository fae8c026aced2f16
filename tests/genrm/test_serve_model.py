"""Judges against the real `m1gym serve-model` server: a tiny untrained checkpoint written to tmp, the
server started as a subprocess on loopback (`python -m m1gym.cli serve-model`), then HTTP round
trips, strict verdict failures, the judged envs, connection loss, and the in-process judge."""

import asyncio
import socket
import subprocess
import sys
import time

import httpx
import pytest

import m1gym
from m1gym.genrm import FiveGradeScorer, HTTPJudge, JudgeUnavailable, PairwiseScorer
from m1gym.genrm.judges import TransformersJudge

MAX_NEW = 48  # the server's --max-new-tokens: judge requests ask for 512
MSGS = [{"role": "system", "content": "You are a judge."}, {"role": "user", "content": "Is 2 + 2 = 4?"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "m1gym.cli", "serve-model", str(path), "--port", str(port),
                             "--max-new-tokens", str(MAX_NEW)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, f"http://127.0.0.1:{port}"


def _wait(proc: subprocess.Popen, url: str) -> tuple[subprocess.Popen, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve-model exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("serve-model did not answer within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from m1gym.inference.model import build_model, save_checkpoint_model

    path = tmp_path_factory.mktemp("judge-ckpt")
    model, tok = build_model("tiny")
    save_checkpoint_model(model, tok, path)
    return path


@pytest.fixture(scope="module")
def servers(checkpoint):
    """Two servers booting side by side: the main one, and one the connection-loss test stops."""
    procs = [_spawn(checkpoint), _spawn(checkpoint)]
    yield procs
    for proc, _ in procs:
        _stop(proc)


@pytest.fixture(scope="module")
def server(servers):
    return _wait(*servers[0])[1]


def _check_logprobs(reply):
    assert reply.logprobs, "logprobs asked for but none returned"
    for entry in reply.logprobs:
        assert entry.logprob <= 0.0 and len(entry.top) == 5  # HTTPJudge asks top_logprobs=5
        # greedy: the emitted token is the most likely one, and the extra pass agrees with the engine
        best = max(entry.top, key=entry.top.get)
        assert best == entry.token and entry.top[best] == pytest.approx(entry.logprob, abs=1e-3)


def test_http_judge_round_trip_sync_and_async(server):
    judge = HTTPJudge(server, backoff=0.01)
    plain = judge.complete(MSGS, max_tokens=16)
    assert isinstance(plain.text, str) and plain.text and plain.logprobs is None
    rich = judge.complete(MSGS, max_tokens=16, logprobs=True)
    assert rich.text == plain.text  # greedy is deterministic
    _check_logprobs(rich)
    assert "".join(e.token for e in rich.logprobs) == rich.text
    areply = asyncio.run(judge.acomplete(MSGS, max_tokens=16, logprobs=True))
    assert areply.text == plain.text and len(areply.logprobs) == len(rich.logprobs)
    judge.close()


def test_concurrent_greedy_requests_match_sequential(server):
    """Concurrent greedy requests are batched by the server; each still gets its own answer."""
    judge = HTTPJudge(server, backoff=0.01)
    prompts = [[{"role": "user", "content": f"Question {i}: {'why ' * i}?"}] for i in range(6)]
    alone = [judge.complete(m, max_tokens=12).text for m in prompts]

    async def together():
        return await asyncio.gather(*(judge.acomplete(m, max_tokens=12) for m in prompts))

    assert [r.text for r in asyncio.run(together())] == alone


def test_chat_endpoint_format_and_validation(server):
    body = {"messages": MSGS, "max_tokens": 500, "n": 2, "temperature": 1.0, "seed": 3}
    r = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30).json()
    assert r["object"] == "chat.completion" and len(r["choices"]) == 2
    assert all(c["message"]["role"] == "assistant" and c["finish_reason"] in ("stop", "length") for c in r["choices"])
    assert r["usage"]["clamped"] == {"max_tokens": 500, "served": MAX_NEW}
    again = httpx.post(f"{server}/v1/chat/completions", json=body, timeout=30).json()
    assert [c["message"]["content"] for c in again["choices"]] == [c["message"]["content"] for c in r["choices"]]
    bad = httpx.post(f"{server}/v1/chat/completions", json={"messages": MSGS, "logprobs": True, "top_logprobs": 21})
    assert bad.status_code == 422 and "top_logprobs" in bad.text
    bad = httpx.post(f"{server}/v1/chat/completions", json={"messages": MSGS, "top_logprobs": 2})
    assert bad.status_code == 400 and "logprobs: true" in bad.text
    bad = httpx.post(f"{server}/v1/chat/completions", json={"messages": [{"role": "robot", "content": "x"}]})
    assert bad.status_code == 400 and "messages[0].role" in bad.text
    with pytest.raises(JudgeUnavailable, match="rejected the request \\(422\\)"):  # 4xx: reported, not retried
        HTTPJudge(server).complete([], max_tokens=4)
    # /v1/completions is unchanged
    c = httpx.post(f"{server}/v1/completions", json={"prompt": "hi", "max_tokens": 4, "logprobs": 0}).json()
    assert len(c["choices"][0]["logprobs"]["token_logprobs"]) == len(c["choices"][0]["logprobs"]["tokens"])


def test_untrained_judge_verdicts_are_recorded_failures(server):
    judge = HTTPJudge(server, backoff=0.01)
    pair = PairwiseScorer(judge, max_tokens=32, use_logprobs=True)
    res = pair.compare("What is 2 + 2?", "4", "5")
    assert res.score is None and not res.consistent and "unparseable verdict" in res.error
    assert pair.stats.parse_failures == 2 and pair.stats.pairs == 0 and pair.stats.unavailable == 0
    grader = FiveGradeScorer(judge, max_tokens=32)
    g = grader.grade("What is 2 + 2?", "4", "4")
    assert g.grade is None and g.reward is None and "unparseable verdict" in g.error
    assert grader.stats.parse_failures == 1


@pytest.mark.parametrize("name", ["general/open", "general/graded"])
def test_judged_envs_report_judge_failure(server, name):
    env = m1gym.make(name, judge_url=server)
    task = env.examples(1)[0]
    s = env.score(task, "<answer>An answer of my own, not the reference.</answer>")
    assert s.details.get("judge_failure") is True and "unparseable verdict" in s.reason
    assert s.reward == 0.0 and s.correct is None


def test_connection_loss_is_retried_then_reported(servers):
    proc, url = _wait(*servers[1])
    judge = HTTPJudge(url, retries=2, backoff=0.01)
    try:
        assert judge.complete(MSGS, max_tokens=4).text is not None
    finally:
        _stop(proc)
    with pytest.raises(JudgeUnavailable, match=r"failed after 3 attempts \(ConnectError") as err:
        judge.complete(MSGS, max_tokens=4)
    assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in str(err.value) and "serve-model" in str(err.value)
    with pytest.raises(JudgeUnavailable, match=f"{url}/v1 failed after 3 attempts"):
        asyncio.run(judge.acomplete(MSGS, max_tokens=4))
    pair = PairwiseScorer(judge)
    res = pair.compare("q", "a", "b")
    assert res.score is None and url in res.error and pair.stats.unavailable == 2


def test_transformers_judge_on_own_checkpoint(checkpoint, server):
    local = TransformersJudge(str(checkpoint))
    reply = local.complete(MSGS, max_tokens=16, logprobs=True)
    assert isinstance(reply.text, str) and reply.text
    _check_logprobs(reply)
    # same weights, same engine, greedy: the server and the in-process judge say the same thing
    assert reply.text == HTTPJudge(server).complete(MSGS, max_tokens=16).text
