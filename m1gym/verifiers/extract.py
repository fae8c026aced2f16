"""Answer extraction: the one place that decides which part of a response is the final answer.

Contract (DESIGN.md): the answer region is the text after the last ``</think>`` (the whole
response when there is no think block; nothing when a ``<think>`` was opened and never closed,
which is a truncated response). Inside it, the final answer is the last ``<answer>...</answer>``
block, or, for math, the last ``\\boxed{...}`` (nested braces handled).

Trailing junk voids the answer (a policy once learned ``<answer>3</answer></answer></answer>...``
up to the length cap). Precisely:

- when the region holds an answer tag (``<answer>`` or ``</answer>``, any case), it must hold a
  complete ``<answer>...</answer>`` block, and after the end of the last such block only whitespace
  may follow: a stray ``</answer>``, a second ``<answer>`` never closed, or any other text there
  means the response has no answer (``answer_region`` returns None);
- a ``\\boxed{}`` answer (math, no answer tag) may be followed by prose (``$\\boxed{3}$.``), but not
  by a brace that closes nothing (``\\boxed{3}}}}``): that also means no answer.

``split_region`` also names the rule a response broke; the format check reports it.
"""

from __future__ import annotations

import re

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TAG_RE = re.compile(r"</?answer>", re.IGNORECASE)


def _blocks(text: str) -> list[tuple[int, int, int]]:
    """(content start, content end, block end) of every ``<answer>...</answer>`` block, in order.

    Same blocks as the non-greedy regex ``<answer>(.*?)</answer>`` finds, but in one linear pass
    over the tags (the regex is quadratic on thousands of unclosed ``<answer>`` tags).
    """
    out: list[tuple[int, int, int]] = []
    start = None
    for tag in _TAG_RE.finditer(text):
        if tag.group()[1] != "/":
            if start is None:
                start = tag.end()
        elif start is not None:
            out.append((start, tag.start(), tag.end()))
            start = None
    return out


def split_region(response: str) -> tuple[str | None, str | None]:
    """(answer region, None), or (None, why the response has no answer region)."""
    if not isinstance(response, str):
        return None, "response is not text"
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        region = response[close + len(THINK_CLOSE):]
    elif THINK_OPEN in response:
        return None, "think block never closed (truncated response?)"
    else:
        region = response
    if _TAG_RE.search(region):
        blocks = _blocks(region)
        if not blocks:
            return None, "an answer tag but no complete <answer>...</answer> block"
        tail = region[blocks[-1][2]:]
        if tail.strip():
            return None, f"text after the final </answer>: {tail.strip()[:40]!r} (only whitespace may follow)"
    return region, None


def answer_region(response: str) -> str | None:
    """Text after the last ``</think>``; None when a think block was opened but never closed, or
    when the answer block is followed by trailing junk (module docstring)."""
    return split_region(response)[0]


def answer_tags(text: str) -> list[str]:
    """Contents of every ``<answer>...</answer>`` block, in order."""
    return [text[a:b] for a, b, _ in _blocks(text)]


def _boxed_spans(text: str) -> list[tuple[int, int]]:
    """(content start, end after the closing brace) of every balanced ``\\boxed{...}``, in order.

    Braces are matched in one pass with a stack (escaped ``\\{`` ``\\}`` are content), so thousands
    of unclosed ``\\boxed{`` cost linear time.
    """
    starts = [m.end() for m in _BOXED_RE.finditer(text)]
    if not starts:
        return []
    closing: dict[int, int] = {}  # index after an opening brace -> index after its closing brace
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2
            continue
        if ch == "{":
            stack.append(i + 1)
        elif ch == "}" and stack:
            closing[stack.pop()] = i + 1
        i += 1
    return [(start, closing[start]) for start in starts if start in closing]


def boxed_all(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` in order, with nested braces; unbalanced ones skipped."""
    return [text[start:end - 1] for start, end in _boxed_spans(text)]


def boxed_tail_problem(text: str) -> str | None:
    """Why the text after the last ``\\boxed{}`` voids it (a brace that closes nothing), or None."""
    spans = _boxed_spans(text)
    if not spans:
        return None
    depth, tail, i = 0, text[spans[-1][1]:], 0
    while i < len(tail):
        ch = tail[i]
        if ch == "\\":
            i += 2
            continue
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return f"a stray '}}' after the final \\boxed{{}}: {tail.strip()[:40]!r}"
        i += 1
    return None


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
    if boxed and boxed_tail_problem(region) is None:
        inner = last_boxed(region)
        if inner is not None:
            return inner.strip()
    return None
