"""Alpaca's heuristic filters: one table of instruction -> first reason category (None keeps)."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.filters.heuristics import (
    BannedPrefix,
    BlockedWords,
    LeadingPunctuation,
    NonAsciiStart,
    WordCount,
    alpaca_filters,
)
from pipeline.types import Example


def first_reason(instruction: str, **overrides) -> str | None:
    """The reason of the first filter that drops it, as the runner would record it."""
    for f in alpaca_filters(**overrides):
        reason = f.check(Example(instruction=instruction))
        if reason is not None:
            return reason
    return None


def words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        ("", "too_few_words"),
        ("   \n\t ", "too_few_words"),
        ("Name three colours.", "too_few_words"),
        ("Name three primary colours.", None),
        (words(150), None),
        (words(151), "too_many_words"),
        ("Describe the image of a sunset.", "blocked_word"),
        ("Describe these Images of a sunset.", "blocked_word"),
        ("Describe how the PLOT of Hamlet unfolds.", "blocked_word"),
        ("Explain the mapping between these two sets.", None),
        ("Explain what a map projection is.", "blocked_word"),
        ("Tell me where to go to for a good pizza.", "blocked_word"),
        ("Tell me what you are going to do today.", None),
        ("Summarise the photographer's imagery briefly.", None),
        ("Write a program that sorts a list.", "banned_prefix"),
        ("Write a programme that sorts a list.", "banned_prefix"),
        ("write a program that sorts a list.", None),
        ("Please Write a program that sorts a list.", None),
        ('"Quote" this sentence back to me.', "leading_punctuation"),
        ("#1 rule of writing, explain it.", "leading_punctuation"),
        ("3 ways to say hello, list them.", None),
        ("Éloge: explain this French word.", "non_ascii_start"),
        ("“Smart quotes” start this instruction here.", "non_ascii_start"),
        (" Leading space is fine in this one.", None),
    ],
)
def test_alpaca_filters_table(instruction, expected):
    reason = first_reason(instruction)
    assert (reason.split(":")[0] if reason else None) == expected


@pytest.mark.parametrize(
    ("flt", "instruction", "expected"),
    [
        (WordCount(), "Name three colours.", "too_few_words: 3 < 4"),
        (WordCount(), words(151), "too_many_words: 151 > 150"),
        (WordCount(min_words=2, max_words=3), "Name three colours.", None),
        (BlockedWords(), "Show these IMAGES now", "blocked_word: images"),
        (BlockedWords(), "then go  to bed", None),
        (BlockedWords(), "Compare the filesystem mapping", None),
        (BlockedWords(), "After the mapping comes a MAP", "blocked_word: map"),
        (BlockedWords(blocked_words=("poem",)), "Write a Poem about cats", "blocked_word: poem"),
        (BannedPrefix(), "Write a program to add", "banned_prefix: Write a program"),
        (BannedPrefix(banned_prefixes=("Create",)), "Create a list", "banned_prefix: Create"),
        (LeadingPunctuation(), "'Hi' is a greeting", 'leading_punctuation: "\'"'),
        (LeadingPunctuation(), "", None),
        (NonAsciiStart(), "¿Qué? Translate it", "non_ascii_start: '¿'"),
        (NonAsciiStart(), "", None),
    ],
)
def test_reason_details(flt, instruction, expected):
    assert flt.check(Example(instruction=instruction)) == expected


def test_overrides_reach_their_filter():
    assert first_reason("Name three colours.", min_words=3) is None
    assert first_reason("Draw a cat for me.", blocked_words=("cat",)) == "blocked_word: cat"


def test_alpaca_order_and_names():
    names = [f.name for f in alpaca_filters()]
    assert names == [
        "word_count",
        "blocked_words",
        "banned_prefix",
        "leading_punctuation",
        "non_ascii_start",
    ]


@pytest.mark.parametrize(
    "overrides",
    [{"min_word": 3}, {"min_words": 5, "max_words": 4}, {"min_words": -1}, {"blocked_words": ()}],
)
def test_bad_overrides_are_config_errors(overrides):
    with pytest.raises(ConfigError):
        alpaca_filters(**overrides)
