"""Rule-checked instruction constraints: the 25 IFEval-style types.

Each constraint is a JSON-able dict ``{"type": <id>, ...params}``; ``check(constraint, text)``
returns (ok, reason) and never raises. ``describe(constraint)`` gives the instruction sentence shown
to the policy. The reward of an instruction-following response is the fraction of constraints met.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

Constraint = dict[str, Any]

_WORD_RE = re.compile(r"[A-Za-z\u00C0-\u024F\u0400-\u04FF]+(?:'[A-Za-z]+)?")
_SENT_RE = re.compile(r"[^.!?]*[A-Za-z0-9][^.!?]*[.!?]+")

#: a few common words per language; the language whose words dominate is the response language
_STOPWORDS = {
    "en": "the and is are of to in that it for with as was on be this have not you they",
    "fr": "le la les et est des un une que qui dans pour pas sur au avec ce il elle",
    "de": "der die das und ist nicht ein eine zu den mit sich des auf für im dem",
    "es": "el la los las y es de que en un una por con para no se del al",
    "it": "il lo la gli le e è di che un una per con non si del della nel",
    "pt": "o a os as e é de que em um uma para com não se do da no",
}
_STOPWORDS = {k: set(v.split()) for k, v in _STOPWORDS.items()}
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
                  "pt": "Portuguese", "ru": "Russian"}


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def sentences(text: str) -> list[str]:
    return [s for s in _SENT_RE.findall(text) if s.strip()]


def detect_language(text: str) -> str | None:
    ws = [w.lower() for w in words(text)]
    if not ws:
        return None
    cyr = sum(1 for w in ws if re.search(r"[\u0400-\u04FF]", w))
    if cyr > len(ws) / 2:
        return "ru"
    counts = {lang: sum(w in sw for w in ws) for lang, sw in _STOPWORDS.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else None


def _cmp(n: int, relation: str, target: int) -> bool:
    return n >= target if relation == "at least" else n < target


def _paragraphs_stars(text: str) -> list[str]:
    return [p for p in re.split(r"\s*\*\*\*\s*", text.strip()) if p.strip()]


def _paragraphs_blank(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


# ---- the 25 checks: (text, params) -> (ok, reason) --------------------------------------------

def _keywords(t, c):
    low = t.lower()
    missing = [k for k in c["keywords"] if not re.search(rf"\b{re.escape(k.lower())}\b", low)]
    return not missing, f"missing keywords {missing}" if missing else "ok"


def _frequency(t, c):
    n = len(re.findall(rf"\b{re.escape(c['word'].lower())}\b", t.lower()))
    return _cmp(n, c["relation"], c["n"]), f"'{c['word']}' appears {n} times"


def _forbidden(t, c):
    found = [k for k in c["forbidden"] if re.search(rf"\b{re.escape(k.lower())}\b", t.lower())]
    return not found, f"forbidden words used: {found}" if found else "ok"


def _letter_frequency(t, c):
    n = t.lower().count(c["letter"].lower())
    return _cmp(n, c["relation"], c["n"]), f"letter '{c['letter']}' appears {n} times"


def _language(t, c):
    lang = detect_language(t)
    return lang == c["language"], f"detected language {lang}"


def _n_sentences(t, c):
    n = len(sentences(t))
    return _cmp(n, c["relation"], c["n"]), f"{n} sentences"


def _n_paragraphs(t, c):
    n = len(_paragraphs_stars(t))
    return n == c["n"], f"{n} paragraphs separated by ***"


def _n_words(t, c):
    n = len(words(t))
    return _cmp(n, c["relation"], c["n"]), f"{n} words"


def _nth_paragraph(t, c):
    paras = _paragraphs_blank(t)
    if len(paras) != c["n"]:
        return False, f"{len(paras)} paragraphs, expected {c['n']}"
    first = words(paras[c["nth"] - 1])
    ok = bool(first) and first[0].lower() == c["first_word"].lower()
    return ok, f"paragraph {c['nth']} starts with {first[0] if first else None!r}"


def _placeholders(t, c):
    n = len(re.findall(r"\[[^\[\]\n]+\]", t))
    return n >= c["n"], f"{n} placeholders"


def _postscript(t, c):
    marker = c.get("marker", "P.S.")
    ok = re.search(rf"^\s*{re.escape(marker)}", t, re.IGNORECASE | re.MULTILINE) is not None
    return ok, "postscript found" if ok else f"no line starting with {marker}"


def _bullets(t, c):
    n = len(re.findall(r"^\s*[*-]\s+\S", t, re.MULTILINE))
    return n == c["n"], f"{n} bullet points"


CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def _constrained(t, c):
    ok = t.strip() in CONSTRAINED_OPTIONS
    return ok, "one of the allowed answers" if ok else "not one of the allowed answers"


def _highlighted(t, c):
    n = len([h for h in re.findall(r"\*([^\n*]+)\*", t) if h.strip()])
    return n >= c["n"], f"{n} highlighted sections"


def _sections(t, c):
    marker = c.get("marker", "SECTION")
    n = len(re.findall(rf"^\s*{re.escape(marker)}\s+\d+", t, re.MULTILINE))
    return n == c["n"], f"{n} sections marked {marker} X"


def _json(t, c):
    s = t.strip()
    s = re.sub(r"^```(?:json)?\s*|\s*```$", "", s)
    try:
        json.loads(s)
        return True, "valid JSON"
    except (ValueError, RecursionError):
        return False, "not valid JSON"


def _title(t, c):
    ok = re.search(r"<<[^\n<>]+>>", t) is not None
    return ok, "title found" if ok else "no <<title>>"


def _two_responses(t, c):
    parts = t.split("******")
    ok = len(parts) == 2 and all(p.strip() for p in parts) and parts[0].strip() != parts[1].strip()
    return ok, "two different responses" if ok else "expected exactly two different responses split by ******"


def _repeat_prompt(t, c):
    ok = t.strip().lower().startswith(c["prompt"].strip().lower())
    return ok, "request repeated first" if ok else "does not start with the request repeated word for word"


def _end_phrase(t, c):
    ok = t.strip().lower().endswith(c["phrase"].strip().lower())
    return ok, "ends with the phrase" if ok else f"does not end with {c['phrase']!r}"


def _capital_frequency(t, c):
    n = len([w for w in words(t) if len(w) > 1 and w.isupper()])
    return _cmp(n, c["relation"], c["n"]), f"{n} all-capital words"


def _all_capitals(t, c):
    ok = t == t.upper() and any(ch.isalpha() for ch in t)
    return ok, "all capitals" if ok else "has lowercase letters"


def _all_lowercase(t, c):
    ok = t == t.lower() and any(ch.isalpha() for ch in t)
    return ok, "all lowercase" if ok else "has capital letters"


def _no_comma(t, c):
    return "," not in t, "no commas" if "," not in t else "uses commas"


def _quotation(t, c):
    s = t.strip()
    ok = len(s) >= 2 and s[0] == '"' and s[-1] == '"'
    return ok, "wrapped in double quotes" if ok else "not wrapped in double quotes"


CHECKS: dict[str, Callable[[str, Constraint], tuple[bool, str]]] = {
    "keywords:existence": _keywords,
    "keywords:frequency": _frequency,
    "keywords:forbidden_words": _forbidden,
    "keywords:letter_frequency": _letter_frequency,
    "language:response_language": _language,
    "length_constraints:number_sentences": _n_sentences,
    "length_constraints:number_paragraphs": _n_paragraphs,
    "length_constraints:number_words": _n_words,
    "length_constraints:nth_paragraph_first_word": _nth_paragraph,
    "detectable_content:number_placeholders": _placeholders,
    "detectable_content:postscript": _postscript,
    "detectable_format:number_bullet_lists": _bullets,
    "detectable_format:constrained_response": _constrained,
    "detectable_format:number_highlighted_sections": _highlighted,
    "detectable_format:multiple_sections": _sections,
    "detectable_format:json_format": _json,
    "detectable_format:title": _title,
    "combination:two_responses": _two_responses,
    "combination:repeat_prompt": _repeat_prompt,
    "startend:end_checker": _end_phrase,
    "change_case:capital_word_frequency": _capital_frequency,
    "change_case:english_capital": _all_capitals,
    "change_case:english_lowercase": _all_lowercase,
    "punctuation:no_comma": _no_comma,
    "startend:quotation": _quotation,
}

_DESCRIBE: dict[str, Callable[[Constraint], str]] = {
    "keywords:existence": lambda c: f"Include the keywords {', '.join(repr(k) for k in c['keywords'])}.",
    "keywords:frequency": lambda c: f"Use the word '{c['word']}' {c['relation']} {c['n']} times.",
    "keywords:forbidden_words": lambda c: f"Do not use the words {', '.join(repr(k) for k in c['forbidden'])}.",
    "keywords:letter_frequency": lambda c: f"The letter '{c['letter']}' must appear {c['relation']} {c['n']} times.",
    "language:response_language": lambda c: f"Respond only in {LANGUAGE_NAMES.get(c['language'], c['language'])}.",
    "length_constraints:number_sentences": lambda c: f"Write {c['relation']} {c['n']} sentences.",
    "length_constraints:number_paragraphs": lambda c: f"Write exactly {c['n']} paragraphs separated by the markdown divider ***.",
    "length_constraints:number_words": lambda c: f"Write {c['relation']} {c['n']} words.",
    "length_constraints:nth_paragraph_first_word": lambda c: (
        f"Write exactly {c['n']} paragraphs separated by blank lines; paragraph {c['nth']} must start with the word '{c['first_word']}'."),
    "detectable_content:number_placeholders": lambda c: f"Include at least {c['n']} placeholders in square brackets, like [address].",
    "detectable_content:postscript": lambda c: f"End with a postscript starting with {c.get('marker', 'P.S.')}",
    "detectable_format:number_bullet_lists": lambda c: f"Use exactly {c['n']} bullet points in markdown, like:\n* point one",
    "detectable_format:constrained_response": lambda c: f"Answer with exactly one of: {' / '.join(CONSTRAINED_OPTIONS)}",
    "detectable_format:number_highlighted_sections": lambda c: f"Highlight at least {c['n']} sections with markdown, like *highlighted section*.",
    "detectable_format:multiple_sections": lambda c: f"Write exactly {c['n']} sections, each starting with '{c.get('marker', 'SECTION')} X' on its own line.",
    "detectable_format:json_format": lambda c: "Wrap your entire output in JSON format.",
    "detectable_format:title": lambda c: "Give your answer a title wrapped in double angular brackets, like <<my title>>.",
    "combination:two_responses": lambda c: "Give two different responses separated by six asterisks: ******",
    "combination:repeat_prompt": lambda c: "First repeat the request word for word without change, then give your answer.",
    "startend:end_checker": lambda c: f"End your response with the exact phrase '{c['phrase']}'. No other words should follow it.",
    "change_case:capital_word_frequency": lambda c: f"Use words in ALL CAPITAL letters {c['relation']} {c['n']} times.",
    "change_case:english_capital": lambda c: "Your entire response must be in English and in capital letters only.",
    "change_case:english_lowercase": lambda c: "Your entire response must be in English and in lowercase letters only; no capital letters.",
    "punctuation:no_comma": lambda c: "Do not use any commas.",
    "startend:quotation": lambda c: "Wrap your entire response in double quotation marks.",
}

TYPES = tuple(CHECKS)


class ConstraintError(ValueError):
    pass


def validate(constraint: Any) -> Constraint:
    if not isinstance(constraint, dict) or constraint.get("type") not in CHECKS:
        raise ConstraintError(f"unknown constraint {constraint!r}; known types: {', '.join(TYPES)}")
    try:
        _DESCRIBE[constraint["type"]](constraint)
    except (KeyError, TypeError) as exc:
        raise ConstraintError(f"constraint {constraint['type']} lacks parameter {exc}") from None
    return constraint


def describe(constraint: Constraint) -> str:
    return _DESCRIBE[validate(constraint)["type"]](constraint)


def check(constraint: Constraint, text: str) -> tuple[bool, str]:
    """(ok, reason); never raises (a malformed constraint is a failed check with the reason)."""
    try:
        validate(constraint)
        if not isinstance(text, str):
            return False, "no text"
        return CHECKS[constraint["type"]](text, constraint)
    except Exception as exc:  # noqa: BLE001 - a check must not take scoring down
        return False, f"check error: {type(exc).__name__}: {exc}"[:200]


def check_all(constraints: list[Constraint], text: str) -> tuple[float, list[dict[str, Any]]]:
    """Fraction of constraints met, and a per-constraint table."""
    rows = []
    for c in constraints:
        ok, reason = check(c, text)
        rows.append({"type": c.get("type") if isinstance(c, dict) else None, "ok": ok, "reason": reason})
    frac = sum(r["ok"] for r in rows) / len(rows) if rows else 0.0
    return frac, rows
