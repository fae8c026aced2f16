"""`m1gym code list | judge | verify`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def _user_error(msg: str) -> Exception:
    from ...errors import UserError

    return UserError(msg)


def _problems(args) -> list:
    from .loaders import load_problems
    from .problem import ProblemFormatError
    from .problems import load_builtin_set

    try:
        return load_problems(args.file) if getattr(args, "file", None) else load_builtin_set(args.set)
    except ProblemFormatError as exc:
        raise _user_error(str(exc)) from None


def _find(problems, pid: str):
    for p in problems:
        if p.id == pid or p.id.endswith("/" + pid):
            return p
    raise _user_error(f"no problem {pid!r}; list them with `m1gym code list`")


def cmd_list(args) -> int:
    for p in _problems(args):
        print(f"{p.id:<28} level {p.level}  {p.mode:<5} {p.checker.get('type'):<8} {len(p.tests):3d} tests  "
              f"{', '.join(p.tags)}")
    return 0


def cmd_judge(args) -> int:
    from ...sandbox.base import SandboxError
    from .judge import Judge, JudgeInputError, judge_error_reason

    problem = _find(_problems(args), args.problem)
    try:
        with open(args.code, encoding="utf-8", errors="replace") as fh:
            code = fh.read()
    except OSError as exc:
        raise _user_error(f"cannot read {args.code}: {exc.strerror}") from None
    lang = args.lang or ("cpp" if os.path.splitext(args.code)[1] in (".cpp", ".cc", ".cxx") else "python")
    try:
        result = Judge().judge(problem, code, lang)
    except JudgeInputError as exc:
        raise _user_error(str(exc)) from None
    except SandboxError as exc:
        raise _user_error(judge_error_reason(exc)) from None
    if args.json:
        print(json.dumps(result.details(), default=str))
    else:
        print(f"{problem.id}: {result.summary()}  ({result.elapsed_s:.2f}s)")
    return 0 if result.accepted else 1


def cmd_verify(args) -> int:
    """Every reference solution must be AC and every wrong solution must not be."""
    from ...sandbox.base import SandboxError
    from .judge import Judge, judge_error_reason

    judge = Judge()
    bad = 0
    try:
        for p in _problems(args):
            for kind, table in (("reference", p.solutions), ("wrong", p.wrong)):
                for lang, codes in table.items():
                    for code in codes[: args.max_solutions]:
                        r = judge.judge(p, code, lang)
                        ok = r.accepted if kind == "reference" else not r.accepted
                        bad += not ok
                        print(f"{'ok  ' if ok else 'FAIL'} {p.id:<28} {kind:<9} {lang:<6} {r.summary()}")
    except SandboxError as exc:
        raise _user_error(judge_error_reason(exc)) from None
    print("all solutions behave" if not bad else f"{bad} solution(s) misjudged")
    return 0 if not bad else 1


def cmd_gen_tests(args) -> int:
    """LLM-written tests: the judge proposes inputs, the reference solution computes outputs."""
    from ...genrm import HTTPJudge
    from .problem import Problem, ProblemFormatError
    from .testgen import TestGenerationError, generate_tests

    try:
        problem = Problem.from_dict(json.loads(Path(args.problem_file).read_text()))
    except (OSError, json.JSONDecodeError, ProblemFormatError) as exc:
        raise _user_error(f"cannot read problem file {args.problem_file}: {exc}") from None
    try:
        new, report = generate_tests(problem, HTTPJudge(args.judge_url, args.model), n=args.n,
                                     replace=args.replace)
    except TestGenerationError as exc:
        raise _user_error(str(exc)) from None
    except SandboxError as exc:
        raise _user_error(judge_error_reason(exc)) from None
    Path(args.out).write_text(new.to_json() + "\n")
    print(f"proposed {report.proposed}, kept {report.kept}, dropped {len(report.dropped)}; wrote {args.out}")
    for d in report.dropped:
        print(f"  dropped {d['input'][:40]!r}: {d['reason']}")
    return 0


def add_commands(subparsers) -> None:
    sp = subparsers.add_parser("code", help="competitive-programming problems: list, judge a file, verify a set")
    sub = sp.add_subparsers(dest="code_command", metavar="SUBCOMMAND")
    for name, func, helptext in (("list", cmd_list, "list the problems of a set or file"),
                                 ("judge", cmd_judge, "judge a program file against one problem"),
                                 ("verify", cmd_verify, "check that references pass and wrong solutions fail")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--set", default="m1gym", help="shipped problem set (default m1gym)")
        p.add_argument("--file", help="load problems from this file instead (APPS/TACO/CodeContests/LCB/HumanEval)")
        if name == "judge":
            p.add_argument("problem", help="problem id")
            p.add_argument("code", help="program file (.py or .cpp)")
            p.add_argument("--lang", help="python or cpp (default: from the file extension)")
            p.add_argument("--json", action="store_true")
        if name == "verify":
            p.add_argument("--max-solutions", type=int, default=3)
        p.set_defaults(func=func)
    p = sub.add_parser("gen-tests", help="LLM-written tests: a judge model proposes inputs, the reference computes outputs")
    p.add_argument("problem_file", help="one problem as JSON (the code problem format)")
    p.add_argument("--judge-url", required=True, help="OpenAI-compatible endpoint (vLLM, `m1gym serve-model`, ...)")
    p.add_argument("--model", default=None, help="model name to send (default: none, the server's own)")
    p.add_argument("--n", type=int, default=10, help="inputs to ask for")
    p.add_argument("--replace", action="store_true", help="replace the existing tests instead of appending")
    p.add_argument("--out", required=True, help="where to write the problem with its new tests")
    p.set_defaults(func=cmd_gen_tests)
