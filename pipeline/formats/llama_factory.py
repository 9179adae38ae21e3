"""LLaMA-Factory's datasets: data files in a folder (its `data/`, or one of ours) and their
entries in the folder's dataset_info.json, which says how each file's columns map to prompt,
query, response, system and history (hiyouga/LLaMA-Factory, data/README.md).

The Alpaca file is always written: instruction, input, output, plus `system` and `history`
(the earlier [prompt, response] pairs of a conversation) when the data has them. A ShareGPT
file, `conversations` of human/gpt turns, is added when a conversation has more than one
exchange (`chat="auto"`) or when asked (`chat="sharegpt"`). Entries already in
dataset_info.json are kept; ours replace those of the same name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, InputError
from pipeline.formats.chat import conversations
from pipeline.formats.sharegpt import SPEAKERS
from pipeline.store import atomic_write
from pipeline.types import Example

FORMAT, INFO = "llama-factory", "dataset_info.json"
CHATS = ("auto", "alpaca", "sharegpt")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}
TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": SPEAKERS["user"],
    "assistant_tag": SPEAKERS["assistant"],
    "system_tag": SPEAKERS["system"],
}
INFO_FIX = "fix it or move it away, then export again"

Exchange = tuple[str, str]  # (what the user said, what the assistant answered)
Conversation = tuple[str | None, list[Exchange]]  # (system prompt, exchanges)


def check_options(name: str, chat: str) -> None:
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"dataset name {name!r}: LLaMA-Factory's entries and files take letters, digits, "
            "'.', '_' and '-'; pass --dataset-name NAME"
        )
    if chat not in CHATS:
        raise ConfigError(f"--llama-factory-format {chat!r}: use one of {', '.join(CHATS)}")


def write_llama_factory(
    examples: list[Example], path: Path, name: str = "", chat: str = "auto", **_: Any
) -> None:
    """Write NAME.json (and NAME_sharegpt.json) into the folder `path` and register them."""
    name = name or path.name
    check_options(name, chat)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; llama-factory writes a folder, pass one")
    path.mkdir(parents=True, exist_ok=True)
    convs = [(system, exchanges(turns)) for _, system, turns in conversations(examples)]
    entries = {name: _write_alpaca(examples, convs, path / f"{name}.json")}
    if chat == "sharegpt" or (chat == "auto" and multi_turn(convs)):
        chats = f"{name}_sharegpt"
        entries[chats] = _write_sharegpt(convs, path / f"{chats}.json")
    merge_info(path / INFO, entries)


def exchanges(turns: list[dict[str, str]]) -> list[Exchange]:
    """A user turn answered by the next assistant turn, in order; stray turns are left out
    (LLaMA-Factory takes strictly alternating conversations only)."""
    pairs, i = [], 0
    while i + 1 < len(turns):
        ask, answer = turns[i], turns[i + 1]
        if ask["role"] == "user" and answer["role"] == "assistant":
            pairs.append((ask["content"], answer["content"]))
            i += 2
        else:
            i += 1
    return pairs


def multi_turn(convs: list[Conversation]) -> bool:
    return any(len(pairs) > 1 for _, pairs in convs)


def _write_alpaca(examples: list[Example], convs: list[Conversation], path: Path) -> dict:
    """Single pairs as the run's alpaca.json has them (input kept apart); conversations as
    their last exchange, the ones before it as history."""
    history, system = multi_turn(convs), any(s for s, _ in convs)
    if history or system:
        rows = [_conversation_row(c, history, system) for c in convs if c[1]]
    else:
        rows = [e.to_alpaca() for e in examples]
    _dump(path, rows)
    columns = {**ALPACA_COLUMNS}
    columns.update({"system": "system"} if system else {})
    columns.update({"history": "history"} if history else {})
    return {"file_name": path.name, "formatting": "alpaca", "columns": columns}


def _conversation_row(conv: Conversation, history: bool, system: bool) -> dict[str, Any]:
    prompt, (*before, (last, answer)) = conv[0], conv[1]
    row: dict[str, Any] = {"instruction": last, "input": "", "output": answer}
    if system:
        row["system"] = prompt or ""
    if history:
        row["history"] = [list(pair) for pair in before]
    return row


def _write_sharegpt(convs: list[Conversation], path: Path) -> dict:
    system = any(s for s, _ in convs)
    rows = []
    for prompt, pairs in convs:
        if not pairs:
            continue
        turns = [
            {"from": SPEAKERS[role], "value": text}
            for pair in pairs
            for role, text in zip(("user", "assistant"), pair, strict=True)
        ]
        rows.append({"conversations": turns, **({"system": prompt or ""} if system else {})})
    _dump(path, rows)
    columns = {"messages": "conversations", **({"system": "system"} if system else {})}
    return {"file_name": path.name, "formatting": "sharegpt", "columns": columns, "tags": TAGS}


def merge_info(path: Path, entries: dict[str, dict]) -> None:
    """Add the entries to dataset_info.json (made if missing), the others left as they are."""
    info: dict[str, Any] = {}
    if path.exists():
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise InputError(path, None, "is not valid JSON", INFO_FIX) from None
        if not isinstance(info, dict):
            raise InputError(path, None, "is not a JSON object of datasets", INFO_FIX)
    info.update(entries)
    _dump(path, info)


def _dump(path: Path, value: Any) -> None:
    atomic_write(path, [json.dumps(value, indent=2, ensure_ascii=False) + "\n"])
