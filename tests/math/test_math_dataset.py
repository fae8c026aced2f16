"""math/dataset: the MATH, GSM8K, verl and plain presets on small JSONL and Parquet files written
here, custom field mappings, auto-detection, and clear errors for missing files and fields."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import m1gym
from m1gym.envs.math.dataset import DatasetError


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), str(path))
    return str(path)


MATH_ROWS = [
    {"problem": "What is $1 + \\frac{1}{2}$?", "solution": "Add: $1 + \\frac12 = \\boxed{\\frac{3}{2}}$.",
     "level": "Level 1", "type": "Prealgebra"},
    {"problem": "Solve $x^2 = 4$.", "solution": "So $x = \\boxed{-2, 2}$."},
]
GSM_ROWS = [
    {"question": "Tom has 3 apples and buys 4 more. How many apples?",
     "answer": "He has 3 + 4 = <<3+4=7>>7 apples.\n#### 7"},
    {"question": "A box holds 1,200 pens; 200 are sold. How many are left?",
     "answer": "1200 - 200 = <<1200-200=1000>>1000\n#### 1,000"},
]
VERL_ROWS = [
    {"data_source": "openai/gsm8k", "prompt": [{"role": "system", "content": "Be brief."},
                                                {"role": "user", "content": "What is 6 times 7?"}],
     "ability": "math", "reward_model": {"style": "rule", "ground_truth": "42"},
     "extra_info": {"index": 0, "split": "train"}},
    {"data_source": "openai/gsm8k", "prompt": [{"role": "user", "content": "Half of 9?"}],
     "ability": "math", "reward_model": {"style": "rule", "ground_truth": "4.5"},
     "extra_info": {"index": 1, "split": "train"}},
]
PLAIN_ROWS = [{"problem": "2 + 2?", "answer": "4"}, {"problem": "Probability of heads?", "answer": "\\frac{1}{2}"}]


@pytest.fixture
def env():
    return m1gym.make("math/dataset")


def check_scoring(env, tasks, wrong="<answer>123456</answer>"):
    for task in tasks:
        assert env.score(task, env.reference(task)).reward == 1.0, task.answer
        score = env.score(task, wrong)
        assert score.reward == 0.0 and score.reason


def test_math_preset(env, tmp_path):
    tasks = list(env.load(write_jsonl(tmp_path / "math.jsonl", MATH_ROWS), preset="math"))
    assert [t.answer for t in tasks] == ["\\frac{3}{2}", "-2, 2"]
    assert tasks[0].meta["solution"].startswith("Add:") and tasks[0].meta["difficulty"] == "Level 1"
    assert tasks[0].meta["preset"] == "math" and tasks[0].env == "math/dataset"
    assert "\\boxed" in tasks[0].prompt[0]["content"] and "What is" in tasks[0].prompt[0]["content"]
    check_scoring(env, tasks)
    assert env.score(tasks[0], "<answer>1.5</answer>").reward == 1.0
    assert env.score(tasks[1], "\\boxed{2, -2}").reward == 1.0


def test_gsm8k_preset(env, tmp_path):
    tasks = list(env.load(write_jsonl(tmp_path / "gsm.jsonl", GSM_ROWS), preset="gsm8k"))
    assert [t.answer for t in tasks] == ["7", "1000"]
    assert "<<" not in tasks[0].meta["solution"] and "####" not in tasks[0].meta["solution"]
    check_scoring(env, tasks)
    assert env.score(tasks[1], "<answer>1,000</answer>").reward == 1.0


def test_verl_parquet_preset(env, tmp_path):
    tasks = list(env.load(write_parquet(tmp_path / "train.parquet", VERL_ROWS)))  # auto-detected
    assert [t.answer for t in tasks] == ["42", "4.5"]
    assert tasks[0].prompt == VERL_ROWS[0]["prompt"]  # the file's own chat template is kept
    assert tasks[0].meta["preset"] == "verl" and tasks[0].meta["data_source"] == "openai/gsm8k"
    check_scoring(env, tasks)
    assert env.score(tasks[1], "<answer>\\frac{9}{2}</answer>").reward == 1.0


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_plain_preset_and_auto_detection(env, tmp_path, fmt):
    writer = write_jsonl if fmt == "jsonl" else write_parquet
    path = writer(tmp_path / f"plain.{fmt}", PLAIN_ROWS)
    tasks = list(env.load(path))
    assert [t.answer for t in tasks] == ["4", "\\frac{1}{2}"] and tasks[0].meta["preset"] == "plain"
    assert list(env.load(path, preset="plain")) == tasks
    check_scoring(env, tasks)
    assert env.reference(tasks[0]) == "<answer>4</answer>"  # no solution: just the answer


def test_auto_detects_math_and_gsm8k(env, tmp_path):
    assert list(env.load(write_jsonl(tmp_path / "m.jsonl", MATH_ROWS)))[0].meta["preset"] == "math"
    assert list(env.load(write_jsonl(tmp_path / "g.jsonl", GSM_ROWS)))[0].meta["preset"] == "gsm8k"


def test_custom_field_mapping_with_dotted_names(tmp_path):
    rows = [{"q": {"text": "3 * 3?"}, "gt": {"value": "9"}, "uid": "item-1"},
            {"q": {"text": "10 / 4?"}, "gt": {"value": "5/2"}, "uid": "item-2"}]
    path = write_parquet(tmp_path / "custom.parquet", rows)
    env = m1gym.make("math/dataset", fields={"problem": "q.text", "answer": "gt.value", "id": "uid"})
    tasks = list(env.load(path))
    assert [t.answer for t in tasks] == ["9", "5/2"]
    check_scoring(env, tasks)
    again = list(m1gym.make("math/dataset").load(path, fields={"problem": "q.text", "answer": "gt.value", "id": "uid"}))
    assert [t.id for t in again] == [t.id for t in tasks]


def test_ids_are_stable_and_content_based(env, tmp_path):
    a = list(env.load(write_jsonl(tmp_path / "a.jsonl", PLAIN_ROWS)))
    b = list(env.load(write_jsonl(tmp_path / "b.jsonl", list(reversed(PLAIN_ROWS)))))
    assert {t.id for t in a} == {t.id for t in b} and len({t.id for t in a}) == 2


def test_limit_and_skip_invalid(env, tmp_path):
    rows = PLAIN_ROWS + [{"problem": "no answer here", "answer": ""}] + PLAIN_ROWS
    path = write_jsonl(tmp_path / "mixed.jsonl", rows)
    assert len(list(env.load(path, limit=1))) == 1
    with pytest.raises(DatasetError, match="row 2: missing or empty answer"):
        list(env.load(path))
    assert len(list(env.load(path, skip_invalid=True))) == 4


def test_missing_file_is_a_clear_error(env, tmp_path):
    with pytest.raises(DatasetError, match="does not exist; pass the path of a .jsonl or .parquet file"):
        list(env.load(str(tmp_path / "nope.jsonl")))
    with pytest.raises(DatasetError, match="is a directory"):
        list(env.load(str(tmp_path)))


def test_missing_fields_are_clear_errors(env, tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", [{"text": "1+1", "result": "2"}])
    with pytest.raises(DatasetError, match="cannot tell the layout.*fields \\['result', 'text'\\].*preset="):
        list(env.load(path))
    with pytest.raises(DatasetError, match="missing field 'problem' \\(preset plain\\).*fields present"):
        list(env.load(path, preset="plain"))
    with pytest.raises(DatasetError, match="unknown preset 'mathh'"):
        list(env.load(path, preset="mathh"))
    with pytest.raises(DatasetError, match="unknown field role"):
        list(env.load(path, fields={"question": "text", "answer": "result"}))
    assert [t.answer for t in env.load(path, fields={"problem": "text", "answer": "result"})] == ["2"]


def test_malformed_rows_are_clear_errors(env, tmp_path):
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"problem": "1+1", "answer": "2"}\n{not json}\n')
    with pytest.raises(DatasetError, match="bad.jsonl:2: not a JSON object"):
        list(env.load(str(bad_json)))
    no_hash = write_jsonl(tmp_path / "g.jsonl", [{"question": "q", "answer": "just text"}])
    with pytest.raises(DatasetError, match="no '#### n'"):
        list(env.load(no_hash, preset="gsm8k"))
    no_box = write_jsonl(tmp_path / "m.jsonl", [{"problem": "q", "solution": "the answer is 3"}])
    with pytest.raises(DatasetError, match="no \\\\boxed\\{\\} answer"):
        list(env.load(no_box, preset="math"))
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_text("hello")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        list(env.load(str(not_parquet)))


def test_bundled_examples_pass_their_own_reference(env):
    tasks = env.examples(8)
    assert len(tasks) == 8 and len({t.id for t in tasks}) == 8
    check_scoring(env, tasks)


def test_generate_is_not_available(env):
    with pytest.raises(NotImplementedError):
        env.generate(0)


VERL_GSM_PROMPT = "Let's think step by step and output the final answer after \"####\"."


def test_verl_gsm8k_prompt_accepts_its_own_answer_convention(env, tmp_path):
    """verl's GSM8K parquet asks for the answer after '####'; a response that does so scores, and
    the marker counts only where that prompt asked for it."""
    rows = [{"data_source": "openai/gsm8k", "ability": "math", "extra_info": {"index": 0},
             "prompt": [{"role": "user", "content": "Natalia sold 48 clips in April and half as many in May. "
                                                    "How many in all? " + VERL_GSM_PROMPT}],
             "reward_model": {"style": "rule", "ground_truth": "72"}},
            {"data_source": "openai/gsm8k", "ability": "math", "extra_info": {"index": 1},
             "prompt": [{"role": "user", "content": "A shop has 1,500 pens and sells none. How many pens? "
                                                    + VERL_GSM_PROMPT}],
             "reward_model": {"style": "rule", "ground_truth": "1500"}}]
    natalia, pens = env.load(write_parquet(tmp_path / "gsm8k.parquet", rows))
    assert natalia.meta["answer_marker"] == "####"
    score = lambda task, text: env.score(task, text).reward  # noqa: E731
    assert score(natalia, "48 / 2 = 24 in May, 48 + 24 = 72.\n#### 72") == 1.0
    assert score(natalia, "<think>48 + 24</think>\n#### 72") == 1.0
    assert score(natalia, "<think>#### 1</think> so #### 72.") == 1.0  # only after the think block
    assert score(pens, "#### 1,500") == score(pens, "#### $1500") == 1.0
    assert score(natalia, "<answer>72</answer>") == 1.0  # the usual contract still holds
    assert score(natalia, "#### 71") == 0.0
    # hedging and truncation get nothing
    assert score(natalia, "#### 71\n#### 72") == 0.0
    assert score(natalia, "<think>so #### 72") == 0.0
    assert score(natalia, "####") == 0.0 and score(natalia, "#### " + "7" * 500) == 0.0
    # a bad <answer> is not rescued by a marker
    assert score(natalia, "<answer>71</answer>\n#### 72") == 0.0
    assert score(natalia, "<answer>1</answer><answer>2</answer>\n#### 72") == 0.0
    # batch scoring agrees
    batch = env.score_batch([natalia] * 3, ["#### 72", "#### 70", "x"])
    assert [s.reward for s in batch] == [1.0, 0.0, 0.0]


def test_marker_counts_only_where_the_prompt_asked(env, tmp_path):
    """A GSM8K file with our own prompt (<answer> instruction): '#### 7' is no answer, and a hostile
    '####' in a response or in a task's meta from elsewhere creates nothing."""
    tasks = list(env.load(write_jsonl(tmp_path / "gsm.jsonl", GSM_ROWS), preset="gsm8k"))
    assert "answer_marker" not in tasks[0].meta
    assert env.score(tasks[0], "#### 7").reward == 0.0
    assert env.score(tasks[0], "The answer is 7.\n#### 7").reward == 0.0
    rows = [{"data_source": "openai/gsm8k", "prompt": [{"role": "user", "content": "What is 3 + 4? Use ####."}],
             "reward_model": {"ground_truth": "7"}}]
    (task,) = env.load(write_jsonl(tmp_path / "vague.jsonl", rows))
    assert "answer_marker" not in task.meta and env.score(task, "#### 7").reward == 0.0
    # task JSON round trip keeps the marker (a remote scorer sees the same task)
    rows[0]["prompt"][0]["content"] = "What is 3 + 4? " + VERL_GSM_PROMPT
    (marked,) = env.load(write_jsonl(tmp_path / "marked.jsonl", rows))
    again = m1gym.Task.from_json(marked.to_json())
    assert env.score(again, "#### 7").reward == 1.0
