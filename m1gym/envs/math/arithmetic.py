"""math/arithmetic: integer expressions where operator precedence matters.

Level 0: three numbers 1..9 with + - ×. Level 1: four numbers up to 20, parentheses. Level 2: five
numbers with negatives. Level 3: six numbers, exact division ÷ and squares. Level 4: seven numbers,
nested parentheses, powers, negatives up to 60. The solution reduces one operation per line in
precedence order; the distractor is the strict left-to-right reading (the classic mistake).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy

from .base import MathFamily, Problem, Retry, register_family

LEVELS = {
    # operands, max |number|, operators, allow negatives, parenthesis probability
    0: dict(n=3, hi=9, ops="+-*", neg=False, paren=0.0),
    1: dict(n=4, hi=20, ops="+-*", neg=False, paren=0.5),
    2: dict(n=5, hi=20, ops="+-*", neg=True, paren=0.5),
    3: dict(n=6, hi=30, ops="+-*/^", neg=True, paren=0.6),
    4: dict(n=7, hi=60, ops="+-*/^", neg=True, paren=0.8),
}
PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
SYMBOL = {"+": "+", "-": "-", "*": "×", "/": "÷", "^": "^"}
LIMIT = 10**7  # largest |intermediate value|


@dataclass
class Node:
    op: str | None = None          # None for a number
    value: int = 0
    left: "Node | None" = None
    right: "Node | None" = None
    paren: bool = False            # forced parentheses (the "with precedence" part)

    def leaf(self) -> bool:
        return self.op is None


def evaluate(node: Node) -> sympy.Integer:
    if node.leaf():
        return sympy.Integer(node.value)
    a, b = evaluate(node.left), evaluate(node.right)
    if node.op == "+":
        r = a + b
    elif node.op == "-":
        r = a - b
    elif node.op == "*":
        r = a * b
    elif node.op == "/":
        if b == 0 or a % b != 0:
            raise Retry()
        r = a / b
    else:
        if b < 0 or b > 3 or abs(a) > 15:
            raise Retry()
        r = a**b
    if abs(r) > LIMIT:
        raise Retry()
    return sympy.Integer(r)


def render(node: Node, parent_op: str | None = None, side: str = "") -> str:
    if node.leaf():
        s = str(node.value)
        return f"({s})" if node.value < 0 and (parent_op is not None) else s
    text = f"{render(node.left, node.op, 'l')} {SYMBOL[node.op]} {render(node.right, node.op, 'r')}"
    if node.op == "^":
        text = f"{render(node.left, node.op, 'l')}^{render(node.right, node.op, 'r')}"
    if parent_op is None:
        return text
    needs = node.paren or PREC[node.op] < PREC[parent_op]
    if PREC[node.op] == PREC[parent_op]:
        if side == "r" and parent_op in "-/":
            needs = True
        if side == "r" and parent_op in "+*" and node.op in "-/":
            needs = True
        if parent_op == "^":
            needs = True
    return f"({text})" if needs else text


def left_to_right(node: Node) -> int | None:
    """The value when every operator is applied left to right, ignoring precedence and parentheses."""
    tokens: list = []

    def flat(n: Node) -> None:
        if n.leaf():
            tokens.append(n.value)
        else:
            flat(n.left)
            tokens.append(n.op)
            flat(n.right)

    flat(node)
    acc = sympy.Integer(tokens[0])
    for op, val in zip(tokens[1::2], tokens[2::2]):
        if op == "+":
            acc += val
        elif op == "-":
            acc -= val
        elif op == "*":
            acc *= val
        elif op == "/":
            if val == 0 or acc % val:
                return None
            acc /= val
        else:
            if val < 0 or abs(acc) > 15 or val > 3:
                return None
            acc **= val
    return int(acc)


def reduce_once(node: Node) -> bool:
    """Replace the leftmost operation whose operands are both numbers by its value."""
    if node.leaf():
        return False
    if node.left.leaf() and node.right.leaf():
        node.value, node.op, node.left, node.right = int(evaluate(node)), None, None, None
        return True
    return reduce_once(node.left) or reduce_once(node.right)


def random_tree(rng: random.Random, n: int, cfg: dict) -> Node:
    if n == 1:
        v = rng.randint(1, cfg["hi"])
        if cfg["neg"] and rng.random() < 0.25:
            v = -v
        return Node(value=v)
    k = rng.randint(1, n - 1)
    op = rng.choice(cfg["ops"])
    if op == "^":  # small base, exponent 2 or 3 as a leaf
        base = Node(value=rng.randint(2, 9)) if k == 1 or rng.random() < 0.7 else random_tree(rng, 1, cfg)
        return Node(op="^", left=base if base.leaf() else base, right=Node(value=rng.choice((2, 2, 3))))
    if op == "/":  # divisor: a small leaf that divides the dividend exactly
        left = random_tree(rng, n - 1, cfg)
        v = int(evaluate(left))
        divisors = [d for d in range(2, 13) if v != 0 and v % d == 0]
        if not divisors:
            return Node(op="*", left=left, right=Node(value=rng.randint(2, 9)))
        return Node(op="/", left=left, right=Node(value=rng.choice(divisors)), paren=False)
    node = Node(op=op, left=random_tree(rng, k, cfg), right=random_tree(rng, n - k, cfg))
    if rng.random() < cfg["paren"]:
        node.paren = True
    return node


def count_leaves(node: Node) -> int:
    return 1 if node.leaf() else count_leaves(node.left) + count_leaves(node.right)


class Arithmetic(MathFamily):
    family = "arithmetic"
    description = "integer arithmetic with operator precedence and parentheses (levels 0-4)"

    def build(self, rng: random.Random, level: int) -> Problem:
        cfg = LEVELS[level]
        tree = random_tree(rng, cfg["n"], cfg)
        if tree.leaf() or count_leaves(tree) < 2:
            raise Retry()
        tree.paren = False
        answer = int(evaluate(tree))  # raises Retry on inexact division / overflow
        expr = render(tree)
        if level >= 1 and "(" not in expr and rng.random() < 0.5:
            raise Retry()  # keep most higher-level problems parenthesised
        steps = [f"Evaluate {expr}, doing parentheses first, then powers, then × and ÷, "
                 "then + and -, each from left to right."]
        work = tree
        while not work.leaf():
            reduce_once(work)
            steps.append(f"= {render(work)}")
        naive = left_to_right(tree)
        distractor = str(naive) if naive is not None and naive != answer else str(answer + rng.choice((-1, 1)) * rng.randint(1, 9))
        return Problem(
            question=f"Compute the value of {expr}.",
            answer=str(answer), steps=steps, distractor=distractor,
            meta={"expression": expr},
        )


register_family(Arithmetic)
