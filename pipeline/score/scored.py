"""A recipe with the score stage at its end, and the scores applied to what it writes.

The method's own recipe runs its stages as ever and, once they are done, the score stage maps
over what they keep (Recipe.kept). The method then writes its files as always, through a run
directory that applies the verdicts on the way: kept examples carry their scores, drops join
removed.jsonl under the rubric's name, and stats.json's funnel counts them (examples still
waiting for a verdict are left out of it, as a later stage's items are)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.stages import Current, Recipe, StageResult, StageSpec, results_so_far
from pipeline.score.rubric import template
from pipeline.score.stage import STAGE, score_stage
from pipeline.score.summary import Verdicts, score_summary
from pipeline.store import RunDir
from pipeline.types import Drop, Example


def with_score(recipe: Recipe, config: RunConfig) -> Recipe:
    """`recipe` with the score stage added when the config asks for a judge."""
    if not config.scores or isinstance(recipe, Scored):
        return recipe
    return Scored(recipe, config)


@dataclass(frozen=True)
class Finished:
    """The current stage of a recipe whose stages are all in `done` (its write reads them)."""

    name: str
    judge: Any = None


class Scored:
    """`inner`'s stages, then the score stage over what they keep."""

    def __init__(self, inner: Recipe, config: RunConfig):
        self.inner, self.config = inner, config
        self.prompt = template(config.score_rubric)
        self.stages = (*inner.stages, STAGE)

    def __getattr__(self, name: str) -> Any:
        # What a method's estimate, gate and report read of its recipe (seeds, openings).
        if name == "inner":  # not set yet (a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def fingerprint_parts(self) -> dict[str, str]:
        return {**self.inner.fingerprint_parts(), "score_prompt": self.prompt.digest}

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        if index < len(self.inner.stages):
            return self.inner.stage(index, done)
        return score_stage(self.config, self.inner.kept(done), self.prompt)

    def kept(self, done: list[StageResult]) -> list[Example]:
        own = len(self.inner.stages)
        items = self.inner.kept(done[:own])
        return Verdicts(items, done[own]).kept if len(done) > own else []

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        own = len(self.inner.stages)
        if len(done) < own:  # the method's own stages are still running
            return await self.inner.write(run_dir, done, current, extra)
        scores = (await results_so_far(done, current))[own]
        view = ScoredDir(run_dir, Verdicts(self.inner.kept(done[:own]), scores), self.config)
        last = Finished(self.inner.stages[-1] if own else "")
        return await self.inner.write(view, done[:own], last, extra)  # type: ignore[arg-type]


class ScoredDir:
    """A run directory that writes the method's outputs with the verdicts applied."""

    def __init__(self, run_dir: RunDir, verdicts: Verdicts, config: RunConfig):
        self.run_dir, self.verdicts, self.config = run_dir, verdicts, config

    def __getattr__(self, name: str) -> Any:
        if name == "run_dir":
            raise AttributeError(name)
        return getattr(self.run_dir, name)

    def write_outputs(self, kept: list, removed: list, stats: dict[str, Any]) -> list[Example]:
        """Write `kept` as scored (the examples passed), `removed` plus the score stage's drops;
        `stats` is updated in place. Returns the examples written as kept."""
        v = self.verdicts
        if [e.id for e in kept] != [e.id for e in v.items]:
            raise RuntimeError("the method's kept examples changed under its score stage")
        drops = [
            Drop(d.filter, d.reason, d.detail, d.example, d.raw, {**d.meta, "stage": STAGE})
            for d in v.drops
        ]
        scored = v.kept
        # The method's stats may share their parts with its stage results (checkpointed):
        # counted on a copy, then put in place of the top-level entries.
        counted = copy.deepcopy(stats)
        _count(counted, v, drops, len(scored))
        counted["score"] = score_summary(self.config, v)
        stats.clear()
        stats.update(counted)
        self.run_dir.write_outputs(scored, [*removed, *drops], stats)
        return scored


def _count(stats: dict[str, Any], v: Verdicts, drops: list[Drop], kept: int) -> None:
    """The funnel with the score stage's drops; its requests and tokens in the totals."""
    funnel = stats["funnel"]
    for d in drops:
        reasons = funnel["dropped"].setdefault(d.filter, {})
        reasons[d.reason] = reasons.get(d.reason, 0) + 1
    funnel["dropped_total"] += len(drops)
    funnel["kept"] = kept
    funnel["generated"] -= v.waiting
    own = v.result.stats
    for key in ("total", "from_cache", "sent", "choices"):
        stats["requests"][key] += own["requests"][key]
    for key in ("prompt", "completion"):
        stats["tokens"][key] += own["tokens"][key]
    stats.setdefault("stages", {})[STAGE] = own
