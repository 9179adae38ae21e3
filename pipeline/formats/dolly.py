"""Dolly-style records: instruction, context (the input), response (the output), category."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.fields import Item, numbered
from pipeline.formats.records import read_records
from pipeline.store import atomic_write, jsonl_lines
from pipeline.types import Example

FIX = 'write each record as {"instruction": "...", "context": "...", "response": "...", ...}'


def read_dolly(path: Path) -> Iterator[Item]:
    for at, rec in numbered(path, read_records(path), FIX):
        instruction = at.text(rec, "instruction", required=True)
        meta: dict[str, Any] = {"source": path.name}
        category = at.text(rec, "category")
        if category:
            meta["category"] = category
        inp, out = at.text(rec, "context"), at.text(rec, "response")
        yield Item(at, Example(instruction, inp, out, id=at.ident(rec), method="seed", meta=meta))


def write_dolly(examples: list[Example], path: Path, **_: Any) -> None:
    """JSONL, as databricks-dolly-15k ships; the category comes from meta (or is empty)."""
    rows = (
        {
            "instruction": e.instruction,
            "context": e.input,
            "response": e.output,
            "category": str(e.meta.get("category", "")),
        }
        for e in examples
    )
    atomic_write(path, jsonl_lines(rows))
