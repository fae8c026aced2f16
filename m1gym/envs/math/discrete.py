"""math/counting, math/number_theory and math/probability.

counting, level 0: arrangements n! or ordered selections P(n, k). 1: committees C(n, k).
2: arrangements of a word with repeated letters. 3: "at least one" committees (complement), or
identical items into distinct boxes (stars and bars). 4: two people who refuse to sit together,
or committees with a fixed number from each of two groups.

number_theory, level 0: gcd or lcm of two numbers. 1: remainder of a sum/product. 2: a^b mod m by
repeated squaring. 3: number or sum of divisors. 4: smallest positive solution of a x ≡ b (mod m).

probability (answer a reduced fraction), level 0: one die or one draw. 1: the sum of two dice.
2: two draws without replacement. 3: exactly k heads in n fair coin flips. 4: at least one
success in n trials, or two draws of a matching colour.
"""

from __future__ import annotations

import random
from collections import Counter

import sympy
from sympy import Rational, binomial, factorial

from .base import MathFamily, Problem, Retry, plain, register_family, tex

WORDS = ("BANANA", "LETTER", "BALLOON", "COFFEE", "SUCCESS", "MISSISSIPPI", "TATTOO", "PEPPER", "ASSESS",
         "COMMITTEE", "GOOGOL", "PARALLEL", "REFERENCE", "BOOKKEEPER", "STATISTICS")
GROUPS = (("students", "seats in a row"), ("books", "places on a shelf"), ("runners", "lanes"))


def _letter_string(rng: random.Random) -> str:
    """A shuffled string of 3-5 distinct letters, 5-10 long, with at least one letter repeated."""
    letters = rng.sample("ABCDEFGHKLMNPRSTUW", rng.randint(3, 5))
    counts = [rng.randint(1, 3) for _ in letters]
    if max(counts) == 1:
        counts[0] = 2
    chars = [ch for ch, c in zip(letters, counts) for _ in range(c)][:10]
    rng.shuffle(chars)
    return "".join(chars)


class Counting(MathFamily):
    family = "counting"
    description = "permutations, combinations, multiset arrangements, complements, stars and bars (levels 0-4)"
    version = "2"  # 2: level 2 also draws random letter strings (issue 15: 60 answered a third of it)

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            n = rng.randint(3, 10)
            if rng.random() < 0.5:
                value = factorial(n)
                things, place = rng.choice((("different books", "placed on a shelf"), ("runners", "finish a race (no ties)"),
                                            ("different flags", "hung in a row"), ("students", "stand in a line")))
                question = f"In how many different orders can {n} {things} be {place}?"
                steps.append(f"Orderings of {n} distinct items: {n}! = {value}")
                wrong = n * n if n * n != value else value + 1
            else:
                k = rng.randint(2, min(4, n - 1))
                value = factorial(n) / factorial(n - k)
                offices = ["a president", "a secretary", "a treasurer", "a spokesperson"][:k]
                group = rng.choice(("club", "committee", "team", "society"))
                question = (f"A {group} has {n} members. In how many ways can it choose "
                            f"{', '.join(offices[:-1])} and {offices[-1]} (one person per office)?")
                steps.append(f"Ordered choices of {k} from {n}: P({n},{k}) = {n}!/({n}-{k})! = {value}")
                wrong = binomial(n, k)
        elif level == 1:
            n = rng.randint(6, 15)
            k = rng.randint(2, n - 2)
            value = binomial(n, k)
            question = f"How many different committees of {k} people can be chosen from {n} people?"
            steps.append(f"Order does not matter: C({n},{k}) = {n}!/({k}!·{n - k}!) = {value}")
            wrong = factorial(n) / factorial(n - k)
        elif level == 2:
            # half real words, half random letter strings: 15 fixed words gave 15 answers (a third
            # of level-2 tasks answered 60), which a policy memorises instead of counting
            word = rng.choice(WORDS) if rng.random() < 0.5 else _letter_string(rng)
            counts = Counter(word)
            value = factorial(len(word))
            for c in counts.values():
                value /= factorial(c)
            reps = ", ".join(f"{ch} {c} times" for ch, c in sorted(counts.items()) if c > 1)
            question = f"How many distinct arrangements of the letters of the word {word} are there?"
            steps.append(f"{word} has {len(word)} letters with repeats: {reps}.")
            denom = "·".join(f"{c}!" for _, c in sorted(counts.items()) if c > 1)
            steps.append(f"Arrangements = {len(word)}!/({denom}) = {value}")
            wrong = factorial(len(word))
        elif level == 3:
            if rng.random() < 0.5:
                a, b = rng.randint(3, 8), rng.randint(3, 8)
                k = rng.randint(2, min(a + b - 1, 6))
                if k > b:
                    raise Retry()
                value = binomial(a + b, k) - binomial(b, k)
                question = (f"A committee of {k} is chosen from {a} women and {b} men. "
                            f"How many committees contain at least one woman?")
                steps.append(f"All committees: C({a + b},{k}) = {binomial(a + b, k)}.")
                steps.append(f"Committees with no woman: C({b},{k}) = {binomial(b, k)}.")
                steps.append(f"At least one woman: {binomial(a + b, k)} - {binomial(b, k)} = {value}")
                wrong = a * binomial(a + b - 1, k - 1)
            else:
                n, k = rng.randint(4, 12), rng.randint(2, 5)
                value = binomial(n + k - 1, k - 1)
                question = (f"In how many ways can {n} identical candies be given to {k} children "
                            "(a child may get none)?")
                steps.append(f"Stars and bars: C({n} + {k} - 1, {k} - 1) = C({n + k - 1},{k - 1}) = {value}")
                wrong = binomial(n - 1, k - 1)
        else:
            if rng.random() < 0.5:
                n = rng.randint(4, 9)
                value = factorial(n) - 2 * factorial(n - 1)
                question = (f"In how many ways can {n} people sit in a row of {n} chairs if two of them, "
                            "Ann and Bob, refuse to sit next to each other?")
                steps.append(f"All orders: {n}! = {factorial(n)}.")
                steps.append(f"Orders with Ann and Bob together (glue them, 2 internal orders): 2·{n - 1}! = {2 * factorial(n - 1)}.")
                steps.append(f"Apart: {factorial(n)} - {2 * factorial(n - 1)} = {value}")
                wrong = factorial(n) - factorial(n - 1)
            else:
                a, b = rng.randint(4, 9), rng.randint(4, 9)
                i, j = rng.randint(1, 3), rng.randint(1, 3)
                value = binomial(a, i) * binomial(b, j)
                question = (f"A team is formed by choosing {i} of {a} juniors and {j} of {b} seniors. "
                            "How many different teams are possible?")
                steps.append(f"Juniors: C({a},{i}) = {binomial(a, i)}; seniors: C({b},{j}) = {binomial(b, j)}.")
                steps.append(f"Multiply: {binomial(a, i)} × {binomial(b, j)} = {value}")
                wrong = binomial(a + b, i + j)
        if wrong == value:
            wrong = value + 1
        return Problem(question=question, answer=tex(value), steps=steps, distractor=tex(wrong))


class NumberTheory(MathFamily):
    family = "number_theory"
    description = "gcd, lcm, remainders, modular powers, divisor counts and sums, linear congruences (levels 0-4)"
    version = "2"  # 2: remainders of 0 and 1 mostly redrawn (issue 15: "0" answered a quarter of level 1)
    # universal-answer probe: remainders mod 5-13 and divisor counts have small answer spaces; the
    # most common answer (4, 6 or 8) is ~7.5% of tasks
    chance_level = 0.10
    chance_reason = "small answer spaces (remainders mod 5-13, divisor counts): the most common answer is ~7.5%"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            g = rng.randint(2, 15)
            a, b = g * rng.randint(2, 20), g * rng.randint(2, 20)
            if a == b:
                raise Retry()
            if rng.random() < 0.5:
                value = sympy.gcd(a, b)
                question = f"What is the greatest common divisor of {a} and {b}?"
                x, y = a, b
                while y:
                    steps.append(f"{x} = {x // y}·{y} + {x % y}")
                    x, y = y, x % y
                steps.append(f"The last non-zero remainder is gcd = {value}.")
                wrong = sympy.lcm(a, b)
            else:
                value = sympy.lcm(a, b)
                d = sympy.gcd(a, b)
                question = f"What is the least common multiple of {a} and {b}?"
                steps.append(f"gcd({a}, {b}) = {d}, so lcm = {a}·{b}/{d} = {value}.")
                wrong = a * b if a * b != value else d
        elif level == 1:
            m = rng.randint(5, 13)
            nums = [rng.randint(100, 999) for _ in range(3)]
            if rng.random() < 0.5:
                value = sum(nums) % m
                question = f"What is the remainder when {' + '.join(map(str, nums))} is divided by {m}?"
                rems = [x % m for x in nums]
                steps.append("Reduce each term: " + ", ".join(f"{x} ≡ {r}" for x, r in zip(nums, rems)) + f" (mod {m}).")
                steps.append(f"{' + '.join(map(str, rems))} = {sum(rems)} ≡ {value} (mod {m}).")
            else:
                value = (nums[0] * nums[1] * nums[2]) % m
                question = f"What is the remainder when {nums[0]} × {nums[1]} × {nums[2]} is divided by {m}?"
                rems = [x % m for x in nums]
                steps.append("Reduce each factor: " + ", ".join(f"{x} ≡ {r}" for x, r in zip(nums, rems)) + f" (mod {m}).")
                steps.append(f"{' × '.join(map(str, rems))} = {rems[0] * rems[1] * rems[2]} ≡ {value} (mod {m}).")
            wrong = (value + 1) % m
        elif level == 2:
            a, b, m = rng.randint(2, 30), rng.randint(10, 200), rng.randint(7, 50)
            value = pow(a, b, m)
            question = f"What is {a}^{b} mod {m}?"
            steps.append(f"Write {b} in binary: {bin(b)[2:]}; square repeatedly mod {m}.")
            sq, e, acc = a % m, b, 1
            k = 0
            while e:
                if e & 1:
                    steps.append(f"{a}^{2 ** k} ≡ {sq}, multiply in: {acc}·{sq} ≡ {(acc * sq) % m}")
                    acc = (acc * sq) % m
                e >>= 1
                sq = (sq * sq) % m
                k += 1
            steps.append(f"So {a}^{b} ≡ {value} (mod {m}).")
            wrong = pow(a, b - 1, m)
            if wrong == value:
                wrong = (value + 1) % m
        elif level == 3:
            n = rng.randint(24, 2000)
            fac = sympy.factorint(n)
            if len(fac) < 2:
                raise Retry()
            pretty = " · ".join(f"{p}^{e}" if e > 1 else str(p) for p, e in sorted(fac.items()))
            steps.append(f"{n} = {pretty}.")
            if rng.random() < 0.5:
                value = sympy.divisor_count(n)
                question = f"How many positive divisors does {n} have?"
                steps.append("Number of divisors = " + " · ".join(f"({e}+1)" for _, e in sorted(fac.items()))
                             + f" = {value}.")
                wrong = value - 2
            else:
                value = sympy.divisor_sigma(n)
                question = f"What is the sum of all positive divisors of {n}?"
                steps.append("Sum of divisors = " + " · ".join(
                    f"(1 + {' + '.join(str(p ** i) for i in range(1, e + 1))})" for p, e in sorted(fac.items()))
                    + f" = {value}.")
                wrong = value - n
        else:
            m = rng.randint(7, 60)
            a = rng.randint(2, m - 1)
            if sympy.gcd(a, m) != 1:
                raise Retry()
            b = rng.randint(1, m - 1)
            inv = pow(a, -1, m)
            value = (b * inv) % m
            question = f"Find the smallest positive integer x such that {a}x ≡ {b} (mod {m})."
            steps.append(f"gcd({a}, {m}) = 1, so {a} has an inverse mod {m}: {a}·{inv} ≡ 1.")
            steps.append(f"x ≡ {b}·{inv} ≡ {value} (mod {m}).")
            if value == 0:
                raise Retry()
            wrong = (value + m // 2) % m or value + 1
        if level in (1, 2) and value in (0, 1) and rng.random() < 0.85:
            # a product mod a composite m is 0 far more often than 1/m: redraw most of those, so
            # the constant answers 0 and 1 stay near chance
            raise Retry()
        value = sympy.Integer(value)
        if wrong == value:
            wrong = value + 1
        return Problem(question=question, answer=tex(value), steps=steps, distractor=tex(wrong))


COLOURS = ("red", "blue", "green", "white", "black", "yellow")


class Probability(MathFamily):
    family = "probability"
    description = "dice, coins and draws without replacement; answers as reduced fractions (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        steps: list[str] = []
        if level == 0:
            if rng.random() < 0.5:
                faces = rng.choice((6, 8, 10, 12, 20))
                k = rng.randint(2, faces - 1)
                value = Rational(faces - k + 1, faces)
                question = f"A fair {faces}-sided die (faces 1 to {faces}) is rolled once. What is the probability of rolling at least {k}?"
                steps.append(f"Favourable faces: {k}..{faces}, that is {faces - k + 1} of {faces}.")
                wrong = Rational(faces - k, faces)
            else:
                r, b = rng.randint(1, 9), rng.randint(1, 9)
                value = Rational(r, r + b)
                question = f"A bag holds {r} red and {b} blue marbles. One marble is drawn at random. What is the probability it is red?"
                steps.append(f"{r} red out of {r + b} marbles: {r}/{r + b}.")
                wrong = Rational(r, b) if b != r + b else Rational(b, r + b)
        elif level == 1:
            sides = rng.choice((4, 6, 8))
            kind = rng.choice(("sum is", "sum is at least", "difference is"))
            if kind == "difference is":
                target = rng.randint(0, sides - 1)
                hit = lambda i, j: abs(i - j) == target  # noqa: E731
                event = f"the two numbers differ by {target}" if target else "both dice show the same number"
            else:
                target = rng.randint(3, 2 * sides - 1)
                hit = (lambda i, j: i + j == target) if kind == "sum is" else (lambda i, j: i + j >= target)
                event = f"the {kind} {target}"
            pairs = [(i, j) for i in range(1, sides + 1) for j in range(1, sides + 1) if hit(i, j)]
            total = sides * sides
            value = Rational(len(pairs), total)
            question = f"Two fair {sides}-sided dice (faces 1 to {sides}) are rolled. What is the probability that {event}?"
            shown = ", ".join(f"({i},{j})" for i, j in pairs[:12]) + (", ..." if len(pairs) > 12 else "")
            steps.append(f"There are {sides}×{sides} = {total} equally likely ordered outcomes.")
            steps.append(f"Favourable outcomes: {shown} — {len(pairs)} in all.")
            steps.append(f"Probability = {len(pairs)}/{total} = {plain(value)}")
            wrong = Rational(len(pairs), 2 * sides - 1) if len(pairs) < 2 * sides - 1 else Rational(len(pairs) - 1, total)
        elif level == 2:
            r, b = rng.randint(2, 9), rng.randint(2, 9)
            n = r + b
            value = Rational(r, n) * Rational(r - 1, n - 1)
            question = (f"A box contains {r} red and {b} blue balls. Two balls are drawn without replacement. "
                        "What is the probability that both are red?")
            steps.append(f"First red: {r}/{n}; then red again: {r - 1}/{n - 1}.")
            steps.append(f"{r}/{n} × {r - 1}/{n - 1} = {plain(value)}")
            wrong = Rational(r, n) ** 2  # with replacement
        elif level == 3:
            n = rng.randint(3, 10)
            k = rng.randint(0, n)
            value = binomial(n, k) * Rational(1, 2**n)
            question = f"A fair coin is flipped {n} times. What is the probability of exactly {k} heads?"
            steps.append(f"C({n},{k}) = {binomial(n, k)} sequences out of 2^{n} = {2**n}.")
            steps.append(f"{binomial(n, k)}/{2**n} = {plain(value)}")
            wrong = Rational(k, n) if Rational(k, n) != value else value / 2
        else:
            if rng.random() < 0.5:
                n = rng.randint(2, 5)
                p = Rational(1, rng.choice((2, 3, 4, 5, 6)))
                value = 1 - (1 - p) ** n
                question = (f"An event has probability {plain(p)} on each of {n} independent trials. "
                            "What is the probability that it happens at least once?")
                steps.append(f"Complement: it never happens, ({plain(1 - p)})^{n} = {plain((1 - p) ** n)}.")
                steps.append(f"At least once: 1 - {plain((1 - p) ** n)} = {plain(value)}")
                wrong = n * p if n * p != value else value / 2
            else:
                cols = rng.sample(COLOURS, 3)
                counts = [rng.randint(2, 6) for _ in cols]
                n = sum(counts)
                value = sum(Rational(c, n) * Rational(c - 1, n - 1) for c in counts)
                desc = ", ".join(f"{c} {col}" for c, col in zip(counts, cols))
                question = (f"An urn holds {desc} balls. Two balls are drawn without replacement. "
                            "What is the probability that they have the same colour?")
                for c, col in zip(counts, cols):
                    steps.append(f"Both {col}: {c}/{n} × {c - 1}/{n - 1} = {plain(Rational(c * (c - 1), n * (n - 1)))}")
                steps.append(f"Add the cases: {plain(value)}")
                wrong = sum(Rational(c, n) ** 2 for c in counts)
        if value <= 0 or value > 1:
            raise Retry()
        if wrong == value:
            wrong = value / 2
        return Problem(question=question + " Give the answer as a reduced fraction.", answer=tex(value),
                       steps=steps, distractor=tex(wrong))


register_family(Counting)
register_family(NumberTheory)
register_family(Probability)
