"""Answer extraction: the one place that decides which part of a response is the final answer.

Contract (DESIGN.md): the answer region is the text after the last ``</think>`` (the whole
response when there is no think block; nothing when a ``<think>`` was opened and never closed,
which is a truncated response). Inside it, the final answer is the last ``<answer>...</answer>``
block, or, for math, the last ``\\boxed{...}`` (nested braces handled).
"""

from __future__ import annotations

import re

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")


def answer_region(response: str) -> str | None:
    """Text after the last ``</think>``; None when a think block was opened but never closed."""
    if not isinstance(response, str):
        return None
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return response[close + len(THINK_CLOSE):]
    if THINK_OPEN in response:
        return None
    return response


def answer_tags(text: str) -> list[str]:
    """Contents of every ``<answer>...</answer>`` block, in order."""
    return _ANSWER_RE.findall(text)


def boxed_all(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` in order, with nested braces; unbalanced ones skipped."""
    out: list[str] = []
    for match in _BOXED_RE.finditer(text):
        depth, start = 1, match.end()
        i = start
        while i < len(text) and depth:
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
                i += 2  # escaped brace \{ or \} is content, not structure
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        if depth == 0:
            out.append(text[start:i - 1])
    return out


def last_boxed(text: str) -> str | None:
    found = boxed_all(text)
    return found[-1] if found else None


def extract_answer(response: str, *, boxed: bool = False) -> str | None:
    """The final answer string, stripped; None when there is none.

    boxed=True (math) also accepts the last ``\\boxed{}`` when no answer tag is present, and unwraps
    a ``\\boxed{}`` inside the answer tag.
    """
    region = answer_region(response)
    if region is None:
        return None
    tags = answer_tags(region)
    if tags:
        ans = tags[-1].strip()
        if boxed:
            inner = last_boxed(ans)
            if inner is not None:
                ans = inner.strip()
        return ans
    if boxed:
        inner = last_boxed(region)
        if inner is not None:
            return inner.strip()
    return None
