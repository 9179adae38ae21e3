"""The checks every turn of a conversation must pass, in both modes. Each takes the turn's text
(and, for a repeat, the user turns before it) and returns a (filter, reason, detail) failure or
None; the simulate mode runs them as its stages' filters, the self-chat parser turn by turn."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.filters.rouge.index import RougeIndex
from pipeline.types import Example

Failure = tuple[str, str, str]

# Evol-Instruct's rule: an apology or a disclaimer under 80 words is a refusal, not an answer.
REFUSAL_MAX_WORDS = 80
_REFUSAL = re.compile(r"\bsorry\b|\bas an ai\b", re.I)
# A line that opens another speaker's turn inside this one.
_USER_LABEL = re.compile(r"^\s*(?:\[\|Human\|\]|(?:User|Human)\s*:)", re.I | re.M)
_AI_LABEL = re.compile(r"^\s*(?:\[\|AI\|\]|(?:Assistant|AI)\s*:)", re.I | re.M)
# How an assistant, and never a person asking, starts a message ("Here is my draft..." and
# "Of course, but..." are a person's too).
_ANSWER_OPENER = re.compile(
    r"^\W*(?:sure[!.]|certainly[,!.]|great question|i'd be happy to|i would be happy to"
    r"|i'm happy to help|as an ai\b)",
    re.I,
)


def refusal(text: str) -> Failure | None:
    words = len(text.split())
    if _REFUSAL.search(text) and words < REFUSAL_MAX_WORDS:
        return "refusal", "sorry_or_as_an_ai", f"{words} words"
    return None


def assistant_leak(text: str) -> Failure | None:
    """The assistant goes on to write the user's next turn."""
    m = _USER_LABEL.search(text)
    return None if m is None else ("role_leak", "assistant_wrote_user_turn", m[0].strip())


def user_answers(text: str) -> Failure | None:
    """The simulator answers (as the assistant would) instead of asking."""
    m = _AI_LABEL.search(text) or _ANSWER_OPENER.search(text)
    return None if m is None else ("role_leak", "user_answered", m[0].strip()[:40])


def repeated(text: str, earlier: list[str], threshold: float) -> Failure | None:
    """A user turn too close (ROUGE-L F above `threshold`) to an earlier one."""
    if not earlier:
        return None
    pool = RougeIndex(threshold=threshold, workers=1)
    pool.extend(earlier)
    scores = pool.scores(text)
    best = int(scores.argmax())
    if scores[best] > threshold:
        return "repeat", "repeated_question", f"{scores[best]:.3f} vs turn {best + 1}"
    return None


def check_answer(text: str) -> Failure | None:
    if not text.strip():
        return "turn", "empty", "an empty answer"
    return refusal(text) or assistant_leak(text)


def check_user(text: str, earlier: list[str], threshold: float) -> Failure | None:
    if not text.strip():
        return "turn", "empty", "an empty user message"
    return user_answers(text) or assistant_leak_in_user(text) or repeated(text, earlier, threshold)


def assistant_leak_in_user(text: str) -> Failure | None:
    """The simulator writes a whole exchange: its message holds a second user turn."""
    m = _USER_LABEL.search(text)
    return None if m is None else ("role_leak", "user_wrote_exchange", m[0].strip())


def user_texts(example: Example) -> list[str]:
    return [m["content"] for m in example.messages if m["role"] == "user"]


def newest_failure(example: Example, threshold: float) -> Failure | None:
    """The first check the conversation's newest turn fails; None for a conversation the
    simulator ended (it carries no new turn)."""
    if example.meta.get("ended") == "user_ended" or not example.messages:
        return None
    last = example.messages[-1]
    if last["role"] == "assistant":
        return check_answer(last["content"])
    return check_user(last["content"], user_texts(example)[:-1], threshold)


# The filters' names, in the order the checks run.
FILTERS = ("turn", "refusal", "role_leak", "repeat")


@dataclass(frozen=True)
class TurnFilter:
    """A stage's filter: drops a conversation whose newest turn fails this filter's check first
    (the judge asks the filters in FILTERS order, so each failure is counted under its own)."""

    name: str
    repeat_threshold: float = 0.7

    def check(self, example: Example) -> str | None:
        failure = newest_failure(example, self.repeat_threshold)
        if failure is None or failure[0] != self.name:
            return None
        return f"{failure[1]}: {failure[2]}"


def turn_filters(threshold: float) -> list[TurnFilter]:
    return [TurnFilter(name, threshold) for name in FILTERS]
