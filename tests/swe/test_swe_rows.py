"""SWE-bench rows m1gym cannot grade faithfully are refused at load, naming the fix: harness rows
(eval_script + log_parser, run in a conda env by SWE-bench's scripts) and unittest/Django test ids."""

import json

import pytest

from m1gym.core import TaskFormatError
from m1gym.envs.swe import Instance, load_instances, samples

DJANGO_SCRIPT = ("#!/bin/bash\nset -uxo pipefail\nsource /opt/miniconda3/bin/activate\nconda activate testbed\n"
                 "cd /testbed\n./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 auth_tests\n")


def _row(**over):
    rec = samples()[0].to_dict()
    rec["FAIL_TO_PASS"] = json.dumps(rec["FAIL_TO_PASS"])
    rec["PASS_TO_PASS"] = json.dumps(rec["PASS_TO_PASS"])
    rec.update(over)
    return rec


def test_harness_rows_are_refused_with_the_fix(tmp_path):
    row = _row(image="swebench/sweb.eval.x86_64.django_1776_django-11099:latest", eval_script=DJANGO_SCRIPT,
               log_parser="parse_log_django")
    (tmp_path / "rows.jsonl").write_text(json.dumps(_row()) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(TaskFormatError, match=r"rows.jsonl:2: a SWE-bench harness row \(eval_script, log_parser "
                                              r"set\).*parse_log_django.*SWE-bench's harness.*drop eval_script"):
        load_instances(tmp_path / "rows.jsonl")
    for only in ({"eval_script": DJANGO_SCRIPT}, {"log_parser": "parse_log_pytest"}):
        with pytest.raises(TaskFormatError, match="harness row"):
            Instance.from_dict(_row(**only))


def test_unittest_style_ids_are_refused():
    ids = json.dumps(["test_user_can_login (auth_tests.test_views.LoginTest)"])
    with pytest.raises(TaskFormatError, match=r"unittest/Django description.*pytest node id"):
        Instance.from_dict(_row(FAIL_TO_PASS=ids))
    with pytest.raises(TaskFormatError, match="unittest/Django"):
        Instance.from_dict(_row(PASS_TO_PASS=["test_a (m.C.test_a)"]))


def test_pytest_rows_and_empty_harness_fields_still_load():
    inst = Instance.from_dict(_row(eval_script="", log_parser=None, image="my/repo-image:1"))
    assert inst.image == "my/repo-image:1" and inst.FAIL_TO_PASS == samples()[0].FAIL_TO_PASS
    assert Instance.from_dict(_row(FAIL_TO_PASS=json.dumps(["test_bare_name"]))).FAIL_TO_PASS == ["test_bare_name"]
