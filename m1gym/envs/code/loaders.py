"""Loaders for common code-problem files -> ``Problem``.

The format is detected per record:

* APPS / TACO (``input_output``: a JSON string or object ``{"inputs", "outputs", "fn_name"?}``,
  ``question``, ``solutions``, ``difficulty``, ``starter_code``). With ``fn_name`` the tests are
  call-based (inputs are argument lists); a one-element list as expected output also accepts
  its element (APPS wraps return values that way). Stdio tests compare tokens; APPS's lenient
  comparison chain is *not* copied.
* CodeContests (``public_tests`` / ``private_tests`` / ``generated_tests`` with ``input`` and
  ``output`` lists, ``description``, ``solutions`` with language codes, ``time_limit``,
  ``memory_limit_bytes``): tokens with absolute float tolerance 1e-5, as CodeContests judges.
* LiveCodeBench (``question_content``, ``public_test_cases`` and ``private_test_cases`` as JSON
  strings, or base64(zlib(pickle(json))) for the private ones - unpickled with a loader that
  refuses every global, so no code runs; ``metadata.func_name`` for functional tests, whose input is
  one JSON value per line and output one JSON value).
* HumanEval (``prompt``, ``test`` with ``def check(candidate)``, ``entry_point``,
  ``canonical_solution``): the asserts are parsed with ``ast`` (never executed) into call-based
  tests; ``assert candidate(...) == value``, ``assert candidate(...)``, ``assert not
  candidate(...)``, ``is True/False``, ``tuple(candidate(...)) == tuple(value)`` and
  ``abs(candidate(...) - x) < tol`` are understood, where a value is a literal or constant arithmetic
  (``2.0/3.0``, ``'ab' + 'c'``, ``0**0``), and a ``for x in range(...)`` loop of such asserts is
  unrolled. ``assert True, "..."`` (HumanEval's debugging placeholders) is ignored. A problem with
  any other statement (random tests, calls of the reference solution) is skipped, its reason
  recorded in ``LoadReport``, because running the dataset's check code inside the program's process
  would let the program defeat it: 158 of HumanEval's 164 problems load.
* m1gym's own format (``tests`` present; see ``problem.py``), or a directory of problem dirs.

Files: ``.jsonl`` (one record a line), ``.json`` (a list, one object, or ``{"problems": [...]}``),
either gzipped (``.jsonl.gz``, as HumanEval ships).
"""

from __future__ import annotations

import ast
import base64
import io
import json
import pickle
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .problem import Problem, ProblemFormatError

APPS_LEVELS = {"introductory": 0, "interview": 1, "competition": 3, "easy": 0, "medium": 1, "medium_hard": 2,
               "hard": 3, "very_hard": 4, "unknown_difficulty": 1}
LCB_LEVELS = {"easy": 0, "medium": 1, "hard": 3}
CC_PY_LANGS = {1, 3}  # PYTHON (2) and PYTHON3 in CodeContests' enum; 2 is CPP


@dataclass
class LoadReport:
    loaded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _json_field(value: Any, what: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError as exc:
            raise ProblemFormatError(f"{what} is not valid JSON: {exc}") from None
    return value


def _text(v: Any) -> str:
    if isinstance(v, list):
        return "\n".join(str(x) for x in v) + "\n"
    return v if isinstance(v, str) else json.dumps(v)


def _limit_seconds(v: Any, default: float) -> float:
    if isinstance(v, (int, float)) and v > 0:
        return float(min(v, 60))
    if isinstance(v, dict):
        s = float(v.get("seconds", 0) or 0) + float(v.get("nanos", 0) or 0) / 1e9
        return min(s, 60.0) if s > 0 else default
    if isinstance(v, str):
        m = re.search(r"([\d.]+)", v)
        if m:
            return min(float(m.group(1)), 60.0) or default
    return default


def _memory_mb(v: Any, default: int) -> int:
    if isinstance(v, (int, float)) and v > 0:
        mb = int(v // (1 << 20)) if v > 1 << 16 else int(v)
        return max(16, min(mb, 8192))
    if isinstance(v, str):
        m = re.search(r"(\d+)", v)
        if m:
            return max(16, min(int(m.group(1)), 8192))
    return default


# ---- APPS / TACO ------------------------------------------------------------------------------

def from_apps(rec: dict, idx: int) -> Problem:
    io_ = _json_field(rec.get("input_output"), "input_output") or {}
    inputs, outputs = io_.get("inputs") or [], io_.get("outputs") or []
    if len(inputs) != len(outputs):
        raise ProblemFormatError(f"input_output has {len(inputs)} inputs but {len(outputs)} outputs")
    fn = io_.get("fn_name")
    pid = str(rec.get("problem_id", rec.get("id", idx)))
    if fn:
        tests = []
        for a, o in zip(inputs, outputs):
            t = {"args": a if isinstance(a, list) else [a], "expected": o}
            if isinstance(o, list) and len(o) == 1:
                t["also"] = [o[0]]
            tests.append(t)
        mode = "call"
    else:
        tests = [{"input": _text(a), "output": _text(o)} for a, o in zip(inputs, outputs)]
        mode = "stdio"
    sols = _json_field(rec.get("solutions"), "solutions") or []
    diff = str(rec.get("difficulty", "")).strip().lower().replace(" ", "_")
    return Problem(id=f"apps/{pid}", title=str(rec.get("name", "")), statement=str(rec.get("question", "")),
                   tests=tests, mode=mode, fn_name=fn, level=APPS_LEVELS.get(diff, 1),
                   time_limit_s=_limit_seconds(rec.get("time_limit"), 4.0),
                   memory_mb=_memory_mb(rec.get("memory_limit"), 256), source=str(rec.get("source", "apps")),
                   solutions={"python": [s for s in sols if isinstance(s, str)]}, starter=rec.get("starter_code") or "",
                   examples=1).validate()


# ---- CodeContests -----------------------------------------------------------------------------

def from_codecontests(rec: dict, idx: int) -> Problem:
    tests = []
    for key in ("public_tests", "private_tests", "generated_tests"):
        block = rec.get(key) or {}
        for a, o in zip(block.get("input") or [], block.get("output") or []):
            tests.append({"input": a, "output": o})
    sols = rec.get("solutions") or {}
    langs, codes = sols.get("language") or [], sols.get("solution") or []
    py = [c for l, c in zip(langs, codes) if l in CC_PY_LANGS and l == 3]
    cpp = [c for l, c in zip(langs, codes) if l == 2]
    rating = rec.get("cf_rating") or 0
    level = 0 if rating <= 1000 else 1 if rating <= 1500 else 2 if rating <= 2000 else 3 if rating <= 2500 else 4
    n_public = len((rec.get("public_tests") or {}).get("input") or [])
    return Problem(id=f"codecontests/{rec.get('name', idx)}", title=str(rec.get("name", "")),
                   statement=str(rec.get("description", "")), tests=tests, level=level if rating else 1,
                   time_limit_s=_limit_seconds(rec.get("time_limit"), 10.0),
                   memory_mb=_memory_mb(rec.get("memory_limit_bytes"), 256),
                   checker={"type": "float", "abs_tol": 1e-5, "rel_tol": 0.0}, source="codecontests",
                   solutions={k: v for k, v in (("python", py), ("cpp", cpp)) if v}, examples=n_public).validate()


# ---- LiveCodeBench ----------------------------------------------------------------------------

class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D401 - refuse every global: no code can run
        raise ProblemFormatError(f"refusing pickled object {module}.{name} in test data")


def _lcb_tests(value: Any) -> list:
    if isinstance(value, list):
        return value
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        raw = zlib.decompress(base64.b64decode(value))
    except Exception as exc:  # noqa: BLE001
        raise ProblemFormatError(f"private_test_cases is neither JSON nor base64+zlib data: {exc}") from None
    obj = _NoGlobals(io.BytesIO(raw)).load() if raw[:1] == b"\x80" else raw.decode()
    return json.loads(obj) if isinstance(obj, (str, bytes)) else obj


def from_livecodebench(rec: dict, idx: int) -> Problem:
    public = _lcb_tests(rec.get("public_test_cases"))
    private = _lcb_tests(rec.get("private_test_cases"))
    meta = _json_field(rec.get("metadata"), "metadata") or {}
    cases = public + private
    functional = any(c.get("testtype") == "functional" for c in cases)
    if functional:
        fn = meta.get("func_name")
        if not fn:
            raise ProblemFormatError("functional LiveCodeBench problem without metadata.func_name")
        tests = [{"args": [json.loads(line) for line in c["input"].split("\n") if line.strip()],
                  "expected": json.loads(c["output"])} for c in cases]
    else:
        fn = None
        tests = [{"input": c["input"], "output": c["output"]} for c in cases]
    return Problem(id=f"lcb/{rec.get('question_id', idx)}", title=str(rec.get("question_title", "")),
                   statement=str(rec.get("question_content", "")), tests=tests,
                   mode="call" if functional else "stdio", fn_name=fn,
                   level=LCB_LEVELS.get(str(rec.get("difficulty", "")).lower(), 1), time_limit_s=6.0,
                   source=f"livecodebench/{rec.get('platform', '')}", starter=rec.get("starter_code") or "",
                   examples=len(public)).validate()


# ---- HumanEval --------------------------------------------------------------------------------

def _is_candidate_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "candidate" \
        and not node.keywords


_ARITH = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
          ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
          ast.Pow: lambda a, b: a ** b}
#: pure builtins a test's constant expressions may call (``str(x)`` in a loop over ``range``)
_PURE_CALLS = {"str": str, "int": int, "float": float, "len": len, "abs": abs, "list": list, "tuple": tuple,
               "range": range}
_MAX_SIZE = 100_000


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _literal(node: ast.AST, env: dict[str, Any] | None = None) -> Any:
    """The value of a constant expression: Python literals, arithmetic on numbers, ``+`` on strings
    and lists, a loop variable, and a few pure builtins on those. Never a name of the test's module,
    never an attribute or any other call: nothing from the dataset runs."""
    env = env or {}
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_literal(e, env) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand, env)
        if _is_number(v):
            return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        a, b = _literal(node.left, env), _literal(node.right, env)
        if _is_number(a) and _is_number(b):
            if isinstance(node.op, ast.Pow) and (abs(b) > 64 or abs(a) > 10 ** 6):
                raise ValueError("power too large")
            if isinstance(node.op, ast.Mult) and max(abs(a), abs(b)) > 10 ** 12:
                raise ValueError("constant too large")
            return _ARITH[type(node.op)](a, b)
        if isinstance(node.op, ast.Add) and type(a) is type(b) and isinstance(a, (str, list, tuple)) \
                and len(a) + len(b) <= _MAX_SIZE:
            return a + b
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _PURE_CALLS
            and node.func.id not in env and not node.keywords and len(node.args) <= 3):
        args = [_literal(a, env) for a in node.args]
        if node.func.id == "range" and not all(isinstance(a, int) and abs(a) <= _MAX_SIZE for a in args):
            raise ValueError("range too large")
        out = _PURE_CALLS[node.func.id](*args)
        return list(out) if isinstance(out, range) else out
    return ast.literal_eval(node)  # sets, dicts, bytes ...; raises ValueError for anything else


def _loop_values(stmt: ast.For) -> list[Any] | None:
    """The values of ``for x in <constant sequence>:`` whose body is asserts only, else None."""
    if not isinstance(stmt.target, ast.Name) or stmt.orelse:
        return None
    if not all(isinstance(b, ast.Assert) for b in stmt.body):
        return None
    try:
        values = _literal(stmt.iter)
    except (ValueError, TypeError, SyntaxError, ZeroDivisionError, RecursionError):
        return None
    return list(values) if isinstance(values, (list, tuple)) and len(values) <= 1000 else None


def _unwrap_sequence(node: ast.AST) -> ast.AST:
    """``tuple(x)`` / ``list(x)`` -> x: HumanEval compares sequences that way; our call tests compare
    the returned sequence as a JSON list, which is the same check."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("tuple", "list")
            and len(node.args) == 1 and not node.keywords):
        return node.args[0]
    return node


def _is_assert_true(stmt: ast.AST) -> bool:
    """``assert True[, "message"]``: HumanEval's debugging placeholders, which test nothing."""
    return isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True


def _humaneval_asserts(test_src: str) -> tuple[list[dict], float | None]:
    tree = ast.parse(test_src)
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:
        raise ProblemFormatError("no `def check(candidate)` in the test code")
    tests: list[dict] = []
    tol: float | None = None
    steps: list[tuple[ast.AST, dict[str, Any]]] = []
    for stmt in check.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, (ast.Constant, ast.Name)):
            continue  # a docstring, or a bare name such as `print` (a no-op)
        if isinstance(stmt, ast.For) and (values := _loop_values(stmt)) is not None:
            steps.extend((b, {stmt.target.id: v}) for v in values for b in stmt.body)
            continue
        steps.append((stmt, {}))
    for stmt, env in steps:
        if _is_assert_true(stmt):
            continue
        if not isinstance(stmt, ast.Assert):
            raise ProblemFormatError(f"unsupported statement on line {stmt.lineno}: only asserts are converted")
        t = stmt.test
        lit = lambda n: _literal(n, env)  # noqa: E731
        try:
            if isinstance(t, ast.Compare) and len(t.ops) == 1 and _is_candidate_call(_unwrap_sequence(t.left)):
                op, right = t.ops[0], t.comparators[0]
                call = _unwrap_sequence(t.left)
                if isinstance(op, ast.Eq) or (isinstance(op, ast.Is) and isinstance(right, ast.Constant)):
                    right = _unwrap_sequence(right) if call is not t.left else right
                    tests.append({"args": [lit(a) for a in call.args], "expected": lit(right)})
                    continue
            if _is_candidate_call(t):
                tests.append({"args": [lit(a) for a in t.args], "expected": True})
                continue
            if isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.Not) and _is_candidate_call(t.operand):
                tests.append({"args": [lit(a) for a in t.operand.args], "expected": False})
                continue
            if (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (ast.Lt, ast.LtE))
                    and isinstance(t.left, ast.Call) and isinstance(t.left.func, (ast.Name, ast.Attribute))
                    and ast.unparse(t.left.func) in ("abs", "math.fabs")
                    and len(t.left.args) == 1 and isinstance(t.left.args[0], ast.BinOp)
                    and isinstance(t.left.args[0].op, ast.Sub) and _is_candidate_call(t.left.args[0].left)):
                call = t.left.args[0].left
                tests.append({"args": [lit(a) for a in call.args], "expected": lit(t.left.args[0].right)})
                tol = max(tol or 0.0, float(lit(t.comparators[0])))
                continue
        except (ValueError, TypeError, SyntaxError, ZeroDivisionError, RecursionError, OverflowError):
            raise ProblemFormatError(f"assert on line {stmt.lineno} uses non-literal arguments") from None
        raise ProblemFormatError(f"assert on line {stmt.lineno} has an unsupported form")
    if not tests:
        raise ProblemFormatError("no convertible asserts in check()")
    for t in tests:
        if isinstance(t["expected"], tuple):
            t["expected"] = list(t["expected"])
        json.dumps(t)  # must be JSON data
    return tests, tol


def from_humaneval(rec: dict, idx: int) -> Problem:
    try:
        tests, tol = _humaneval_asserts(rec.get("test", ""))
    except (SyntaxError, TypeError, ValueError) as exc:
        raise ProblemFormatError(str(exc)) from None
    tests = json.loads(json.dumps(tests))
    prompt = rec.get("prompt", "")
    checker = {"type": "float", "abs_tol": tol, "rel_tol": 0.0} if tol else {"type": "exact"}
    sol = rec.get("canonical_solution")
    return Problem(id=f"humaneval/{rec.get('task_id', idx)}", title=str(rec.get("task_id", "")),
                   statement=f"Complete the function `{rec['entry_point']}` below; give the whole function.",
                   tests=tests, mode="call", fn_name=rec["entry_point"], starter=prompt, checker=checker,
                   level=1, time_limit_s=3.0, source="humaneval", examples=1,
                   solutions={"python": [prompt + sol]} if isinstance(sol, str) else {}).validate()


# ---- dispatch ---------------------------------------------------------------------------------

def detect(rec: dict) -> str:
    if "tests" in rec and "id" in rec:
        return "m1gym"
    if "input_output" in rec:
        return "apps"
    if "public_tests" in rec or "private_tests" in rec or "generated_tests" in rec:
        return "codecontests"
    if "question_content" in rec or "public_test_cases" in rec:
        return "livecodebench"
    if "entry_point" in rec and "test" in rec:
        return "humaneval"
    raise ProblemFormatError(f"unrecognised problem record with keys {sorted(rec)[:12]}; expected APPS/TACO, "
                             "CodeContests, LiveCodeBench, HumanEval or m1gym fields")


CONVERTERS = {"apps": from_apps, "codecontests": from_codecontests, "livecodebench": from_livecodebench,
              "humaneval": from_humaneval, "m1gym": lambda rec, idx: Problem.from_dict(rec)}


def _records(path: Path) -> Iterator[dict]:
    if path.suffix == ".gz":  # HumanEval ships as HumanEval.jsonl.gz
        import gzip

        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        path = path.with_suffix("")
    else:
        text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ProblemFormatError(f"{path}:{n}: not valid JSON: {exc}") from None
        return
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProblemFormatError(f"{path}: not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("problems"), list):
        data = data["problems"]
    yield from (data if isinstance(data, list) else [data])


def load_problems(path: str | Path, *, report: LoadReport | None = None, strict: bool = False) -> list[Problem]:
    """Problems from a file or a directory of m1gym problem dirs; unconvertible records are skipped
    (reasons in ``report``) unless ``strict``."""
    p = Path(path)
    if not p.exists():
        raise ProblemFormatError(f"{path}: no such file or directory")
    report = report if report is not None else LoadReport()
    if p.is_dir():
        from .problems import load_problem_dir

        out = [load_problem_dir(d) for d in sorted(p.iterdir()) if (d / "problem.json").exists()]
        report.loaded += len(out)
        return out
    out: list[Problem] = []
    for idx, rec in enumerate(_records(p)):
        if not isinstance(rec, dict):
            raise ProblemFormatError(f"{path}: record {idx} is not a JSON object")
        try:
            out.append(CONVERTERS[detect(rec)](rec, idx))
        except ProblemFormatError as exc:
            if strict:
                raise ProblemFormatError(f"{path}: record {idx}: {exc}") from None
            report.skipped.append((str(rec.get("task_id") or rec.get("problem_id") or rec.get("name") or idx), str(exc)))
    report.loaded += len(out)
    if not out and report.skipped:
        raise ProblemFormatError(f"{path}: no usable problem ({len(report.skipped)} skipped; first: "
                                 f"{report.skipped[0][1]})")
    return out
