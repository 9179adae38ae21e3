"""Unnatural Instructions, steps 2 and 3: an output for each core example (greedy decoding),
then alternative formulations of its instruction with an {INPUT} placeholder.

Both are map stages over a list fixed by the stage before: item i is always asked the same
thing, so a resumed run finds every answer in the cache. On the completions API several items
share one request (`prompts_per_request`), as in the core stage."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import RunConfig
from pipeline.engine.requests import config_request
from pipeline.methods.unnatural.core import NAME, normalized
from pipeline.prompts import PromptTemplate, load_template
from pipeline.types import Choice, Drop, Example, Request

PLACEHOLDER = "{INPUT}"
# A reformulation is one instruction: a few sentences at most.
PARAPHRASE_MAX_TOKENS = 256
_REPEATED_LABEL = "Alternative formulation:"
# What a reformulation carries over from its core example's meta.
LINEAGE = ("core_id", "demo_set", "constraints")


@dataclass
class MapStage:
    """Items in a fixed order, `per_request` of them to a request (the last one may hold fewer)."""

    config: RunConfig

    @property
    def per_request(self) -> int:
        return self.config.prompts_per_request or 1

    @property
    def expected_kept_per_request(self) -> float:
        return float(self.per_request)

    def items_of(self, slot: int, count: int) -> range:
        first = slot * self.per_request
        return range(first, min(first + self.per_request, count))

    def requests_for(self, count: int) -> int:
        return -(-count // self.per_request)


@dataclass
class UnnaturalOutputs(MapStage):
    """Step 2: the output of each core example, asked with its instruction, input, constraints."""

    core: list[Example] = None  # type: ignore[assignment]
    template: PromptTemplate | None = None
    name: str = NAME

    def __post_init__(self) -> None:
        self.template = self.template or load_template("unnatural/output")

    @property
    def requests(self) -> int:
        return self.requests_for(len(self.core))

    def plan(self, slot: int) -> Request:
        prompts = tuple(self._prompt(self.core[i]) for i in self.items_of(slot, len(self.core)))
        c = self.config
        return config_request(
            c,
            prompts,
            f"{NAME}:output:{slot}",
            temperature=0.0,
            max_tokens=c.options.output_max_tokens,
        )

    def _prompt(self, example: Example) -> str:
        constraints = example.meta.get("constraints", "None.")
        assert self.template is not None
        return self.template.render(
            instruction=example.instruction, input=example.input, constraints=constraints
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        core = self.core[slot * self.per_request + choice.index]
        text = choice.text.strip()
        if choice.finish_reason == "length":
            return [Drop("output", "truncated", core.id, example=core, raw=choice.text)]
        if not text:
            return [Drop("output", "empty", core.id, example=core)]
        return [Example(core.instruction, core.input, text, core.id, NAME, core.meta)]


@dataclass
class UnnaturalParaphrases(MapStage):
    """Step 3: `paraphrases` alternative formulations per example, sampled one per prompt."""

    examples: list[Example] = None  # type: ignore[assignment]
    template: PromptTemplate | None = None
    name: str = NAME

    def __post_init__(self) -> None:
        self.template = self.template or load_template("unnatural/paraphrase")

    @property
    def count(self) -> int:
        return len(self.examples) * self.config.options.paraphrases

    @property
    def requests(self) -> int:
        return self.requests_for(self.count)

    def plan(self, slot: int) -> Request:
        assert self.template is not None
        k = self.config.options.paraphrases
        prompts = tuple(
            self.template.render(instruction=self.examples[i // k].instruction)
            for i in self.items_of(slot, self.count)
        )
        c = self.config
        return config_request(
            c,
            prompts,
            f"{NAME}:paraphrase:{slot}",
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=PARAPHRASE_MAX_TOKENS,
            stop=("\nInstruction:",),
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        item = slot * self.per_request + choice.index
        source, k = (
            self.examples[item // self.config.options.paraphrases],
            item % self.config.options.paraphrases,
        )
        text = choice.text.strip().removeprefix(_REPEATED_LABEL).strip()
        lineage = {key: source.meta[key] for key in LINEAGE if key in source.meta}
        meta = {**lineage, "stage": "reformulation", "slot": slot, "reformulation": k}
        meta["template"] = text
        example = Example(
            text.replace(PLACEHOLDER, source.input, 1),
            "",
            source.output,
            f"{source.id}-r{k}",
            NAME,
            meta,
        )
        reason = _placeholder_problem(text, choice.finish_reason)
        if reason is not None:
            return [Drop(*reason, example=example, raw=choice.text)]
        return [example]


def _placeholder_problem(text: str, finish_reason: str) -> tuple[str, str, str] | None:
    """Why a reformulation cannot be used: (filter, reason, detail), or None."""
    if finish_reason == "length":
        return "parse", "truncated", "reformulation cut at max_tokens"
    if not text:
        return "parse", "empty", "no reformulation"
    n = text.count(PLACEHOLDER)
    if n != 1:
        reason = "missing" if n == 0 else "repeated"
        return "placeholder", reason, f"{PLACEHOLDER} appears {n} times; exactly 1 is kept"
    return None


class ReformulationDuplicates:
    """Drops a reformulation equal to its own instruction or to an earlier one of it."""

    name = "paraphrase"

    def __init__(self, originals: dict[str, str]) -> None:
        self._originals = originals  # core id -> normalized instruction
        self._seen: set[tuple[str, str]] = set()

    def check(self, example: Example) -> str | None:
        core_id, template = example.meta["core_id"], example.meta["template"]
        text = normalized(template.replace(PLACEHOLDER, " "))
        if text == self._originals.get(core_id):
            return "same_as_original: only the placeholder was added"
        if (core_id, text) in self._seen:
            return f"duplicate: another reformulation of {core_id} says the same"
        self._seen.add((core_id, text))
        return None
