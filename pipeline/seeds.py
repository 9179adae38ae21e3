"""Seed tasks: any readable data format (pipeline/formats/), a folder of such files, or a run
directory, read into Examples. Self-instruct seed JSONL and Alpaca JSON/JSONL read as they
always have, so run directories made from them still resume."""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.errors import InputError
from pipeline.formats import read_items
from pipeline.formats.alpaca import RECORD_FIX
from pipeline.formats.records import MAX_LINE_BYTES, read_records
from pipeline.resources import data_file
from pipeline.types import Example

__all__ = ["MAX_LINE_BYTES", "check_path", "limit_and_sample", "load_seeds", "read_records"]


def load_seeds(
    path: str | Path | None = None, fmt: str | None = None, mapping: str | None = None
) -> list[Example]:
    """Read seed tasks as Examples; None reads the shipped seeds/seed_tasks.jsonl.

    `fmt` names the format (detected per file when None); `mapping` is a --map string."""
    path = data_file("seeds", "seed_tasks.jsonl") if path is None else Path(path)
    items = read_items(path, fmt, mapping)
    for at, example in items:
        if not example.instruction.strip():
            fix = "map a field to it with --map instruction=FIELD"
            at.fail(f"{at.where() + ': ' if at.line is None else ''}no instruction", fix)
    if not items:
        which = "the files are empty" if path.is_dir() else "the file is empty"
        raise InputError(path, None, f"no seed tasks ({which})", RECORD_FIX + ", one a line")
    return [item.example for item in items]


def limit_and_sample(
    items: list[Example], limit: int | None, sample: int | None, seed: int, where: str, noun: str
) -> list[Example]:
    """The first `limit` items, then a seeded `sample` of them in their original order (the
    --limit / --sample of a method that maps over its input); `where` and `noun` name them in
    the error for a sample larger than what there is."""
    if limit is not None:
        items = items[:limit]
    if sample is not None:
        if sample > len(items):
            problem = f"--sample {sample} is more than the {len(items)} {noun} there"
            raise InputError(where, None, problem, "lower --sample, or leave it out")
        picked = random.Random(f"{seed}:sample").sample(range(len(items)), sample)
        items = [items[i] for i in sorted(picked)]
    return items


def check_path(path: Path) -> None:
    """A single input file must exist and not be a folder (demonstrations, for instance)."""
    if path.is_dir():
        fix = f"pass a seed file such as {path / 'seed_tasks.jsonl'}"
        raise InputError(path, None, "is a directory", fix)
    if not path.exists():
        fix = "check the path, or omit it to use the built-in seeds"
        raise InputError(path, None, "no such file", fix)
