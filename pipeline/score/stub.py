"""The stub model's verdicts: a score that follows from the example shown (so a --min-score
removes a realistic share, the same examples each time), a one-sentence reason, and a share of
replies a strict parser must refuse.

Quality falls for an empty, very short, refusing or copied response and rises for a full one;
complexity rises with the instruction's length and its constraints. A hash of the example
spreads the rest over the scale. INSTRUCTGEN_STUB_SCORES="unparseable=0.1" sets the share of
unparseable replies (default 0.02); the stub's malformed faults (--stub-malformed-rate) are
unparseable too."""

from __future__ import annotations

import hashlib
import os
import re

from pipeline.errors import ConfigError
from pipeline.score.rubric import SYSTEM
from pipeline.stub.ask import Ask, Responder

ENV = "INSTRUCTGEN_STUB_SCORES"
UNPARSEABLE = 0.02
_SECTION = re.compile(r"^\[(Instruction|Input|Response|Conversation|User requests)\]\n", re.M)
_END = "\n\nAnswer in exactly this form"
# Where a hash of the example puts it before its features move it: 1 to 5.
_SPREAD = (2, 3, 3, 4, 4, 4, 4, 5, 5, 5)
_BROKEN = (
    "I would rate this response highly, about four out of five.",
    "Score: 4 out of 10\nReason: mostly correct.",
    "Score:\nReason: The response is fine.",
    "Score: 3\nScore: 4\nReason: I could not decide.",
)


def unparseable_rate() -> float:
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return UNPARSEABLE
    name, _, value = spec.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if name.strip() != "unparseable" or not 0.0 <= rate <= 1.0:
        raise ConfigError(f"{ENV}: write unparseable=RATE with RATE between 0 and 1")
    return rate


def is_score(prompt: str) -> bool:
    return _SECTION.search(prompt) is not None and _END in prompt


def sections(prompt: str) -> dict[str, str]:
    """The parts of the example the prompt shows, by their label."""
    body = prompt[: prompt.rindex(_END)]
    marks = list(_SECTION.finditer(body))
    return {
        m[1]: body[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(body)].strip()
        for i, m in enumerate(marks)
    }


def _spread(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=2).digest()
    return _SPREAD[int.from_bytes(digest, "big") % len(_SPREAD)]


def quality(parts: dict[str, str]) -> tuple[int, str]:
    response = parts.get("Response") or parts.get("Conversation", "")
    words = response.split()
    instruction = parts.get("Instruction", "")
    if not words:
        return 1, "The response is empty."
    if re.search(r"\b(sorry|as an ai)\b", response, re.I):
        return 1, "The response refuses the task instead of doing it."
    if instruction and response.strip().lower() == instruction.strip().lower():
        return 1, "The response only repeats the instruction."
    score = _spread(instruction + "\n" + response)
    if len(words) < 4:
        return min(score, 3), "The response is very short: it may be right but shows no work."
    if len(words) >= 40:
        score = min(score + 1, 5)
    reasons = {
        2: "The response attempts the task but misses most of what was asked.",
        3: "The response is acceptable but leaves gaps in what was asked.",
        4: "The response is correct and helpful, with small omissions.",
        5: "The response answers the instruction accurately and completely.",
    }
    return score, reasons[score]


def complexity(parts: dict[str, str]) -> tuple[int, str]:
    text = parts.get("Instruction") or parts.get("User requests", "")
    words = len(text.split()) + len(parts.get("Input", "").split()) // 4
    constraints = len(re.findall(r"\b(and|must|without|each|every|at least|then)\b", text, re.I))
    level = 1 + (words >= 8) + (words >= 18) + (words >= 35) + (constraints >= 3)
    level = max(1, min(5, level + (_spread(text) - 4) // 2))
    reasons = {
        1: "The instruction asks for one obvious step.",
        2: "The instruction is a short task with little to get wrong.",
        3: "The instruction takes a few steps or some specialist knowledge.",
        4: "The instruction needs careful reasoning under several constraints.",
        5: "The instruction is expert work with many steps and constraints at once.",
    }
    return level, reasons[level]


def verdict(ask: Ask) -> str:
    r = ask.rng
    if ask.fault == "malformed" or r.random() < unparseable_rate():
        return r.choice(_BROKEN)
    parts = sections(ask.prompt)
    # A quality prompt always shows the response (or the whole conversation); complexity never.
    graded = quality if "Response" in parts or "Conversation" in parts else complexity
    score, reason = graded(parts)
    return f"Score: {score}\nReason: {reason}"


RESPONDERS = (Responder("score", is_score, verdict, system=SYSTEM),)
