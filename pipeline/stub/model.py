"""The stub model: an offline, deterministic backend that answers every prompt the project sends.

Each choice draws from its own RNG, seeded by sha256 of (request key, prompt index, seed): the same
request always gets the same answer and different slots get different ones. A small registry of
responders picks the answer's format by the prompt's kind (first match wins, with a generic answer
as the fallback); a method that adds a new kind of prompt adds one Responder to RESPONDERS.
Faults (malformed, duplicate, truncated) are injected per choice at the configured rates.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.errors import ConfigError
from pipeline.methods.evol import stub as ev
from pipeline.methods.evol import stub_checks as evc
from pipeline.methods.unnatural import stub as un
from pipeline.stub.text import Task, make_task
from pipeline.tokens import count_tokens, truncate_tokens
from pipeline.types import Choice, Completion, Request, Usage

FAULTS = ("malformed", "duplicate", "truncated")


@dataclass(frozen=True, slots=True)
class Ask:
    """What a responder sees: one prompt, its request, the choice's RNG and its fault (or None)."""

    prompt: str
    request: Request
    rng: random.Random
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Responder:
    """Answers the prompts `matches` accepts; `respond` honours the malformed/duplicate faults."""

    name: str
    matches: Callable[[str], bool]
    respond: Callable[[Ask], str]


# --- Self-Instruct (Alpaca): continue a numbered list of tasks -----------------------------------

_NEXT_TASK = re.compile(r"(\d+)\.\s*Instruction:\s*$")
_DEMO = re.compile(
    r"###\n(\d+)\. Instruction: (.*?)\n\1\. Input:\n(.*?)\n\1\. Output:\n(.*?)\n(?=###)", re.S
)
LAST_TASK = 20  # Alpaca asks for 20 tasks; its stop sequences cut the answer at this header


def _is_self_instruct(prompt: str) -> bool:
    return _NEXT_TASK.search(prompt[-40:]) is not None


def _block(k: int, task: Task, label: int | None = None, output_label: bool = True) -> str:
    n = k if label is None else label
    instruction, given, output = task
    said = f"{n}. Output:\n" if output_label else ""
    given = given or "<noinput>"
    return f"{n}. Instruction: {instruction}\n{n}. Input:\n{given}\n{said}{output}\n###\n"


def _self_instruct(ask: Ask) -> str:
    r = ask.rng
    first = int(_NEXT_TASK.search(ask.prompt[-40:])[1])  # type: ignore[index]
    last = max(LAST_TASK, first + 1)
    if ask.fault == "malformed" and r.random() < 1 / 3:
        return " " + _prose(r)
    tasks = [make_task(r) for _ in range(first, last)]
    j = r.randrange(len(tasks))
    labels, has_output = [None] * len(tasks), [True] * len(tasks)
    if ask.fault == "malformed" and r.random() < 0.5:
        labels[j] = first + j + 1  # a task written under the wrong number
    elif ask.fault == "malformed":
        has_output[j] = False  # the Output label left out
    elif ask.fault == "duplicate":
        demos = [
            (m[2], "" if m[3] == "<noinput>" else m[3], m[4]) for m in _DEMO.finditer(ask.prompt)
        ]
        if demos and r.random() < 0.5:
            tasks[j] = r.choice(demos)  # a demonstration copied verbatim
        elif len(tasks) > 1:
            j = max(j, 1)
            tasks[j] = tasks[j - 1]  # the same task twice in a row
    body = "".join(_block(first + i, t, labels[i], has_output[i]) for i, t in enumerate(tasks))
    text = body[len(f"{first}. Instruction:") :] + f"{last}. Instruction:"
    if ask.request.api == "chat" and r.random() < 1 / 3:
        text = f"{first}. Instruction:{text}"  # chat models often repeat the header they continue
    return text


def _prose(r: random.Random) -> str:
    instruction, _, output = make_task(r)
    return f"Sure! Here are some ideas. One task could be: {instruction} A good answer: {output}"


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


def _generic(ask: Ask) -> str:
    r = ask.rng
    line = next((s for s in ask.prompt.strip().splitlines() if s.strip()), "")[:300]
    if ask.fault == "malformed":
        return r.choice(_REFUSALS)
    if ask.fault == "duplicate":
        return line  # the question echoed back
    if (said := evc.refusal(ask)) is not None:
        return said  # Evol-Instruct answers only: ~3% short refusals, ~1% long apologies
    topic = _topic(line)
    if _LISTY.search(line):
        n = next((v for w, v in _HOW_MANY.items() if w in line.lower().split()), 3)
        return "\n".join(f"{i}. {s.format(t=topic)}" for i, s in enumerate(r.sample(_ITEMS, n), 1))
    opener = r.choice(
        ("When it comes to {t}, a few points matter most.", "Here is a short answer on {t}.")
    )
    return " ".join([opener.format(t=topic), *r.sample(_SENTENCES, 2)])


# Each matcher checks a different last line of the prompt, so no two can claim the same prompt.
RESPONDERS: tuple[Responder, ...] = (
    Responder("self-instruct", _is_self_instruct, _self_instruct),
    Responder("unnatural-core", un.is_core, un.core),
    Responder("unnatural-output", un.is_output, un.output),
    Responder("unnatural-paraphrase", un.is_paraphrase, un.paraphrase),
    Responder("evol-depth", ev.is_depth, ev.depth),
    Responder("evol-complicate", ev.is_complicate, ev.complicate),
    Responder("evol-breadth", ev.is_breadth, ev.breadth),
    Responder("evol-equality", evc.is_equality, evc.equality),
)
GENERIC = Responder("generic", lambda prompt: True, _generic)


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
        responders: Sequence[Responder] = RESPONDERS,
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
        prompt_tokens = sum(map(count_tokens, request.prompts)) + count_tokens(request.system or "")
        usage = Usage(prompt_tokens, sum(tokens for _, tokens in answers))
        return Completion(choices=tuple(c for c, _ in answers), usage=usage, model=self.model)

    def _choice(self, request: Request, key: str, index: int) -> tuple[Choice, int]:
        """One choice and its completion tokens."""
        digest = hashlib.sha256(f"{key}\x00{index}\x00{self.seed}".encode()).digest()
        rng = _Rng(int.from_bytes(digest[:16], "big"))
        fault = self._fault(rng.random())
        prompt = request.prompts[index]
        responder = next(r for r in self.responders if r.matches(prompt))
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
