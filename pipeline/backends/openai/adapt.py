"""Parameters a model refuses, learnt from its first 400 and adjusted for the rest of the run.

OpenAI's reasoning models (o-series, gpt-5) refuse on the chat API what older chat models take:
`max_tokens` (they take `max_completion_tokens`), stop sequences, and `temperature`/`top_p`
other than their default of 1. A 400 names the parameter (`error.param`) and says why
(`error.code`: unsupported_parameter or unsupported_value). Where the request keeps its meaning,
the backend adjusts every later body of that model and sends again:
- max_tokens is renamed;
- stop sequences are left out of the body and applied to the answer here (cut at the first);
- a sampling value the method chose (evol's judge at temperature 0, its answers at top_p 0.95)
  is left out: the model samples only its one way. One the user chose (--temperature 0.7) stops
  the run with the server's message instead: that is theirs to change.
The cache key is the request, not the body, so a run resumes the same either way."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pipeline.types import Completion

log = logging.getLogger(__name__)

# Refusable parameter -> its new name, or None to leave it out.
ADAPTABLE: dict[str, str | None] = {
    "max_tokens": "max_completion_tokens",
    "stop": None,
    "temperature": None,
    "top_p": None,
}
SAMPLING = ("temperature", "top_p")
DEFAULT_SAMPLING = 1  # what a model that refuses other values samples with


class ParamAdapter:
    """What each model behind one endpoint refused; applied to every later body of it."""

    def __init__(self, user_set: frozenset[str] = frozenset()):
        self.user_set = user_set  # sampling parameters the user chose (not the method)
        self.adapted: dict[tuple[str, str], str | None] = {}

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        model = body.get("model", "")
        for (for_model, param), instead in self.adapted.items():
            if for_model == model and param in body:
                value = body.pop(param)
                if instead:
                    body[instead] = value
        return body

    def stops_here(self, model: str) -> bool:
        """Whether this model's stop sequences are applied here, not by the model."""
        return (model, "stop") in self.adapted

    def learn(self, error_body: Any, body: dict[str, Any]) -> bool:
        """From a 400's body: True if the refused parameter is now adjusted (send again)."""
        error = error_body.get("error", error_body) if isinstance(error_body, dict) else None
        if not isinstance(error, dict):
            return False
        param, code = error.get("param"), error.get("code")
        if param not in ADAPTABLE or param not in body:
            return False
        if code not in ("unsupported_parameter", "unsupported_value"):
            return False
        if param in SAMPLING and param in self.user_set and body[param] != DEFAULT_SAMPLING:
            return False  # e.g. --temperature 0.7 on a model that only samples at 1
        key = (str(body.get("model", "")), param)
        if key in self.adapted:
            return True  # learnt meanwhile from another request in flight: this body predates it
        self.adapted[key] = ADAPTABLE[param]
        instead = {
            "max_tokens": "sends max_completion_tokens instead",
            "stop": "cuts its answers at the stop sequences itself",
        }.get(param, f"leaves {param} out ({body[param]} was the method's)")
        log.warning("model %s refuses %s: this run %s", key[0], param, instead)
        return True


def cut_at_stops(completion: Completion, stops: tuple[str, ...]) -> Completion:
    """Each answer cut before the first of the stop sequences, as the model would have stopped."""
    choices = []
    for choice in completion.choices:
        ends = [i for i in (choice.text.find(s) for s in stops if s) if i >= 0]
        if ends:
            choice = dataclasses.replace(
                choice, text=choice.text[: min(ends)], finish_reason="stop"
            )
        choices.append(choice)
    return dataclasses.replace(completion, choices=tuple(choices))
