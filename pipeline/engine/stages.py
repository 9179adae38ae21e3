"""The parts every method's recipe is made of: a stage's spec, a finished stage's result.

A stage is a Method (plan/parse) with its own judge: a first stage may generate until a target,
a later stage maps over what the stages before kept, one request per item (or a few per request).
The session runs the stages in order; every request of every stage goes through the one cache,
so a re-run replays the finished stages for free and continues the unfinished one."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.engine.judge import Judge, Method
from pipeline.engine.runner import AsyncJudge
from pipeline.engine.stats import Stats
from pipeline.store import RunDir
from pipeline.types import Drop, Example

# A map stage ends when every item is answered, never on a count of kept examples.
NO_TARGET = sys.maxsize


@dataclass
class StageSpec:
    """What the session needs to run a stage. `judge_factory(*judge_args)` builds its judge,
    in a worker process when `in_process` is False (the factory is then a module-level function
    and its arguments picklable). `target`: stop once that many are kept (a generating stage);
    NO_TARGET: answer every request up to `max_requests` (a map stage)."""

    name: str
    method: Method
    judge_factory: Callable[..., Judge]
    judge_args: tuple
    target: int = NO_TARGET
    max_requests: int | None = None
    in_process: bool = True


@dataclass
class StageResult:
    """A finished stage: what it kept, what it dropped, its stats (a funnel, requests, tokens)."""

    name: str
    kept: list[Example]
    drops: list[Drop]
    stats: dict[str, Any]


class Recipe(Protocol):
    """A method's stages and its files: what the session runs, built from the run's config
    (MethodSpec.recipe(config) loads the seeds, demonstrations and prompts, and raises
    InputError or ConfigError for bad ones before anything is written)."""

    stages: tuple[str, ...]
    """The stages' names, in order (a method of rounds: one per round's step)."""

    def fingerprint_parts(self) -> dict[str, str]:
        """Hashes of what the run reads from files (seed data, prompt texts): with the config,
        the run directory's fingerprint, so a changed file refuses a resume."""
        ...

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        """Stage `index`, given the results of the ones before it (a map stage maps over what
        they kept). Called again for the same index on a replay: it must give the same spec."""
        ...

    def kept(self, done: list[StageResult]) -> list[Example]:
        """What the run keeps once every stage is in `done`, in kept.jsonl's order (a score
        stage maps over it, pipeline/score/). The same results, the same list."""
        ...

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """Write every output file (kept.jsonl, removed.jsonl, alpaca.json, stats.json with
        `extra` merged in, and the method's own) atomically, from the finished stages and the
        one running now; returns the stats written. Called at every checkpoint and at the
        end, so the files always hold what is judged so far. `run_dir.write_outputs` returns
        the examples it wrote as kept (a score stage's run directory keeps fewer): the
        method's own files are written from those."""
        ...


class Current(Protocol):
    """The stage running now (or the last one, finished)."""

    name: str
    judge: AsyncJudge


async def results_so_far(done: list[StageResult], current: Current) -> list[StageResult]:
    """The finished stages and, unless it is one of them, the one running now as judged so far
    (what a recipe's `write` writes from)."""
    if current.name in {r.name for r in done}:
        return list(done)
    return [*done, StageResult(current.name, *await current.judge.results())]


def build_map_judge(method: Method, filters: list) -> Judge:
    return Judge(method, filters, None, NO_TARGET)


def stage_drops(results: list[StageResult]) -> list[Drop]:
    """Every stage's drops in stage order, each tagged with the stage that dropped it."""
    return [
        Drop(d.filter, d.reason, d.detail, d.example, d.raw, {**d.meta, "stage": r.name})
        for r in results
        for d in r.drops
    ]


def combined_stats(
    results: list[StageResult], kept: int, fresh: set[str], complete: bool
) -> dict[str, Any]:
    """One funnel over the stages: each item is counted once, as kept or as dropped by the stage
    that dropped it, so generated = kept + dropped. Stages in `fresh` judge new items; the others
    judge again what an earlier stage kept. Until the last stage is done, items still waiting
    for a stage are left out of `generated`."""
    total = Stats()
    for r in results:
        funnel = r.stats["funnel"]
        if r.name in fresh:
            total.generated += funnel["generated"]
        for name, reasons in funnel["dropped"].items():
            for reason, n in reasons.items():
                total.dropped[name][reason] = total.dropped[name].get(reason, 0) + n
        req, tok = r.stats["requests"], r.stats["tokens"]
        total.requests += req["total"]
        total.requests_cached += req["from_cache"]
        total.choices += req["choices"]
        total.prompt_tokens += tok["prompt"]
        total.completion_tokens += tok["completion"]
    total.kept = kept
    if not complete:
        total.generated = total.dropped_total + kept
    out = total.to_dict()
    out["stages"] = {r.name: r.stats for r in results}
    return out
