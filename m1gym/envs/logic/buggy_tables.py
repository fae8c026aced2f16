"""Buggy tables: repair a corrupted table following stated rules, then compute one statistic.

The generator keeps the clean table, corrupts a copy with the bug types of the level (each bug type
described exactly in the prompt, so the repair is unambiguous), and computes the gold value from
the clean table with exact Fraction arithmetic. Verifier (numeric EM): the answer must be a number
within half a unit of the second decimal of the exact value, i.e. a correct rounding to 2 decimals
(either rounding of an exact tie is accepted).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

NAMES = ["apple", "bolt", "cable", "desk", "easel", "fan", "glove", "hammer", "ink", "jacket", "kettle",
         "lamp", "mug", "nail", "oven", "pen", "quilt", "radio", "scarf", "towel", "umbrella", "vase",
         "wrench", "yarn", "zipper", "brush", "chair", "drill", "eraser", "fork"]
CATEGORIES = ["home", "tools", "office", "clothing"]
BUG_TYPES = ("duplicate", "cents", "sign", "missing", "case")
BUG_RULES = {
    "duplicate": "Some rows were copied: a row whose id already appeared is a duplicate and must be "
                 "dropped (keep the first occurrence).",
    "cents": "Some prices were entered in cents instead of dollars. Every genuine price is below 100, "
             "so a price of 100 or more must be divided by 100.",
    "sign": "Some quantities were entered with a wrong minus sign. Every genuine quantity is positive, "
            "so use the absolute value.",
    "missing": "Some quantities are missing and shown as N/A. They cannot be repaired: a statistic that "
               "needs the quantity (quantity or revenue) ignores those rows.",
    "case": "Category names were typed inconsistently (upper/lower case, extra spaces). Compare "
            "categories ignoring case and surrounding spaces.",
}
STATS = ("sum", "mean", "median", "max", "min")


@dataclass
class Knobs:
    rows: int = 6               # clean rows before corruption
    n_bugs: int = 1             # how many bug types are active
    bug_types: str = "duplicate"  # comma list the active types are drawn from
    bug_rate: float = 0.25      # share of rows hit by each bug type
    filter_category: bool = False  # statistic over one category only
    stats: str = "sum"          # comma list of statistics to draw from
    columns: str = "price,quantity"  # comma list of columns to draw from (revenue = price * quantity)

    def __post_init__(self) -> None:
        bugs = self.bug_types.split(",")
        if not set(bugs) <= set(BUG_TYPES) or not 1 <= self.n_bugs <= len(bugs):
            raise ValueError(f"bug_types must be a comma list from {BUG_TYPES} and 1 <= n_bugs <= its length")
        if not set(self.stats.split(",")) <= set(STATS) or self.rows < 3:
            raise ValueError(f"stats from {STATS}; rows >= 3")


def _median(xs: list[Fraction]) -> Fraction:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _stat(name: str, xs: list[Fraction]) -> Fraction:
    if name == "sum":
        return sum(xs, Fraction(0))
    if name == "mean":
        return sum(xs, Fraction(0)) / len(xs)
    if name == "median":
        return _median(xs)
    return max(xs) if name == "max" else min(xs)


def _money(x: Fraction) -> str:
    cents = x * 100
    return f"{int(cents) // 100}.{int(cents) % 100:02d}"


def _round2(x: Fraction) -> str:
    """Round half away from zero to 2 decimals."""
    sign = "-" if x < 0 else ""
    q = abs(x) * 100
    n = int(q) + (1 if q - int(q) >= Fraction(1, 2) else 0)
    return f"{sign}{n // 100}.{n % 100:02d}"


_NUM_RE = re.compile(r"^[-+]?\d{1,15}(?:\.\d{1,12})?$")


class BuggyTables(LogicTask):
    task_name = "buggy_tables"
    description = "Repair a corrupted table using the stated bug rules, then compute a statistic."
    answer_format = "a number with 2 decimals, e.g. 123.45"
    Knobs = Knobs
    level_table = {
        0: {"rows": 6, "n_bugs": 1, "bug_types": "duplicate", "stats": "sum", "columns": "quantity"},
        1: {"rows": 8, "n_bugs": 1, "bug_types": "duplicate,cents,sign", "stats": "sum,mean,max"},
        2: {"rows": 12, "n_bugs": 2, "bug_types": "duplicate,cents,sign,case", "filter_category": True,
            "stats": "sum,mean,median,max,min"},
        3: {"rows": 16, "n_bugs": 3, "bug_types": "duplicate,cents,sign,missing,case", "filter_category": True,
            "stats": "sum,mean,median,max,min", "columns": "price,quantity,revenue"},
        4: {"rows": 24, "n_bugs": 5, "bug_types": "duplicate,cents,sign,missing,case", "filter_category": True,
            "stats": "mean,median", "columns": "revenue", "bug_rate": 0.3},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        for _ in range(MAX_GENERATION_ATTEMPTS):
            bugs = sorted(rng.sample(k.bug_types.split(","), k.n_bugs))
            ids = rng.sample(range(100, 1000), k.rows)
            names = rng.sample(NAMES, k.rows)
            clean = []
            for i in range(k.rows):
                clean.append({"id": ids[i], "name": names[i], "category": rng.choice(CATEGORIES),
                              "price": rng.randint(1000, 9999), "quantity": rng.randint(1, 40)})  # price in cents
            if "missing" in bugs:
                for row in rng.sample(clean, max(1, round(k.bug_rate * k.rows))):
                    row["quantity"] = None
            shown = [dict(r) for r in clean]
            hit = max(1, round(k.bug_rate * k.rows))
            for bug in bugs:
                if bug == "cents":
                    for row in rng.sample(shown, hit):
                        row["price_cents"] = True
                elif bug == "sign":
                    for row in rng.sample([r for r in shown if r["quantity"] is not None], min(hit, k.rows - 1)):
                        row["quantity"] = -row["quantity"]
                elif bug == "case":
                    for row in rng.sample(shown, hit + 1):
                        c = row["category"]
                        row["category_text"] = rng.choice([c.upper(), c.title(), f" {c} ", f"{c.upper()} "])
            if "duplicate" in bugs:
                for row in rng.sample(shown, hit):
                    pos = rng.randint(shown.index(row) + 1, len(shown))
                    shown.insert(pos, dict(row))
            column = rng.choice(k.columns.split(","))
            stat = rng.choice(k.stats.split(","))
            category = rng.choice(CATEGORIES) if k.filter_category else None
            rows_used = [r for r in clean if (category is None or r["category"] == category)
                         and (column == "price" or r["quantity"] is not None)]
            if len(rows_used) < (3 if stat == "median" else 2):
                continue
            values = [self._value(r, column) for r in rows_used]
            exact = _stat(stat, values)
            table = self._render(shown)
            puzzle = {"table": table, "bugs": bugs, "column": column, "stat": stat, "category": category,
                      "exact": [exact.numerator, exact.denominator], "answer": _round2(exact),
                      "used_ids": [r["id"] for r in rows_used], "used_values": [_money(v) if column != "quantity"
                                                                               else str(v) for v in values]}
            if self.check(puzzle, puzzle["answer"]).reward == 1.0:
                return puzzle
        raise GenerationError(f"{self.name}: no instance for {k}")

    @staticmethod
    def _value(row: dict[str, Any], column: str) -> Fraction:
        price = Fraction(row["price"], 100)
        if column == "price":
            return price
        if column == "quantity":
            return Fraction(row["quantity"])
        return price * row["quantity"]

    @staticmethod
    def _render(rows: list[dict[str, Any]]) -> str:
        lines = ["| id | item | category | price | quantity |", "|---|---|---|---|---|"]
        for r in rows:
            price = str(r["price"]) if r.get("price_cents") else _money(Fraction(r["price"], 100))
            qty = "N/A" if r["quantity"] is None else str(r["quantity"])
            lines.append(f"| {r['id']} | {r['name']} | {r.get('category_text', r['category'])} | {price} | {qty} |")
        return "\n".join(lines)

    def prompt(self, p: dict[str, Any]) -> str:
        rules = "\n".join(f"- {BUG_RULES[b]}" for b in p["bugs"])
        what = {"price": "the price", "quantity": "the quantity",
                "revenue": "the revenue (price * quantity of the row)"}[p["column"]]
        scope = f"the rows of category '{p['category']}'" if p["category"] else "all rows"
        stat = {"sum": "the sum", "mean": "the mean (average)", "median": "the median (for an even count, the "
                "mean of the two middle values)", "max": "the maximum", "min": "the minimum"}[p["stat"]]
        return (
            f"The table below was corrupted. Known problems:\n{rules}\n\n{p['table']}\n\n"
            f"Repair the table, then compute {stat} of {what} over {scope}.\n"
            "Answer format: the number rounded to 2 decimals, digits only (no units), for example 1234.50"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        text = answer.strip().strip("`$").strip().replace(",", "")
        if not _NUM_RE.match(text):
            raise AnswerParseError(f"expected one number such as 1234.50, got {text[:40]!r}")
        got = Fraction(text)
        exact = Fraction(*p["exact"])
        # numeric EM: any correct rounding of the exact value to 2 decimals (half a cent of slack)
        if abs(got - exact) > Fraction(1, 200):
            return Score.fail(f"{text} is not {p['stat']} of {p['column']} after repair", format_ok=True)
        return Score.ok()

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["answer"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        fixes = ", ".join(p["bugs"])
        pairs = "; ".join(f"id {i}: {v}" for i, v in zip(p["used_ids"], p["used_values"]))
        scope = f" in category '{p['category']}'" if p["category"] else ""
        return (f"Repairs needed: {fixes}. After repair, the rows{scope} that count and their {p['column']}: "
                f"{pairs}.\nThe {p['stat']} is {p['answer']}.")

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: one of the counted values (a plausible but unjustified pick)."""
        return f"{float(rng.choice(p['used_values'])):.2f}"

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (buggy_tables verifier): the gold ``answer`` is one number with two decimals,
        compared as the last two-decimal number in the response. Our check takes any number within
        half a cent of the gold value (so "12.50" and "12.5" both pass)."""
        text = str(answer).strip() if answer is not None else ""
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            return None
        value = Fraction(text)
        return {"exact": [value.numerator, value.denominator], "answer": text, "stat": "the requested value",
                "column": "the table", "source": "synlogic"}


register_logic(BuggyTables)
