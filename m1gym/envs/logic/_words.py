"""Word and alphabet helpers shared by word_sorting and word_sorting_mistake (not a task module)."""

from __future__ import annotations

import random
import string

ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "qu", "r", "s", "t", "v", "w",
          "y", "z", "br", "ch", "cl", "dr", "fl", "gr", "pl", "sh", "sk", "st", "th", "tr", "x"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
CODAS = ["", "", "", "n", "r", "t", "s", "m", "l", "ck", "x", "ng", "v"]


def pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables))


def draw_words(rng: random.Random, n: int, shared: float, max_syll: int = 3) -> list[str]:
    """``n`` distinct lowercase words; with probability ``shared`` a word extends or shares a stem of
    an earlier word (so comparisons go past the first letters)."""
    words: list[str] = []
    seen: set[str] = set()
    guard = 0
    while len(words) < n:
        guard += 1
        if guard > 100 * n:
            raise RuntimeError("could not draw distinct words")
        if words and rng.random() < shared:
            base = rng.choice(words)
            cut = rng.randint(1, len(base))
            w = base[:cut] + (pseudo_word(rng, 1) if rng.random() < 0.8 else "")
            if rng.random() < 0.3:
                w = base[:cut]
        else:
            w = pseudo_word(rng, rng.randint(1, max_syll))
        if len(w) >= 2 and w not in seen:
            seen.add(w)
            words.append(w)
    return words


def make_alphabet(rng: random.Random, front: list[str]) -> str:
    rest = [c for c in string.ascii_lowercase if c not in front]
    return "".join(front) + "".join(rest)


def pick_front(rng: random.Random, words: list[str], n_front: int) -> list[str]:
    """Letters moved to the front, favouring letters that occur in the words (so the order matters)."""
    if n_front <= 0:
        return []
    if n_front >= 26:
        letters = list(string.ascii_lowercase)
        rng.shuffle(letters)
        return letters
    used = sorted({c for w in words for c in w})
    rng.shuffle(used)
    front = used[:n_front]
    others = [c for c in string.ascii_lowercase if c not in front]
    rng.shuffle(others)
    while len(front) < n_front:
        front.append(others.pop())
    return front


def sort_key(alphabet: str):
    rank = {c: i for i, c in enumerate(alphabet)}
    return lambda w: [rank[c] for c in w]


def describe_alphabet(front: list[str], alphabet: str) -> str:
    if not front:
        return "Use the usual English alphabet order a < b < ... < z."
    if len(front) >= 26:
        return ("Use this alphabet, which replaces the usual letter order completely (earliest first): "
                + " ".join(alphabet) + ".")
    return (f"Use a modified alphabet: the letters {', '.join(front)} come first, in that order, and are "
            f"followed by all other letters in their usual order. The full order is: {' '.join(alphabet)}.")


COMPARE_RULE = ("Words are compared letter by letter from the left; the first differing letter decides, "
                "and a word that is a prefix of a longer word comes first.")


def first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"letter {i + 1}: {x} vs {y}"
    return "prefix"
