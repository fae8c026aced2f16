"""math/percentages: percent of a number, percent ratios, successive changes, reverse percentages.

Level 0: p% of n (whole-number answer). Level 1: "a is what percent of b". Level 2: an increase or
decrease by p%. Level 3: two successive changes (not the sum of the two rates). Level 4: the
original value before a change, or the percent change between two values. Answers are exact
(a terminating decimal or a fraction).
"""

from __future__ import annotations

import random

from sympy import Rational

from .base import MathFamily, Problem, Retry, decimal_or_fraction, register_family

ITEMS = ("a jacket", "a bicycle", "a laptop", "a concert ticket", "a pair of shoes", "a sofa", "a camera")


def num(q: Rational) -> str:
    return decimal_or_fraction(q)


class Percentages(MathFamily):
    family = "percentages"
    description = "percent of, percent ratio, percent increase/decrease, successive and reverse changes (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            p = rng.choice((5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 120, 150))
            n = rng.randint(1, 40) * 20
            value = Rational(p, 100) * n
            if value.q != 1:
                raise Retry()
            question = f"What is {p}% of {n}?"
            steps += [f"{p}% means {p}/100.", f"{p}/100 × {n} = {num(value)}"]
            wrong = Rational(n, p) if n % p == 0 and Rational(n, p) != value else value + p
        elif level == 1:
            b = rng.choice((8, 16, 20, 25, 40, 50, 80, 125, 200, 250, 400))
            a = rng.randint(1, 2 * b)
            value = Rational(a * 100, b)
            question = f"{a} is what percent of {b}? Give the number of percent."
            steps += [f"The fraction is {a}/{b}.", f"As a percent: {a}/{b} × 100 = {num(value)}"]
            wrong = Rational(b * 100, a) if Rational(b * 100, a) != value else value + 1
        elif level == 2:
            price = rng.randint(4, 60) * 5
            p = rng.choice((5, 10, 12, 15, 20, 25, 30, 35, 40, 45))
            up = rng.random() < 0.5
            factor = 1 + Rational(p, 100) if up else 1 - Rational(p, 100)
            value = price * factor
            word = "raised" if up else "reduced"
            question = f"The price of {rng.choice(ITEMS)} was ${price}. It is {word} by {p}%. What is the new price in dollars?"
            steps += [f"A {'rise' if up else 'cut'} of {p}% multiplies the price by {num(factor)}.",
                      f"{price} × {num(factor)} = {num(value)}"]
            wrong = price * Rational(p, 100)
        elif level == 3:
            price = rng.randint(2, 40) * 25
            p, q = rng.choice((10, 20, 25, 30, 40, 50)), rng.choice((10, 20, 25, 30, 40, 50))
            first_up = rng.random() < 0.5
            f1 = 1 + Rational(p, 100) if first_up else 1 - Rational(p, 100)
            f2 = 1 - Rational(q, 100) if first_up else 1 + Rational(q, 100)
            value = price * f1 * f2
            w1, w2 = ("increased", "decreased") if first_up else ("decreased", "increased")
            question = (f"A quantity of {price} is {w1} by {p}% and the result is then {w2} by {q}%. "
                        "What is the final value?")
            mid = price * f1
            steps += [f"After the first change: {price} × {num(f1)} = {num(mid)}",
                      f"After the second change: {num(mid)} × {num(f2)} = {num(value)}",
                      "(The two percentages do not simply add: the second applies to the new value.)"]
            net = Rational(p if first_up else -p, 100) + Rational(-q if first_up else q, 100)
            wrong = price * (1 + net)
            if wrong == value:
                wrong = value + 1
        else:
            if rng.random() < 0.5:
                p = rng.choice((10, 20, 25, 40, 50, 60, 75))
                up = rng.random() < 0.5
                factor = 1 + Rational(p, 100) if up else 1 - Rational(p, 100)
                original = rng.randint(2, 80) * 4
                final = original * factor
                if final.q != 1:
                    raise Retry()
                word = "an increase" if up else "a discount"
                question = (f"After {word} of {p}%, an amount is {final}. What was the amount before the change?")
                value = Rational(original)
                steps += [f"The new amount is the old one times {num(factor)}.",
                          f"Old amount = {final} ÷ {num(factor)} = {num(value)}"]
                wrong = final * (2 - factor)
                if wrong == value:
                    raise Retry()
            else:
                a = rng.randint(5, 200)
                b = rng.randint(5, 200)
                if a == b:
                    raise Retry()
                value = Rational((b - a) * 100, a)
                question = (f"A value changes from {a} to {b}. By what percent does it change? "
                            "Give the signed percent change (negative for a decrease), as a number of percent.")
                steps += [f"Change = {b} - {a} = {b - a}.",
                          f"Percent change = {b - a}/{a} × 100 = {num(value)}"]
                wrong = Rational((b - a) * 100, b)
                if wrong == value:
                    raise Retry()
        return Problem(question=question, answer=num(value), steps=steps, distractor=num(wrong))


register_family(Percentages)
