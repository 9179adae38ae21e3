"""The grade method's recipe: the examples of --from as they are, and nothing generated; the
score stage (pipeline/score/scored.py) is its one stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.dedup.inputs import read_inputs
from pipeline.engine.stages import Current, StageResult, StageSpec
from pipeline.engine.stats import Stats
from pipeline.errors import InputError
from pipeline.resources import data_file
from pipeline.score.scored import Scored
from pipeline.seeds import limit_and_sample
from pipeline.store import RunDir
from pipeline.types import Example, content_hash


class GivenRecipe:
    """No stage of its own: what it keeps is its input."""

    stages: tuple[str, ...] = ()

    def __init__(self, config: RunConfig):
        o = config.options
        path = Path(o.source) if o.source else data_file("seeds", "seed_tasks.jsonl")
        rows, self.files = read_inputs([path])  # InputError naming the file, line and fix
        where = o.source or "the built-in seeds"
        if not rows:
            raise InputError(where, None, "no examples to score", "pass a file with examples")
        examples = [row.example for row in rows]
        self.examples = limit_and_sample(
            examples, o.limit, o.sample, config.seed, where, "examples"
        )

    def fingerprint_parts(self) -> dict[str, str]:
        return {"data": content_hash([e.to_dict() for e in self.examples])}

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        raise IndexError(f"the grade method's input has no stage {index}")

    def kept(self, done: list[StageResult]) -> list[Example]:
        return list(self.examples)

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        n = len(self.examples)
        stats = {**Stats(generated=n, kept=n).to_dict(), "stages": {}, "inputs": self.files}
        stats.update(extra)
        run_dir.write_outputs(self.examples, [], stats)
        return stats


def score_recipe(config: RunConfig) -> Scored:
    return Scored(GivenRecipe(config), config)
