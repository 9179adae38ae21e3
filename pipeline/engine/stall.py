"""The guard against an endless run: a stage whose last answers keep nothing stops by itself.

A stage that generates until a target can pay forever for answers that keep nothing (a model
that answers empty, ignores the prompt's format, or only repeats what the pool holds). The
guard counts the answers in a row that kept nothing; at `patience` of them the stage stops as
"stalled" and says why, from the drops of those answers. A stage that maps over a list ends by
itself, so there only empty answers count (no choices, or only blank text): an Evol round whose
evolutions are all eliminated is not a stall.

The count is part of the judge's state, so a resumed run stalls at the very answer an
uninterrupted one does. After a stall, the same command tries again: the answers up to the
stall are not counted again (`after`, from the run's stats.json)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.types import Drop

# Defaults: at least this many answers, and enough of them to hold about this many candidates
# at the method's expected rate (a prompt of Self-Instruct holds 16, Unnatural's core one).
PATIENCE_ANSWERS, PATIENCE_CANDIDATES = 50, 300


def default_patience(expected_per_request: float) -> int:
    """Answers in a row that keep nothing before a stage counts as stalled."""
    per_request = max(expected_per_request, 1e-3)
    return max(PATIENCE_ANSWERS, math.ceil(PATIENCE_CANDIDATES / per_request))


@dataclass
class Guard:
    """Counts answers in a row that kept nothing; `patience` 0 never stalls. Slots up to
    `after` are not counted (a stall there was already reported, and the user re-ran)."""

    patience: int
    map_stage: bool = False
    after: int = -1
    barren: int = 0
    first_slot: int = -1
    reasons: Counter = field(default_factory=Counter)
    stall: dict[str, Any] | None = None

    def observe(self, slot: int, kept: bool, usable: bool, drops: list[Drop]) -> bool:
        """One answer judged; True once the stage has stalled."""
        if self.stall is not None:
            return True
        if slot <= self.after or not self.patience:
            return False
        productive = usable if self.map_stage else kept
        if productive:
            self.barren, self.first_slot = 0, -1
            self.reasons.clear()
            return False
        if self.barren == 0:
            self.first_slot = slot
        self.barren += 1
        self.reasons.update(f"{d.filter}: {d.reason}" for d in drops)
        if not drops:
            self.reasons["no items"] += 1
        if self.barren >= self.patience:
            self.stall = self._report(slot)
        return self.stall is not None

    def _report(self, slot: int) -> dict[str, Any]:
        top = self.reasons.most_common()
        return {
            "slot": slot,
            "first_slot": self.first_slot,
            "answers": self.barren,
            "dropped": dict(top),
            "message": diagnose(self.barren, top, self.map_stage),
        }


# What a run's last drops most likely mean, by (filter, reason) prefix.
CAUSES = (
    ("parse: empty", "were empty: check the model and --api"),
    ("output: empty", "were empty: check the model and --api"),
    ("parse: truncated", "were cut off at max_tokens: raise --max-tokens"),
    ("parse:", "did not follow the prompt's format: see removed.jsonl; try another --model"),
    (
        "rouge: too_similar",
        "kept only near-duplicates: the pool is saturated; lower --target, "
        "change the seeds or raise --rouge-threshold",
    ),
    ("no items", "held nothing: check the model and --api"),
)


def diagnose(answers: int, reasons: list[tuple[str, int]], map_stage: bool) -> str:
    """One line: the dominant drop reason of the stalled window and its likely cause."""
    if not reasons:
        return f"the last {answers} answers kept nothing"
    top, count = reasons[0]
    share = f"{count:,} drops: {top}"
    for prefix, cause in CAUSES:
        if top.startswith(prefix):
            return f"the last {answers:,} answers {cause} ({share})"
    what = "items" if map_stage else "candidates"
    return (
        f"the last {answers:,} answers kept nothing: their {what} were dropped, most by "
        f"{top} ({count:,}); see removed.jsonl"
    )
