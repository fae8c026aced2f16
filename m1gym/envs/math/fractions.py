"""math/fractions: exact arithmetic with fractions and decimals, answer in lowest terms.

Level 0: a/b ± c/d with small denominators. Level 1: × and ÷ of two fractions. Level 2: three
fractions, mixed operations with parentheses. Level 3: fractions mixed with decimals. Level 4: a
complex fraction (a fraction whose numerator and denominator are sums of fractions).
"""

from __future__ import annotations

import random
from math import lcm

import sympy
from sympy import Rational

from .base import MathFamily, Problem, Retry, decimal_or_fraction, plain, register_family, tex

OPS = {"+": "+", "-": "-", "*": "×", "/": "÷"}


def frac(rng: random.Random, max_den: int, neg: bool = False) -> Rational:
    den = rng.randint(2, max_den)
    num = rng.randint(1, 2 * den)
    if num % den == 0:
        num += 1
    value = Rational(num, den)
    return -value if neg and rng.random() < 0.3 else value


def show(q: Rational) -> str:
    s = plain(q)
    return f"({s})" if s.startswith("-") else s


def opnd(q: Rational) -> str:
    """An operand of × or ÷: fractions in parentheses so 2 ÷ (3/4) cannot be misread."""
    return show(q) if q.q == 1 else f"({plain(q)})"


def combine(a: Rational, op: str, b: Rational, steps: list[str]) -> Rational:
    """a op b with the worked steps appended."""
    if op in "+-":
        d = lcm(int(a.q), int(b.q))
        an, bn = int(a.p) * (d // int(a.q)), int(b.p) * (d // int(b.q))
        r = a + b if op == "+" else a - b
        steps.append(f"{show(a)} {op} {show(b)}: common denominator {d}, so {an}/{d} {op} {show(Rational(bn, 1))}/{d} "
                     f"= {an + bn if op == '+' else an - bn}/{d} = {plain(r)}")
        return r
    if op == "*":
        r = a * b
        steps.append(f"{show(a)} × {show(b)} = ({a.p}×{show(Rational(b.p))})/({a.q}×{b.q}) = {plain(r)}")
        return r
    if b == 0:
        raise Retry()
    r = a / b
    steps.append(f"{show(a)} ÷ {show(b)} = {show(a)} × {show(1 / b)} = {plain(r)}")
    return r


def naive_add(a: Rational, op: str, b: Rational) -> Rational | None:
    """The classic mistake: add (or subtract) numerators and denominators separately."""
    if op not in "+-" or a.q + (b.q if op == "+" else -b.q) == 0:
        return None
    return Rational(a.p + b.p if op == "+" else a.p - b.p, a.q + b.q if op == "+" else abs(a.q - b.q) or 1)


class Fractions(MathFamily):
    family = "fractions"
    description = "fraction and decimal arithmetic, answers as reduced fractions (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        wrong: Rational | None = None
        if level == 0:
            a, b = frac(rng, 9), frac(rng, 9)
            op = rng.choice("+-")
            expr = f"{plain(a)} {op} {plain(b)}"
            value = combine(a, op, b, steps)
            wrong = naive_add(a, op, b)
        elif level == 1:
            a, b = frac(rng, 12, neg=True), frac(rng, 12, neg=True)
            op = rng.choice("*/")
            expr = f"{opnd(a)} {OPS[op]} {opnd(b)}"
            value = combine(a, op, b, steps)
            wrong = a * b if op == "/" else a / b
        elif level == 2:
            a, b, c = frac(rng, 12, neg=True), frac(rng, 12), frac(rng, 12)
            op1, op2 = rng.choice("+-"), rng.choice("*/")
            expr = f"({show(a)} {op1} {show(b)}) {OPS[op2]} {opnd(c)}"
            inner = combine(a, op1, b, steps)
            value = combine(inner, op2, c, steps)
            wrong = (a + b if op1 == "+" else a - b) * (1 / c if op2 == "*" else c)
        elif level == 3:
            d = Rational(rng.choice((1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23)), rng.choice((4, 8, 10, 20, 25)))
            a, b = frac(rng, 15, neg=True), frac(rng, 9)
            op1, op2 = rng.choice("+-"), rng.choice("*/")
            dec = decimal_or_fraction(d)
            expr = f"{dec} {op1} {opnd(a)} {OPS[op2]} {opnd(b)}"
            steps.append(f"Write the decimal as a fraction: {dec} = {plain(d)}.")
            steps.append(f"{OPS[op2]} comes before {op1}.")
            prod = combine(a, op2, b, steps)
            value = combine(d, op1, prod, steps)
            wrong = (d + a if op1 == "+" else d - a) * (b if op2 == "*" else 1 / b)
        else:
            a, b, c, e = frac(rng, 9), frac(rng, 9), frac(rng, 9), frac(rng, 9)
            op1, op2 = rng.choice("+-"), rng.choice("+-")
            expr = f"({plain(a)} {op1} {plain(b)}) ÷ ({plain(c)} {op2} {plain(e)})"
            steps.append("Simplify the numerator and the denominator, then divide.")
            top = combine(a, op1, b, steps)
            bottom = combine(c, op2, e, steps)
            if bottom == 0:
                raise Retry()
            value = combine(top, "/", bottom, steps)
            wrong = top * bottom
        if wrong is None or wrong == value:
            wrong = value + Rational(1, int(value.q) + 1)
        answer = tex(value)
        return Problem(
            question=f"Compute {expr}. Give the answer as a fraction in lowest terms (or an integer).",
            answer=answer, steps=steps, distractor=tex(wrong), meta={"expression": expr},
        )


register_family(Fractions)
