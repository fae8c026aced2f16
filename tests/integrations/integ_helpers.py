"""Helpers of the trainer-integration tests: a real ``m1gym serve`` on a loopback port, a small
character-level Hugging Face tokenizer built locally (no hub download), and ``m1gym score`` as the
reference every adapter must agree with."""

from __future__ import annotations

import contextlib
import io
import json
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


class Server:
    def __init__(self, args: list[str]):
        self.log = Path(tempfile.mkstemp(prefix="m1gym-integrations-", suffix=".log")[1])
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("M1GYM_TOKEN", None)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "m1gym.cli", "serve", "--port", "0", *args],
                                         stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 180
        self.url = ""
        while time.monotonic() < deadline:
            m = re.search(r"listening on (http://\S+)", self.log.read_text(errors="replace"))
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        pytest.fail(f"m1gym serve did not start:\n{tail}")

    def score_requests(self) -> float:
        """POST /v1/score requests the server has answered (its Prometheus counter)."""
        total = 0.0
        for line in httpx.get(f"{self.url}/metrics").text.splitlines():
            if line.startswith("m1gym_requests_total{") and 'endpoint="/v1/score"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.unlink(missing_ok=True)


def m1gym_score(task, response: str) -> float:
    """The reward ``m1gym score --task T --response R --json`` prints (the CLI's own code path)."""
    from m1gym.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        tpath, rpath = Path(tmp, "task.json"), Path(tmp, "response.txt")
        tpath.write_text(task if isinstance(task, str) else task.to_json() if hasattr(task, "to_json")
                         else json.dumps(task))
        rpath.write_text(response)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["score", "--task", str(tpath), "--response", str(rpath), "--json"]) == 0
    return float(json.loads(out.getvalue())["reward"])


CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def build_tokenizer():
    """A character-level ``PreTrainedTokenizerFast`` (answer tags and chat markers are single tokens)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>"]
    tags = ["<think>", "</think>", "<answer>", "</answer>"]
    chars = ["\n", "\t"] + [chr(c) for c in range(32, 127)]
    vocab = {tok: i for i, tok in enumerate(specials + tags + chars)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(specials)
    tok.add_tokens(tags)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    hf.chat_template = CHAT_TEMPLATE
    hf.padding_side = "left"
    return hf
