"""OpenAI's response bodies read into Completions: chat, legacy completions, stored answers.

Like the SDK, no schema validation: a missing field reads as None, and a body that cannot be
read at all is a TransientBackendError (asked again)."""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import TransientBackendError
from pipeline.tokens import count_tokens
from pipeline.types import Choice, Completion, Request, Usage

# Tokens a chat message adds around its text (role, separators), for a count of our own.
CHAT_OVERHEAD = 4
# The metadata field a stored answer is found by: the request's cache key.
KEY_FIELD = "instructgen_key"


def stored_answer(raw: bytes, key: str, request: Request) -> Completion | None:
    """The listed item stored under `key`, checked: a server that ignores the metadata filter
    must not hand another request's answer to this one."""
    try:
        items = json.loads(raw).get("data")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and (item.get("metadata") or {}).get(KEY_FIELD) == key:
                return chat_completion(item, request)
    except (ValueError, AttributeError, TypeError, TransientBackendError):
        pass  # not a list of stored completions: nothing to recover here
    return None


def _usage(data: dict[str, Any], request: Request, texts: list[str]) -> Usage:
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    if prompt or completion:
        return Usage(prompt, completion)
    # No usage reported, or none counted (some proxies, older local servers): our own count
    # (pipeline/tokens.py), so the spend, --max-cost and the estimates still see the tokens.
    if request.api == "chat":
        preamble = sum(count_tokens(t) + CHAT_OVERHEAD for t in request.preamble())
        prompt = sum(count_tokens(p) + preamble + CHAT_OVERHEAD for p in request.prompts)
    else:  # the completions API sends no system prompt and no message wrapping
        prompt = sum(count_tokens(p) for p in request.prompts)
    return Usage(prompt, sum(count_tokens(t) for t in texts))


def _choices(data: Any) -> list[Any]:
    # Like the SDK, no schema validation: a missing field reads as None.
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        raise TransientBackendError(f"unparseable response body: no choices in {data!r:.200}")
    return choices


def chat_completion(data: Any, request: Request) -> Completion:
    try:
        choices = tuple(
            Choice(c.get("message").get("content") or "", c.get("finish_reason") or "stop", 0)
            for c in _choices(data)
        )
        usage = _usage(data, request, [c.text for c in choices])
        return Completion(choices, usage, data.get("model") or request.model)
    except (AttributeError, TypeError) as exc:
        raise TransientBackendError(f"unparseable chat response: {exc}") from exc


def text_completion(data: Any, request: Request) -> Completion:
    try:
        pairs = [
            (
                i if c.get("index") is None else c["index"],
                c.get("text") or "",
                c.get("finish_reason") or "stop",
            )
            for i, c in enumerate(_choices(data))
        ]
        model = data.get("model") or request.model
        usage = _usage(data, request, [text for _, text, _ in pairs])
        outside = any(not 0 <= index < len(request.prompts) for index, _, _ in pairs)
    except (AttributeError, TypeError) as exc:
        raise TransientBackendError(f"unparseable completions response: {exc}") from exc
    if outside:
        raise TransientBackendError(
            f"completions response has a choice index outside 0..{len(request.prompts) - 1}"
        )
    choices = tuple(Choice(text, reason, index) for index, text, reason in sorted(pairs))
    return Completion(choices, usage, model)
