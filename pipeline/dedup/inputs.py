"""Reading every input, in the order given, into rows that remember their file's format."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from pipeline.formats import data_files, read_items
from pipeline.formats.detect import detect
from pipeline.formats.records import read_records
from pipeline.formats.registry import RUN_FILE, RUN_KEPT
from pipeline.store import STATS
from pipeline.types import Example

RUN = "run"  # a run's kept.jsonl: Example.to_dict lines, read back whole (meta, messages)


class Row(NamedTuple):
    example: Example
    fmt: str  # the format of the file it came from


def read_inputs(paths: list[Path]) -> tuple[list[Row], list[dict]]:
    """Every row of every input, and per input file its path, format and row count. Ids stay
    unique across inputs: a repeated one becomes '<file stem>/<id>'."""
    rows: list[Row] = []
    files: list[dict] = []
    seen: set[str] = set()
    for path in paths:
        by_file: dict[Path, list[Example]] = {}
        for item in read_items(path):  # raises InputError naming the file, line and fix
            by_file.setdefault(item.at.path, []).append(item.example)
        for file in data_files(path):
            fmt = RUN if _is_run_file(file) else detect(file)
            examples = _run_examples(file) if fmt == RUN else None
            of_file = by_file.get(file, [])
            whole = of_file if examples is None else examples
            for n, example in enumerate(whole):
                # read_items numbered the ids a run left empty; it reads a conversation as one
                # example per exchange, so its numbering lines up only for single pairs.
                if examples is not None and not example.id and not example.messages:
                    example = _with_id(example, of_file[n].id)
                rows.append(Row(_unique(example, file, seen), fmt))
            files.append({"path": str(file), "format": fmt, "rows": len(whole)})
    return rows, files


def _is_run_file(file: Path) -> bool:
    """A run's kept.jsonl, or one that `dedup` wrote (no run.json, a stats.json)."""
    siblings = (file.parent / RUN_FILE, file.parent / STATS)
    return file.name == RUN_KEPT and any(p.exists() for p in siblings)


def _run_examples(file: Path) -> list[Example]:
    return [Example.from_dict(rec) for _, rec in read_records(file) if isinstance(rec, dict)]


def _with_id(e: Example, ident: str) -> Example:
    return e if e.id == ident else Example(**{**_fields(e), "id": ident})


def _unique(e: Example, file: Path, seen: set[str]) -> Example:
    ident, n = e.id, 1
    while ident in seen:
        n += 1
        ident = f"{file.stem}/{e.id}" + (f"#{n}" if n > 2 else "")
    seen.add(ident)
    return e if ident == e.id else Example(**{**_fields(e), "id": ident})


def _fields(e: Example) -> dict:
    return {k: getattr(e, k) for k in Example.__slots__}
