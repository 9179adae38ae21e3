"""The grade method's cost model: a verdict for each example of its input, every prompt
rendered and counted (pipeline/score/estimate.py)."""

from __future__ import annotations

from pipeline.estimate.models import Context, StageNumbers
from pipeline.estimate.stats import SCENARIOS
from pipeline.score.estimate import known_items


def score(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    examples = ctx.recipe.examples
    stage = known_items(ctx, examples)
    verdict = stage["expected"]
    note = (
        f"a {ctx.config.score_rubric} verdict for each of {len(examples)} examples, "
        f"{verdict.completion / max(verdict.requests, 1):.0f} tokens each"
    )
    return {s: [stage[s]] for s in SCENARIOS}, note
