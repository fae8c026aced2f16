"""Bracket helpers shared by the three dyck_language tasks (not a task module itself)."""

from __future__ import annotations

import random

from .base import AnswerParseError, strip_fences

PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
OPENERS = "([{<"
CLOSERS = ")]}>"
CLOSE_TO_OPEN = {c: o for o, c in PAIRS.items()}


def openers(n_types: int) -> str:
    return OPENERS[:max(1, min(4, n_types))]


def first_error(seq: str) -> tuple[int, list[str]]:
    """(1-based index of the first closer with no matching opener, or -1; stack left at the end)."""
    stack: list[str] = []
    for i, ch in enumerate(seq, 1):
        if ch in PAIRS:
            stack.append(ch)
        elif ch in CLOSE_TO_OPEN:
            if not stack or stack[-1] != CLOSE_TO_OPEN[ch]:
                return i, stack
            stack.pop()
        else:
            raise ValueError(f"not a bracket: {ch!r}")
    return -1, stack


def is_balanced(seq: str) -> bool:
    err, stack = first_error(seq)
    return err == -1 and not stack


def completion(prefix: str) -> str:
    """The shortest string that makes ``prefix`` balanced (unique): the closers of the open stack."""
    err, stack = first_error(prefix)
    if err != -1:
        raise ValueError(f"prefix has an unmatched closer at {err}")
    return "".join(PAIRS[o] for o in reversed(stack))


def random_balanced(rng: random.Random, n_pairs: int, kinds: str, p_open: float = 0.5) -> str:
    """A random balanced word with ``n_pairs`` bracket pairs of the given opener kinds."""
    out: list[str] = []
    stack: list[str] = []
    opens_left = n_pairs
    while opens_left or stack:
        if opens_left and (not stack or rng.random() < p_open):
            o = rng.choice(kinds)
            stack.append(o)
            out.append(o)
            opens_left -= 1
        else:
            out.append(PAIRS[stack.pop()])
    return "".join(out)


def random_prefix(rng: random.Random, length: int, final_depth: int, kinds: str, p_open: float = 0.5) -> str:
    """A random closer-consistent prefix of ``length`` chars whose open stack ends ``final_depth`` deep."""
    if (length - final_depth) % 2 or final_depth > length:
        raise ValueError("length and final depth must have the same parity, depth <= length")
    out: list[str] = []
    stack: list[str] = []
    for step in range(length):
        rest = length - step - 1  # steps after this one
        d = len(stack)
        can_open = abs(d + 1 - final_depth) <= rest
        can_close = d > 0 and abs(d - 1 - final_depth) <= rest
        if can_open and (not can_close or rng.random() < p_open):
            o = rng.choice(kinds)
            stack.append(o)
            out.append(o)
        else:
            out.append(PAIRS[stack.pop()])
    return "".join(out)


def spaced(seq: str) -> str:
    return " ".join(seq)


def parse_brackets(answer: str) -> str:
    """A bracket string from the answer: whitespace, surrounding quotes and backticks ignored."""
    text = strip_fences(answer).strip().strip("`").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    text = "".join(text.split())
    if not text:
        raise AnswerParseError("empty answer; expected a bracket sequence such as ([]{})")
    bad = sorted({c for c in text if c not in PAIRS and c not in CLOSE_TO_OPEN})
    if bad:
        raise AnswerParseError(f"answer holds non-bracket character(s) {''.join(bad[:10])!r}")
    return text


def stack_text(stack: list[str]) -> str:
    return " ".join(stack) if stack else "empty"
