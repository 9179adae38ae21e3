"""Vicuna's ShareGPT conversations: {"id", "conversations": [{"from", "value"}, ...]}."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.chat import Turn, conversations, examples_from_turns
from pipeline.formats.fields import At, Item, numbered
from pipeline.formats.records import read_records
from pipeline.store import atomic_write
from pipeline.types import Example

FIX = (
    'write each conversation as {"id": "...", "conversations": [{"from": "human", "value": '
    '"..."}, {"from": "gpt", "value": "..."}]}'
)
# Speaker names seen in shared ChatGPT data, by the role they play.
ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
}
SPEAKERS = {"user": "human", "assistant": "gpt", "system": "system"}


def read_sharegpt(path: Path) -> Iterator[Item]:
    for n, (at, rec) in enumerate(numbered(path, read_records(path), FIX), start=1):
        conv_id = at.ident(rec) or f"{path.stem}-{n}"
        listed = at.items(rec, "conversations", FIX)
        turns = [_turn(at.inside(f"conversations[{i}]"), t) for i, t in enumerate(listed)]
        yield from examples_from_turns(at, conv_id, turns)


def _turn(at: At, turn: Any) -> Turn:
    turn = at.obj(turn, FIX)
    speaker = at.text(turn, "from", required=True)
    role = ROLES.get(speaker.lower())
    if role is None:
        known = ", ".join(ROLES)
        at.fail(f"{at.label('from')} is {speaker!r}, not a known speaker", f"use one of {known}")
    value = turn.get("value")
    if not isinstance(value, str):
        at.text(turn, "value", required=True)  # raises the precise error
    return {"role": role, "content": value}


def write_sharegpt(examples: list[Example], path: Path, **_: Any) -> None:
    """A JSON list of conversations, as Vicuna's training data."""
    rows = [
        {
            "id": conv_id,
            "conversations": [
                {"from": SPEAKERS[t["role"]], "value": t["content"]}
                for t in ([{"role": "system", "content": system}] if system else []) + turns
            ],
        }
        for conv_id, system, turns in conversations(examples)
    ]
    atomic_write(path, [json.dumps(rows, indent=2, ensure_ascii=False) + "\n"])
