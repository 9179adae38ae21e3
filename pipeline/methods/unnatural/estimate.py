"""Unnatural Instructions' cost model: a gated core stage, then one output per core example,
then --paraphrases reformulations per example with an output."""

from __future__ import annotations

from pipeline.estimate.models import (
    Context,
    GatePrior,
    StageNumbers,
    gated_stage,
    map_stage,
    mean_tokens,
    per_prompt,
    survivors,
)
from pipeline.estimate.observe import StageObs
from pipeline.estimate.stats import SCENARIOS, Param, lognormal, share
from pipeline.methods.unnatural.expand import PARAPHRASE_MAX_TOKENS

UNNATURAL_CORE = GatePrior(0.85, 1.5, 60.0, 3.0)
OUTPUT_TOKENS = (60.0, 5.0)  # an output: often a label or one sentence, sometimes a paragraph
PARAPHRASE_TOKENS = (40.0, 3.0)  # a reformulated instruction with its {INPUT}
OUTPUT_KEEP = (0.97, 10.0)  # outputs neither empty nor cut off


def _sizes(ctx: Context, obs: StageObs, texts: list[str], factor: float) -> Param:
    """Prompt tokens of one item of a map stage: the mean of `texts` rendered, updated by the
    prompts the stage has sent so far."""
    return lognormal(mean_tokens(ctx, texts), factor, per_prompt(obs.prompt_per_request, obs))


def _lengths(obs: StageObs, prior: tuple[float, float], cap: float) -> Param:
    return lognormal(*prior, per_prompt(obs.completion_per_request, obs), cap)


def unnatural(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, recipe = ctx.config, ctx.recipe
    ppr = c.prompts_per_request
    core, note = gated_stage(ctx, recipe.stage(0, []), UNNATURAL_CORE, cap=1.0)
    _, outputs, reformulations = (ctx.obs(name) for name in recipe.stages)
    # Prompt sizes from the core examples generated so far, else from the demonstrations.
    typical = ctx.obs("core").kept or [d for ds in recipe.demos.values() for d in ds]
    output_tpl, paraphrase_tpl = recipe.templates
    asks = [
        output_tpl.render(
            instruction=e.instruction, input=e.input, constraints=e.meta.get("constraints", "None.")
        )
        for e in typical
    ]
    output_prompt, output_len = (
        _sizes(ctx, outputs, asks, 1.5),
        _lengths(outputs, OUTPUT_TOKENS, c.options.output_max_tokens),
    )
    keep = share(*OUTPUT_KEEP, len(outputs.kept), outputs.generated)
    rewrites = [paraphrase_tpl.render(instruction=e.instruction) for e in typical]
    paraphrase_prompt, paraphrase_len = (
        _sizes(ctx, reformulations, rewrites, 1.3),
        _lengths(reformulations, PARAPHRASE_TOKENS, PARAPHRASE_MAX_TOKENS),
    )
    out = {}
    for s in SCENARIOS:
        answered = map_stage(ctx, outputs, core[s].kept, output_prompt[s], output_len[s], ppr)
        items = survivors(outputs, core[s].kept, keep, s) * c.options.paraphrases
        rewritten = map_stage(
            ctx, reformulations, items, paraphrase_prompt[s], paraphrase_len[s], ppr
        )
        answered.kept = survivors(outputs, core[s].kept, keep, s)
        rewritten.kept = items  # most reformulations are kept (duplicates are the rest)
        out[s] = [core[s], answered, rewritten]
    note += (
        f"; outputs {output_len.expected:.0f} tokens, {keep.expected:.0%} kept; "
        f"reformulations {paraphrase_len.expected:.0f} tokens"
    )
    return out, note


def unnatural_written(ctx: Context, stages: list[StageNumbers]) -> float:
    """Examples kept.jsonl holds: each core example with an output, and its reformulations."""
    return stages[1].kept + stages[2].kept
