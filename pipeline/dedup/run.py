"""One dedup: read the inputs, decide in order, write a run-like folder.

Nothing is written until every input has been read and decided, so bad input leaves no
--out behind; each file is then replaced atomically."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pipeline.dedup.compare import Verdict, decide
from pipeline.dedup.inputs import RUN, Row, read_inputs
from pipeline.dedup.options import DedupOptions
from pipeline.dedup.text import field_text, normalize
from pipeline.errors import ConfigError
from pipeline.formats import FORMATS, write_examples
from pipeline.store import STATS, RunDir
from pipeline.types import Drop, Example

FILTER = "dedup"
OWN_FORMATS_SKIPPED = {RUN, "alpaca"}  # kept.jsonl and alpaca.json are always written


def dedup(paths: list[Path], out: Path, options: DedupOptions) -> dict[str, Any]:
    """Deduplicate `paths` (files, folders, run directories, in order) into `out`; the stats."""
    _check_out(out)
    start = time.perf_counter()
    rows, files = read_inputs(paths)
    texts = [field_text(row.example, options.field) for row in rows]
    order = processing_order(texts, options.keep)
    verdicts = [Verdict(None, 0.0)] * len(rows)
    for position, verdict in zip(order, decide([texts[i] for i in order], options), strict=True):
        dup_of = None if verdict.dup_of is None else order[verdict.dup_of]
        verdicts[position] = verdict._replace(dup_of=dup_of)
    kept, removed = _split(rows, texts, verdicts, options)
    stats = _stats(len(rows), kept, removed, options, files, time.perf_counter() - start)
    _write(out, kept, removed, stats)
    return stats


def processing_order(texts: list[str], keep: str) -> list[int]:
    """Input order; for `longest`, decreasing length of the compared text in characters
    (stable: equal lengths stay in input order)."""
    if keep == "first":
        return list(range(len(texts)))
    return sorted(range(len(texts)), key=lambda i: -len(texts[i]))


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a directory path")
    if out.is_dir() and any(out.iterdir()) and not (out / STATS).exists():
        raise ConfigError(f"--out {out} exists and is not empty; choose a new or empty --out")


def _split(
    rows: list[Row], texts: list[str], verdicts: list[Verdict], options: DedupOptions
) -> tuple[list[Row], list[Drop]]:
    kept: list[Row] = []
    removed: list[Drop] = []
    for row, verdict in zip(rows, verdicts, strict=True):
        if verdict.dup_of is None:
            e = row.example
            if verdict.similar is not None:
                e = Example(e.instruction, e.input, e.output, e.id, e.method,
                            {**e.meta, **verdict.similar}, e.messages)  # fmt: skip
            kept.append(row._replace(example=e))
        else:
            original = rows[verdict.dup_of].example
            removed.append(_drop(row.example, original, texts[verdict.dup_of], verdict, options))
    return kept, removed


def _drop(
    example: Example, original: Example, text: str, verdict: Verdict, options: DedupOptions
) -> Drop:
    same = normalize(field_text(example, options.field)) == normalize(text)
    reason = "exact_duplicate" if same else "near_duplicate"
    score = round(verdict.score, 6)
    meta = {"duplicate_of": {"id": original.id, "text": text}, "score": score, "by": options.by}
    return Drop(FILTER, reason, f"{score:.6f} vs {original.id} {text!r}", example, meta=meta)


def _stats(
    total: int,
    kept: list[Row],
    removed: list[Drop],
    options: DedupOptions,
    files: list[dict],
    seconds: float,
) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for drop in removed:
        reasons[drop.reason] = reasons.get(drop.reason, 0) + 1
    funnel = {
        "generated": total,
        "dropped": {FILTER: dict(sorted(reasons.items()))} if reasons else {},
        "dropped_total": len(removed),
        "kept": len(kept),
    }
    settings = {**options.to_dict(), "inputs": files, "seconds": round(seconds, 3)}
    return {"funnel": funnel, "dedup": settings}


def _write(out: Path, kept: list[Row], removed: list[Drop], stats: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for fmt in dict.fromkeys(row.fmt for row in kept):
        spec = FORMATS.get(fmt)
        if fmt not in OWN_FORMATS_SKIPPED and spec is not None and spec.write is not None:
            own = [row.example for row in kept if row.fmt == fmt]
            write_examples(own, fmt, out / spec.filename)
    RunDir(out).write_outputs([row.example for row in kept], removed, stats)
