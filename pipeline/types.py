"""The records that flow through every stage: Example, and the Request/Completion pair."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Api = Literal["chat", "completions"]
# One message of a conversation: {"role": "system" | "user" | "assistant", "content": str}.
Turn = dict[str, str]
ROLES = ("system", "user", "assistant")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the same value always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Example:
    """One instruction-tuning example; seeds and generated data alike. Lineage lives in meta.

    A multi-turn conversation is one Example too: `messages` holds every turn in order (a
    system message first, if any), and instruction/input/output its first exchange, so whatever
    reads single pairs (Alpaca files, the report, the gate) sees the opening."""

    instruction: str
    input: str = ""
    output: str = ""
    id: str = ""
    method: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    messages: tuple[Turn, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "instruction": self.instruction,
            "input": self.input,
            "output": self.output,
            "method": self.method,
            "meta": self.meta,
        }
        if self.messages:  # left out otherwise: single-pair rows stay as they always were
            d["messages"] = [dict(m) for m in self.messages]
        return d

    def to_alpaca(self) -> dict[str, str]:
        return {"instruction": self.instruction, "input": self.input, "output": self.output}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        return cls(
            instruction=d["instruction"],
            input=d.get("input", "") or "",
            output=d.get("output", "") or "",
            id=d.get("id", "") or "",
            method=d.get("method", "") or "",
            meta=dict(d.get("meta") or {}),
            messages=read_messages(d.get("messages")),
        )


def read_messages(value: Any) -> tuple[Turn, ...]:
    """A row's messages when they have our shape; anything else is not a conversation."""
    ok = isinstance(value, list) and all(
        isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)
        for m in value
    )
    return tuple({"role": m["role"], "content": m["content"]} for m in value) if ok else ()


@dataclass(frozen=True, slots=True)
class Request:
    """One model call. `prompts` holds several prompts only on the completions API (Alpaca
    sent 5 per call); `slot` keeps identical prompts sampled twice apart and is never sent.
    `history` is a conversation's earlier turns, (role, text) pairs sent between the system
    prompt and the prompt (chat API only)."""

    model: str
    prompts: tuple[str, ...]
    api: Api = "chat"
    system: str | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 3072
    stop: tuple[str, ...] = ()
    logit_bias: tuple[tuple[str, int], ...] = ()
    slot: str = ""
    history: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "prompts": list(self.prompts),
            "api": self.api,
            "system": self.system,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
            "logit_bias": [list(p) for p in self.logit_bias],
            "slot": self.slot,
        }
        if self.history:  # left out otherwise: the keys of every request before it stay
            d["history"] = [list(turn) for turn in self.history]
        return d

    def preamble(self) -> list[str]:
        """The texts sent with every prompt: the system prompt and the earlier turns."""
        return ([self.system] if self.system else []) + [text for _, text in self.history]

    def canonical(self) -> str:
        return canonical_json(self.to_dict())

    def key(self) -> str:
        """The cache key: a canonical hash of everything that shapes the answer, slot included."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """One generated text; `index` is the position of its prompt in Request.prompts."""

    text: str
    finish_reason: str = "stop"
    index: int = 0


@dataclass(frozen=True, slots=True)
class Completion:
    choices: tuple[Choice, ...]
    usage: Usage = Usage()
    model: str = ""
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "choices": [
                {"text": c.text, "finish_reason": c.finish_reason, "index": c.index}
                for c in self.choices
            ],
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
            },
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], cached: bool = False) -> Completion:
        return cls(
            choices=tuple(Choice(**c) for c in d["choices"]),
            usage=Usage(**d.get("usage", {})),
            model=d.get("model", ""),
            cached=cached,
        )


@dataclass(frozen=True, slots=True)
class Drop:
    """A removed item: which filter dropped it, the categorical reason and a free detail.
    `example` is None when nothing parseable came out (then `raw` holds the model's text)."""

    filter: str
    reason: str
    detail: str = ""
    example: Example | None = None
    raw: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"filter": self.filter, "reason": self.reason, "detail": self.detail}
        if self.example is not None:
            d["example"] = self.example.to_dict()
        if self.raw is not None:
            d["raw"] = self.raw
        if self.meta:
            d["meta"] = self.meta
        return d
