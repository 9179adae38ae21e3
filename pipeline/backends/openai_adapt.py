"""Parameters a model refuses, learnt from its first 400 and adjusted for the rest of the run.

OpenAI's reasoning models (o-series, gpt-5) refuse on the chat API what older chat models take:
`max_tokens` (they take `max_completion_tokens`), stop sequences, and `temperature`/`top_p`
other than their default of 1. A 400 names the parameter (`error.param`) and says why
(`error.code`: unsupported_parameter or unsupported_value). Where the request can keep its
meaning (a rename, a default left out, stop sequences the model cannot take), the backend
adjusts every later body and sends again; anything else stays the user's error to fix. The cache
key is the request, not the body, so a run resumes the same either way."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Refusable parameter -> its new name, or None to leave it out.
ADAPTABLE: dict[str, str | None] = {
    "max_tokens": "max_completion_tokens",
    "stop": None,
    "temperature": None,
    "top_p": None,
}
# Values a refused sampling parameter may have for leaving it out to change nothing.
DEFAULTS = {"temperature": 1, "top_p": 1}


class ParamAdapter:
    """What one endpoint's model refused; applied to every body from then on."""

    def __init__(self) -> None:
        self.adapted: dict[str, str | None] = {}

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for param, instead in self.adapted.items():
            if param in body:
                value = body.pop(param)
                if instead:
                    body[instead] = value
        return body

    def learn(self, error_body: Any, body: dict[str, Any]) -> bool:
        """From a 400's body: True if the refused parameter is now adjusted (send again)."""
        error = error_body.get("error", error_body) if isinstance(error_body, dict) else None
        if not isinstance(error, dict):
            return False
        param, code = error.get("param"), error.get("code")
        if param not in ADAPTABLE or param not in body:
            return False
        if param in self.adapted:
            return True  # learnt meanwhile from another request in flight: this body predates it
        if code == "unsupported_value" and body[param] != DEFAULTS.get(param):
            return False  # e.g. --temperature 0.7 on a model that only takes 1: the user's call
        if code not in ("unsupported_parameter", "unsupported_value"):
            return False
        self.adapted[param] = ADAPTABLE[param]
        instead = f"sends {ADAPTABLE[param]} instead" if ADAPTABLE[param] else "leaves it out"
        log.warning("model %s refuses %s: this run %s", body.get("model"), param, instead)
        return True
