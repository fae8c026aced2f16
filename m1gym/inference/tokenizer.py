"""Tokenisers: a built-in character-level tokeniser for the presets, or a checkpoint's own.

The character tokeniser maps printable ASCII (plus newline, tab and a few maths symbols) to one id
each, and the response markers ``<think>``, ``</think>``, ``<answer>``, ``</answer>`` plus the chat
markers to single ids, so a tiny model spends its capacity on content rather than on spelling tags.
Characters outside the table map to ``<unk>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

TOKENIZER_FILE = "m1gym_tokenizer.json"

SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>", "<|user|>", "<|assistant|>",
            "<think>", "</think>", "<answer>", "</answer>"]
EXTRA_CHARS = "×÷−√π≤≥≠°·…"


class CharTokenizer:
    """Character-level tokeniser with a handful of multi-character special tokens."""

    kind = "char"

    def __init__(self, vocab: Sequence[str] | None = None, vocab_size: int | None = None):
        if vocab is None:
            chars = ["\n", "\t"] + [chr(c) for c in range(32, 127)] + list(EXTRA_CHARS)
            vocab = SPECIALS + chars
        self.vocab = list(vocab)
        self.vocab_size = max(vocab_size or 0, len(self.vocab))
        self._index = {tok: i for i, tok in enumerate(self.vocab)}
        # multi-character tokens, longest first (greedy match)
        self._multi = sorted((t for t in self.vocab if len(t) > 1), key=len, reverse=True)
        self.pad_id = self._index["<pad>"]
        self.bos_id = self._index["<bos>"]
        self.eos_id = self._index["<eos>"]
        self.unk_id = self._index["<unk>"]
        self.user_id = self._index["<|user|>"]
        self.assistant_id = self._index["<|assistant|>"]

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        i, n = 0, len(text)
        while i < n:
            if text[i] == "<":
                for tok in self._multi:
                    if text.startswith(tok, i):
                        out.append(self._index[tok])
                        i += len(tok)
                        break
                else:
                    out.append(self._index["<"])
                    i += 1
                continue
            out.append(self._index.get(text[i], self.unk_id))
            i += 1
        return out

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        parts = []
        structural = {self.pad_id, self.bos_id, self.eos_id, self.user_id, self.assistant_id}
        for i in ids:
            i = int(i)
            if skip_special and i in structural:
                continue
            parts.append(self.vocab[i] if 0 <= i < len(self.vocab) else "")
        return "".join(parts)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """Chat format: <bos> <|user|> text <|assistant|> (system turns are joined into the user text)."""
        text = "\n\n".join(m["content"] for m in messages)
        return [self.bos_id, self.user_id, *self.encode(text), self.assistant_id]

    def save_pretrained(self, path: str | Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / TOKENIZER_FILE).write_text(json.dumps({"kind": "char", "vocab": self.vocab,
                                                             "vocab_size": self.vocab_size}))

    @classmethod
    def from_file(cls, path: str | Path) -> "CharTokenizer":
        data = json.loads(Path(path).read_text())
        return cls(data["vocab"], data.get("vocab_size"))


class HFTokenizer:
    """Adapter giving a checkpoint's transformers tokenizer the same small interface."""

    kind = "hf"

    def __init__(self, tok: Any):
        self.tok = tok
        self.vocab_size = len(tok)
        self.eos_id = tok.eos_token_id if tok.eos_token_id is not None else 0
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.eos_id

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        return list(self.tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=skip_special)

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        if getattr(self.tok, "chat_template", None):
            out = self.tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            if isinstance(out, dict):
                out = out["input_ids"]
            return list(out)
        return self.encode("\n\n".join(m["content"] for m in messages))

    def save_pretrained(self, path: str | Path) -> None:
        self.tok.save_pretrained(str(path))


def load_tokenizer(path: str | Path):
    """The tokenizer stored in a checkpoint directory (ours, or a transformers one)."""
    p = Path(path)
    if (p / TOKENIZER_FILE).exists():
        return CharTokenizer.from_file(p / TOKENIZER_FILE)
    from transformers import AutoTokenizer

    return HFTokenizer(AutoTokenizer.from_pretrained(str(p)))
