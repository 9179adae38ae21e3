"""OpenAI chat fine-tuning JSONL: {"messages": [{"role", "content"}, ...]} per line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.chat import Turn, conversations, examples_from_turns
from pipeline.formats.fields import At, Item, numbered
from pipeline.formats.records import read_records
from pipeline.store import atomic_write, jsonl_lines
from pipeline.types import Example

FIX = (
    'write each line as {"messages": [{"role": "user", "content": "..."}, '
    '{"role": "assistant", "content": "..."}]}'
)
ROLES = ("system", "user", "assistant")


def read_openai(path: Path) -> Iterator[Item]:
    for n, (at, rec) in enumerate(numbered(path, read_records(path), FIX), start=1):
        messages = at.items(rec, "messages", FIX)
        turns = [_message(at.inside(f"messages[{i}]"), m) for i, m in enumerate(messages)]
        yield from examples_from_turns(at, at.ident(rec) or f"{path.stem}-{n}", turns)


def _message(at: At, message: Any) -> Turn:
    message = at.obj(message, FIX)
    role = at.text(message, "role", required=True)
    if role not in ROLES:
        at.fail(f"{at.label('role')} is {role!r}", "this reader takes system, user and assistant")
    content = message.get("content")
    if not isinstance(content, str):
        at.text(message, "content", required=True)  # raises the precise error
    return {"role": role, "content": content}


def write_openai(examples: list[Example], path: Path, system: str | None = None, **_: Any) -> None:
    """One line per conversation; `system` replaces every conversation's own system prompt."""
    rows = []
    for _conv, own, turns in conversations(examples):
        prompt = system if system is not None else own
        head = [{"role": "system", "content": prompt}] if prompt else []
        rows.append({"messages": head + [dict(t) for t in turns]})
    atomic_write(path, jsonl_lines(rows))
