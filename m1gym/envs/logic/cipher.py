"""Cipher: encrypt or decrypt a message with classical ciphers whose rules are given in full.

Ciphers: Caesar, Atbash, affine, Vigenere (substitution; spaces kept) and rail fence, columnar
transposition (transposition; spaces removed first). Higher levels chain two ciphers. Every cipher
is a bijection on the letter sequence, so the answer is unique; the verifier is exact match after
normalisation (letters only, upper case: spacing and punctuation are not graded).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, register_logic

WORDS = ("apple river stone cloud garden silver market window forest candle summer bridge orange "
         "planet winter castle yellow rabbit pencil dragon harbor mirror island jacket ladder meadow "
         "needle ocean pepper quiet rocket saddle thunder valley wagon zebra anchor butter copper desert "
         "engine falcon ginger hollow kettle lemon marble noble oyster purple quartz ribbon sunset tiger "
         "violet walnut beacon cotton").split()
TYPES = ("caesar", "atbash", "affine", "vigenere", "rail_fence", "columnar")
TRANSPOSITIONS = {"rail_fence", "columnar"}
A_VALUES = [3, 5, 7, 9, 11, 15, 17, 19, 21, 23, 25]  # coprime to 26
KEYWORDS = ("key lemon cipher secret garden orbit planet crypto hidden window marble zephyr quiet "
            "vector prism").split()


@dataclass
class Knobs:
    types: str = "caesar"     # comma list of cipher types to draw from
    stages: int = 1           # ciphers applied in sequence
    key_len: int = 3          # key size: Vigenere/columnar keys have key_len + 1 letters, rail fence
                              # uses 2 .. 2 + key_len // 2 rails
    words: int = 2            # words in the plaintext

    def __post_init__(self) -> None:
        if not set(self.types.split(",")) <= set(TYPES) or not 1 <= self.stages <= 3:
            raise ValueError(f"types from {TYPES}; stages in 1..3")
        if self.key_len < 1 or self.words < 1:
            raise ValueError("key_len >= 1 and words >= 1")


def _letters(text: str) -> str:
    return re.sub(r"[^A-Z]", "", text.upper())


def _sub(text: str, f) -> str:
    """Apply f(index_among_letters, letter_value) -> value to the letters; keep other characters."""
    out, i = [], 0
    for ch in text:
        if "A" <= ch <= "Z":
            out.append(chr(65 + f(i, ord(ch) - 65) % 26))
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def _rail_pattern(n: int, rails: int) -> list[int]:
    if rails == 1:
        return [0] * n
    cycle = list(range(rails)) + list(range(rails - 2, 0, -1))
    return [cycle[i % len(cycle)] for i in range(n)]


def _column_order(key: str) -> list[int]:
    return sorted(range(len(key)), key=lambda i: (key[i], i))


def apply(stage: dict[str, Any], text: str, decrypt: bool) -> str:
    kind = stage["type"]
    if kind == "caesar":
        s = -stage["shift"] if decrypt else stage["shift"]
        return _sub(text, lambda i, x: x + s)
    if kind == "atbash":
        return _sub(text, lambda i, x: 25 - x)
    if kind == "affine":
        a, b = stage["a"], stage["b"]
        if decrypt:
            inv = pow(a, -1, 26)
            return _sub(text, lambda i, x: inv * (x - b))
        return _sub(text, lambda i, x: a * x + b)
    if kind == "vigenere":
        key = [ord(c) - 65 for c in stage["key"]]
        sign = -1 if decrypt else 1
        return _sub(text, lambda i, x: x + sign * key[i % len(key)])
    letters = _letters(text)
    n = len(letters)
    if kind == "rail_fence":
        pattern = _rail_pattern(n, stage["rails"])
        order = sorted(range(n), key=lambda i: (pattern[i], i))  # reading order of positions
    else:  # columnar
        cols = len(stage["key"])
        order = [i for c in _column_order(stage["key"]) for i in range(c, n, cols)]
    if decrypt:
        out = [""] * n
        for j, i in enumerate(order):
            out[i] = letters[j]
        return "".join(out)
    return "".join(letters[i] for i in order)


def describe(stage: dict[str, Any]) -> str:
    kind = stage["type"]
    if kind == "caesar":
        return (f"Caesar cipher with shift {stage['shift']}: encryption replaces each letter by the letter "
                f"{stage['shift']} places later in the alphabet, wrapping from Z back to A; decryption shifts back.")
    if kind == "atbash":
        return "Atbash cipher: each letter is replaced by its mirror in the alphabet (A<->Z, B<->Y, C<->X, ...); " \
               "encryption and decryption are the same."
    if kind == "affine":
        return (f"Affine cipher with a={stage['a']}, b={stage['b']}: number the letters A=0 ... Z=25; encryption "
                f"maps x to (a*x + b) mod 26; decryption maps y to a_inv*(y - b) mod 26, where a_inv is the "
                f"inverse of a modulo 26.")
    if kind == "vigenere":
        return (f"Vigenere cipher with key {stage['key']}: number the letters A=0 ... Z=25; the i-th letter of the "
                f"message (counting letters only, spaces are skipped) is shifted forward by the (i mod "
                f"{len(stage['key'])})-th letter of the key when encrypting, backward when decrypting.")
    if kind == "rail_fence":
        return (f"Rail fence cipher with {stage['rails']} rails: remove the spaces, write the letters in a zigzag "
                f"down and up across {stage['rails']} rows (row 1, 2, ..., {stage['rails']}, "
                f"{stage['rails'] - 1}, ..., 1, 2, ...), then read row 1 left to right, then row 2, and so on. "
                "Decryption reverses this.")
    return (f"Columnar transposition with key {stage['key']}: remove the spaces, write the letters row by row "
            f"into {len(stage['key'])} columns (the last row may be shorter), then read the columns top to "
            "bottom in the alphabetical order of the key letters (equal letters: leftmost first). "
            "Decryption reverses this.")


class Cipher(LogicTask):
    task_name = "cipher"
    description = "Encrypt or decrypt a message with classical ciphers whose rules are given."
    answer_format = "the resulting text (letters; spaces optional)"
    Knobs = Knobs
    level_table = {
        0: {"types": "caesar", "stages": 1, "words": 1},
        1: {"types": "caesar,atbash,vigenere", "stages": 1, "key_len": 2, "words": 2},
        2: {"types": "affine,vigenere,rail_fence,columnar", "stages": 1, "key_len": 3, "words": 3},
        3: {"types": "caesar,vigenere,rail_fence,columnar", "stages": 2, "key_len": 4, "words": 4},
        4: {"types": "affine,vigenere,rail_fence,columnar", "stages": 2, "key_len": 5, "words": 6},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict[str, Any]:
        types = k.types.split(",")
        for _ in range(MAX_GENERATION_ATTEMPTS):
            stages = []
            for _s in range(k.stages):
                kind = rng.choice([t for t in types if not stages or t != stages[-1]["type"]] or types)
                stage: dict[str, Any] = {"type": kind}
                if kind == "caesar":
                    stage["shift"] = rng.randint(1, 25)
                elif kind == "affine":
                    stage["a"], stage["b"] = rng.choice(A_VALUES), rng.randint(0, 25)
                elif kind == "vigenere":
                    words = [w for w in KEYWORDS if len(w) == k.key_len + 1] or KEYWORDS
                    stage["key"] = rng.choice(words).upper() if rng.random() < 0.5 else \
                        "".join(chr(65 + rng.randrange(26)) for _ in range(k.key_len + 1))
                elif kind == "rail_fence":
                    stage["rails"] = rng.randint(2, 2 + k.key_len // 2)
                else:
                    stage["key"] = "".join(rng.sample("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k.key_len + 1))
                stages.append(stage)
            plain = " ".join(rng.choice(WORDS) for _ in range(k.words)).upper()
            mode = rng.choice(["encrypt", "decrypt"])
            cipher_text = plain
            steps = [plain]
            for st in stages:
                cipher_text = apply(st, cipher_text, decrypt=False)
                steps.append(cipher_text)
            if _letters(cipher_text) == _letters(plain):
                continue
            # re-solve: running the chain backwards must give the plaintext back
            back = cipher_text
            for st in reversed(stages):
                back = apply(st, back, decrypt=True)
            if _letters(back) != _letters(plain):
                raise GenerationError(f"{self.name}: cipher chain is not invertible: {stages}")
            given, answer = (plain, cipher_text) if mode == "encrypt" else (cipher_text, plain)
            if mode == "decrypt":
                steps = steps[::-1]
            return {"stages": stages, "mode": mode, "text": given, "answer": answer, "steps": steps}
        raise GenerationError(f"{self.name}: no instance for {k}")

    def prompt(self, p: dict[str, Any]) -> str:
        stages = p["stages"]
        rules = "\n".join(f"{i + 1}. {describe(st)}" for i, st in enumerate(stages))
        if len(stages) == 1:
            how = ""
        elif p["mode"] == "encrypt":
            how = "Encryption applies cipher 1, then cipher 2 to its output, and so on.\n"
        else:
            how = ("The message was encrypted by applying cipher 1, then cipher 2 to its output, and so on. To "
                   "decrypt, undo the ciphers in reverse order (the last one first).\n")
        what = "Encrypt this plaintext" if p["mode"] == "encrypt" else "Decrypt this ciphertext"
        return (
            f"Cipher rules:\n{rules}\n{how}\n{what}:\n\n    {p['text']}\n\n"
            "Only letters are graded (spaces and case are ignored). Answer format: the resulting text in "
            "capital letters, for example: HELLO WORLD"
        )

    def check(self, p: dict[str, Any], answer: str) -> Score:
        got = _letters(answer)
        if not got:
            raise AnswerParseError("the answer holds no letters")
        want = _letters(p["answer"])
        if got == want:
            return Score.ok()
        if len(got) != len(want):
            return Score.fail(f"the answer has {len(got)} letters, expected {len(want)}", format_ok=True)
        first = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        return Score.fail(f"wrong from letter {first + 1} on", format_ok=True)

    def solution_text(self, p: dict[str, Any]) -> str:
        return p["answer"]

    def reasoning(self, p: dict[str, Any]) -> str | None:
        stages = p["stages"] if p["mode"] == "encrypt" else p["stages"][::-1]
        verb = "encrypt with" if p["mode"] == "encrypt" else "decrypt (undo)"
        lines = [f"Start: {p['steps'][0]}"]
        for st, out in zip(stages, p["steps"][1:]):
            lines.append(f"{verb} {st['type'].replace('_', ' ')}: {out}")
        return "\n".join(lines)

    def random_answer(self, p: dict[str, Any], rng: random.Random) -> str:
        """Calibration baseline: random letters of the right length."""
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in _letters(p["answer"]))

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict[str, Any]) -> dict[str, Any] | None:
        """SynLogic rows (cipher verifier): the gold ``answer`` is the result text wrapped as
        "[[TEXT]]" (answers are written [["TEXT"]]). Our check compares the letters A-Z in order, so
        spaces, quotes and brackets around the text do not matter."""
        if not isinstance(answer, str):
            return None
        text = answer.strip()
        if text.startswith("[[") and text.endswith("]]"):
            text = text[2:-2]
        text = text.strip().strip("'\"")
        if not _letters(text):
            return None
        return {"answer": text, "source": "synlogic"}


register_logic(Cipher)
