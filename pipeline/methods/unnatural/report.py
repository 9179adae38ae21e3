"""What Unnatural Instructions adds to the report: its lineage column in the sample, and a note
on its lengths (its gate's similarity figure comes from the gate itself)."""

from __future__ import annotations

from pipeline.report.hooks import MethodReport, Pool, meta_of
from pipeline.report.page import clip, esc
from pipeline.report.sample import common_lineage


def lineage(example: dict, by_id: dict[str, dict], pool: Pool | None) -> str:
    """A reformulation names its core example; a core example its stage, demonstration set,
    demonstrations, nearest pool text and constraints."""
    meta = meta_of(example)
    if meta.get("stage") == "reformulation":
        return f"reformulation {meta.get('reformulation', '')} of {esc(meta.get('core_id', ''))}"
    lines = []
    if meta.get("stage"):
        lines.append(f"{esc(meta['stage'])}, demo set {esc(meta.get('demo_set', ''))}")
    lines += common_lineage(meta)
    if meta.get("constraints"):
        lines.append(f"constraints: {esc(clip(str(meta['constraints']), 120))}")
    return "<br>".join(lines)


REPORT = MethodReport(
    lineage=lineage,
    lengths_note="A reformulation carries its input inside its instruction.",
)
