"""Which format a data file is in, from its name and its first record's fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.formats.records import first_record

UNKNOWN_FIX = (
    "name the format (--seeds-format, --from-format or --format), or map the fields of plain "
    "JSONL with --map instruction=FIELD,output=FIELD"
)


def detect(path: Path) -> str:
    """The format name; an empty file is 'self-instruct', whose reader then finds no records."""
    if path.suffix.lower() == ".parquet":
        return "parquet"
    first = first_record(path)
    if first is None or not isinstance(first[1], dict):
        return "self-instruct"  # the reader reports the file as empty, or the record's type
    line, rec = first
    name = by_fields(rec)
    if name is None:
        fields = ", ".join(list(rec)[:8]) or "none"
        raise InputError(path, line, f"unrecognised record (fields: {fields})", UNKNOWN_FIX)
    return name


def by_fields(rec: dict[str, Any]) -> str | None:
    if "conversations" in rec:
        return "sharegpt"
    if "messages" in rec:
        return "openai"
    if any(k.lower() in ("definition", "instances") and k[0].isupper() for k in rec):
        superni = isinstance(rec.get("Definition"), list) or "Positive Examples" in rec
        return "superni" if superni else "niv1"
    instances = rec.get("instances")
    first = instances[0] if isinstance(instances, list) and instances else None
    if isinstance(first, dict) and {"instruction_with_input", "constraints"} & set(first):
        return "unnatural"
    if "instances" in rec:
        return "self-instruct"
    if "response" in rec and "instruction" in rec:
        return "dolly"
    if "method" in rec and "meta" not in rec and "instruction" in rec:
        return "jsonl"  # our flat export; a run's kept.jsonl reads as Alpaca, as it always has
    if "input" in rec or "output" in rec:
        return "alpaca"
    if "instruction" in rec:
        return "self-instruct"  # whose reader then asks for the missing instances
    return None
