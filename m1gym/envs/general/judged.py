"""GenRM-judged general tasks, loaded from JSONL.

- ``general/graded``: questions with a ground truth, graded by the judge on a five-grade scale and
  mapped to a reward in [0, 1]. Rows: ``{id, question, ground_truth}``.
- ``general/open``: open questions scored pairwise against a reference answer, both orders judged;
  reward -1 (worse), 0 (similar, or the two orders disagree), 1 (better). Rows: ``{id, question,
  reference}``; references can be picked from candidates by Swiss rounds (``m1gym.genrm.reference``).

The judge is any OpenAI-compatible endpoint: ``make(name, judge_url=URL)`` or the ``M1GYM_JUDGE_URL``
environment variable. Without a judge, only exact matches are decided (a normalised exact match with
the ground truth is grade 5; with the reference, a tie) and everything else scores 0 with a reason
naming the fix. A judge failure is never a silent 0: the Score says so and carries ``judge_failure``.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ...core import Environment, Score, Task
from ...registry import register
from .instructions import response_text

NO_JUDGE = "no judge configured: pass judge_url=URL to make() or set M1GYM_JUDGE_URL (e.g. `m1gym serve-model PATH`)"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


class JudgedEnv(Environment):
    kind = "genrm"
    procedural = False
    levels = ()
    answer_format = "free text (after the think block, or in <answer>...</answer>)"
    data_file = ""
    answer_field = ""

    def __init__(self, judge_url: str | None = None, judge_model: str | None = None, use_logprobs: bool = False,
                 **config: Any):
        super().__init__(judge_url=judge_url, judge_model=judge_model, **config)
        url = judge_url or os.environ.get("M1GYM_JUDGE_URL")
        self.judge = None
        self.pairwise = self.grader = None
        if url:
            from ...genrm import FiveGradeScorer, HTTPJudge, PairwiseScorer

            self.judge = HTTPJudge(url, judge_model)
            # one scorer per env: its counters and a recalibration (length correction) persist
            self.pairwise = PairwiseScorer(self.judge, use_logprobs=use_logprobs)
            self.grader = FiveGradeScorer(self.judge, use_logprobs=use_logprobs)

    def load(self, path: str | Path) -> Iterable[Task]:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{self.name}: no such file {path}")
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not valid JSON ({exc})") from None
                missing = [k for k in ("question", self.answer_field) if k not in row]
                if missing:
                    raise ValueError(f"{path}:{lineno}: row lacks field(s) {missing}")
                yield self.make_task(str(row.get("id", lineno)), row["question"],
                                     {self.answer_field: row[self.answer_field]},
                                     {"source": str(path.name), "row": row.get("id", lineno)})

    def examples(self, n: int = 5, seed: int = 0) -> list[Task]:
        ref = resources.files("m1gym.envs.general") / "data" / self.data_file
        with resources.as_file(ref) as p:
            return list(self.load(p))[:n]

    def _text(self, response: str) -> str | None:
        return response_text(response)


class GradedEnv(JudgedEnv):
    description = "general questions with ground truth, GenRM five-grade scoring"
    data_file, answer_field = "graded.jsonl", "ground_truth"

    def _score(self, task: Task, response: str) -> Score:
        text = self._text(response)
        truth = str((task.answer or {}).get("ground_truth", ""))
        if not text:
            return Score.fail("empty response (or a think block that was never closed)")
        if _norm(text) == _norm(truth):
            return Score(1.0, True, True, "matches the ground truth", {"grade": 5, "judge": "exact match"})
        if self.judge is None:
            return Score(0.0, None, True, NO_JUDGE, {"judge_failure": True})
        g = self.grader.grade(task.prompt_text, text, truth)
        if g.reward is None:
            return Score(0.0, None, True, f"judge failed: {g.error}", {"judge_failure": True})
        return Score(g.reward, g.grade >= 4, True, f"grade {g.grade}/5",
                     {"grade": g.grade, "soft_reward": g.soft_reward, "template": g.template})

    def reference(self, task: Task) -> str:
        return str(task.answer["ground_truth"])


class OpenEnv(JudgedEnv):
    description = "open questions scored pairwise against a reference answer (-1/0/1, both orders judged)"
    data_file, answer_field = "open.jsonl", "reference"
    reference_reward = 0.0  # the reference against itself is a tie

    def _score(self, task: Task, response: str) -> Score:
        text = self._text(response)
        ref = str((task.answer or {}).get("reference", ""))
        if not text:
            return Score.fail("empty response (or a think block that was never closed)")
        if _norm(text) == _norm(ref):
            return Score(0.0, None, True, "identical to the reference (similar)", {"pairwise": 0})
        if self.judge is None:
            return Score(0.0, None, True, NO_JUDGE, {"judge_failure": True})
        res = self.pairwise.compare(task.prompt_text, text, ref)
        if res.score is None:
            return Score(0.0, None, True, f"judge failed: {res.error}", {"judge_failure": True})
        words = {1: "better than", 0: "similar to", -1: "worse than"}[res.score]
        # after a length-bias recalibration the length-controlled score is the reward
        reward = res.length_controlled if res.length_controlled is not None else float(res.score)
        return Score(reward, None, True, f"{words} the reference" + ("" if res.consistent else
                     " (orders disagreed)"), {"pairwise": res.score, "consistent": res.consistent,
                                             "verdicts": list(res.verdicts), "soft": res.soft,
                                             "length_controlled": res.length_controlled})

    def reference(self, task: Task) -> str:
        return str(task.answer["reference"])


register("general/graded", GradedEnv)
register("general/open", OpenEnv)
