"""Evol-Instruct's recipe: per round an evolve, a judge (unless --no-equality-check) and an
answer stage over the pool; the pool of the next round is built from what survived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.stages import (
    Current,
    StageResult,
    StageSpec,
    build_map_judge,
    combined_stats,
    results_so_far,
    stage_drops,
)
from pipeline.methods.evol.filters import CopiedMarker, OnlyStopWords, SorryShort
from pipeline.methods.evol.round import (
    Answer,
    Equality,
    Evolve,
    Templates,
    next_pool,
    parse_weights,
)
from pipeline.seeds import limit_and_sample, load_seeds
from pipeline.store import RunDir
from pipeline.types import Example, content_hash


def load_pool(config: RunConfig) -> list[Example]:
    """The starting instructions: a data file or a folder of them (any format load_seeds
    reads), a run directory's kept.jsonl, or our seeds; then the first --limit of them, or a
    seeded --sample in their original order."""
    o = config.options
    path = None if o.source is None else Path(o.source)
    pool = load_seeds(path, o.from_format, o.from_map)
    where = o.source or "the built-in seeds"
    return limit_and_sample(pool, o.limit, o.sample, config.seed, where, "instructions")


def stage_names(config: RunConfig) -> tuple[str, ...]:
    o = config.options
    kinds = ("evolve", "judge", "answer") if o.equality_check else ("evolve", "answer")
    return tuple(f"{kind}-{r}" for r in range(1, o.rounds + 1) for kind in kinds)


class EvolRecipe:
    def __init__(self, config: RunConfig):
        self.config = config
        parse_weights(
            config.options.operations
        )  # a bad --operations fails before anything is written
        self.pool = load_pool(config)
        self.templates = Templates.load()
        self.stages = stage_names(config)

    def fingerprint_parts(self) -> dict[str, str]:
        pool = content_hash([e.to_dict() for e in self.pool])
        return {"pool": pool, "prompt": content_hash(self.templates.digests)}

    def pool_of(self, round_: int, done: list[StageResult]) -> list[Example]:
        by_name = {r.name: r for r in done}
        pool = self.pool
        for r in range(1, round_):
            pool = next_pool(pool, by_name[f"answer-{r}"].kept)
        return pool

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        name = self.stages[index]
        kind, round_ = name.split("-")[0], int(name.split("-")[1])
        c, by_name = self.config, {r.name: r for r in done}
        pool = self.pool_of(round_, done)
        method: Any
        if kind == "evolve":
            method, filters = Evolve(pool, round_, c, self.templates), [CopiedMarker()]
        elif kind == "judge":
            evolved = by_name[f"evolve-{round_}"].kept
            parents = {p.id: p for p in pool}
            method, filters = Equality(evolved, parents, round_, c, self.templates), []
        else:
            before = f"judge-{round_}" if c.options.equality_check else f"evolve-{round_}"
            method, filters = (
                Answer(by_name[before].kept, round_, c),
                [SorryShort(), OnlyStopWords()],
            )
        return StageSpec(
            name, method, build_map_judge, (method, filters), max_requests=method.requests
        )

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """kept.jsonl mixes the surviving evolutions of all rounds, round by round."""
        results = await results_so_far(done, current)
        kept = self.kept(results)
        drops = stage_drops(results)
        fresh = {n for n in self.stages if n.startswith("evolve-")}
        complete = len(results) == len(self.stages)
        stats = {**combined_stats(results, len(kept), fresh, complete), **extra}
        stats["rounds"] = per_round(results)
        run_dir.write_outputs(kept, drops, stats)
        return stats

    def kept(self, done: list[StageResult]) -> list[Example]:
        return [e for r in done if r.name.startswith("answer-") for e in r.kept]


def per_round(results: list[StageResult]) -> dict[str, dict[str, Any]]:
    """Each round's evolutions, what each rule removed, and the survivors."""
    rounds: dict[str, dict[str, Any]] = {}
    for r in results:
        kind, number = r.name.split("-")
        entry = rounds.setdefault(number, {"evolved": 0, "eliminated": {}, "survived": 0})
        funnel = r.stats["funnel"]
        if kind == "evolve":
            entry["evolved"] = funnel["generated"]
        if kind == "answer":
            entry["survived"] = funnel["kept"]
        for rule, reasons in funnel["dropped"].items():
            for reason, n in reasons.items():
                key = f"{rule}: {reason}"
                entry["eliminated"][key] = entry["eliminated"].get(key, 0) + n
    return rounds
