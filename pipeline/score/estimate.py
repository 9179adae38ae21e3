"""The score stage's cost: one judge request per example the run keeps.

When the examples are known before the run (the `score` method) every prompt is rendered and
counted; after a generating method they are not written yet, so a prompt is the rubric's own
tokens plus a kept example's size: its mean in the cache when the run has scored some, else
the method's prior (CostModel.example_tokens). A verdict is two short lines."""

from __future__ import annotations

from pipeline.estimate.models import Context, PromptSizes, StageNumbers, map_stage, per_prompt
from pipeline.estimate.stats import SCENARIOS, Param, lognormal
from pipeline.score.rubric import SYSTEM, template
from pipeline.score.stage import STAGE, ScoreRequests, max_tokens
from pipeline.tokens import REASONING
from pipeline.types import Example

# Tokens of a verdict ("Score: 4" and a one-sentence reason), 95% within x/÷ the factor; a
# reasoning model's hidden reasoning before it (a guess until a pilot measures it).
VERDICT_TOKENS, VERDICT_FACTOR = 32.0, 2.0
REASONING_TOKENS, REASONING_FACTOR = 500.0, 4.0
# A generated example's size before any is scored, 95% within x/÷ this factor.
EXAMPLE_FACTOR = 2.5


def verdict_tokens(ctx: Context) -> Param:
    obs, model = ctx.obs(STAGE), ctx.config.score_model
    samples = per_prompt(obs.completion_per_request, obs)
    if REASONING.match(model):
        prior = (VERDICT_TOKENS + REASONING_TOKENS, REASONING_FACTOR)
    else:
        prior = (VERDICT_TOKENS, VERDICT_FACTOR)
    return lognormal(*prior, samples, cap=max_tokens(model))


def known_items(ctx: Context, items: list[Example]) -> dict[str, StageNumbers]:
    """Scoring a list known now: every prompt counted."""
    obs, method = ctx.obs(STAGE), ScoreRequests(ctx.config, items)
    sizes = PromptSizes(ctx, method, slots=len(items))
    rest = max(len(items) - obs.prompts, 0)
    prompt = sizes.total(obs.requests, len(items)) / rest if rest else 0.0
    verdict = verdict_tokens(ctx)
    model = ctx.config.score_model
    return {s: map_stage(ctx, obs, len(items), prompt, verdict[s], model=model) for s in SCENARIOS}


def after_method(
    ctx: Context, written: dict[str, float], example: float
) -> dict[str, StageNumbers]:
    """Scoring what a method will keep: `written` examples per scenario of `example` tokens
    each (the method's prior) unless the cache measured them."""
    obs = ctx.obs(STAGE)
    rubric = ctx.config.score_rubric
    base = ctx.text_tokens(template(rubric).render(example=""), SYSTEM)
    measured = [p - base for p in per_prompt(obs.prompt_per_request, obs)]
    size = lognormal(example, EXAMPLE_FACTOR, [max(m, 1.0) for m in measured])
    verdict = verdict_tokens(ctx)
    model = ctx.config.score_model
    return {
        s: map_stage(ctx, obs, written[s], base + size[s], verdict[s], model=model)
        for s in SCENARIOS
    }
