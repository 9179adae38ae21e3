"""How each method chains its stages (pipeline/stages.py) and writes its files."""

from __future__ import annotations

from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.judge import Judge
from pipeline.engine.stages import Current, StageResult, StageSpec, build_map_judge, combined_stats
from pipeline.filters.heuristics import alpaca_filters
from pipeline.filters.rouge.index import RougeIndex
from pipeline.methods.evol.recipe import EvolRecipe
from pipeline.methods.self_instruct.generate import SelfInstruct
from pipeline.methods.unnatural.core import DuplicatePairs, UnnaturalCore, load_demos, normalized
from pipeline.methods.unnatural.expand import (
    ReformulationDuplicates,
    UnnaturalOutputs,
    UnnaturalParaphrases,
    released_records,
)
from pipeline.prompts import load_template
from pipeline.seeds import load_seeds
from pipeline.store import RunDir, atomic_write, jsonl_lines
from pipeline.types import Drop, Example, content_hash

CORE_FILE, FULL_FILE = "core.jsonl", "full.jsonl"


# --- Self-Instruct: one stage ---------------------------------------------------------------


def build_self_instruct_judge(config: RunConfig, seeds: list[Example]) -> Judge:
    """Everything a keep/drop decision depends on; also called inside the judge process."""
    gate = RougeIndex(threshold=config.rouge_threshold)
    gate.extend([s.instruction for s in seeds])
    filters = alpaca_filters(min_words=config.min_words, max_words=config.max_words)
    return Judge(SelfInstruct(seeds, config), filters, gate, config.target)


class SelfInstructRecipe:
    stages = ("generate",)

    def __init__(self, config: RunConfig):
        self.config = config
        self.seeds = load_seeds(config.seeds, config.seeds_format, config.seeds_map)
        self.template = load_template("self_instruct/generate")

    def fingerprint_parts(self) -> dict[str, str]:
        seeds = content_hash([s.to_dict() for s in self.seeds])
        return {"seeds": seeds, "prompt": self.template.digest}

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        c = self.config
        return StageSpec(
            "generate",
            SelfInstruct(self.seeds, c, self.template),
            build_self_instruct_judge,
            (c, self.seeds),
            target=c.target,
            max_requests=c.max_requests,
            in_process=c.judge == "inline",
        )

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        # The judge writes its own files: in a worker process, nothing crosses the pipe.
        return await current.judge.write(str(run_dir.path), extra)


# --- Unnatural Instructions: core, outputs, reformulations ---------------------------------


def core_gate_text(example: Example) -> str:
    """The core stage gates instruction and input together: one instruction with new inputs
    makes new examples (the released data groups them as instances of one instruction)."""
    return f"{example.instruction}\n{example.input}"


def build_core_judge(config: RunConfig, demos: dict[str, list[Example]]) -> Judge:
    """Parse drops, duplicates, Alpaca's heuristics, then the ROUGE-L gate on the core
    examples (seeded with the demonstrations): reformulations never meet the gate, as
    paraphrases of one instruction are meant to be alike."""
    gate = RougeIndex(threshold=config.rouge_threshold)
    gate.extend([core_gate_text(d) for members in demos.values() for d in members])
    heuristics = alpaca_filters(min_words=config.min_words, max_words=config.max_words)
    filters = [DuplicatePairs(), *heuristics]
    return Judge(UnnaturalCore(demos, config), filters, gate, config.target, core_gate_text)


class UnnaturalRecipe:
    stages = ("core", "outputs", "reformulations")

    def __init__(self, config: RunConfig):
        self.config = config
        self.demos = load_demos(config.demos)
        self.templates = [load_template(n) for n in ("unnatural/output", "unnatural/paraphrase")]

    def fingerprint_parts(self) -> dict[str, str]:
        demos = {name: [d.to_dict() for d in ds] for name, ds in self.demos.items()}
        prompts = content_hash([t.digest for t in self.templates])
        return {"demos": content_hash(demos), "prompt": prompts}

    def stage(self, index: int, done: list[StageResult]) -> StageSpec:
        c = self.config
        if index == 0:
            core = UnnaturalCore(self.demos, c)
            args = (c, self.demos)
            return StageSpec(
                "core", core, build_core_judge, args, c.target, c.max_requests, c.judge == "inline"
            )
        if index == 1:
            outputs = UnnaturalOutputs(c, core=done[0].kept, template=self.templates[0])
            return StageSpec(
                "outputs", outputs, build_map_judge, (outputs, []), max_requests=outputs.requests
            )
        examples = done[1].kept
        paraphrases = UnnaturalParaphrases(c, examples=examples, template=self.templates[1])
        originals = {e.id: normalized(e.instruction) for e in examples}
        args = (paraphrases, [ReformulationDuplicates(originals)])
        return StageSpec(
            "reformulations", paraphrases, build_map_judge, args, max_requests=paraphrases.requests
        )

    async def write(
        self, run_dir: RunDir, done: list[StageResult], current: Current, extra: dict[str, Any]
    ) -> dict[str, Any]:
        """kept.jsonl holds each core example with its output, followed by its reformulations."""
        results = list(done)
        if len(results) < len(self.stages) and current.name not in {r.name for r in done}:
            results.append(StageResult(current.name, *await current.judge.results()))
        examples = results[1].kept if len(results) > 1 else []
        reformulations = results[2].kept if len(results) > 2 else []
        by_core: dict[str, list[Example]] = {}
        for r in reformulations:
            by_core.setdefault(r.meta["core_id"], []).append(r)
        kept = [x for e in examples for x in (e, *by_core.get(e.id, []))]
        drops = [
            Drop(d.filter, d.reason, d.detail, d.example, d.raw, {**d.meta, "stage": r.name})
            for r in results
            for d in r.drops
        ]
        # Outputs judge the core stage's kept items again; the other two judge new items.
        fresh = {"core", "reformulations"}
        complete = len(results) == len(self.stages)
        stats = {**combined_stats(results, len(kept), fresh, complete), **extra}
        run_dir.write_outputs(kept, drops, stats)
        core, full = released_records(examples, reformulations)
        atomic_write(run_dir.file(CORE_FILE), jsonl_lines(core))
        atomic_write(run_dir.file(FULL_FILE), jsonl_lines(full))
        return stats


RECIPES = {
    "self-instruct": SelfInstructRecipe,
    "unnatural": UnnaturalRecipe,
    "evol-instruct": EvolRecipe,
}
