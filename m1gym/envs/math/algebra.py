"""math/quadratic and math/polynomial.

quadratic: all real roots as a set (order free). Level 0: monic, integer roots. 1: leading
coefficient != 1, integer roots. 2: rational roots. 3: irrational roots (the quadratic formula,
simplified radicals). 4: the equation is given in a non-standard form (products and terms on both
sides) and may have a double root or irrational roots.

polynomial: expansion and evaluation with a numeric answer (so an unexpanded restatement of the
question can never pass as an answer). Level 0: evaluate a quadratic. 1: evaluate a cubic at a
negative point. 2: a coefficient of the product of two polynomials. 3: a coefficient of (ax + b)^n.
4: a composition p(q(a)), or the remainder of p(x) divided by (x - a).
"""

from __future__ import annotations

import random

import sympy
from sympy import Rational

from .base import MathFamily, Problem, Retry, plain, poly_text, register_family, tex

X = sympy.Symbol("x")


def nz(rng: random.Random, lo: int, hi: int) -> int:
    v = 0
    while v == 0:
        v = rng.randint(lo, hi)
    return v


def roots_tex(roots: list) -> str:
    return ", ".join(tex(r) for r in sorted(roots, key=lambda r: float(r)))


def surd_roots(a: int, b: int, disc: int) -> list[str]:
    """(-b ± sqrt(disc)) / (2a) in lowest terms, as LaTeX: \\frac{9 - 3\\sqrt{5}}{2}, ... (ascending)."""
    k, m = 1, disc
    f = 2
    while f * f <= m:
        while m % (f * f) == 0:
            m //= f * f
            k *= f
        f += 1
    p, d = -b, 2 * a
    g = sympy.igcd(sympy.igcd(p, k), d)
    p, k, d = p // g, k // g, d // g
    if d < 0:
        p, d = -p, -d  # the ± absorbs the sign of k
    surd = f"{'' if k == 1 else k}\\sqrt{{{m}}}"
    out = []
    for sign in ("-", "+"):
        num = f"{p} {sign} {surd}" if p else (f"-{surd}" if sign == "-" else surd)
        out.append(num if d == 1 else f"\\frac{{{num}}}{{{d}}}")
    return out


class Quadratic(MathFamily):
    family = "quadratic"
    description = "real roots of quadratic equations, answered as a set (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            r1, r2 = rng.randint(-9, 9), rng.randint(-9, 9)
            poly = sympy.expand((X - r1) * (X - r2))
            text = f"{poly_text(poly, X)} = 0"
        elif level == 1:
            a = nz(rng, -4, 4)
            if a == 1:
                raise Retry()
            r1, r2 = rng.randint(-8, 8), rng.randint(-8, 8)
            poly = sympy.expand(a * (X - r1) * (X - r2))
            text = f"{poly_text(poly, X)} = 0"
        elif level == 2:
            p1, q1, p2, q2 = nz(rng, -7, 7), rng.randint(1, 5), nz(rng, -7, 7), rng.randint(1, 5)
            poly = sympy.expand((q1 * X - p1) * (q2 * X - p2))
            if Rational(p1, q1).q == 1 and Rational(p2, q2).q == 1:
                raise Retry()
            text = f"{poly_text(poly, X)} = 0"
        elif level == 3:
            a, b, c = nz(rng, 1, 3), rng.randint(-10, 10), rng.randint(-12, 12)
            disc = b * b - 4 * a * c
            if disc <= 0 or sympy.sqrt(disc).is_Rational:
                raise Retry()
            poly = a * X**2 + b * X + c
            text = f"{poly_text(poly, X)} = 0"
        else:
            # (x + m)(x + n) = k x + t, rearranged to standard form by the solver
            m, n, k = rng.randint(-6, 6), rng.randint(-6, 6), rng.randint(-5, 5)
            t = rng.randint(-10, 10)
            poly = sympy.expand((X + m) * (X + n) - k * X - t)
            disc = sympy.discriminant(poly, X)
            if disc < 0:
                raise Retry()
            fm, fn = (f"(x {'+' if v > 0 else '-'} {abs(v)})" if v else "x" for v in (m, n))
            left = "x^2" if fm == fn == "x" else (f"x{fn}" if fm == "x" else (f"x{fm}" if fn == "x" else fm + fn))
            right = poly_text(k * X + t, X)
            text = f"{left} = {right}"
            steps.append(f"Expand and move everything to the left: {poly_text(poly, X)} = 0")
        poly = sympy.Poly(poly, X)
        a, b, c = (sympy.Integer(v) for v in poly.all_coeffs())
        disc = b * b - 4 * a * c
        if disc < 0:
            raise Retry()
        roots = sorted(set(sympy.roots(poly, X, filter="R").keys()), key=lambda r: float(r))
        if not roots:
            raise Retry()
        steps.append(f"Here a = {a}, b = {b}, c = {c}; the discriminant is b^2 - 4ac = {disc}.")
        if disc == 0:
            steps.append(f"The discriminant is 0, so there is one (double) root x = -b/(2a) = {plain(roots[0])}.")
        elif sympy.sqrt(disc).is_Rational:
            steps.append(f"sqrt({disc}) = {sympy.sqrt(disc)}, so x = ({-b} ± {sympy.sqrt(disc)})/{2 * a}.")
            steps.append("The roots are " + " and ".join(plain(r) for r in roots) + ".")
        else:
            steps.append(f"x = ({-b} ± sqrt({disc}))/{2 * a}; sqrt({disc}) = {sympy.sqrt(disc)}.")
            steps.append("The roots are " + " and ".join(surd_roots(int(a), int(b), int(disc))) + ".")
        answer = roots_tex(roots)
        if disc > 0 and not sympy.sqrt(disc).is_Rational:
            answer = ", ".join(surd_roots(int(a), int(b), int(disc)))
        # distractor: the sign slip x = (b ± sqrt(D))/(2a), i.e. the negated roots
        wrong = sorted({-r for r in roots}, key=lambda r: float(r))
        if set(wrong) == set(roots):
            wrong = [r + 1 for r in roots]
        return Problem(
            question=f"Find all real solutions of {text}. List every distinct root, separated by commas.",
            answer=answer, steps=steps, distractor=roots_tex(wrong),
            meta={"equation": text},
        )


def rand_poly(rng: random.Random, degree: int, hi: int) -> sympy.Expr:
    coeffs = [nz(rng, -hi, hi)] + [rng.randint(-hi, hi) for _ in range(degree)]
    return sum(c * X ** (degree - i) for i, c in enumerate(coeffs))


class Polynomial(MathFamily):
    family = "polynomial"
    description = "polynomial evaluation, coefficients of expansions, composition and remainders (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level in (0, 1):
            p = rand_poly(rng, 2 if level == 0 else 3, 6 if level == 0 else 5)
            a = rng.randint(-5, 5) if level == 0 else -rng.randint(1, 4)
            value = p.subs(X, a)
            question = f"Let p(x) = {poly_text(p, X)}. Compute p({a})."
            terms = sympy.Poly(p, X).terms()
            parts = [f"{plain(c)}·({a})^{k}" if k > 1 else (f"{plain(c)}·({a})" if k == 1 else plain(c))
                     for (k,), c in terms]
            steps.append(f"p({a}) = " + " + ".join(parts))
            steps.append(f"= {' + '.join(plain(c * sympy.Integer(a) ** k) for (k,), c in terms)} = {value}")
            wrong = p.subs(X, -a) if p.subs(X, -a) != value else value + 1
        elif level == 2:
            f = nz(rng, -5, 5) * X + rng.randint(-6, 6)
            g = rand_poly(rng, 2, 5)
            prod = sympy.expand(f * g)
            k = rng.randint(0, 3)
            value = prod.coeff(X, k)
            question = f"Expand ({poly_text(f, X)})({poly_text(g, X)}). What is the coefficient of x^{k}?"
            if k == 0:
                question = f"Expand ({poly_text(f, X)})({poly_text(g, X)}). What is the constant term?"
            steps.append(f"Multiply term by term: ({poly_text(f, X)})({poly_text(g, X)}) = {poly_text(prod, X)}")
            steps.append(f"The coefficient of x^{k} is {value}.")
            wrong = prod.coeff(X, (k + 1) % 4) if prod.coeff(X, (k + 1) % 4) != value else value + 1
        elif level == 3:
            a, b = nz(rng, -3, 3), nz(rng, -4, 4)
            n = rng.randint(3, 6)
            k = rng.randint(1, n - 1)
            value = sympy.binomial(n, k) * sympy.Integer(a) ** k * sympy.Integer(b) ** (n - k)
            question = f"What is the coefficient of x^{k} in the expansion of ({poly_text(a * X + b, X)})^{n}?"
            steps.append(f"By the binomial theorem the x^{k} term is C({n},{k}) ({a}x)^{k} ({b})^{n - k}.")
            steps.append(f"C({n},{k}) = {sympy.binomial(n, k)}, so the coefficient is "
                         f"{sympy.binomial(n, k)} × {paren_int(a)}^{k} × {paren_int(b)}^{n - k} = {value}")
            wrong = sympy.Integer(a) ** k * sympy.Integer(b) ** (n - k)  # forgot the binomial coefficient
            if wrong == value:
                wrong = value + sympy.binomial(n, k)
        else:
            if rng.random() < 0.5:
                p = rand_poly(rng, 2, 4)
                q = nz(rng, -3, 3) * X + rng.randint(-4, 4)
                a = rng.randint(-3, 3)
                inner = q.subs(X, a)
                value = p.subs(X, inner)
                question = f"Let p(x) = {poly_text(p, X)} and q(x) = {poly_text(q, X)}. Compute p(q({a}))."
                steps.append(f"First q({a}) = {inner}.")
                steps.append(f"Then p({inner}) = {value}.")
                wrong = q.subs(X, p.subs(X, a))
                if wrong == value:
                    wrong = value + 1
            else:
                p = rand_poly(rng, rng.randint(3, 4), 6)
                a = nz(rng, -3, 3)
                value = p.subs(X, a)
                question = f"What is the remainder when {poly_text(p, X)} is divided by {poly_text(X - a, X)}?"
                steps.append(f"By the remainder theorem the remainder is p({a}).")
                steps.append(f"p({a}) = {value}")
                wrong = p.subs(X, -a) if p.subs(X, -a) != value else value + 1
        return Problem(question=question, answer=tex(value), steps=steps, distractor=tex(wrong))


def paren_int(v: int) -> str:
    return f"({v})" if v < 0 else str(v)


register_family(Quadratic)
register_family(Polynomial)
