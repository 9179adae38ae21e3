"""Unnatural Instructions' released files (core_data.jsonl / full_data.jsonl, and a run's
core.jsonl / full.jsonl): every instance, and every reformulation, becomes an example."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.formats.fields import At, Item, numbered
from pipeline.formats.records import read_records
from pipeline.types import Example

FIX = (
    'write each record as {"instruction": "...", "instances": [{"input": "...", '
    '"constraints": "...", "output": "..."}], "reformulations": [...]}'
)


def read_unnatural(path: Path) -> Iterator[Item]:
    for at, rec in numbered(path, read_records(path), FIX):
        instruction = at.text(rec, "instruction", required=True)
        for i, inst in enumerate(at.items(rec, "instances", FIX)):
            here = at.inside(f"instances[{i}]")
            inst = here.obj(inst, FIX)
            meta = {"stage": "core", "source": path.name}
            constraints = here.text(inst, "constraints")
            if constraints:
                meta["constraints"] = constraints
            out = here.text(inst, "output")
            yield Item(at, Example(instruction, here.text(inst, "input"), out, "", "seed", meta))
        for i, ref in enumerate(at.items(rec, "reformulations", FIX, required=False)):
            yield Item(at, _reformulation(at.inside(f"reformulations[{i}]"), ref))


def _reformulation(here: At, ref: object) -> Example:
    """A reformulation's instruction is its template filled with the input, as in kept.jsonl."""
    ref = here.obj(ref, FIX)
    filled = here.text(ref, "instruction_with_input", required=True)
    meta = {"stage": "reformulation", "template": here.text(ref, "instruction")}
    meta["source"] = here.path.name
    return Example(filled, "", here.text(ref, "output"), "", "seed", meta)
