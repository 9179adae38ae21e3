"""Examples as flat table rows, for `datasets.load_dataset` and Parquet: the five Example
fields, then one column per meta key, `meta_<key>`, in every row (null where a row has none).

A column keeps its values as they are when all of them share one type (string, whole number,
float, boolean, or list of strings); otherwise it holds each value as JSON text and is named
`meta_<key>_json`, so every column has one type and the reader restores the exact value.
A meta key that itself ends in `_json` is always stored as JSON, so names never clash. When any
example is a whole conversation (Example.messages), a `messages` column holds every row's turns
as {"role", "content"} records (empty for a single pair)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.fields import At, Item, numbered
from pipeline.formats.records import read_records
from pipeline.store import atomic_write, jsonl_lines
from pipeline.types import Example, read_messages

FIELDS = ("id", "instruction", "input", "output", "method")
PREFIX, JSON_SUFFIX = "meta_", "_json"
FIX = 'write each row as {"id", "instruction", "input", "output", "method", "meta_<key>": ...}'
_INT64 = (-(2**63), 2**63 - 1)


def value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if _INT64[0] <= value <= _INT64[1] else "json"
    if isinstance(value, float | str):
        return type(value).__name__
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "list_str"
    return "json"


def columns(examples: list[Example]) -> dict[str, str]:
    """meta key -> the kind of its column ('str', 'int', 'float', 'bool', 'list_str', 'json')."""
    kinds: dict[str, set[str]] = {}
    for e in examples:
        for key, value in e.meta.items():
            kinds.setdefault(key, set()).add(value_kind(value))
    return {
        key: found.pop() if len(found) == 1 and not key.endswith(JSON_SUFFIX) else "json"
        for key, found in kinds.items()
    }


def column_name(key: str, kind: str) -> str:
    return f"{PREFIX}{key}{JSON_SUFFIX if kind == 'json' else ''}"


def to_rows(examples: list[Example]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    kinds = columns(examples)
    talks = any(e.messages for e in examples)
    rows = []
    for e in examples:
        row: dict[str, Any] = {f: getattr(e, f) for f in FIELDS}
        if talks:
            row["messages"] = [dict(m) for m in e.messages]
        for key, kind in kinds.items():
            value = e.meta.get(key) if key in e.meta else None
            if kind == "json" and key in e.meta:
                value = json.dumps(value, ensure_ascii=False)
            row[column_name(key, kind)] = value
        rows.append(row)
    return kinds, rows


def from_row(at: At, row: dict[str, Any]) -> Example:
    """A row back to an Example; a nested "meta" object (a run's kept.jsonl) is taken too, and
    columns of other names are kept in meta under their own name."""
    texts = {f: at.text(row, f, required=f == "instruction") for f in FIELDS if f != "id"}
    nested = row.get("meta")
    meta: dict[str, Any] = dict(at.inside("meta").obj(nested, FIX)) if nested is not None else {}
    for name, value in row.items():
        if name in FIELDS or name in ("meta", "messages") or value is None:
            continue
        if not name.startswith(PREFIX):
            meta[name] = value
        elif name.endswith(JSON_SUFFIX):
            meta[name[len(PREFIX) : -len(JSON_SUFFIX)]] = _json(at, name, value)
        else:
            meta[name[len(PREFIX) :]] = value
    messages = read_messages(row.get("messages"))
    return Example(**texts, id=at.ident(row), meta=meta, messages=messages)


def _json(at: At, name: str, value: Any) -> Any:
    if not isinstance(value, str):
        at.fail(f"{at.label(name)} is not JSON text", "columns ending in _json hold JSON text")
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        at.fail(f"{at.label(name)} is not valid JSON ({e.msg})", "re-export the file")


def read_jsonl(path: Path) -> Iterator[Item]:
    for at, rec in numbered(path, read_records(path), FIX):
        yield Item(at, from_row(at, rec))


def write_jsonl(examples: list[Example], path: Path, **_: Any) -> None:
    atomic_write(path, jsonl_lines(to_rows(examples)[1]))
