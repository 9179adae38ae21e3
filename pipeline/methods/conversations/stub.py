"""The stub model's answers for the conversations method: the user simulator's next message,
the assistant's answer to a turn, and a whole self-chat transcript.

Each fails now and then the way real models do, so every filter path runs: the simulator ends
a conversation, repeats an earlier question or answers instead of asking; the assistant refuses
or writes the user's next turn; a transcript stops alternating or stops early. The rates are
the defaults below, or INSTRUCTGEN_STUB_CONVERSATIONS (e.g. "end=0.2,refusal=0,leak=0.1"),
read by the in-process stub and by `instructgen stub-server` alike."""

from __future__ import annotations

import os
import random
import re
from functools import cache

from pipeline.errors import ConfigError
from pipeline.methods.conversations.selfchat import AI, HUMAN
from pipeline.methods.conversations.turns import END_MARKER, NAME
from pipeline.stub.ask import Ask, Responder
from pipeline.stub.families import vocab as V
from pipeline.stub.model import generic

ENV = "INSTRUCTGEN_STUB_CONVERSATIONS"
RATES = {
    "end": 0.08,  # the simulator ends the conversation (from its second turn on)
    "repeat": 0.04,  # the simulator asks its first question again
    "answered": 0.03,  # the simulator answers instead of asking
    "refusal": 0.03,  # the assistant refuses briefly
    "leak": 0.03,  # the assistant goes on to write the user's next turn
    "malformed": 0.03,  # a self-chat transcript repeats a speaker
}
_USER_HEAD = "You are role-playing the human side of a chat with an AI assistant."
_SELF_HEAD = "Write a realistic chat between a curious human and a helpful AI assistant."
_SO_FAR = re.compile(r"Conversation so far:\n(.*?)\n\nWrite the message", re.S)
_SPEAKER = re.compile(r"\n\n(?=User: |Assistant: )")
_TRANSCRIPT = re.compile(r"^\[\|Human\|\] ", re.M)  # the transcript's first line
_TURNS = re.compile(r"In total the chat has (\d+) messages from the human")
_FOLLOW_UPS = (
    "Could you explain the part about {t} in more detail?",
    "What would change if I had to do this for {audience}?",
    "Can you give me a concrete example involving {name} from {city}?",
    "That helps. How would you make it harder, say with a limit of {n} steps?",
    "Is there a common mistake people make with {t}, and how do I avoid it?",
    "Could you put that into a short checklist I can keep?",
    "How long would this usually take, and what could speed it up?",
    "Can you compare that with another way of handling {t}?",
    "Thanks, this is useful. One last question: where should a beginner start?",
    "Could you rewrite your answer for {audience}, in plain words?",
)
_REFUSALS = (
    "I'm sorry, but I can't help with that request.",
    "As an AI, I don't have personal opinions on this.",
    "Sorry, I am not able to answer that.",
)


@cache
def _rates(spec: str) -> dict[str, float]:
    rates = dict(RATES)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name not in RATES:
            raise ConfigError(f"{ENV}: unknown rate {name!r}; use {', '.join(RATES)}")
        try:
            rates[name] = float(value)
        except ValueError:
            raise ConfigError(f"{ENV}: {name} must be a number between 0 and 1") from None
        if not 0.0 <= rates[name] <= 1.0:
            raise ConfigError(f"{ENV}: {name} must be between 0 and 1")
    return rates


def rates() -> dict[str, float]:
    return _rates(os.environ.get(ENV, ""))


def _topic(text: str) -> str:
    words = re.sub(r"[^\w\s'-]", " ", text).split()
    return " ".join(words[:5]).lower() or "this"


def follow_up(ask: Ask, opening: str, user_turns: int) -> str:
    """The simulator's next message, given the opening and the user turns so far."""
    r, rate = ask.rng, rates()
    u = r.random()
    if ask.fault == "malformed":
        return ""
    if ask.fault == "duplicate" or u < rate["repeat"]:
        return opening
    u -= rate["repeat"]
    if user_turns >= 1 and u < rate["end"]:
        return END_MARKER
    u -= rate["end"]
    if u < rate["answered"]:
        return f"Sure! Here is what I found about {_topic(opening)}: it depends on the details."
    # A person rarely asks the same kind of follow-up twice: each conversation walks its own
    # order of them (seeded by its opening), from a random place.
    order = random.Random(opening).sample(range(len(_FOLLOW_UPS)), len(_FOLLOW_UPS))
    line = _FOLLOW_UPS[order[user_turns % len(order)]]
    return line.format(
        t=_topic(opening), audience=r.choice(V.AUDIENCES), name=r.choice(V.NAMES),
        city=r.choice(V.CITIES), n=r.randint(3, 9),
    )  # fmt: skip


def is_user_prompt(prompt: str) -> bool:
    return prompt.startswith(_USER_HEAD) and _SO_FAR.search(prompt) is not None


def user_turn(ask: Ask) -> str:
    shown = _SO_FAR.search(ask.prompt)[1]  # type: ignore[index]
    paragraphs = _SPEAKER.split(shown)
    users = [p[len("User: ") :] for p in paragraphs if p.startswith("User: ")]
    return follow_up(ask, users[0] if users else shown, len(users))


def answer_text(ask: Ask, question: str) -> str:
    r, rate = ask.rng, rates()
    u = r.random()
    if ask.fault is None and u < rate["refusal"]:
        return r.choice(_REFUSALS)
    text = generic(Ask(question, ask.request, r, ask.fault))
    if ask.fault is None and u - rate["refusal"] < rate["leak"]:
        text += "\n\nUser: Thanks! Can you tell me more?"
    return text


def answer(ask: Ask) -> str:
    """An assistant turn: the last user message answered."""
    return answer_text(ask, ask.prompt.rpartition("\nUser: ")[2].removesuffix("\n\nAssistant:"))


def is_self_chat(prompt: str) -> bool:
    return prompt.startswith(_SELF_HEAD) and _TURNS.search(prompt) is not None


def self_chat(ask: Ask) -> str:
    """A transcript continuing the prompt's last marker, to the planned number of turns."""
    r, rate = ask.rng, rates()
    planned = int(_TURNS.search(ask.prompt)[1])  # type: ignore[index]
    start = _TRANSCRIPT.search(ask.prompt)
    body = ask.prompt[start.start() :] if start else ask.prompt
    opening = body.partition(HUMAN)[2].partition(AI)[0].strip() or body
    answered = body.rstrip().endswith(HUMAN)
    turns, user_turns = [], 1
    if not answered:
        turns.append(answer_text(ask, opening))
    malformed = ask.fault == "malformed" or r.random() < rate["malformed"]
    while user_turns < planned:
        question = follow_up(ask, opening, user_turns)
        if question == END_MARKER and len(turns) > 1:
            break  # a transcript ends after an answer, never before its first follow-up
        if question == END_MARKER:
            question = f"Could you say more about {_topic(opening)}?"
        turns += [f"{HUMAN} {question}", f"{AI} {answer_text(ask, question)}"]
        user_turns += 1
    if malformed and len(turns) > 1:
        turns.insert(r.randint(1, len(turns) - 1), f"{AI} Let me add one more thing.")
    return "\n".join(turns) if not answered else "\n".join(turns)[len(HUMAN) + 1 :]


RESPONDERS = (
    Responder("conversations-user", is_user_prompt, user_turn),
    Responder("conversations-self-chat", is_self_chat, self_chat),
    # An answer's prompt is the user's message, which could say anything: claimed by its slot.
    Responder("conversations-answer", lambda prompt: True, answer, slot=f"{NAME}:answer:"),
)
