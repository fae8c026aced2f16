"""All 25 instruction checks on positive and negative examples, and the general/instructions env."""

import pytest

import m1gym
from m1gym.verifiers.instructions import TYPES, check, check_all, describe

CASES = [  # (constraint, passing text, failing text)
    ({"type": "keywords:existence", "keywords": ["harbor", "lantern"]}, "A lantern by the harbor.", "A lantern only."),
    ({"type": "keywords:frequency", "word": "tea", "relation": "at least", "n": 2}, "Tea, then tea.", "Tea once."),
    ({"type": "keywords:frequency", "word": "tea", "relation": "less than", "n": 2}, "Tea once.", "tea tea"),
    ({"type": "keywords:forbidden_words", "forbidden": ["very"]}, "It is good.", "It is Very good."),
    ({"type": "keywords:letter_frequency", "letter": "z", "relation": "at least", "n": 3}, "zzz", "zz"),
    ({"type": "language:response_language", "language": "en"}, "The cat is on the mat and it is happy.",
     "Le chat est sur la table et il est content."),
    ({"type": "language:response_language", "language": "fr"}, "Le chat est sur la table et il est content.",
     "The cat is on the mat."),
    ({"type": "length_constraints:number_sentences", "relation": "at least", "n": 3}, "A b. C d! E f?", "A b. C d."),
    ({"type": "length_constraints:number_sentences", "relation": "less than", "n": 2}, "One.", "One. Two."),
    ({"type": "length_constraints:number_paragraphs", "n": 2}, "First.\n***\nSecond.", "Only one."),
    ({"type": "length_constraints:number_words", "relation": "at least", "n": 4}, "one two three four", "one two"),
    ({"type": "length_constraints:number_words", "relation": "less than", "n": 3}, "one two", "one two three"),
    ({"type": "length_constraints:nth_paragraph_first_word", "n": 2, "nth": 2, "first_word": "today"},
     "Hello there.\n\nToday is fine.", "Hello there.\n\nTomorrow is fine."),
    ({"type": "detectable_content:number_placeholders", "n": 2}, "At [street] in [city].", "At [street]."),
    ({"type": "detectable_content:postscript", "marker": "P.S."}, "Hi.\nP.S. bye", "Hi. bye"),
    ({"type": "detectable_format:number_bullet_lists", "n": 2}, "* a\n* b", "* a\n* b\n* c"),
    ({"type": "detectable_format:constrained_response"}, "My answer is no.", "My answer is probably no."),
    ({"type": "detectable_format:number_highlighted_sections", "n": 2}, "*one* and *two*", "*one* only"),
    ({"type": "detectable_format:multiple_sections", "n": 2, "marker": "SECTION"}, "SECTION 1\na\nSECTION 2\nb",
     "SECTION 1\na"),
    ({"type": "detectable_format:json_format"}, '```json\n{"a": 1}\n```', "{a: 1}"),
    ({"type": "detectable_format:title"}, "<<Poem>>\ntext", "Poem\ntext"),
    ({"type": "combination:two_responses"}, "First answer.\n******\nSecond answer.", "Same.\n******\nSame."),
    ({"type": "combination:repeat_prompt", "prompt": "Write a poem."}, "Write a poem. Roses...", "Roses... Write a poem."),
    ({"type": "startend:end_checker", "phrase": "Any questions?"}, "Done. Any questions?", "Any questions? Done."),
    ({"type": "change_case:capital_word_frequency", "relation": "at least", "n": 2}, "VERY GOOD day", "VERY good day"),
    ({"type": "change_case:english_capital"}, "ALL CAPS HERE.", "ALL CAPS Here."),
    ({"type": "change_case:english_lowercase"}, "all lower here.", "all lower Here."),
    ({"type": "punctuation:no_comma"}, "No commas here.", "Commas, here."),
    ({"type": "startend:quotation"}, '"quoted"', '"half quoted'),
]


def test_every_type_is_covered():
    assert len(TYPES) == 25
    assert {c["type"] for c, _, _ in CASES} == set(TYPES)


@pytest.mark.parametrize("constraint, good, bad", CASES, ids=[c["type"] for c, _, _ in CASES])
def test_check_positive_and_negative(constraint, good, bad):
    assert describe(constraint)
    ok, reason = check(constraint, good)
    assert ok, reason
    ok, reason = check(constraint, bad)
    assert not ok and reason


def test_malformed_constraints_fail_with_reason():
    assert check({"type": "nope"}, "x")[0] is False
    ok, reason = check({"type": "keywords:existence"}, "x")
    assert not ok and "keywords" in reason
    assert check_all([], "x") == (0.0, [])


def test_instruction_env_rewards_fraction_and_gates_relevance():
    env = m1gym.make("general/instructions")
    seen = set()
    for level in range(5):
        for seed in range(40):
            task = env.generate(seed, level)
            assert len(task.answer["constraints"]) == level + 1
            seen.update(task.meta["constraint_types"])
            assert env.score(task, env.reference(task)).reward == 1.0
    assert seen == set(TYPES)  # the generator exercises every type
    task = next(t for t in (env.generate(s, 4) for s in range(50))
                if "punctuation:no_comma" in t.meta["constraint_types"] and t.answer["topic_word"])
    ref = task.answer["reference"]
    broken = ref.replace(".", ",", 1)
    s = env.score(task, broken)
    assert 0 < s.reward < 1 and s.correct is False and "constraints failed" in s.reason
    assert s.details["fraction"] == s.reward
    assert env.score(task, "no commas and nothing on topic").reward == 0.0


def test_judged_envs_without_judge_say_how_to_configure(monkeypatch):
    monkeypatch.delenv("M1GYM_JUDGE_URL", raising=False)
    graded = m1gym.make("general/graded")
    task = graded.examples(1)[0]
    assert graded.score(task, task.answer["ground_truth"].upper() + "!").reward == 1.0
    s = graded.score(task, "Sydney")
    assert s.reward == 0.0 and "M1GYM_JUDGE_URL" in s.reason and s.details["judge_failure"]


def test_judged_env_loader_errors(tmp_path):
    graded = m1gym.make("general/graded")
    with pytest.raises(FileNotFoundError):
        list(graded.load(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n')
    with pytest.raises(ValueError, match="ground_truth"):
        list(graded.load(bad))
