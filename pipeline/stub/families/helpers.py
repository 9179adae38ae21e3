"""Text helpers for the stub model's task writer, and `compose`, which phrases tasks on an input."""

from __future__ import annotations

import random
from collections.abc import Sequence

Task = tuple[str, str, str]  # instruction, input ("" when none), output


def split_items(text: str) -> tuple[str, ...]:
    """Split a `|`-separated block into stripped items (newlines are only for line length)."""
    return tuple(" ".join(item.split()) for item in text.split("|") if item.strip())


def split_rows(text: str) -> tuple[tuple[str, ...], ...]:
    """Split a block of `;`-separated rows into `|`-separated fields."""
    return tuple(tuple(" ".join(f.split()) for f in row.split("|")) for row in text.split(";"))


def cap(text: str) -> str:
    """Upper-case the first character only (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def a_(noun: str) -> str:
    """The indefinite article for `noun`, by its first letter or number (eight, eleven, 18...)."""
    if noun[:1].isdigit():
        number = noun.split("-")[0].split()[0]
        return "an" if number.startswith("8") or number in ("11", "18") else "a"
    return "an" if noun[:1].lower() in "aeiou" else "a"


def poss(name: str) -> str:
    """The possessive: "Maria's", "North Labs'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def join(items: Sequence[str], word: str = "and") -> str:
    """'a, b and c' (or 'or')."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def tail(r: random.Random, p: float = 0.3) -> str:
    """Sometimes a short closing request, as people add to instructions."""
    return " " + r.choice(TAILS) if r.random() < p else ""


def num(x: float) -> str:
    """A number as people write it: no trailing .0, at most two decimals."""
    return str(int(x)) if x == int(x) else f"{x:.2f}".rstrip("0")


_s = split_items
TAILS = _s("""Keep it brief.|Use plain language.|Be specific.|Answer in a friendly tone.|Keep the
answer under 80 words.|Avoid jargon.|Please be concise.|Use everyday examples.|Make it easy to
follow.|Write for a general audience.""")

_LEADS = _s("""Given the {o} below, {c}.|Given {ao}, {c}.|Read the {o} that follows and {c}.|Here is
{ao}. {C}.|Below is {ao}. Please {c}.|Look at this {o}, then {c}.|Consider the following {o} and
{c}.|For the {o} provided, {c}.|You are given {ao}. {C}.|Take the {o} below and {c}.|I have {ao}.
Can you {c}?|After reading the {o}, {c}.""")


ONE_WORD = _s("""Answer with one word.|Reply with the label only.|Keep the answer short.""")


def compose(r: random.Random, obj: str, core: str, closings: tuple[str, ...] = ()) -> str:
    """An instruction about an input: a lead naming `obj`, the request `core`, maybe a closing."""
    text = r.choice(_LEADS).format(o=obj, ao=f"{a_(obj)} {obj}", c=core, C=cap(core))
    if closings and r.random() < 0.3:
        text += " " + r.choice(closings)
    return text
