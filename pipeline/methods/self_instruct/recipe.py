"""Self-Instruct's recipe: one stage that generates until the target, its judge (Alpaca's
filters, then the ROUGE-L gate seeded with the seed tasks), and its files (the judge's own)."""

from __future__ import annotations

from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.gate import Gate
from pipeline.engine.judge import Judge
from pipeline.engine.stages import Current, StageResult, StageSpec
from pipeline.errors import InputError
from pipeline.filters.heuristics import alpaca_filters
from pipeline.methods.self_instruct.generate import SelfInstruct
from pipeline.prompts import load_template
from pipeline.seeds import load_seeds
from pipeline.store import RunDir
from pipeline.types import Example, content_hash


def seed_texts(seeds: list[Example]) -> list[str]:
    """The gate's pool starts with every seed instruction (a candidate is compared by its own)."""
    return [s.instruction for s in seeds]


GATE = Gate(seeds=lambda recipe: seed_texts(recipe.seeds))


def build_judge(config: RunConfig, seeds: list[Example]) -> Judge:
    """Everything a keep/drop decision depends on; also called inside the judge process."""
    o = config.options
    gate = GATE.index(o.rouge_threshold, seed_texts(seeds))
    filters = alpaca_filters(min_words=o.min_words, max_words=o.max_words)
    return Judge(SelfInstruct(seeds, config), filters, gate, config.target)


class SelfInstructRecipe:
    stages = ("generate",)

    def __init__(self, config: RunConfig):
        o = config.options
        self.config = config
        self.seeds = load_seeds(o.seeds, o.seeds_format, o.seeds_map)
        if len(self.seeds) < o.num_prompt_instructions:
            where = o.seeds or "the built-in seeds"
            problem = (
                f"{len(self.seeds)} seed tasks, fewer than the {o.num_prompt_instructions} "
                "demonstrations a prompt shows"
            )
            raise InputError(
                where, None, problem, "add seed tasks or lower --num-prompt-instructions"
            )
        self.template = load_template("self_instruct/generate")

    def fingerprint_parts(self) -> dict[str, str]:
        seeds = content_hash([s.to_dict() for s in self.seeds])
        return {"seeds": seeds, "prompt": self.template.digest}

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        c = self.config
        return StageSpec(
            "generate",
            SelfInstruct(self.seeds, c, self.template),
            build_judge,
            (c, self.seeds),
            target=c.target,
            max_requests=c.max_requests,
            in_process=c.judge == "inline",
        )

    def kept(self, done: list[StageResult]) -> list[Example]:
        return done[0].kept

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        if done:  # finished: a score stage runs after it
            result = done[0]
            stats = {**result.stats, **extra}
            run_dir.write_outputs(result.kept, result.drops, stats)
            return stats
        # The judge writes its own files: in a worker process, nothing crosses the pipe.
        return await current.judge.write(str(run_dir.path), extra)
