"""Exact arithmetic on answer text: a small tokenizer and recursive-descent parser.

Used by game_of_24, cryptarithm, math_path and operation. Model text is never handed to ``eval``
or to sympy: it is tokenized here into numbers, ``+ - * /`` and brackets, parsed with the usual
precedence, and evaluated with ``fractions.Fraction`` so that ``8/3*3`` is exactly 8 (no float
rounding, no integer truncation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from .base import AnswerParseError

#: expressions longer than this (chars) are rejected before tokenizing
MAX_EXPR_CHARS = 2_000
#: bracket nesting deeper than this is rejected (no Python recursion limit is ever reached)
MAX_DEPTH = 60
#: integer literals longer than this are rejected (no 10**100000 work)
MAX_DIGITS = 40

_ALIASES = {"×": "*", "·": "*", "∗": "*", "÷": "/", "−": "-", "–": "-", "—": "-", "[": "(", "]": ")",
            "{": "(", "}": ")"}
_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(.))")


@dataclass
class Parsed:
    value: Fraction
    numbers: list[str] = field(default_factory=list)  # number literals in order of appearance
    ops: list[str] = field(default_factory=list)       # binary operators in order of appearance


def tokenize(text: str, *, allow_decimal: bool = False, extra_mul: str = "") -> list[str]:
    if len(text) > MAX_EXPR_CHARS:
        raise AnswerParseError(f"expression too long ({len(text)} chars)")
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        num, ch = m.group(1), m.group(2)
        if num is not None:
            if "." in num and not allow_decimal:
                raise AnswerParseError(f"decimal number {num!r} not allowed; use integers")
            if len(num) > MAX_DIGITS:
                raise AnswerParseError("number literal too long")
            out.append(num)
            continue
        if ch is None or ch.isspace():
            continue
        ch = _ALIASES.get(ch, ch)
        if ch in extra_mul:
            ch = "*"
        if ch not in "+-*/()":
            raise AnswerParseError(f"unexpected character {ch!r} in expression")
        out.append(ch)
    if not out:
        raise AnswerParseError("empty expression")
    return out


class _Parser:
    def __init__(self, tokens: list[str], allow_unary: bool) -> None:
        self.t = tokens
        self.i = 0
        self.allow_unary = allow_unary
        self.numbers: list[str] = []
        self.ops: list[str] = []

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise AnswerParseError("expression ends too early")
        self.i += 1
        return tok

    def expr(self, depth: int) -> Fraction:
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()
            self.ops.append(op)
            rhs = self.term(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self, depth: int) -> Fraction:
        value = self.factor(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            self.ops.append(op)
            rhs = self.factor(depth)
            if op == "*":
                value = value * rhs
            else:
                if rhs == 0:
                    raise ZeroDivisionError("division by zero in the expression")
                value = value / rhs
        return value

    def factor(self, depth: int) -> Fraction:
        if depth > MAX_DEPTH:
            raise AnswerParseError("brackets nested too deeply")
        tok = self.take()
        if tok == "(":
            value = self.expr(depth + 1)
            if self.take() != ")":
                raise AnswerParseError("missing closing bracket")
            return value
        if tok == "-" and self.allow_unary:
            return -self.factor(depth + 1)
        if tok[0].isdigit():
            self.numbers.append(tok)
            return Fraction(tok)
        raise AnswerParseError(f"unexpected {tok!r} in expression")


def parse_expr(text: str, *, allow_unary: bool = False, allow_decimal: bool = False,
               extra_mul: str = "") -> Parsed:
    """Parse and evaluate exactly. Raises AnswerParseError on bad syntax, ZeroDivisionError on /0."""
    p = _Parser(tokenize(text, allow_decimal=allow_decimal, extra_mul=extra_mul), allow_unary)
    value = p.expr(0)
    if p.peek() is not None:
        raise AnswerParseError(f"unexpected {p.peek()!r} after the end of the expression")
    return Parsed(value, p.numbers, p.ops)


_NUMBER_RE = re.compile(r"^\s*([+-]?)\s*(\d{1,40})(?:\s*/\s*(\d{1,40})|\.(\d{1,40}))?\s*$")
_FRAC_TEX_RE = re.compile(r"^\s*([+-]?)\s*\\[dt]?frac\s*\{\s*(\d{1,40})\s*\}\s*\{\s*(\d{1,40})\s*\}\s*$")


def parse_number(text: str) -> Fraction:
    """One exact number: ``7``, ``-3/4``, ``2.25`` or ``\\frac{3}{4}`` (with optional sign)."""
    text = text.strip().strip("$").strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    m = _FRAC_TEX_RE.match(text)
    if m:
        sign, num, den = m.groups()
        if int(den) == 0:
            raise AnswerParseError("zero denominator")
        value = Fraction(int(num), int(den))
        return -value if sign == "-" else value
    m = _NUMBER_RE.match(text)
    if not m:
        raise AnswerParseError(f"expected a number such as 7, -3/4 or 2.5, got {text[:40]!r}")
    sign, whole, den, dec = m.groups()
    if den is not None:
        if int(den) == 0:
            raise AnswerParseError("zero denominator")
        value = Fraction(int(whole), int(den))
    elif dec is not None:
        value = Fraction(f"{whole}.{dec}")
    else:
        value = Fraction(int(whole))
    return -value if sign == "-" else value


def fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
