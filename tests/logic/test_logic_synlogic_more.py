"""SynLogic import for the tasks mapped after the first group: one small SynLogic-style row per task,
imported, then scored right (1) and wrong (0) by our verifier.

The rows are written by hand from the field names that SynLogic's public verifiers and generators read
(MiniMax-AI/SynLogic, ``games/tasks/<task>/scripts/<task>_verifier.py`` and the generators beside
them); each case names the file its fields come from.
"""

from __future__ import annotations

import json

import pytest

from m1gym.envs.logic import synlogic
from m1gym.registry import get_env


def _row(task, question, answer=None, metadata=None):
    """A verl-style SynLogic row: data_source, chat prompt, extra_info.game_data_str."""
    game = {"question": question, "answer": answer, "metadata": metadata or {}}
    return {"data_source": task, "prompt": [{"role": "user", "content": question}], "ability": "logic",
            "extra_info": {"index": 0, "game_data_str": json.dumps(game)}}


SUDOKU = [[(r * 3 + r // 3 + c) % 9 + 1 for c in range(9)] for r in range(9)]
SUDOKU_Q = [[v if (r + c) % 3 else "X" for c, v in enumerate(row)] for r, row in enumerate(SUDOKU)]
SUDOKU_BAD = [row[:] for row in SUDOKU]
SUDOKU_BAD[0][1], SUDOKU_BAD[0][2] = SUDOKU_BAD[0][2], SUDOKU_BAD[0][1]   # breaks columns
L3 = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]

#: (row, responses scoring 1, responses scoring 0)
CASES = {
    # sudoku_verifier.py: metadata.original_sudoku ("X" blank), answer str(tuple of tuples)
    "sudoku": (_row("sudoku", "Solve the sudoku.", str(tuple(tuple(r) for r in SUDOKU)),
                    {"original_sudoku": SUDOKU_Q, "complete_sudoku": SUDOKU}),
               [f"<answer>{json.dumps(SUDOKU)}</answer>"], [f"<answer>{json.dumps(SUDOKU_BAD)}</answer>"]),
    # futoshiki_verifier.py + generator: grid_size, prefilled_coords, constraints ((r,c),(r,c),sign)
    "futoshiki": (_row("futoshiki", "Current puzzle:\nX X X\nX X X\nX X 2", L3,
                       {"grid_size": 3, "prefilled_coords": [[2, 2]],
                        "constraints": [[[0, 0], [0, 1], "<"], [[1, 1], [2, 1], ">"]]}),
                  ["<answer>[[1,2,3],[2,3,1],[3,1,2]]</answer>"], ["<answer>[[2,1,3],[3,2,1],[1,3,2]]</answer>"]),
    # calcudoko_verifier.py + generator: grid_size, regions {cells "(r,c)" 1-based, target, operator}
    "calcudoko": (_row("calcudoko", "Calcudoko 3x3", "[[1 2 3,2 3 1,3 1 2]]",
                       {"grid_size": 3, "regions": [
                           {"cells": ["(1,1)", "(1,2)", "(1,3)"], "target": 6, "operator": "+"},
                           {"cells": ["(2,1)", "(3,1)"], "target": 1, "operator": "-"},
                           {"cells": ["(2,2)", "(2,3)"], "target": 3, "operator": "÷"},
                           {"cells": ["(3,2)", "(3,3)"], "target": 2, "operator": "*"}]}),
                  # a second valid grid scores 1 too (rules, not the stored grid)
                  ["<answer>[[1,2,3],[2,3,1],[3,1,2]]</answer>", "<answer>[[1,3,2],[2,1,3],[3,2,1]]</answer>"],
                  ["<answer>[[1,2,3],[3,1,2],[2,3,1]]</answer>", "<answer>[[1 2 3,2 3 1,3 1 2]]</answer>"]),
    # skyscraper_puzzle_verifier.py: n, top, bottom, left, right
    "skyscraper_puzzle": (_row("skyscraper_puzzle", "Skyscrapers 3x3", "```python\n[[1,2,3],[2,3,1],[3,1,2]]\n```",
                               {"n": 3, "top": [3, 2, 1], "bottom": [1, 2, 2], "left": [3, 2, 1],
                                "right": [1, 2, 2]}),
                          ["<answer>[[1,2,3],[2,3,1],[3,1,2]]</answer>"],
                          ["<answer>[[1,3,2],[2,1,3],[3,2,1]]</answer>"]),
    # kukurasu_verifier.py: n, m, row_sums, col_sums; answer cells "1" / "X"
    "kukurasu": (_row("kukurasu", "Kukurasu 2x3", '[["1","X","1"],["X","1","X"]]',
                      {"n": 2, "m": 3, "row_sums": [4, 2], "col_sums": [1, 2, 1]}),
                 ["<answer>[[1,0,1],[0,1,0]]</answer>"], ["<answer>[[0,1,0],[1,0,1]]</answer>"]),
    # survo_verifier.py: n, original_matrix (0 blank; sums in the last row / column), candidate_numbers
    "survo": (_row("survo", "Survo 3x3", "[[1,2,3],[3,4,7],[4,6,10]]",
                   {"n": 3, "original_matrix": [[0, 2, 3], [3, 0, 7], [4, 6, 10]], "candidate_numbers": [1, 4]}),
              ["<answer>[[1,2,3],[3,4,7],[4,6,10]]</answer>"], ["<answer>[[4,2,3],[3,1,7],[4,6,10]]</answer>"]),
    # numbrix_verifier.py: metadata.grid ("X" blank)
    "numbrix": (_row("numbrix", "Numbrix 3x3", [[1, 2, 3], [6, 5, 4], [7, 8, 9]],
                     {"grid": [[1, "X", "X"], ["X", "X", 4], ["X", "X", 9]]}),
                ["<answer>[[1,2,3],[6,5,4],[7,8,9]]</answer>"], ["<answer>[[1,2,3],[8,5,4],[7,6,9]]</answer>"]),
    # minesweeper generator/verifier: revealed_grid ("X" hidden), current_mines (0-based)
    "minesweeper": (_row("minesweeper", "Minesweeper", "",
                         {"revealed_grid": [["1", "X", "X"], ["1", "2", "2"]], "current_mines": [[0, 1], [0, 2]]}),
                    ["<answer>[[0,2],[0,1]]</answer>",
                     "I considered (1,1) and (0,0) first.\n<answer>[[0,1],[0,2]]</answer>"],
                    ["<answer>[[0,1]]</answer>", "<answer>[[0,1],[0,2],[1,1]]</answer>"]),
    # game_of_24_verifier.py: numbers, operators, result (no gold expression: found by our search)
    "game_of_24": (_row("game_of_24", "Make 24 from 1 2 3 4", "",
                        {"numbers": [1, 2, 3, 4], "operators": ["+", "-", "*", "/"], "result": 24}),
                   ["<answer>(1+2+3)*4</answer>", "<answer>4*3*2*1</answer>"],
                   ["<answer>1+2+3+4</answer>", "<answer>(1+2)*(3+4+1)</answer>"]),
    # math_path_verifier.py: query_expr ("?" hidden digits), ref_expr
    "math_path": (_row("math_path", "Fill in: 1? + 3? = 46", "",
                       {"query_expr": "1? + 3? = 46", "ref_expr": "13 + 33 = 46"}),
                  ["<answer>13 + 33 = 46</answer>", "<answer>12 + 34 = 46</answer>"],
                  ["<answer>13 + 34 = 46</answer>", "<answer>[[13 + 33 = 46]]</answer>"]),
    # time_sequence_verifier.py: metadata.records.answers.{answer_maxLen, answer_nums}
    "time_sequence": (_row("time_sequence", "When can they meet?", "",
                           {"records": {"answers": {"answer_maxLen": 45, "answer_nums": 3}}}),
                      ["<answer>[45, 3]</answer>"], ["<answer>[45, 4]</answer>", "<answer>[30, 3]</answer>"]),
    # web_of_lies_verifier.py: answer "**yes, no, yes**"
    "web_of_lies": (_row("web_of_lies", "Who tells the truth?", "**yes, no, yes**"),
                    ["<answer>yes, no, yes</answer>"], ["<answer>yes, yes, yes</answer>", "<answer>yes, no</answer>"]),
    # cipher verifier: answer "[[TEXT]]", responses [["TEXT"]]
    "cipher": (_row("cipher", "Decrypt KHOOR", "[[HELLO WORLD]]"),
               ['<answer>[["HELLO WORLD"]]</answer>', "<answer>helloworld</answer>"], ["<answer>HELLO WORLE</answer>"]),
    # buggy_tables verifier: answer with two decimals
    "buggy_tables": (_row("buggy_tables", "Repair the table; mean price?", "123.45"),
                     ["<answer>123.45</answer>"], ["<answer>123.55</answer>"]),
    # operation_verifier.py: answer compared with math-verify; boxed answers
    "operation": (_row("operation", "Compute 3 ⊕ 4 \\boxed{}", "-3/4"),
                  ["\\boxed{-3/4}", "\\boxed{-0.75}"], ["\\boxed{3/4}"]),
    # space_reasoning verifier: one item, boxed
    "space_reasoning": (_row("space_reasoning", "What is there? \\boxed{}", "Lamp"),
                        ["\\boxed{lamp}"], ["\\boxed{chair}"]),
    # space_reasoning_tree verifier: comma separated set, boxed
    "space_reasoning_tree": (_row("space_reasoning_tree", "Cousins? \\boxed{}", "apple, pear"),
                             ["\\boxed{pear,apple}"], ["\\boxed{apple}", "\\boxed{apple, pear, plum}"]),
    # arc_agi verifier: answer grid, exact
    "arc_agi": (_row("arc_agi", "Transform the grid.", [[0, 1], [1, 0]]),
                ["<answer>[[0,1],[1,0]]</answer>"], ["<answer>[[1,0],[0,1]]</answer>"]),
    # cryptarithm_verifier.py: answer "12 + 21 = 33"; the letter equation is in the question
    "cryptarithm": (_row("cryptarithm", "Each letter is a digit:\nAB + BA = CC\nGive the digits.", "12 + 21 = 33"),
                    ["<answer>12 + 21 = 33</answer>", "<answer>13 + 31 = 44</answer>"],
                    ["<answer>12 + 21 = 34</answer>", "<answer>12 + 22 = 34</answer>"]),
    # wordscapes_verifier.py: metadata.grid ("X" letter / "0" empty), across_words, down_words
    "wordscapes": (_row("wordscapes", "Fill the crossword.",
                        [["C", "A", "T"], ["A", "0", "0"], ["R", "0", "0"], ["T", "0", "0"]],
                        {"grid": [["X", "X", "X"], ["X", "0", "0"], ["X", "0", "0"], ["X", "0", "0"]],
                         "across_words": ["CAT"], "down_words": ["CART"]}),
                   ['<answer>[["C","A","T"],["A","#","#"],["R","#","#"],["T","#","#"]]</answer>'],
                   ['<answer>[["C","A","T"],["A","#","#"],["R","#","#"],["E","#","#"]]</answer>',
                    '<answer>[["C","A","T"],["A","0","0"],["R","0","0"],["T","0","0"]]</answer>']),
}


@pytest.mark.parametrize("task", sorted(CASES))
def test_row_imports_and_scores(task):
    row, good, bad = CASES[task]
    t, reason = synlogic.convert_row(row)
    assert t is not None, reason
    assert t.env == f"logic/{task}" and t.meta["source"] == "synlogic"
    assert "<answer>" in t.prompt_text
    if task in synlogic.ANSWER_FORMATS:
        assert synlogic.ANSWER_FORMATS[task] in t.prompt_text
    env = get_env(t.env)
    for resp in good:
        s = env.score(t, resp)
        assert s.reward == 1.0, (task, resp, s.reason)
    for resp in bad:
        s = env.score(t, resp)
        assert s.reward == 0.0 and s.reason, (task, resp)
    # the row round-trips through the JSONL the importer writes
    from m1gym import Task

    again = Task.from_json(t.to_json())
    assert env.score(again, good[0]).reward == 1.0


def test_cryptarithm_reads_the_letter_words_from_metadata():
    # cryptarithm generator: metadata.letter_words (operands, then result) and operators
    row = _row("cryptarithm", "Solve the alphametic (the prompt wording varies).", "123 + 45 - 6 = 162",
               {"letter_words": ["ABC", "DE", "F", "AFB"], "operators": ["+", "-"]})
    t, reason = synlogic.convert_row(row)
    assert t is not None, reason
    assert t.answer["equation"] == "ABC + DE - F = AFB"
    env = get_env(t.env)
    assert env.score(t, "<answer>123 + 45 - 6 = 162</answer>").reward == 1.0
    assert env.score(t, "<answer>123 + 45 - 7 = 161</answer>").reward == 0.0


def _skipped(row):
    t, reason = synlogic.convert_row(row)
    assert t is None
    return reason


def test_rows_whose_gold_fails_our_rules_are_skipped():
    # calcudoko: a bent region (SynLogic forbids repeats inside it; our check does not test that)
    bent = _row("calcudoko", "?", "[[1 2 3,2 3 1,3 1 2]]", {"grid_size": 3, "regions": [
        {"cells": ["(1,1)", "(1,2)", "(2,2)"], "target": 6, "operator": "+"}]})
    assert "calcudoko" in _skipped(bent)
    # minesweeper: SynLogic's gold misses a mine our complete solver forces
    mines = _row("minesweeper", "?", "", {"revealed_grid": [["1", "X", "X"], ["1", "2", "2"]],
                                         "current_mines": [[0, 1]]})
    assert "minesweeper" in _skipped(mines)
    # futoshiki: a gold grid that breaks its own inequality
    fut = _row("futoshiki", "?", L3, {"grid_size": 3, "prefilled_coords": [],
                                      "constraints": [[[0, 0], [0, 1], ">"]]})
    assert "futoshiki" in _skipped(fut)
    # survo with a blank sum cell: our row/column sums cannot express it
    survo = _row("survo", "?", "[[1,2,3],[3,4,7],[4,6,10]]",
                 {"n": 3, "original_matrix": [[1, 2, 0], [3, 4, 7], [4, 6, 10]], "candidate_numbers": [3]})
    assert "survo" in _skipped(survo)
    # game of 24 with an operator our verifier does not read, and an unsolvable instance
    assert "game_of_24" in _skipped(_row("game_of_24", "?", "", {"numbers": [2, 3], "operators": ["^"], "result": 8}))
    assert "game_of_24" in _skipped(_row("game_of_24", "?", "", {"numbers": [1, 1], "operators": ["+"], "result": 24}))
    # operation with a symbolic gold; cryptarithm whose question holds no letter equation
    assert "operation" in _skipped(_row("operation", "?", "\\sqrt{2}"))
    assert "cryptarithm" in _skipped(_row("cryptarithm", "no equation here", "12 + 21 = 33"))
    # malformed metadata never raises
    # wordscapes: an across word as long as a down word (our check would let them swap slots)
    assert "wordscapes" in _skipped(_row("wordscapes", "?", [["C", "A", "T"], ["A", "0", "0"], ["R", "0", "0"]],
                                         {"grid": [["X", "X", "X"], ["X", "0", "0"], ["X", "0", "0"]],
                                          "across_words": ["CAT"], "down_words": ["CAR"]}))
    assert "sudoku" in _skipped(_row("sudoku", "?", "((1,2),(2,1))", {"original_sudoku": "nope"}))
    assert "skyscraper_puzzle" in _skipped(_row("skyscraper_puzzle", "?", "[[1]]", {}))


def test_unmapped_tasks_are_reported_and_every_task_is_documented():
    from m1gym.envs.logic.calibrate import logic_task_names

    mapped = set(synlogic.mapped_tasks())
    assert set(CASES) <= mapped
    for task in ("norinori", "zebra_puzzle"):
        assert task not in mapped
        assert "has no SynLogic mapping" in _skipped(_row(task, "?", "1"))
    doc = synlogic.__doc__
    for name in logic_task_names():
        assert f"| {name[len('logic/'):]} |" in doc, name
