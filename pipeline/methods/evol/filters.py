"""Evol-Instruct's elimination rules that need no model (rules 2-4; rule 1, the LLM equality
check, is a stage of its own in pipeline/methods/evol/round.py). Each returns its reason or None."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.types import Example

# Phrases of the rewriting templates (ours and the paper's): an evolved prompt that contains one
# copied the template instead of rewriting the prompt.
MARKER_PHRASES = (
    "given prompt",
    "rewritten prompt",
    "created prompt",
    "original prompt",
    "new prompt",
    "#rewritten prompt#",
    "#created prompt#",
    "#new prompt#",
    "#original prompt#",
    "#given prompt#",
)
SORRY_MAX_WORDS = 80

# Common English function words: an answer made only of these (and punctuation) says nothing.
_STOP_WORD_TEXT = """a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours ourselves
out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves yes ok okay oh well also let us s
t don isn aren wasn weren won wouldn"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class CopiedMarker:
    """Rule 4: the evolved instruction copies a marker phrase of the template."""

    name: str = "marker"

    def check(self, example: Example) -> str | None:
        text = example.instruction.lower()
        found = next((p for p in MARKER_PHRASES if p in text), None)
        return None if found is None else f"copied_marker: {found!r}"


@dataclass(frozen=True)
class SorryShort:
    """Rule 2: the answer says "sorry" and is shorter than 80 words (a refusal, not an answer)."""

    name: str = "sorry"
    max_words: int = SORRY_MAX_WORDS

    def check(self, example: Example) -> str | None:
        words = len(example.output.split())
        if "sorry" in example.output.lower() and words < self.max_words:
            return f"sorry_and_short: {words} words"
        return None


@dataclass(frozen=True)
class OnlyStopWords:
    """Rule 3: the answer holds nothing but punctuation and stop words (or nothing at all)."""

    name: str = "stopwords"

    def check(self, example: Example) -> str | None:
        words = _WORD.findall(example.output.lower())
        if all(w.split("'")[0] in STOP_WORDS for w in words):
            return "only_punctuation_and_stop_words: " + (" ".join(words[:8]) or "empty")
        return None
