"""Self-Instruct's cost model: one stage that generates until the target behind the gate."""

from __future__ import annotations

from pipeline.config import RunConfig
from pipeline.estimate.models import Context, GatePrior, StageNumbers, gated_stage
from pipeline.estimate.stats import SCENARIOS


def self_instruct_prior(c: RunConfig) -> GatePrior:
    """Tasks per prompt: num_tasks - num_prompt_instructions - 1 (16 by default); about 75%
    parse, pass Alpaca's filters and are not copies of a seed; an Alpaca task (instruction,
    input, output and labels) is about 65 tokens."""
    tasks = c.options.num_tasks - c.options.num_prompt_instructions - 1
    return GatePrior(0.75 * tasks, 2.0, 65.0 * tasks, 2.5)


def self_instruct(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, recipe = ctx.config, ctx.recipe
    tasks = c.options.num_tasks - c.options.num_prompt_instructions - 1
    stage, note = gated_stage(ctx, recipe.stage(0, []), self_instruct_prior(c), cap=tasks)
    return {s: [stage[s]] for s in SCENARIOS}, note
