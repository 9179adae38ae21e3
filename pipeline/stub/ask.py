"""What a stub responder sees and what it is: the one contract between the stub model
(pipeline/stub/model.py) and each method's responder (pipeline/methods/<method>/stub.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.types import Request


@dataclass(frozen=True, slots=True)
class Ask:
    """What a responder sees: one prompt, its request, the choice's RNG and its fault (or None).

    `fault` is "malformed" or "duplicate" when the stub injects one into this choice (the
    responder writes the broken answer its method's parser must survive), else None."""

    prompt: str
    request: Request
    rng: random.Random
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Responder:
    """Answers the prompts `matches` accepts, with `respond`: the text of one choice.

    `system`, when set, limits it to requests with that system prompt, and `slot` to requests
    whose slot starts with it (a request's slot is sent in a header our backend adds and no
    model reads: a turn of a conversation looks like any prompt otherwise). Responders are tried in
    order and the first that matches answers; a method's matchers should accept its own prompts
    only (the generic answer takes whatever none of them claims)."""

    name: str
    matches: Callable[[str], bool]
    respond: Callable[[Ask], str]
    system: str | None = None
    slot: str | None = None

    def accepts(self, prompt: str, system: str | None, slot: str = "") -> bool:
        if self.slot is not None and not slot.startswith(self.slot):
            return False
        return (self.system is None or self.system == system) and self.matches(prompt)
