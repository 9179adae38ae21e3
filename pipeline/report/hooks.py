"""What a method adds to the run report (pipeline/report/build.py asks the method registry).

Every part is optional: a method with none of them gets the common sections, and its gate's
similarity figure when it has a ROUGE-L gate (pipeline/engine/gate.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.report.load import RunData


@dataclass(frozen=True)
class Pool:
    """The texts a run started from, by id, or none when they cannot be had as they were."""

    texts: dict[str, str]
    note: str


@dataclass(frozen=True)
class Section:
    """A section of the method's own, placed before the cost section.

    `html(run, pool, prefix)` returns the section (pipeline/report/page.py's `section`)."""

    id: str
    title: str
    html: Callable[[RunData, Pool | None, str], str]


@dataclass(frozen=True)
class MethodReport:
    """`pool(run)`: the texts the run started from (a method without a gate is scored against
    them); `sections`: the method's own; `lineage(example, kept_by_id, pool)`: the sample
    table's lineage cell, None for the common one; `lengths_note`: a sentence under the
    lengths table; `drop_fields`: meta fields of every drop in removed.jsonl the sections read
    (RunData.drop_meta); `reads`: what else the report is built from, for its summary;
    `summary(stats)`: Markdown lines added to the run's summary (the Prefect artifact)."""

    pool: Callable[[RunData], Pool] | None = None
    sections: tuple[Section, ...] = ()
    lineage: Callable[[dict, dict[str, dict], Pool | None], str | None] | None = None
    lengths_note: str = ""
    drop_fields: tuple[str, ...] = ()
    reads: str = ""
    summary: Callable[[dict[str, Any]], list[str]] | None = None

    def context(self, run: RunData) -> Pool | None:
        return self.pool(run) if self.pool is not None else None


NONE = MethodReport()


def meta_of(example: dict) -> dict[str, Any]:
    return example.get("meta") or {}
