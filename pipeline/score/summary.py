"""stats.json's "score" block: the rubric and judge, how many examples were scored, the
histogram of scores, and what share each --min-score would keep (a threshold chosen after
the run needs no new request: re-run the same command with another --min-score and the verdicts
come from the cache)."""

from __future__ import annotations

import statistics
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.stages import StageResult
from pipeline.types import Drop, Example


def score_of(item: Example | Drop, rubric: str) -> float | None:
    """The score an outcome carries (None: its verdict did not parse)."""
    example = item.example if isinstance(item, Drop) else item
    entry = (example.meta.get("scores") or {}).get(rubric) if example is not None else None
    return entry["score"] if isinstance(entry, dict) else None


class Verdicts:
    """The score stage's result over `items`: judged in slot order, so the first
    len(kept) + len(drops) items have a verdict and the drops name their position."""

    def __init__(self, items: list[Example], result: StageResult):
        self.items, self.result = items, result
        self.drops = [_as_verdict(d, items) for d in result.drops]
        dropped = {d.meta["position"]: d for d in self.drops}
        judged = len(result.kept) + len(dropped)
        passed = iter(result.kept)
        self.outcome: list[Example | Drop] = [
            dropped[i] if i in dropped else next(passed) for i in range(judged)
        ]

    @property
    def kept(self) -> list[Example]:
        return [o for o in self.outcome if isinstance(o, Example)]

    @property
    def waiting(self) -> int:
        return len(self.items) - len(self.outcome)


def _as_verdict(drop: Drop, items: list[Example]) -> Drop:
    """The engine drops an answer with no choices before the stage sees it, naming its slot:
    for the judge that is an unparseable verdict on the example at that position."""
    if "position" in drop.meta:
        return drop
    slot = drop.meta["slot"]
    where = {"position": slot}
    return Drop(drop.filter, "unparseable_verdict", drop.detail, items[slot], drop.raw, where)


def score_summary(config: RunConfig, verdicts: Verdicts) -> dict[str, Any]:
    rubric = config.score_rubric
    scores = [s for s in (score_of(o, rubric) for o in verdicts.outcome) if s is not None]
    reasons: dict[str, int] = {}
    for d in verdicts.drops:
        reasons[d.reason] = reasons.get(d.reason, 0) + 1
    histogram = {str(s): scores.count(s) for s in sorted(set(scores))}
    return {
        "rubric": rubric,
        "model": config.score_model,
        "min_score": config.min_score,
        "examples": len(verdicts.items),
        "judged": len(verdicts.outcome),
        "waiting": verdicts.waiting,
        "scored": len(scores),
        "unparseable": reasons.get("unparseable_verdict", 0),
        "below_min_score": reasons.get("below_min_score", 0),
        "kept": len(verdicts.kept),
        "mean": round(statistics.fmean(scores), 3) if scores else None,
        "histogram": histogram,
        # Of the examples judged, the share kept at each threshold (unparseable ones never).
        "kept_at_min_score": {
            str(t): round(sum(s >= t for s in scores) / len(verdicts.outcome), 4)
            for t in (1, 2, 3, 4, 4.5, 5)
        }
        if verdicts.outcome
        else {},
    }
