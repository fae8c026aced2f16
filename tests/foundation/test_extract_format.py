import pytest

from m1gym.verifiers.extract import answer_region, boxed_all, extract_answer, last_boxed
from m1gym.verifiers.format import check_format


@pytest.mark.parametrize("response, expected", [
    ("<answer>42</answer>", "42"),
    ("<think>maybe <answer>1</answer></think><answer>2</answer>", "2"),
    ("<answer>1</answer> then <answer> 3 </answer>", "3"),
    ("<think>no answer yet", None),
    ("plain text", None),
    ("<think>a</think>\n<think>b</think> <answer>x</answer>", "x"),
    ("<ANSWER>up</ANSWER>", "up"),
])
def test_extract_answer_tags(response, expected):
    assert extract_answer(response) == expected


@pytest.mark.parametrize("response, expected", [
    (r"so \boxed{\frac{1}{2}}", r"\frac{1}{2}"),
    (r"\boxed{1} and finally \boxed{ {a}^{b} }", "{a}^{b}"),
    (r"<answer>\boxed{3}</answer>", "3"),
    (r"\boxed{\{1,2\}}", r"\{1,2\}"),
    (r"\boxed{unbalanced", None),
    (r"<think>\boxed{9}</think> nothing", None),
    (r"\fbox{7}", "7"),
])
def test_extract_boxed(response, expected):
    assert extract_answer(response, boxed=True) == expected


def test_boxed_nested_deep_and_many():
    deep = r"\boxed{" + "{" * 500 + "x" + "}" * 500 + "}"
    assert last_boxed(deep) == "{" * 500 + "x" + "}" * 500
    assert boxed_all(r"\boxed{1}\boxed{2}\boxed{3}") == ["1", "2", "3"]


def test_answer_region_is_after_last_think_close():
    assert answer_region("<think>a</think>tail") == "tail"
    assert answer_region("<think>open") is None
    assert answer_region("no think") == "no think"


@pytest.mark.parametrize("response, boxed, ok, needle", [
    ("<think>x</think><answer>1</answer>", False, True, "ok"),
    ("<answer>1</answer>", False, True, "ok"),
    ("", False, False, "empty"),
    ("<think>x<answer>1</answer>", False, False, "never closed"),
    ("<think>a</think><think>b</think><answer>1</answer>", False, False, "once"),
    ("<answer>1</answer><answer>2</answer>", False, False, "exactly one"),
    ("just text", False, False, "no final answer"),
    (r"\boxed{2}", True, True, "ok"),
    (r"\boxed{2} or \boxed{3}", True, False, "exactly one"),
    ("</think> <think><answer>1</answer>", False, False, "before"),
])
def test_format_check(response, boxed, ok, needle):
    result = check_format(response, boxed=boxed)
    assert result.ok is ok
    assert needle in result.reason
    assert result.reward == (1.0 if ok else 0.0)


def test_format_require_think():
    assert not check_format("<answer>1</answer>", require_think=True).ok
    assert check_format("<think>r</think><answer>1</answer>", require_think=True).ok


# ---- trailing junk after the answer voids it (issue 15) -------------------------------------------

@pytest.mark.parametrize("response", [
    "<answer>3</answer></answer></answer>",           # the policy's own discovery, up to the length cap
    "<answer>3</answer>" + "</answer>" * 5000,
    "<answer>3</answer> and some more text",
    "<think>x</think><answer>3</answer><answer>",      # a second block opened, never closed
    "<answer>3</answer></ANSWER>",
    "\\boxed{3}</answer>",                             # a tag with no complete block
    "\\boxed{3}}}}}}",                                 # a boxed answer followed by stray braces
], ids=["repeated close", "5000 closes", "text after", "open after", "upper-case close", "tag without block",
        "stray braces"])
def test_trailing_junk_means_no_answer_and_a_format_failure(response):
    assert extract_answer(response) is None
    assert extract_answer(response, boxed=True) is None
    fmt = check_format(response, boxed=True)
    assert not fmt.ok
    assert "after the final" in fmt.reason or "no complete" in fmt.reason


@pytest.mark.parametrize("response, expected", [
    ("<answer>3</answer>\n\n  \t", "3"),                # whitespace may follow
    ("<think>a</think>\n<answer>3</answer>\n", "3"),
    ("$\\boxed{3}$.", "3"),                             # prose and closing math after a boxed answer
    ("\\[\\boxed{\\{1, 2\\}}\\] so that is it", "\\{1, 2\\}"),
])
def test_whitespace_or_prose_after_the_right_kind_of_answer_is_fine(response, expected):
    assert extract_answer(response, boxed=True) == expected
    assert check_format(response, boxed=True).ok


def test_answer_region_names_the_broken_rule():
    from m1gym.verifiers.extract import split_region

    assert answer_region("<answer>3</answer></answer>") is None
    region, why = split_region("<answer>3</answer></answer>")
    assert region is None and "only whitespace may follow" in why
    assert split_region("<think>open")[1].startswith("think block never closed")
    assert split_region("<answer>3</answer>\n") == ("<answer>3</answer>\n", None)


def test_many_unclosed_tags_are_linear_not_quadratic():
    # the old non-greedy regex took minutes on this; the scan is one pass (no time assertion: the
    # test would hang on a quadratic scan instead)
    assert extract_answer("<answer>" * 25_000) is None
    assert extract_answer("\\boxed{" * 25_000, boxed=True) is None
