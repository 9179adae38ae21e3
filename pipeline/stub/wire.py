"""OpenAI's wire format as the stub server speaks it: request bodies in, response bodies out."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from pipeline.stub.faults import HTTPError
from pipeline.types import Completion, Request


def request_from_body(api: str, body: dict[str, Any], slot: str = "") -> Request:
    """Translate an OpenAI request body into the Request the stub model answers."""
    try:
        if api == "chat":
            system, history, prompt = _from_messages(body.get("messages"))
            prompts: tuple[str, ...] = (prompt,)
        else:
            system, history, prompts = None, (), _prompts(body.get("prompt"))
        stop, bias = body.get("stop") or (), body.get("logit_bias") or {}
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 3072
        return Request(
            model=str(body.get("model") or "stub"),
            prompts=prompts,
            api="chat" if api == "chat" else "completions",
            system=system,
            temperature=float(_default(body.get("temperature"), 1.0)),
            top_p=float(_default(body.get("top_p"), 1.0)),
            max_tokens=int(max_tokens),
            stop=(stop,) if isinstance(stop, str) else tuple(str(s) for s in stop),
            logit_bias=tuple(sorted((str(k), int(v)) for k, v in dict(bias).items())),
            slot=slot,
            history=history,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise HTTPError(400, f"bad request body: {exc}") from exc


def refuse_as_reasoning_model(body: dict[str, Any]) -> None:
    """Refuse what OpenAI's reasoning models (o-series, gpt-5) refuse on the chat API, in
    their words: max_tokens (they take max_completion_tokens), stop sequences, and sampling
    other than the default."""
    for param in ("max_tokens", "stop"):
        if body.get(param) is not None:
            message = f"Unsupported parameter: '{param}' is not supported with this model."
            if param == "max_tokens":
                message += " Use 'max_completion_tokens' instead."
            raise HTTPError(400, message, code="unsupported_parameter", param=param)
    for param in ("temperature", "top_p"):
        value = body.get(param)
        if value is not None and value != 1:
            message = (
                f"Unsupported value: '{param}' does not support {value} with this model. "
                "Only the default (1) value is supported."
            )
            raise HTTPError(400, message, code="unsupported_value", param=param)


def _default(value: Any, default: float) -> Any:
    return default if value is None else value


def _from_messages(messages: Any) -> tuple[str | None, tuple[tuple[str, str], ...], str]:
    """(system prompt, earlier turns, the last user message) of a chat request, refused unless
    it is laid out as the chat templates of llama.cpp and vLLM require: an optional system
    message first, then user and assistant turns alternating, from a user turn to a user turn."""
    if not isinstance(messages, list) or not messages:
        raise TypeError("messages must be a non-empty list")
    pairs = [(m.get("role"), m.get("content")) for m in messages]
    if not all(isinstance(c, str) for _, c in pairs):
        raise ValueError("message contents must be strings")
    system = pairs[0][1] if pairs[0][0] == "system" else None
    turns = pairs[1:] if system is not None else pairs
    expected = [("user", "assistant")[i % 2] for i in range(len(turns))]
    if [r for r, _ in turns] != expected or len(turns) % 2 == 0:
        raise ValueError(
            "messages must be an optional system message, then user and assistant turns "
            "alternating, ending with a user turn"
        )
    return system, tuple((str(r), str(c)) for r, c in turns[:-1]), turns[-1][1]


def _prompts(prompt: Any) -> tuple[str, ...]:
    if isinstance(prompt, str):
        return (prompt,)
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return tuple(prompt)
    raise TypeError("prompt must be a string or a non-empty list of strings")


def response_body(api: str, key: str, model: str, completion: Completion) -> dict[str, Any]:
    """The OpenAI-shaped JSON for a stub Completion (chat.completion or text_completion)."""
    chat = api == "chat"
    choices = []
    for i, c in enumerate(completion.choices):
        choice: dict[str, Any] = {"index": i if chat else c.index, "logprobs": None}
        if chat:
            choice["message"] = {"role": "assistant", "content": c.text}
        else:
            choice["text"] = c.text
        choices.append({**choice, "finish_reason": c.finish_reason})
    u = completion.usage
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{key[:24]}",
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {**asdict(u), "total_tokens": u.prompt_tokens + u.completion_tokens},
    }


def models_body(model: str) -> dict[str, Any]:
    entry = {"id": model, "object": "model", "created": 0, "owned_by": "instructgen"}
    return {"object": "list", "data": [entry]}


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_json(send: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})
