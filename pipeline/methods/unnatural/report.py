"""What Unnatural Instructions adds to the report: a reformulation's lineage in the sample, and
a note on its lengths (its gate's similarity figure comes from the gate itself)."""

from __future__ import annotations

from pipeline.report.hooks import MethodReport, Pool, meta_of
from pipeline.report.page import esc


def reformulation_of(example: dict, by_id: dict[str, dict], pool: Pool | None) -> str | None:
    meta = meta_of(example)
    if meta.get("stage") != "reformulation":
        return None
    return f"reformulation {meta.get('reformulation', '')} of {esc(meta.get('core_id', ''))}"


REPORT = MethodReport(
    lineage=reformulation_of,
    lengths_note="A reformulation carries its input inside its instruction.",
)
