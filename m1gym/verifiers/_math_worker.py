"""Child side of the math checker pool: math-verify + sympy in a separate, killable process.

Started by ``m1gym.verifiers.math`` as ``python -m m1gym.verifiers._math_worker FD`` with
``M1GYM_NO_AUTOLOAD=1``. It talks over one socket (``multiprocessing.connection`` framing):

    parent -> child   (gold: str, pred: str, soft_timeout_s: float), or a list of such jobs
    child  -> parent  (correct: bool, reason: str), one message per job, sent as each finishes

The child never raises: every exception (including math-verify's BaseException-derived timeout
and our own soft timeout) becomes a verdict. What it cannot survive (a C-level hang, a stack
overflow in sympy, memory exhaustion) the parent handles by killing and respawning it.

Runs math-verify with its own signal-based timeouts switched off: they call ``signal.alarm(0)``
on exit and would cancel the soft timer set here.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from functools import lru_cache
from typing import Any

#: memory cap of one checker process (address space); sympy blow-ups die with MemoryError instead
#: of taking the machine down. Override with M1GYM_MATH_WORKER_MEM_MB.
DEFAULT_MEM_MB = 3072


class SoftTimeout(BaseException):
    """Raised by SIGALRM inside the child; BaseException so library ``except Exception`` can't eat it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise SoftTimeout()


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the parent dies (a stuck sympy call never sees EOF)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _limit_memory() -> None:
    try:
        import resource

        mb = int(os.environ.get("M1GYM_MATH_WORKER_MEM_MB", DEFAULT_MEM_MB))
        if mb > 0:
            resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
    except Exception:
        pass


# ---- the check itself ----------------------------------------------------------------------------

def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


@lru_cache(maxsize=4096)
def _parse_gold(gold: str) -> tuple:
    # The gold of one task is checked against many sampled responses: parse it once.
    return tuple(_parse(gold))


def _parse(text: str) -> list:
    from math_verify import parse

    return parse("\\boxed{" + text + "}", parsing_timeout=None)


def _exact_number(expr: Any) -> bool:
    """A closed-form number with no float and no percent marker (1/2004!, 2^-99, sqrt(2)/2, oo ...)."""
    import sympy

    try:
        return (isinstance(expr, sympy.Expr) and bool(expr.is_number) and not expr.has(sympy.Float)
                and not expr.has(sympy.UnevaluatedExpr))
    except Exception:
        return False


#: two closed forms that agree to this many significant digits, and that sympy cannot tell apart,
#: are equal (evalf's working-precision cap; a real difference shows up as digits well before)
EXACT_DIGITS = 1000
#: exact rational evaluation gives up (falls back to EXACT_DIGITS) on results larger than this
_MAX_RATIONAL_BITS = 200_000
_NON_FINITE = None


def _non_finite(expr: Any) -> bool:
    import sympy

    global _NON_FINITE
    if _NON_FINITE is None:
        _NON_FINITE = (sympy.S.Infinity, sympy.S.NegativeInfinity, sympy.S.ComplexInfinity, sympy.S.NaN)
    try:
        return bool(expr.has(*_NON_FINITE))
    except Exception:
        return True


def _rational(expr: Any) -> Any:
    """The exact value of an expression built from rationals by + - * / and integer powers (also
    unevaluated, as math-verify parses ``75 + 10^{-100}``); None for anything else or too big."""
    import sympy

    if isinstance(expr, sympy.Rational):
        return expr
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        parts = [_rational(a) for a in expr.args]
        if any(p is None for p in parts):
            return None
        out = sympy.Integer(0) if isinstance(expr, sympy.Add) else sympy.Integer(1)
        for p in parts:
            out = out + p if isinstance(expr, sympy.Add) else out * p
            if max(int(out.p).bit_length(), int(out.q).bit_length()) > _MAX_RATIONAL_BITS:
                return None
        return out
    if isinstance(expr, sympy.Pow) and isinstance(expr.exp, sympy.Integer):
        base = _rational(expr.base)
        if base is None or (base == 0 and expr.exp < 0):
            return None
        bits = max(int(base.p).bit_length(), int(base.q).bit_length())
        if bits * abs(int(expr.exp)) > _MAX_RATIONAL_BITS:
            return None
        return base ** expr.exp
    return None


def _same_number(a: Any, b: Any) -> bool:
    """Are two closed-form numbers equal? Exact for rationals; an infinity equals only itself.

    No relative tolerance: one scaled by max(|a|, |b|) makes ``\\infty`` equal to every number, and
    any fixed tolerance makes ``x + 10^{-100}`` equal to x.
    """
    import sympy
    from sympy.core.evalf import PrecisionExhausted

    if _non_finite(a) or _non_finite(b):
        try:
            return bool(a.doit() == b.doit())
        except Exception:
            return False
    ra, rb = _rational(a), _rational(b)
    if ra is not None and rb is not None:
        return bool(ra == rb)
    diff = a - b
    if diff == 0:
        return True
    try:
        value = sympy.N(diff, 15, strict=True, maxn=EXACT_DIGITS)
    except PrecisionExhausted:
        return True  # zero to EXACT_DIGITS digits: equal as far as we can tell (sqrt(3+2sqrt2) = 1+sqrt2)
    except (TypeError, ValueError, ArithmeticError):
        return False
    return bool(value == 0)


def _unwrap_assignment(expr: Any) -> Any:
    import sympy

    if isinstance(expr, sympy.Eq) and isinstance(expr.lhs, sympy.Symbol):
        return expr.rhs
    return expr


def _guard_ok(gold: Any, pred: Any) -> bool:
    """False when math-verify said "equal" but the exact values disagree."""
    import sympy

    gold, pred = _unwrap_assignment(gold), _unwrap_assignment(pred)
    if isinstance(gold, sympy.Tuple) and isinstance(pred, sympy.Tuple) and len(gold) == len(pred):
        return all(_guard_ok(g, p) for g, p in zip(gold.args, pred.args))
    if isinstance(gold, sympy.FiniteSet) and isinstance(pred, sympy.FiniteSet):
        gs, ps = list(gold.args), list(pred.args)
        if all(_exact_number(x) for x in gs + ps):
            return (all(any(_same_number(g, p) for p in ps) for g in gs)
                    and all(any(_same_number(g, p) for g in gs) for p in ps))
        return True
    if _exact_number(gold) and _exact_number(pred):
        return _same_number(gold, pred)
    return True


def _eq_set_to_tuple(expr: Any) -> Any:
    """{x = 1, y = 2} -> (1, 2), ordered by variable name (the (x, y) convention); else unchanged."""
    import sympy

    if isinstance(expr, sympy.FiniteSet) and len(expr.args) >= 2:
        args = list(expr.args)
        if all(isinstance(a, sympy.Eq) and isinstance(a.lhs, sympy.Symbol) for a in args):
            names = [str(a.lhs) for a in args]
            if len(set(names)) == len(names):
                return sympy.Tuple(*[a.rhs for a in sorted(args, key=lambda a: str(a.lhs))])
    return expr


def _align(gold: Any, pred: Any) -> tuple[Any, Any]:
    """Make ordered answers comparable in order.

    math-verify compares a set of assignments {x = 1, y = 2} with a tuple as an unordered set, so
    ``(2, 1)`` would match ``x = 1, y = 2``. An ordered pair against assignments is compared in
    variable order instead; ``(1, 2)`` parsed as an open interval is read as a pair when the other
    side is a tuple.
    """
    import sympy

    def pair_like(x: Any) -> bool:  # (5, 6) parsed as an open interval; \\mathbb{R} is not a pair
        return (isinstance(x, sympy.Interval) and x.left_open and x.right_open
                and bool(x.start.is_finite) and bool(x.end.is_finite))

    if isinstance(pred, sympy.Tuple) or pair_like(pred):
        gold = _eq_set_to_tuple(gold)
    if isinstance(gold, sympy.Tuple) or pair_like(gold):
        pred = _eq_set_to_tuple(pred)
    if isinstance(gold, sympy.Tuple) and pair_like(pred):
        pred = sympy.Tuple(pred.start, pred.end)
    if isinstance(pred, sympy.Tuple) and pair_like(gold):
        gold = sympy.Tuple(gold.start, gold.end)
    return gold, pred


_PCT_END = re.compile(r"\\?%\s*$")
_PM = re.compile(r"\\(?:pm|mp)(?![a-zA-Z])")
_BARE_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
#: explicit set notation: \\{...\\}, \\left\\{, \\lbrace, \\set
_SET_BRACES = re.compile(r"\\\{|\\lbrace(?![a-zA-Z])|\\set(?![a-zA-Z])")


def _variants(text: str, other: str) -> list[str]:
    """Other readings of an answer to try when the plain one does not match.

    - ``37.5\\%`` against a gold written as a bare number (37.5) means the number 37.5 (math-verify
      handles integer percentages only). Only then: against ``\\frac{1}{2}`` the percent sign is
      real, and ``0.5\\%`` is 0.005;
    - one ``\\pm`` is expanded into its two values: ``\\frac{3 \\pm \\sqrt5}{2}`` is the set of both roots.
    """
    out = []
    if _PCT_END.search(text) and not _PCT_END.search(other) and _BARE_NUMBER.fullmatch(other.replace(" ", "")):
        out.append(_PCT_END.sub("", text))
    if len(_PM.findall(text)) == 1:
        plus, minus = _PM.sub("+", text), _PM.sub("-", text)
        out.append(plus + ", " + minus)
    return out


def _assignments(expr: Any) -> dict[str, Any] | None:
    """{x = 1, y = 2} (or a single x = 1) -> {"x": 1, "y": 2}; None for anything else."""
    import sympy

    items = expr.args if isinstance(expr, sympy.FiniteSet) else (expr,)
    out: dict[str, Any] = {}
    for item in items:
        if not (isinstance(item, sympy.Eq) and isinstance(item.lhs, sympy.Symbol)):
            return None
        name = str(item.lhs)
        if name in out:
            return None
        out[name] = item.rhs
    return out or None


def _ordered_gold(parsed: tuple) -> bool:
    """The gold assigns two or more variables (x = 5, y = 6): its values are ordered."""
    return any((a := _assignments(g)) is not None and len(a) >= 2 for g in parsed if not isinstance(g, str))


def _value_set(expr: Any) -> bool:
    """A set of two or more plain values (no assignments)."""
    import sympy

    return (isinstance(expr, sympy.FiniteSet) and len(expr.args) >= 2
            and not any(isinstance(a, sympy.Eq) for a in expr.args))


def _exact_decision(gold: Any, pred: Any) -> bool | None:
    """Decide without math-verify when both sides are built from closed-form numbers; else None.

    Exact and cheap: math-verify's set-of-equations comparison costs ~50 ms, this well under 1 ms.
    Numbers compare with ``_same_number``.
    """
    import sympy

    same = _same_number

    def exact(values: Any) -> bool:
        return all(isinstance(v, sympy.Rational) or _exact_number(v) for v in values)

    if exact((gold, pred)):
        return same(gold, pred)
    if isinstance(gold, sympy.Tuple) and isinstance(pred, sympy.Tuple):
        if exact(gold.args + pred.args):
            return len(gold) == len(pred) and all(same(a, b) for a, b in zip(gold.args, pred.args))
        return None
    if isinstance(gold, sympy.FiniteSet) and isinstance(pred, sympy.FiniteSet) and exact(gold.args + pred.args):
        gs, ps = list(gold.args), list(pred.args)
        return all(any(same(g, p) for p in ps) for g in gs) and all(any(same(g, p) for g in gs) for p in ps)
    ga, pa = _assignments(gold), _assignments(pred)
    if ga and pa and set(ga) == set(pa) and exact(list(ga.values()) + list(pa.values())):
        return all(same(ga[k], pa[k]) for k in ga)
    return None


def _compare(g_parsed: tuple, p_parsed: list) -> tuple[bool | None, str]:
    from math_verify import verify
    from sympy import Basic
    from sympy.matrices import MatrixBase

    symbolic = (Basic, MatrixBase)
    for g in g_parsed:
        for p in p_parsed:
            if isinstance(g, symbolic) and isinstance(p, symbolic):
                g, p = _align(g, p)
                decided = _exact_decision(g, p)
                if decided is True:
                    return True, "equivalent"
                if decided is False:
                    continue
            if not verify(g, p, timeout_seconds=None):
                continue
            if isinstance(g, symbolic) and isinstance(p, symbolic) and not _guard_ok(g, p):
                return None, "differs in exact value from"
            return True, "equivalent"
    return False, ""


def judge(gold: str, pred: str) -> tuple[bool, str]:
    """The verdict on one (gold, pred) pair; may raise (the loop turns that into a verdict)."""
    from sympy import Basic
    from sympy.matrices import MatrixBase

    g_parsed = _parse_gold(gold)
    if not g_parsed:
        return False, f"gold answer '{_short(gold)}' could not be parsed"
    p_parsed = _parse(pred)
    if not p_parsed:
        return False, f"answer '{_short(pred)}' could not be parsed"
    if _ordered_gold(g_parsed) and any(_value_set(p) for p in p_parsed):
        # sympy sorts a set: {6, 5} and "6, 5" both parse as {5, 6}, and math-verify would match
        # them to x = 5, y = 6. A set gives no order; a bare list is read in order, as a pair.
        if _SET_BRACES.search(pred):
            return False, f"'{_short(pred)}' is an unordered set; '{_short(gold)}' assigns each variable a value"
        p_parsed = _parse("(" + pred + ")")
        if not p_parsed:
            return False, f"answer '{_short(pred)}' could not be parsed"
    ok, why = _compare(g_parsed, p_parsed)
    if ok:
        return True, why
    if ok is None:  # an exact mismatch is final: no re-reading may turn it into a match
        return False, f"'{_short(pred)}' {why} '{_short(gold)}'"
    for g_text in [gold] + _variants(gold, pred):
        g_alt = g_parsed if g_text == gold else tuple(_parse(g_text))
        for p_text in [pred] + _variants(pred, gold):
            if g_text == gold and p_text == pred:
                continue
            p_alt = _parse(p_text)
            if not g_alt or not p_alt:
                continue
            ok, why = _compare(g_alt, p_alt)
            if ok:
                return True, "equivalent (" + ("percent sign dropped" if "%" in gold + pred else "\\pm expanded") + ")"
            if ok is None:
                return False, f"'{_short(pred)}' {why} '{_short(gold)}'"
    if not any(isinstance(p, (Basic, MatrixBase)) for p in p_parsed):
        return False, f"answer '{_short(pred)}' is not a math expression and differs from '{_short(gold)}'"
    return False, f"'{_short(pred)}' is not equivalent to '{_short(gold)}'"


def run_one(gold: str, pred: str, soft_timeout: float) -> tuple[bool, str]:
    """judge() under a soft timer; never raises."""
    use_timer = soft_timeout and soft_timeout > 0 and hasattr(signal, "setitimer")
    try:
        if use_timer:
            signal.setitimer(signal.ITIMER_REAL, soft_timeout)
        try:
            return judge(gold, pred)
        finally:
            if use_timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except SoftTimeout:
        return False, f"timeout: checking took longer than {soft_timeout:g} s"
    except RecursionError:
        return False, "answer too deeply nested to check"
    except MemoryError:
        return False, "checking ran out of memory"
    except BaseException as exc:  # noqa: BLE001 - the child must answer, whatever happened
        if isinstance(exc, SoftTimeout):
            return False, f"timeout: checking took longer than {soft_timeout:g} s"
        return False, _short(f"checker error: {type(exc).__name__}: {exc}", 200)


def _test_hook(pred: str) -> None:
    """Only with M1GYM_MATH_TEST_HOOKS=1 (tests): simulate what the parent must survive."""
    if pred == "m1gym-test-hang":  # a hang no signal can interrupt (like a long C loop)
        import time

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    if pred == "m1gym-test-crash":  # the process dies (stack overflow, OOM kill)
        os._exit(3)


def main(argv: list[str]) -> int:
    from multiprocessing.connection import Connection

    _die_with_parent()
    _limit_memory()
    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(4000)
    conn = Connection(int(argv[0]))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which kills us
    import math_verify  # noqa: F401  (import before saying ready: first check is not slowed)
    import sympy  # noqa: F401

    hooks = os.environ.get("M1GYM_MATH_TEST_HOOKS") == "1"
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return 0
        except BaseException:  # noqa: BLE001 - a stray soft-timeout signal or garbage frame
            continue
        # one job (gold, pred, soft) or a list of jobs; one reply per job, sent as each finishes
        jobs = msg if isinstance(msg, list) else [msg]
        for job in jobs:
            try:
                gold, pred, soft = job
                if hooks:
                    _test_hook(str(pred))
                result = run_one(str(gold), str(pred), float(soft))
            except BaseException as exc:  # noqa: BLE001
                result = (False, _short(f"checker error: {type(exc).__name__}: {exc}", 200))
            try:
                conn.send(result)
            except (BrokenPipeError, OSError):
                return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
