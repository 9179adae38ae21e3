"""A conversation's settled fate, as the recipe decides it and the stats count it."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.types import Drop, Example


@dataclass
class Outcome:
    """Kept (with the cut turn's drop, if a failed turn ended it) or dropped (with its drop)."""

    position: int
    kept: Example | None
    drop: Drop | None
