"""Plain JSONL (or a JSON list) with a field mapping such as instruction=question,output=answer.

A target not named keeps its own field name (instruction from "instruction", and so on).
Targets other than instruction, input, output and id land in meta under the target's name;
fields no target uses are kept in meta as they are. A source may be a dotted path
(answers.text.0) into nested objects and lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.formats.fields import At, Item, kind, numbered
from pipeline.formats.records import read_records
from pipeline.types import Example

TEXT_TARGETS = ("instruction", "input", "output", "id")
FIX = "check --map: each TARGET=FIELD names a field every record has"
_MISSING = object()


def parse_mapping(text: str | None) -> dict[str, str]:
    """'instruction=question,output=answer' -> {'instruction': 'question', 'output': 'answer'}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        target, sep, source = (s.strip() for s in part.partition("="))
        if not sep or not target or not source:
            raise ConfigError(
                f"--map {part.strip()!r}: write TARGET=FIELD pairs separated by commas, "
                "e.g. --map instruction=question,output=answer"
            )
        if target in mapping:
            raise ConfigError(f"--map names {target!r} twice; give each target one field")
        mapping[target] = source
    if text is not None and not mapping:
        raise ConfigError("--map is empty; e.g. --map instruction=question,output=answer")
    return mapping


def read_mapped(path: Path, mapping: dict[str, str]) -> Iterator[Item]:
    full = {t: t for t in TEXT_TARGETS} | mapping
    used = {source.split(".")[0] for source in full.values()}
    for at, rec in numbered(path, read_records(path), FIX):
        values = {t: _value(at, rec, s, explicit=t in mapping) for t, s in full.items()}
        meta = {k: v for k, v in rec.items() if k not in used}
        meta |= {t: v for t, v in values.items() if t not in TEXT_TARGETS and v is not _MISSING}
        meta.setdefault("source", path.name)  # a field of the user's own name wins
        texts = {t: _text(at, full[t], values[t]) for t in TEXT_TARGETS}
        yield Item(at, Example(**texts, method="seed", meta=meta))


def _value(at: At, rec: dict[str, Any], source: str, explicit: bool) -> Any:
    value: Any = rec
    for step in source.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        elif explicit:
            at.fail(f"missing {at.label(source)} (named by --map)", FIX)
        else:
            return _MISSING
    return value


def _text(at: At, source: str, value: Any) -> str:
    """Text fields take strings and numbers (a class label 0/1 becomes '0'/'1')."""
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    at.fail(f"{at.label(source)} is {kind(value)}, not a string", FIX)
