"""The stub model's equality checks and answers for Evol-Instruct (stub.py has the three
rewriting prompts), and RESPONDERS: every answer the method's prompts get."""

from __future__ import annotations

import re
from collections import Counter

from pipeline.methods.evol import stub as ev
from pipeline.methods.evol.round import ANSWER_SYSTEM
from pipeline.methods.evol.stub import last_line
from pipeline.stub.ask import Ask, Responder
from pipeline.stub.families.helpers import split_items as _s
from pipeline.stub.model import generic

JUDGE_NOISE_RATE = 0.08  # "Equal" for a real change: LLM judges are noisy
UNPARSEABLE_RATE = 0.02
RESTYLE_RATE = 0.1  # "Not equal.", "EQUAL", ...
REFUSAL_RATE = 0.03  # answers: a short "sorry"
LONG_SORRY_RATE = 0.01  # answers: an apology before a full answer (kept: 80 words or more)
MAX_ADDED_WORDS = 3  # a second prompt adding no more than this is "Equal"

_REPLY = 'Reply with "Equal" or "Not Equal"'


def is_equality(prompt: str) -> bool:
    """An equality check: ends with the Reply-with line, after a first and a second prompt."""
    last = last_line(prompt)
    return last.startswith(_REPLY) and "First prompt:" in prompt and "Second prompt:" in prompt


# --- 4. The equality check ----------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_UNPARSEABLE = (
    *_s("""They are equal in scope, but the second adds detail.|Yes.|Both prompts ask for the same
thing.|The second prompt is harder."""),
    "",
)


def nearly_same(first: str, second: str) -> bool:
    """The second prompt keeps every word of the first and adds at most MAX_ADDED_WORDS."""
    a, b = Counter(_WORD.findall(first.lower())), Counter(_WORD.findall(second.lower()))
    return not a - b and sum((b - a).values()) <= MAX_ADDED_WORDS


def prompts_compared(prompt: str) -> tuple[str, str]:
    """The first and the second prompt of an equality check."""
    body = prompt.partition("First prompt:\n")[2].rpartition("\n\nReply with")[0]
    first, _, second = body.partition("\n\nSecond prompt:\n")
    return first.strip(), second.strip()


def equality(ask: Ask) -> str:
    """'Equal' for near copies, 'Not Equal' otherwise; noisy, sometimes off-format."""
    r, u = ask.rng, ask.rng.random()
    if ask.fault == "malformed" or (ask.fault is None and u < UNPARSEABLE_RATE):
        return r.choice(_UNPARSEABLE)
    same = ask.fault == "duplicate" or nearly_same(*prompts_compared(ask.prompt))
    verdict = "Equal" if same or u < UNPARSEABLE_RATE + JUDGE_NOISE_RATE else "Not Equal"
    if r.random() < RESTYLE_RATE:  # "Not equal.", "NOT EQUAL", "not equal"
        return r.choice((verdict[0] + verdict[1:].lower() + ".", verdict.upper(), verdict.lower()))
    return verdict


# --- 5. Answers (a hook for stub._generic: answer prompts are plain instructions) ---------------

_SORRY = _s("""I'm sorry, but I can't help with that request.|Sorry, I don't have enough
information to answer this.|I'm sorry, I cannot provide that.""")
_LONG_SORRY = (
    "Sorry for the long answer, but this needs some care. The short version is that it depends on"
    " the goal, the budget and the time available. Start by writing down what a good result would"
    " look like, in one or two plain sentences. Then list the options you have, with a rough cost"
    " and a rough benefit for each of them. Pick the option with the best balance, and try it on a"
    " small scale before going further. Check the result after a week, keep what works, and drop"
    " what does not. Finally, share what you learned, because others face the same choice."
)


def refusal(ask: Ask) -> str | None:
    """For Evol-Instruct's answer requests only: now and then a refusal or an apologetic answer.

    None leaves the answer to the generic responder; other requests draw nothing from the RNG,
    so their answers stay exactly as they were."""
    if ask.request.system != ANSWER_SYSTEM or ask.fault is not None:
        return None
    r, u = ask.rng, ask.rng.random()
    if u < REFUSAL_RATE:
        return r.choice(_SORRY)
    if u < REFUSAL_RATE + LONG_SORRY_RATE:
        return _LONG_SORRY
    return None


def answer(ask: Ask) -> str:
    """An answer request: ~3% short refusals, ~1% long apologies, else the generic answer."""
    said = refusal(ask)
    return generic(ask) if said is None else said


RESPONDERS = (
    Responder("evol-depth", ev.is_depth, ev.depth),
    Responder("evol-complicate", ev.is_complicate, ev.complicate),
    Responder("evol-breadth", ev.is_breadth, ev.breadth),
    Responder("evol-equality", is_equality, equality),
    # Last: an answer's prompt is an instruction, which could look like anything.
    Responder("evol-answer", lambda prompt: True, answer, system=ANSWER_SYSTEM),
)
