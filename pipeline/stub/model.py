"""The stub model: an offline, deterministic backend that answers every prompt the project sends.

Each choice draws from its own RNG, seeded by sha256 of (request key, prompt index, seed): the same
request always gets the same answer and different slots get different ones. A small registry of
responders, one set per method (its stub.py, listed by the method registry), picks the answer's
format by the prompt's kind (first match wins, with a generic answer as the fallback).
Faults (malformed, duplicate, truncated) are injected per choice at the configured rates.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence

from pipeline.errors import ConfigError
from pipeline.stub.ask import Ask, Responder
from pipeline.tokens import count_tokens, truncate_tokens
from pipeline.types import Choice, Completion, Request, Usage

FAULTS = ("malformed", "duplicate", "truncated")


# --- Anything else: a short, plausible answer to an instruction ---------------------------------

_CUE = re.compile(r"\b(?:about|of|on|for|to)\s+(.+)", re.I)
_LISTY = re.compile(
    r"\b(list|name|give|suggest|brainstorm|ideas|ways|tips|steps|examples|reasons)\b", re.I
)
_HOW_MANY = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "2": 2, "3": 3, "4": 4, "5": 5}
_ITEMS = (
    "Start small and focus on {t}.",
    "Set aside regular time for {t}.",
    "Ask someone experienced about {t}.",
    "Write down what you learn about {t}.",
    "Compare a few options before you commit to {t}.",
    "Check your progress on {t} every week.",
    "Keep notes on what works and what does not.",
    "Share your results with others.",
)
_SENTENCES = (
    "The key is to start with the basics and build from there.",
    "A clear goal and a simple plan make the biggest difference.",
    "It helps to look at a concrete example before deciding.",
    "Small, steady steps usually work better than one big change.",
    "The details depend on the situation, but the main idea stays the same.",
)
_REFUSALS = ("I'm sorry, but I can't help with that.", "...", "Sorry, I am not sure.")


def _topic(line: str) -> str:
    m = _CUE.search(line)
    words = (m[1] if m else line).split()[:6]
    return " ".join(words).strip(" ?.!:;,\"'") or "this"


def generic(ask: Ask) -> str:
    r = ask.rng
    line = next((s for s in ask.prompt.strip().splitlines() if s.strip()), "")[:300]
    if ask.fault == "malformed":
        return r.choice(_REFUSALS)
    if ask.fault == "duplicate":
        return line  # the question echoed back
    topic = _topic(line)
    if _LISTY.search(line):
        n = next((v for w, v in _HOW_MANY.items() if w in line.lower().split()), 3)
        return "\n".join(f"{i}. {s.format(t=topic)}" for i, s in enumerate(r.sample(_ITEMS, n), 1))
    opener = r.choice(
        ("When it comes to {t}, a few points matter most.", "Here is a short answer on {t}.")
    )
    return " ".join([opener.format(t=topic), *r.sample(_SENTENCES, 2)])


GENERIC = Responder("generic", lambda prompt: True, generic)


# --- The backend ----------------------------------------------------------------------------


class StubBackend:
    """A deterministic offline model: same request, same answer; faults at the given rates."""

    def __init__(
        self,
        seed: int = 0,
        malformed_rate: float = 0.0,
        duplicate_rate: float = 0.0,
        truncated_rate: float = 0.0,
        model: str = "stub",
        responders: Sequence[Responder] = (),
    ):
        rates = {
            "malformed_rate": malformed_rate,
            "duplicate_rate": duplicate_rate,
            "truncated_rate": truncated_rate,
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(
                    f"{name} must be between 0 and 1, got {rate}; pass a fraction such as 0.02"
                )
        if sum(rates.values()) > 1.0:
            raise ConfigError(
                "malformed_rate + duplicate_rate + truncated_rate must be at most 1; lower them"
            )
        self.seed, self.model = seed, model
        self.rates = (malformed_rate, duplicate_rate, truncated_rate)
        self.responders = (*responders, GENERIC)

    async def complete(self, request: Request) -> Completion:
        """Answer one request (the Backend protocol); the work is the synchronous `answer`."""
        return self.answer(request)

    def answer(self, request: Request) -> Completion:
        """One Choice per prompt, with usage counted by pipeline.tokens."""
        key = request.key()
        answers = [self._choice(request, key, i) for i in range(len(request.prompts))]
        preamble = sum(map(count_tokens, request.preamble()))
        prompt_tokens = sum(map(count_tokens, request.prompts)) + preamble
        usage = Usage(prompt_tokens, sum(tokens for _, tokens in answers))
        return Completion(choices=tuple(c for c, _ in answers), usage=usage, model=self.model)

    def _choice(self, request: Request, key: str, index: int) -> tuple[Choice, int]:
        """One choice and its completion tokens."""
        digest = hashlib.sha256(f"{key}\x00{index}\x00{self.seed}".encode()).digest()
        rng = _Rng(int.from_bytes(digest[:16], "big"))
        fault = self._fault(rng.random())
        prompt = request.prompts[index]
        system, slot = request.system, request.slot
        responder = next(r for r in self.responders if r.accepts(prompt, system, slot))
        text = responder.respond(Ask(prompt, request, rng, fault))
        finish = "stop"
        cut = min((i for s in request.stop if s and (i := text.find(s)) >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
        if fault == "truncated":
            text, finish = _cut_midway(text, rng), "length"
        tokens = count_tokens(text)
        if tokens > request.max_tokens:
            text, finish = truncate_tokens(text, request.max_tokens), "length"
            tokens = count_tokens(text)
        return Choice(text=text, finish_reason=finish, index=index), tokens

    def _fault(self, u: float) -> str | None:
        for name, rate in zip(FAULTS, self.rates, strict=True):
            if u < rate:
                return name
            u -= rate
        return None


class _Rng(random.Random):
    """random.Random with a choice() that costs one random() draw.

    The stdlib's rejection sampling is exact but takes about half of the stub's time; scaling one
    53-bit draw is biased by under 1e-12 per item for lists this size, which nothing can notice."""

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


def _cut_midway(text: str, rng: random.Random) -> str:
    """Cut somewhere in the middle of the text (inside a task), at a space when there is one."""
    if len(text) < 20:
        return text[: len(text) // 2]
    cut = rng.randrange(len(text) * 3 // 10, len(text) * 19 // 20)
    space = text.rfind(" ", 0, cut)
    return text[: space if space > 0 else cut]
