"""Alpaca's cheap filters on the instruction text, run before the ROUGE-L novelty gate.

Each filter returns None to keep an example, or a reason "category: detail"; the runner
counts the category and keeps the detail.
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass, field

from pipeline.errors import ConfigError
from pipeline.filters.base import Filter
from pipeline.types import Example

ALPACA_BLOCKED_WORDS: tuple[str, ...] = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
    "video",
    "audio",
    "music",
    "flowchart",
    "diagram",
)


@dataclass(frozen=True, slots=True)
class WordCount:
    """Keep instructions of min_words..max_words whitespace-separated words."""

    min_words: int = 4
    max_words: int = 150
    name: str = field(default="word_count", init=False)

    def __post_init__(self) -> None:
        if not 0 <= self.min_words <= self.max_words:
            raise ConfigError(
                f"word count bounds {self.min_words}..{self.max_words} are invalid; "
                "set 0 <= min_words <= max_words"
            )

    def check(self, example: Example) -> str | None:
        n = len(example.instruction.split())
        if n < self.min_words:
            return f"too_few_words: {n} < {self.min_words}"
        if n > self.max_words:
            return f"too_many_words: {n} > {self.max_words}"
        return None


@dataclass(frozen=True, slots=True)
class BlockedWords:
    """Drop instructions naming things a text-only model cannot do (images, files, ...)."""

    blocked_words: tuple[str, ...] = ALPACA_BLOCKED_WORDS
    name: str = field(default="blocked_words", init=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _anywhere: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = tuple(self.blocked_words)
        if not words or not all(w.strip() for w in words):
            raise ConfigError("blocked_words must be a non-empty list of non-blank words")
        alternatives = "|".join(re.escape(w.lower()) for w in words)
        object.__setattr__(self, "blocked_words", words)
        object.__setattr__(self, "_pattern", re.compile(rf"\b(?:{alternatives})\b"))
        # Without the leading \b the regex engine can skip ahead to the words' first letters.
        object.__setattr__(self, "_anywhere", re.compile(alternatives))

    def check(self, example: Example) -> str | None:
        # Matched against the lower-cased text, as Alpaca did, so that case-insensitivity means
        # exactly str.lower() and not the regex engine's own case folding.
        text = example.instruction.lower()
        if not self._anywhere.search(text):  # most texts: a cheaper scan proves no match
            return None
        match = self._pattern.search(text)
        return f"blocked_word: {match.group(0)}" if match else None


@dataclass(frozen=True, slots=True)
class BannedPrefix:
    """Drop instructions starting with a banned prefix (case-sensitive)."""

    banned_prefixes: tuple[str, ...] = ("Write a program",)
    name: str = field(default="banned_prefix", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "banned_prefixes", tuple(self.banned_prefixes))
        if not all(self.banned_prefixes):
            raise ConfigError("banned_prefixes must not contain an empty string")

    def check(self, example: Example) -> str | None:
        for prefix in self.banned_prefixes:
            if example.instruction.startswith(prefix):
                return f"banned_prefix: {prefix}"
        return None


@dataclass(frozen=True, slots=True)
class LeadingPunctuation:
    """Drop instructions whose first character is punctuation."""

    punctuation: str = string.punctuation
    name: str = field(default="leading_punctuation", init=False)

    def check(self, example: Example) -> str | None:
        first = example.instruction[:1]
        return f"leading_punctuation: {first!r}" if first and first in self.punctuation else None


@dataclass(frozen=True, slots=True)
class NonAsciiStart:
    """Drop instructions whose first character is not ASCII."""

    name: str = field(default="non_ascii_start", init=False)

    def check(self, example: Example) -> str | None:
        first = example.instruction[:1]
        return f"non_ascii_start: {first!r}" if first and not first.isascii() else None


ALPACA_FILTER_TYPES = (WordCount, BlockedWords, BannedPrefix, LeadingPunctuation, NonAsciiStart)


def alpaca_filters(**overrides: object) -> list[Filter]:
    """Alpaca's filters in Alpaca's order; keyword overrides go to the filter that owns them."""
    filters: list[Filter] = []
    unused = dict(overrides)
    for cls in ALPACA_FILTER_TYPES:
        own = {f.name for f in dataclasses.fields(cls) if f.init}
        filters.append(cls(**{k: unused.pop(k) for k in own & unused.keys()}))
    if unused:
        known = sorted(f.name for c in ALPACA_FILTER_TYPES for f in dataclasses.fields(c) if f.init)
        raise ConfigError(
            f"unknown filter setting(s) {sorted(unused)}; use one of {', '.join(known)}"
        )
    return filters
