"""What a row is compared by: its field's text, normalized text and word shingles."""

from __future__ import annotations

import re

from pipeline.types import Example

_PUNCTUATION = re.compile(r"[^\w\s]|_")


def field_text(example: Example, field: str) -> str:
    """The compared text: instruction, instruction and input (a newline between), or output."""
    if field == "output":
        return example.output
    if field == "instruction+input" and example.input:
        return f"{example.instruction}\n{example.input}"
    return example.instruction


def normalize(text: str) -> str:
    """Lowercased, punctuation stripped, whitespace collapsed: what `exact` compares."""
    return " ".join(_PUNCTUATION.sub("", text.lower()).split())


def shingles(text: str, n: int) -> list[bytes]:
    """The distinct word n-grams of the normalized text; a text shorter than n words is one
    shingle, an empty text none."""
    words = normalize(text).split()
    if len(words) <= n:
        return [" ".join(words).encode()] if words else []
    return list({" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)})
