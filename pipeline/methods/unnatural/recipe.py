"""Unnatural Instructions' recipe: core examples until the target (gated), then an output for
each, then its reformulations; kept.jsonl holds each core example followed by its reformulations,
and core.jsonl / full.jsonl the released data's own format."""

from __future__ import annotations

from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.gate import Gate
from pipeline.engine.judge import Judge
from pipeline.engine.stages import (
    Current,
    StageResult,
    StageSpec,
    build_map_judge,
    combined_stats,
    results_so_far,
    stage_drops,
)
from pipeline.filters.heuristics import alpaca_filters
from pipeline.methods.unnatural.core import DuplicatePairs, UnnaturalCore, load_demos, normalized
from pipeline.methods.unnatural.expand import (
    ReformulationDuplicates,
    UnnaturalOutputs,
    UnnaturalParaphrases,
)
from pipeline.methods.unnatural.released import write_released
from pipeline.prompts import load_template
from pipeline.store import RunDir
from pipeline.types import Example, content_hash


def core_gate_text(example: Example) -> str:
    """The core stage gates instruction and input together: one instruction with new inputs
    makes new examples (the released data groups them as instances of one instruction)."""
    return f"{example.instruction}\n{example.input}"


def demo_texts(demos: dict[str, list[Example]]) -> list[str]:
    """The gate's pool starts with every demonstration, compared as a core example is."""
    return [core_gate_text(d) for members in demos.values() for d in members]


# Only core examples meet the gate: reformulations of one instruction are meant to be alike.
GATE = Gate(
    seeds=lambda recipe: demo_texts(recipe.demos),
    text=core_gate_text,
    gated=lambda example: example.meta.get("stage") == "core",
    compares="instruction and input together",
    scored="core examples (reformulations are not gated)",
)


def build_core_judge(config: RunConfig, demos: dict[str, list[Example]]) -> Judge:
    """Parse drops, duplicates, Alpaca's heuristics, then the ROUGE-L gate on the core
    examples (seeded with the demonstrations): reformulations never meet the gate, as
    paraphrases of one instruction are meant to be alike."""
    o = config.options
    gate = GATE.index(o.rouge_threshold, demo_texts(demos))
    heuristics = alpaca_filters(min_words=o.min_words, max_words=o.max_words)
    filters = [DuplicatePairs(), *heuristics]
    return Judge(UnnaturalCore(demos, config), filters, gate, config.target, core_gate_text)


class UnnaturalRecipe:
    stages = ("core", "outputs", "reformulations")

    def __init__(self, config: RunConfig):
        self.config = config
        self.demos = load_demos(config.options.demos)
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
        results = await results_so_far(done, current)
        kept = self.kept(results)
        drops = stage_drops(results)
        # Outputs judge the core stage's kept items again; the other two judge new items.
        fresh = {"core", "reformulations"}
        complete = len(results) == len(self.stages)
        stats = {**combined_stats(results, len(kept), fresh, complete), **extra}
        write_released(run_dir.path, run_dir.write_outputs(kept, drops, stats))
        return stats

    def kept(self, done: list[StageResult]) -> list[Example]:
        """Each core example with its output, followed by its reformulations."""
        examples = done[1].kept if len(done) > 1 else []
        reformulations = done[2].kept if len(done) > 2 else []
        by_core: dict[str, list[Example]] = {}
        for r in reformulations:
            by_core.setdefault(r.meta["core_id"], []).append(r)
        return [x for e in examples for x in (e, *by_core.get(e.id, []))]
