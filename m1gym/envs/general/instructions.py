"""`general/instructions`: generated instruction-following prompts with rule-checked constraints.

A prompt is a short writing request plus 1-5 constraints (level 0 -> 1 ... level 4 -> 5) drawn from
the 25 IFEval-style types in ``m1gym.verifiers.instructions``, never two that contradict each other.
The generator builds a response that meets every constraint (the reference) and re-checks it before
emitting the task; numeric thresholds (sentence, word, letter and capital-word counts) are set from
that response, so every task is satisfiable by construction.

Reward: the fraction of constraints met. With a judge configured (``judge_url``), the documented
combination is ``fraction * (0.5 + 0.5 * quality)``, quality being the GenRM five-grade reward of the
response against the reference: meeting the constraints is the gate, quality scales within it.
"""

from __future__ import annotations

import json
import random
from typing import Any

from ...core import Environment, Score, Task
from ...registry import register
from ...verifiers.extract import answer_region, answer_tags
from ...verifiers.instructions import check_all, describe, sentences, words

TOPICS = ["the ocean", "a small garden", "learning to cook", "city buses", "the night sky", "rainy days",
          "a mountain hike", "old libraries", "morning coffee", "a chess club", "winter birds", "the desert"]
REQUESTS = ["Write a short note about {t}.", "Describe {t} for a friend.", "Write a brief story about {t}.",
            "Explain why people enjoy {t}.", "Write a short blog post about {t}."]
SENTENCES = ["{T} is a topic that many people find calm and quite lovely.",
             "There is always something new to notice about {t}.",
             "Some people say that {t} is the best part of the week.",
             "It is easy to spend an hour thinking about {t}.",
             "The first thing you notice is how quiet it is.",
             "A good way to start is to go slowly and look around.",
             "Many small details make the whole thing feel special.",
             "This is why I keep coming back to it again and again."]
KEYWORDS = ["lantern", "harbor", "velvet", "compass", "meadow", "pebble", "thunder", "ribbon"]
FORBIDDEN = ["basically", "literally", "awesome", "stuff", "things", "totally"]
END_PHRASES = ["Is there anything else I can help with?", "Let me know if you have additional questions."]
FIRST_WORDS = ["Today", "Finally", "Meanwhile", "Overall"]

# constraint types that cannot be combined (pairs in either order)
CONFLICTS = {
    "detectable_format:json_format": "*", "detectable_format:constrained_response": "*",
    "change_case:english_lowercase": {"change_case:english_capital", "change_case:capital_word_frequency",
                                      "detectable_format:multiple_sections"},
    "change_case:english_capital": {"change_case:capital_word_frequency"},
    "startend:quotation": {"startend:end_checker", "combination:repeat_prompt"},
    "combination:two_responses": {"length_constraints:number_paragraphs", "detectable_format:multiple_sections",
                                  "length_constraints:nth_paragraph_first_word", "combination:repeat_prompt"},
    "length_constraints:number_paragraphs": {"detectable_format:multiple_sections",
                                             "length_constraints:nth_paragraph_first_word"},
    "detectable_format:multiple_sections": {"length_constraints:nth_paragraph_first_word"},
    "detectable_format:number_bullet_lists": {"detectable_format:number_highlighted_sections"},
    "detectable_format:title": {"length_constraints:nth_paragraph_first_word"},
    "combination:repeat_prompt": {"length_constraints:nth_paragraph_first_word"},
}
POOL = ["keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
        "language:response_language", "length_constraints:number_sentences",
        "length_constraints:number_paragraphs", "length_constraints:number_words",
        "length_constraints:nth_paragraph_first_word", "detectable_content:number_placeholders",
        "detectable_content:postscript", "detectable_format:number_bullet_lists",
        "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
        "detectable_format:title", "combination:two_responses", "combination:repeat_prompt",
        "startend:end_checker", "change_case:capital_word_frequency", "change_case:english_capital",
        "change_case:english_lowercase", "punctuation:no_comma", "startend:quotation"]
SINGLETONS = ["detectable_format:json_format", "detectable_format:constrained_response"]


def _conflict(a: str, b: str) -> bool:
    for x, y in ((a, b), (b, a)):
        c = CONFLICTS.get(x)
        if c == "*" or (isinstance(c, set) and y in c):
            return True
    return False


def _pick_types(rng: random.Random, k: int) -> list[str]:
    if k == 1 and rng.random() < 0.15:
        return [rng.choice(SINGLETONS)]
    chosen: list[str] = []
    for t in rng.sample(POOL, len(POOL)):
        if len(chosen) == k:
            break
        if not any(_conflict(t, c) for c in chosen):
            chosen.append(t)
    return chosen


def _build(rng: random.Random, types: list[str], topic: str, request: str) -> tuple[str, list[dict[str, Any]]]:
    """A response meeting the constraint types, and the constraints with their parameters."""
    T = topic[0].upper() + topic[1:]
    has = set(types).__contains__
    params: dict[str, dict[str, Any]] = {}
    if has("detectable_format:constrained_response"):
        return "My answer is yes.", [{"type": "detectable_format:constrained_response"}]
    if has("detectable_format:json_format"):
        body = json.dumps({"topic": topic, "note": rng.choice(SENTENCES).format(t=topic, T=T)})
        return body, [{"type": "detectable_format:json_format"}]

    # the first sentence always names the topic (the relevance gate in scoring looks for it)
    sents = [rng.choice(SENTENCES[:4]).format(t=topic, T=T)]
    sents += [s.format(t=topic, T=T) for s in rng.sample(SENTENCES, rng.randint(3, 5)) if s.format(t=topic, T=T) not in sents]
    if has("keywords:existence"):
        kws = rng.sample(KEYWORDS, 2)
        params["keywords:existence"] = {"keywords": kws}
        sents.append(f"It reminds me of a {kws[0]} and a {kws[1]}.")
    if has("keywords:frequency"):
        w, n = rng.choice([k for k in KEYWORDS if k not in str(sents)]), rng.randint(2, 4)
        params["keywords:frequency"] = {"word": w, "relation": "at least", "n": n}
        sents.append(" and ".join([f"the {w}"] * n).capitalize() + " stay with me.")
    if has("keywords:forbidden_words"):
        params["keywords:forbidden_words"] = {"forbidden": rng.sample(FORBIDDEN, 2)}
    if has("detectable_content:number_placeholders"):
        n = rng.randint(1, 3)
        params["detectable_content:number_placeholders"] = {"n": n}
        sents.append("You can find me at " + " or ".join(f"[place {i + 1}]" for i in range(n)) + ".")
    if has("change_case:capital_word_frequency"):
        sents.append("This is " + " ".join(rng.sample(["VERY", "TRULY", "REALLY", "DEEPLY"], 2)) + " good.")
    if has("detectable_format:number_highlighted_sections"):
        n = rng.randint(1, min(3, len(sents)))
        params["detectable_format:number_highlighted_sections"] = {"n": n}
        for i in range(n):
            sents[i] = f"*{sents[i]}*"

    # structure: paragraphs
    n_par = 1
    if has("length_constraints:number_paragraphs"):
        n_par = rng.randint(2, 3)
        params["length_constraints:number_paragraphs"] = {"n": n_par}
    if has("detectable_format:multiple_sections"):
        n_par = rng.randint(2, 3)
        params["detectable_format:multiple_sections"] = {"n": n_par, "marker": "SECTION"}
    if has("length_constraints:nth_paragraph_first_word"):
        n_par = rng.randint(2, 3)
        nth, word = rng.randint(1, n_par), rng.choice(FIRST_WORDS)
        params["length_constraints:nth_paragraph_first_word"] = {"n": n_par, "nth": nth, "first_word": word}
    while len(sents) < n_par:
        sents.append(rng.choice(SENTENCES).format(t=topic, T=T))
    paras = [sents[i::n_par] for i in range(n_par)]
    if has("length_constraints:nth_paragraph_first_word"):
        p = params["length_constraints:nth_paragraph_first_word"]
        paras[p["nth"] - 1].insert(0, f"{p['first_word']} I want to share a thought.")
    texts = [" ".join(p) for p in paras]
    if has("detectable_format:number_bullet_lists"):
        n = rng.randint(2, 4)
        params["detectable_format:number_bullet_lists"] = {"n": n}
        texts[-1] += "\n" + "\n".join(f"* point {i + 1} about {topic}" for i in range(n))
    if has("detectable_format:multiple_sections"):
        texts = [f"SECTION {i + 1}\n{t}" for i, t in enumerate(texts)]
    sep = "\n***\n" if has("length_constraints:number_paragraphs") else "\n\n"
    text = sep.join(texts)
    if has("detectable_format:title"):
        text = f"<<{T}>>\n" + text
    if has("detectable_content:postscript"):
        params["detectable_content:postscript"] = {"marker": "P.S."}
        text += "\nP.S. Thank you for reading."
    if has("combination:two_responses"):
        other = rng.choice([s for s in SENTENCES if s.format(t=topic, T=T) not in text]).format(t=topic, T=T)
        text = f"{text}\n******\n{other}"
    if has("combination:repeat_prompt"):
        params["combination:repeat_prompt"] = {"prompt": request}
        text = f"{request}\n{text}"
    if has("startend:end_checker"):
        phrase = rng.choice(END_PHRASES)
        params["startend:end_checker"] = {"phrase": phrase}
        text += f" {phrase}"
    if has("change_case:english_lowercase"):
        text = text.lower()
    if has("change_case:english_capital"):
        text = text.upper()
    if has("startend:quotation"):
        text = f'"{text}"'
    if has("language:response_language"):
        params["language:response_language"] = {"language": "en"}

    # numeric thresholds from the built text: satisfiable by construction, not trivially loose
    n_words = len(words(text))
    if has("length_constraints:number_words"):
        params["length_constraints:number_words"] = (
            {"relation": "at least", "n": max(1, n_words - rng.randint(0, 10))} if rng.random() < 0.5
            else {"relation": "less than", "n": n_words + rng.randint(1, 15)})
    if has("length_constraints:number_sentences"):
        n = len(sentences(text))
        params["length_constraints:number_sentences"] = (
            {"relation": "at least", "n": max(1, n - rng.randint(0, 2))} if rng.random() < 0.5
            else {"relation": "less than", "n": n + rng.randint(1, 3)})
    if has("keywords:letter_frequency"):
        letter = rng.choice("aeinorst")
        params["keywords:letter_frequency"] = {"letter": letter, "relation": "at least",
                                               "n": max(1, text.lower().count(letter) - rng.randint(0, 5))}
    if has("change_case:capital_word_frequency"):
        caps = len([w for w in words(text) if len(w) > 1 and w.isupper()])
        params["change_case:capital_word_frequency"] = {"relation": "at least", "n": max(1, caps - 1)}
    constraints = [{"type": t, **params.get(t, {})} for t in types]
    return text, constraints


def response_text(response: str) -> str | None:
    """The part of a response that the constraints apply to: after the think block; the last
    <answer> block when one is used."""
    region = answer_region(response)
    if region is None:
        return None
    tags = answer_tags(region)
    return (tags[-1] if tags else region).strip()


def _echoes_constraints(constraints: list[dict[str, Any]], text: str) -> bool:
    """Does the response contain one of the prompt's constraint lines word for word?"""
    norm = " ".join(text.lower().split())
    return any(len(d) >= 20 and " ".join(d.lower().split()) in norm for d in map(describe, constraints))


class InstructionFollowing(Environment):
    name = "general/instructions"
    kind = "rule"
    description = "instruction following: a writing request with 1-5 rule-checked IFEval-style constraints"
    levels = (0, 1, 2, 3, 4)
    answer_format = "free text meeting every stated constraint"
    version = "1"

    def __init__(self, judge_url: str | None = None, judge_model: str | None = None, **config: Any):
        super().__init__(judge_url=judge_url, **config)
        self._grader = None
        if judge_url:
            from ...genrm import FiveGradeScorer, HTTPJudge

            self._grader = FiveGradeScorer(HTTPJudge(judge_url, judge_model))

    def generate(self, seed: int, level: int | None = None, **knobs: Any) -> Task:
        level = 2 if level is None else int(level)
        if level not in self.levels:
            raise ValueError(f"{self.name}: level must be one of {list(self.levels)}, got {level}")
        for attempt in range(50):
            rng = self.rng(seed, level, attempt)
            topic = rng.choice(TOPICS)
            request = rng.choice(REQUESTS).format(t=topic)
            text, constraints = _build(rng, _pick_types(rng, level + 1), topic, request)
            frac, _ = check_all(constraints, text)
            if frac == 1.0:  # the generator re-checks its own reference
                break
        else:
            raise RuntimeError(f"{self.name}: could not build a satisfiable task for seed {seed}")
        prompt = request + "\n\n" + "\n".join(f"- {describe(c)}" for c in constraints)
        meta = {"level": level, "constraint_types": [c["type"] for c in constraints], "source": "m1gym"}
        topic_word = "" if constraints[0]["type"] == "detectable_format:constrained_response" else topic.split()[-1]
        return self.make_task(f"{seed}|{level}", prompt, {"constraints": constraints, "reference": text,
                                                          "request": request, "topic_word": topic_word}, meta)

    def _score(self, task: Task, response: str) -> Score:
        constraints = (task.answer or {}).get("constraints") if isinstance(task.answer, dict) else None
        if not constraints:
            return Score.fail("task has no constraints in 'answer'")
        text = response_text(response)
        if not text:
            return Score.fail("empty response (or a think block that was never closed)")
        topic_word = task.answer.get("topic_word", "")
        if topic_word and topic_word.lower() not in text.lower():
            # relevance gate: constraints like "no commas" must not pay for text that ignores the request
            return Score.fail(f"does not address the request (never mentions '{topic_word}')", format_ok=True)
        if _echoes_constraints(constraints, text):
            # the constraint list copied back meets keyword and phrase constraints without doing the task
            return Score.fail("repeats the instructions instead of following them", format_ok=True)
        frac, rows = check_all(constraints, text)
        details: dict[str, Any] = {"constraints": rows, "fraction": frac}
        reward = frac
        if self._grader is not None and frac > 0:
            g = self._grader.grade(task.prompt_text, text, task.answer.get("reference", ""))
            details["quality"] = {"grade": g.grade, "error": g.error}
            if g.reward is None:
                return Score(0.0, None, True, f"judge failed: {g.error}", details)
            reward = frac * (0.5 + 0.5 * g.reward)
        failed = [r["reason"] for r in rows if not r["ok"]]
        reason = "all constraints met" if not failed else f"{len(failed)}/{len(rows)} constraints failed: {failed[0]}"
        return Score(reward, frac == 1.0, True, reason, details)

    def reference(self, task: Task) -> str:
        types = ", ".join(c["type"].split(":")[1] for c in task.answer["constraints"])
        return f"<think>\nConstraints to meet: {types}.\n</think>\n{task.answer['reference']}"


register("general/instructions", InstructionFollowing)
