"""The judge's reply, parsed strictly: one `Score:` line with a number from 1 to 5 and a
`Reason:` line. Anything else is an unparseable verdict, counted as such and never a pass:
a number found elsewhere in the text is not taken for the score."""

from __future__ import annotations

import re
from dataclasses import dataclass

LOW, HIGH = 1.0, 5.0
# Markdown a model wraps labels in: **Score:** 4, ### Score: 4, - Score: 4.
_DECOR = re.compile(r"^[\s#>*_`-]+|[*_`]+(?=\s*:)|(?<=:)[*_`]+")
_LABEL = re.compile(r"^(score|reason)\s*:\s*(.*)$", re.I)
# After the Score: line, a line that names a score or holds a number may revise the grade.
_SECOND_GRADE = re.compile(r"score|\d|<think", re.I)
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:/\s*5|out of 5)?\s*[.*_`]*$", re.I)


@dataclass(frozen=True)
class Verdict:
    """A parsed verdict: `score` on 1-5 (a whole number unless the judge wrote a fraction)."""

    score: float
    reason: str


@dataclass(frozen=True)
class Unparseable:
    """Why a reply is not a verdict (`problem`: a short phrase for removed.jsonl)."""

    problem: str


def parse_verdict(text: str) -> Verdict | Unparseable:
    """The verdict a reply holds, or why it holds none."""
    scores, reasons, stray = [], [], []
    current: list[str] | None = None
    for raw in text.splitlines():
        line = _DECOR.sub("", raw).strip()
        label = _LABEL.match(line)
        if label is not None:
            current = scores if label[1].lower() == "score" else reasons
            current.append(label[2].strip())
        elif line and _stray(line, scores, current is reasons):
            stray.append(line)
        elif line and current is reasons:
            reasons[-1] = f"{reasons[-1]} {line}".strip()  # a reason wrapped onto more lines
    if not scores:
        return Unparseable("no Score: line")
    if stray:
        return Unparseable(f"text around the verdict: {stray[0][:40]!r}")
    if len(scores) > 1:
        return Unparseable(f"{len(scores)} Score: lines")
    if not scores[0]:
        return Unparseable("an empty Score: line")
    number = _NUMBER.match(scores[0])
    if number is None:
        return Unparseable(f"score {scores[0][:40]!r} is not a number")
    score = float(number[1])
    if not LOW <= score <= HIGH:
        return Unparseable(f"score {number[1]} is outside 1-5")
    if not reasons or not any(c.isalpha() for c in reasons[0]):
        return Unparseable("no Reason: line")
    if len(reasons) > 1:
        return Unparseable(f"{len(reasons)} Reason: lines")
    return Verdict(score, reasons[0])


def shown(score: float) -> int | float:
    """A score as stored and shown: 4, not 4.0; 4.5 stays."""
    return int(score) if float(score).is_integer() else float(score)


def _stray(line: str, scores: list[str], in_reason: bool) -> bool:
    """A line that may change the grade: a preamble naming a score, anything between Score:
    and Reason:, or a reason's next line that holds a number, a score or a thought."""
    if not scores:
        return bool(_SECOND_GRADE.search(line)) and "score" in line.lower()
    return not in_reason or bool(_SECOND_GRADE.search(line))
