"""The score stage: one judge request per example, in the order the run keeps them.

It is a map stage over a list fixed when it starts (what the stages before it kept), so
example i is always asked the same thing and a resumed run finds every verdict in the cache.
A verdict below --min-score and one that does not parse are drops with their reason; every
scored example keeps its verdict in meta["scores"][rubric]. The drops are the rubric's: a
quality run removes `quality: below_min_score`, a complexity run `complexity: ...`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipeline.config import RunConfig
from pipeline.engine.stages import StageSpec, build_map_judge
from pipeline.prompts import PromptTemplate
from pipeline.score.rubric import SYSTEM, render, template
from pipeline.score.verdict import Unparseable, Verdict, parse_verdict, shown
from pipeline.tokens import REASONING
from pipeline.types import Choice, Drop, Example, Request

STAGE = "score"
# Two short lines; room for a judge that writes a little more before its verdict. A reasoning
# model spends its hidden reasoning from the same allowance.
MAX_TOKENS, REASONING_MAX_TOKENS = 160, 4096


def max_tokens(model: str) -> int:
    return REASONING_MAX_TOKENS if REASONING.match(model) else MAX_TOKENS


@dataclass
class ScoreRequests:
    """The judge's request for each of `items`, and its verdict read back."""

    config: RunConfig
    items: list[Example]
    prompt: PromptTemplate | None = None
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.config.method
        self.prompt = self.prompt or template(self.config.score_rubric)

    @property
    def expected_kept_per_request(self) -> float:
        return 1.0

    @property
    def requests(self) -> int:
        return len(self.items)

    def plan(self, slot: int) -> Request:
        c = self.config
        return Request(
            model=c.score_model,
            prompts=(render(self.items[slot], c.score_rubric, self.prompt),),
            system=SYSTEM,
            temperature=0.0,  # a grade, not a sample: the same example, the same verdict
            top_p=1.0,
            max_tokens=max_tokens(c.score_model),
            slot=f"{STAGE}:{c.score_rubric}:{slot}",
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        example, where, rubric = self.items[slot], {"position": slot}, self.config.score_rubric
        verdict = parse_verdict(choice.text)
        if choice.finish_reason == "length":  # a reply cut short may have had more to say
            verdict = Unparseable(f"cut at {max_tokens(self.config.score_model)} tokens")
        if isinstance(verdict, Unparseable):
            problem = verdict.problem
            return [Drop(rubric, "unparseable_verdict", problem, example, choice.text, where)]
        scored = with_verdict(example, self.config, verdict)
        low = self.config.min_score
        if low is not None and verdict.score < low:
            detail = f"{shown(verdict.score)} < --min-score {shown(low)}: {verdict.reason}"
            return [Drop(rubric, "below_min_score", detail, scored, meta=where)]
        return [scored]


def with_verdict(example: Example, config: RunConfig, verdict: Verdict) -> Example:
    """The example with its verdict in meta["scores"][rubric] (beside any other rubric's)."""
    entry = {"score": shown(verdict.score), "reason": verdict.reason, "model": config.score_model}
    earlier = example.meta.get("scores")
    scores = {**(earlier if isinstance(earlier, dict) else {}), config.score_rubric: entry}
    return replace(example, meta={**example.meta, "scores": scores})


def score_stage(config: RunConfig, items: list[Example], prompt: PromptTemplate) -> StageSpec:
    method = ScoreRequests(config, items, prompt)
    return StageSpec(STAGE, method, build_map_judge, (method, []), max_requests=method.requests)
