"""Alpaca (a JSON list, or JSONL, of instruction/input/output) and self-instruct seed tasks
(instruction plus a list of instances, of which the first is the seed's example)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.formats.fields import At, Item, kind, numbered
from pipeline.formats.records import read_records
from pipeline.store import atomic_write
from pipeline.types import Example

RECORD_FIX = 'write each seed as {"instruction": "...", "input": "...", "output": "..."}'
INSTANCES_FIX = (
    'give the task "instances": [{"input": "...", "output": "..."}] '
    '(or top-level "input" and "output" in every record, as Alpaca does)'
)


def read_alpaca(path: Path) -> Iterator[Item]:
    for at, rec in numbered(path, read_records(path), RECORD_FIX):
        if "instances" in rec:
            at.fail("has 'instances' but the first record is in Alpaca's schema", RECORD_FIX)
        yield Item(at, _example(at, rec, at.text(rec, "input"), at.text(rec, "output")))


def read_self_instruct(path: Path) -> Iterator[Item]:
    for at, rec in numbered(path, read_records(path), RECORD_FIX):
        yield Item(at, _example(at, rec, *_first_instance(at, rec)))


def _example(at: At, rec: dict[str, Any], inp: str, out: str) -> Example:
    instruction = at.text(rec, "instruction", required=True)
    meta = {key: rec[key] for key in ("name", "is_classification") if key in rec}
    meta["source"] = at.path.name
    return Example(instruction, inp, out, id=at.ident(rec), method="seed", meta=meta)


def _first_instance(at: At, rec: dict[str, Any]) -> tuple[str, str]:
    """Self-instruct seeds show the model one example per task: the first instance."""
    at.text(rec, "instruction", required=True)  # reported before the instances, as it comes first
    instances = at.items(rec, "instances", INSTANCES_FIX)
    if not instances:
        at.fail("'instances' is empty", INSTANCES_FIX)
    first = instances[0]
    if not isinstance(first, dict) or "output" not in first:
        problem = f"'instances[0]' is {kind(first)} without an 'output'"
        at.fail(problem, INSTANCES_FIX)
    inner = at.inside("instances[0]")
    return inner.text(first, "input"), inner.text(first, "output")


def write_alpaca(examples: list[Example], path: Path, **_: Any) -> None:
    """A JSON list of {instruction, input, output}: what Alpaca's training script loads."""
    rows = [e.to_alpaca() for e in examples]
    atomic_write(path, [json.dumps(rows, indent=2, ensure_ascii=False) + "\n"])
