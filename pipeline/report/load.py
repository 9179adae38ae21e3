"""What a report reads: a run directory's files, nothing else (no model, no network)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, InstructgenError
from pipeline.store import KEPT, REMOVED, RUN_FILE, STATS

ESTIMATE = "estimate.json"
# Example drops shown per (filter, reason).
DROP_EXAMPLES = 3
# Drop.to_dict() writes filter and reason first: read them without parsing the whole line.
_HEAD = re.compile(r'\{"filter": ("(?:[^"\\]|\\.)*"), "reason": ("(?:[^"\\]|\\.)*")')
_FIX = "pass a run directory written by `instructgen run`"


@dataclass
class RunData:
    """One run directory as the report sees it."""

    path: Path
    stats: dict[str, Any]
    config: dict[str, Any]
    kept: list[dict[str, Any]]
    drop_examples: dict[tuple[str, str], list[dict[str, Any]]]
    estimate: dict[str, Any] | None = None
    fingerprint: str | None = None  # run.json's
    # The meta fields of every drop that the method's report sections read (MethodReport).
    drop_meta: dict[str, list[str]] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return str(self.config.get("method") or (self.kept[0]["method"] if self.kept else ""))

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)


DropFields = Callable[[str], tuple[str, ...]]


def load_run(path: str | Path, drop_fields: DropFields = lambda method: ()) -> RunData:
    """Read stats.json, run.json, kept.jsonl, removed.jsonl and an optional estimate.json.

    `drop_fields(method)` names the meta fields of every drop the method's sections read."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(path, None, "is not a directory", _FIX)
    stats = _read_json(path / STATS, required=True)
    if not isinstance(stats, dict):
        raise InputError(path / STATS, None, "is not a JSON object", _FIX)
    run = _read_json(path / RUN_FILE, required=False)
    run = run if isinstance(run, dict) else {}
    config = run.get("config") if isinstance(run.get("config"), dict) else {}
    kept = [_slim(e) for e in _read_jsonl(path / KEPT)]
    examples, drop_meta = _read_removed(path / REMOVED, drop_fields(str(config.get("method"))))
    estimate = _read_json(path / ESTIMATE, required=False)
    fingerprint = run.get("fingerprint")
    return RunData(path, stats, config, kept, examples, estimate, fingerprint, drop_meta)


def _slim(example: dict[str, Any]) -> dict[str, Any]:
    """Only the nearest of the 10 most similar instructions is shown: drop the rest (memory)."""
    meta = example.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("most_similar"), list):
        meta["most_similar"] = meta["most_similar"][:1]
    return example


def _read_json(file: Path, required: bool) -> Any:
    if not file.exists():
        if required:
            raise InputError(file.parent, None, f"has no {file.name}", _FIX)
        return None
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(file, None, f"is not valid JSON ({e})", _FIX) from None


def _read_jsonl(file: Path):
    if not file.exists():
        raise InputError(file.parent, None, f"has no {file.name}", _FIX)
    with file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield _parse_line(file, number, line)


def _parse_line(file: Path, number: int, line: str) -> dict[str, Any]:
    try:
        return json.loads(line)
    except ValueError:
        raise InputError(file, number, "is not one JSON object", _FIX) from None


def _read_removed(file: Path, fields: tuple[str, ...]):
    """A few example drops per (filter, reason), and `fields` of every drop's example meta
    (which takes parsing every line, not only its head)."""
    examples: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    values: dict[str, list[str]] = {name: [] for name in fields}
    if not file.exists():
        return examples, values
    keys: dict[tuple[str, str], tuple[str, str]] = {}  # a handful of (filter, reason) heads
    with file.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            head = None if fields else _HEAD.match(line)
            if head is not None:
                raw = head.groups()
                key = keys.get(raw)
                if key is None:
                    key = keys[raw] = (json.loads(raw[0]), json.loads(raw[1]))
                if len(examples[key]) < DROP_EXAMPLES:
                    examples[key].append(_parse_line(file, number, line))
                continue
            if not line.strip():
                continue
            drop = _parse_line(file, number, line)
            key = (drop.get("filter", ""), drop.get("reason", ""))
            if len(examples[key]) < DROP_EXAMPLES:
                examples[key].append(drop)
            meta = (drop.get("example") or {}).get("meta") or {}
            for name in fields:
                values[name].append(str(meta.get(name, "?")))
    return dict(examples), values


def load_runs(
    paths: list[str | Path], drop_fields: DropFields = lambda method: ()
) -> list[RunData]:
    if not paths:
        raise InstructgenError("no run directory given; pass at least one RUN_DIR")
    return [load_run(p, drop_fields) for p in paths]
