"""Output comparison, done on the host (outside the sandbox) so the program can not influence it.

* ``exact``:  equal after normalising line endings and ignoring trailing whitespace at the end of
  each line and trailing blank lines (what a human means by "the same text").
* ``tokens``: equal sequences of whitespace-separated tokens.
* ``float``:  tokens; where both tokens are finite real numbers they match when
  ``|got - want| <= abs_tol`` or ``|got - want| <= rel_tol * |want|``; other tokens must be equal.
  NaN and infinities only match the identical token.
* call-based values: JSON values compared structurally; bools are not numbers; floats use the
  float checker's tolerances (default 1e-9) and ints compare exactly. The value comes from an
  untrusted program: ``values_equal`` never raises (an int beyond any float, NaN, nesting deeper
  than the expected value, a type that does not compare) and anything it cannot match is unequal.
"""

from __future__ import annotations

import math
from typing import Any


def _lines(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def exact_equal(got: str, want: str) -> bool:
    return _lines(got) == _lines(want)


def tokens_equal(got: str, want: str) -> bool:
    return got.split() == want.split()


def _num(tok: str) -> float | None:
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def float_close(a: float, b: float, abs_tol: float, rel_tol: float) -> bool:
    d = abs(a - b)
    return d <= abs_tol or d <= rel_tol * abs(b)


def floats_equal(got: str, want: str, abs_tol: float = 1e-6, rel_tol: float = 1e-6) -> bool:
    g, w = got.split(), want.split()
    if len(g) != len(w):
        return False
    for a, b in zip(g, w):
        if a == b:
            continue
        x, y = _num(a), _num(b)
        if x is None or y is None or not float_close(x, y, abs_tol, rel_tol):
            return False
    return True


def compare_text(got: str, want: str, checker: dict) -> bool:
    kind = checker.get("type", "tokens")
    if kind == "exact":
        return exact_equal(got, want)
    if kind == "float":
        return floats_equal(got, want, float(checker.get("abs_tol", 1e-6)), float(checker.get("rel_tol", 1e-6)))
    return tokens_equal(got, want)


def values_equal(got: Any, want: Any, abs_tol: float = 1e-9, rel_tol: float = 1e-9) -> bool:
    """Structural equality of JSON values (type-strict except int/float numbers); never raises."""
    try:
        return _equal(got, want, abs_tol, rel_tol)
    except Exception:  # noqa: BLE001 - whatever a hostile value does, it is not the expected one
        return False


def _numbers_equal(got: int | float, want: int | float, abs_tol: float, rel_tol: float) -> bool:
    if isinstance(want, int) and isinstance(got, int):
        return got == want
    for v in (got, want):
        if isinstance(v, float) and not math.isfinite(v):
            return got == want  # inf only matches inf; NaN matches nothing
    try:
        g, w = float(got), float(want)
    except OverflowError:  # an int beyond any float (10**400) is close to no finite float
        return False
    return float_close(g, w, abs_tol, rel_tol)


def _equal(got: Any, want: Any, abs_tol: float, rel_tol: float) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return _numbers_equal(got, want, abs_tol, rel_tol)
    if isinstance(want, list):  # recursion follows the expected value: its depth bounds ours
        return type(got) is list and len(got) == len(want) and all(
            _equal(a, b, abs_tol, rel_tol) for a, b in zip(got, want))
    if isinstance(want, dict):
        return type(got) is dict and set(got) == set(want) and all(
            _equal(got[k], want[k], abs_tol, rel_tol) for k in want)
    return type(got) is type(want) and bool(got == want)
