"""math/linear and math/systems: linear equations in one unknown, and 2x2 linear systems.

linear, level 0: ax + b = c (integer root). 1: unknowns on both sides. 2: rational root.
3: brackets a(x + b) = c(x - d) + e. 4: fractional coefficients x/a + b = x/c + d.

systems, level 0: small integer coefficients, integer solution. 1: larger coefficients.
2: one equation given as y = mx + k. 3: rational solution. 4: equations with the unknowns on both
sides. The answer is the ordered pair, written ``x = a, y = b``; an ordered pair ``(a, b)`` is
compared in (x, y) order.
"""

from __future__ import annotations

import random

import sympy
from sympy import Rational

from .base import MathFamily, Problem, Retry, plain, poly_text, register_family, tex

X, Y = sympy.symbols("x y")


def nz(rng: random.Random, lo: int, hi: int) -> int:
    v = 0
    while v == 0:
        v = rng.randint(lo, hi)
    return v


def lin(a: Rational, b: Rational) -> str:
    """a x + b as text."""
    return poly_text(a * X + b, X)


class Linear(MathFamily):
    family = "linear"
    description = "linear equations in one unknown: integer, rational, bracketed and fractional (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            a, root = nz(rng, 2, 9), rng.randint(-10, 10)
            b = rng.randint(-20, 20)
            c = a * root + b
            lhs, rhs = a * X + b, sympy.Integer(c)
            text = f"{lin(a, b)} = {c}"
        elif level in (1, 2):
            a, c = nz(rng, -9, 9), nz(rng, -9, 9)
            if a == c:
                raise Retry()
            if level == 1:
                root = rng.randint(-12, 12)
                b = rng.randint(-30, 30)
                d = (a - c) * root + b
            else:
                b, d = rng.randint(-30, 30), rng.randint(-30, 30)
                if (d - b) % (a - c) == 0:
                    raise Retry()
            lhs, rhs = a * X + b, c * X + d
            text = f"{lin(a, b)} = {lin(c, d)}"
        elif level == 3:
            a, c = nz(rng, 2, 9), nz(rng, 2, 9)
            b, d, e = nz(rng, -9, 9), rng.randint(1, 9), rng.randint(-20, 20)
            if a == c:
                raise Retry()
            lhs, rhs = a * (X + b), c * (X - d) + e
            e_txt = f" + {e}" if e > 0 else (f" - {-e}" if e < 0 else "")
            text = f"{a}(x {'+' if b > 0 else '-'} {abs(b)}) = {c}(x - {d}){e_txt}"
            steps.append(f"Expand the brackets: {lin(a, a * b)} = {lin(c, -c * d + e)}")
        else:
            p, q = rng.sample((2, 3, 4, 5, 6, 8, 10), 2)
            b, d = rng.randint(-9, 9), rng.randint(-9, 9)
            if b == d:
                raise Retry()
            lhs, rhs = X / p + b, X / q + d
            text = f"x/{p} {'+' if b >= 0 else '-'} {abs(b)} = x/{q} {'+' if d >= 0 else '-'} {abs(d)}"
            m = sympy.ilcm(p, q)
            steps.append(f"Multiply both sides by {m}: {lin(Rational(m, p), m * b)} = {lin(Rational(m, q), m * d)}")
        scale = sympy.ilcm(p, q) if level == 4 else 1
        diff = sympy.expand((lhs - rhs) * scale)
        coef, const = diff.coeff(X, 1), diff.coeff(X, 0)
        if coef == 0:
            raise Retry()
        root = sympy.Rational(-const, coef)
        assert sympy.simplify(lhs.subs(X, root) - rhs.subs(X, root)) == 0
        steps.append(f"Collect x on the left and numbers on the right: {plain(coef)}x = {plain(-const)}")
        steps.append(f"Divide by {plain(coef)}: x = {plain(root)}")
        wrong = const / coef if const != 0 else root + 1  # the sign mistake
        if wrong == root:
            wrong = root + 1
        return Problem(question=f"Solve for x: {text}", answer=tex(root), steps=steps, distractor=tex(wrong),
                       meta={"equation": text})


def eq_text(a: int, b: int, c: int) -> str:
    """a x + b y = c."""
    parts = []
    for coef, var in ((a, "x"), (b, "y")):
        if coef == 0:
            continue
        mag = "" if abs(coef) == 1 else str(abs(coef))
        sign = "-" if coef < 0 else "+"
        parts.append((("-" if sign == "-" else "") if not parts else f" {sign} ") + f"{mag}{var}")
    return "".join(parts) + f" = {c}"


class Systems(MathFamily):
    family = "systems"
    description = "systems of two linear equations in x and y, answer as the pair (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        hi = (5, 9, 9, 12, 9)[level]
        a1, b1, a2, b2 = (nz(rng, -hi, hi) for _ in range(4))
        det = a1 * b2 - a2 * b1
        if det == 0:
            raise Retry()
        if level == 3:
            c1, c2 = rng.randint(-20, 20), rng.randint(-20, 20)
            xs = Rational(c1 * b2 - c2 * b1, det)
            ys = Rational(a1 * c2 - a2 * c1, det)
            if xs.q == 1 and ys.q == 1:
                raise Retry()
        else:
            xs, ys = Rational(rng.randint(-9, 9)), Rational(rng.randint(-9, 9))
            c1, c2 = a1 * xs + b1 * ys, a2 * xs + b2 * ys
        e1 = eq_text(a1, b1, c1)
        if level == 2:  # second equation solved for y
            m, k = nz(rng, -6, 6), rng.randint(-10, 10)
            a2, b2, c2 = -m, 1, k
            if a1 * b2 - a2 * b1 == 0:
                raise Retry()
            ys = m * xs + k
            c1 = a1 * xs + b1 * ys
            e1 = eq_text(a1, b1, c1)
            e2 = f"y = {poly_text(m * X + k, X)}"
            steps.append(f"Substitute y = {poly_text(m * X + k, X)} into the first equation.")
        elif level == 4:  # unknowns on both sides of the second equation
            s = nz(rng, -5, 5)
            # a2 x + b2 y = c2  written as (a2 + s) x + b2 y = s x + c2
            e2 = f"{eq_text(a2 + s, b2, 0).split(' = ')[0]} = {poly_text(s * X + c2, X)}"
            steps.append(f"Rewrite the second equation as {eq_text(a2, b2, c2)}.")
        else:
            e2 = eq_text(a2, b2, c2)
        d = a1 * b2 - a2 * b1
        steps.append(f"Eliminate y: multiply the first equation by {b2} and the second by {b1}, then subtract: "
                     f"{d}x = {plain(c1 * b2 - c2 * b1)}, so x = {plain(xs)}.")
        steps.append(f"Substitute back to get y = {plain(ys)}.")
        steps.append(f"Check: {a1}·{plain(xs)} + {b1}·{plain(ys)} = {plain(a1 * xs + b1 * ys)}.")
        answer = f"x = {tex(xs)}, y = {tex(ys)}"
        distractor = f"x = {tex(ys)}, y = {tex(xs)}" if xs != ys else f"x = {tex(xs + 1)}, y = {tex(ys)}"
        return Problem(
            question=(f"Solve the system of equations:\n{e1}\n{e2}\n"
                      "Give the answer as x = ..., y = ... (or as the ordered pair (x, y))."),
            answer=answer, steps=steps, distractor=distractor,
        )


register_family(Linear)
register_family(Systems)
