"""Evol-Instruct's cost model: per round, every pool position is evolved; the evolutions that
survive are judged (unless --no-equality-check), the ones judged different are answered. A
failed evolution leaves its parent in the pool, so every round evolves the whole pool again,
and the instructions grow a little with every evolution that survives."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from pipeline.estimate.models import (
    RENDER_LIMIT,
    Context,
    PromptSizes,
    StageNumbers,
    map_stage,
    per_prompt,
    survivors,
)
from pipeline.estimate.stats import SCENARIOS, Param, lognormal, normal, share
from pipeline.methods.evol.round import ANSWER_SYSTEM, Evolve, given_prompt

# Priors, for a chat model of 2024-25; wide where models differ most (answer length).
EVOLVE_KEEP = (0.95, 10.0)  # not empty, no template marker copied, not cut off
JUDGE_KEEP = (0.5, 4.0)  # "Not Equal": about half of round 1 was judged equal by one user
ANSWER_KEEP = (0.95, 10.0)  # not a short "sorry", not only stop words
GROWTH = (15.0, 10.0)  # tokens an evolution adds: "about 10 to 20 words" (mean, sd)
EVOLVE_EXTRA, EVOLVE_FACTOR = 20.0, 2.0  # an evolution: its parent plus this, x/÷ factor
JUDGE_TOKENS = (3.0, 2.0)  # "Equal" / "Not Equal"
ANSWER_TOKENS = (300.0, 8.0)  # terse local models to verbose GPT-4-class answers


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


@dataclass
class EvolParams:
    """Round 1 as measured (or the priors), which the later rounds repeat."""

    keep_evolve: Param
    keep_judge: Param
    keep_answer: Param
    growth: Param  # tokens a surviving evolution adds to its parent
    evolve_len: Param
    judge_len: Param
    answer_len: Param
    judge_base: float  # a judge prompt with the parent twice: the evolution is that plus growth
    answer_base: float  # an answer prompt with the parent: likewise


def _params(ctx: Context, parents: list[str]) -> EvolParams:
    c = ctx.config
    evolve1, judge1, answer1 = (ctx.obs(f"{kind}-1") for kind in ("evolve", "judge", "answer"))
    grown = [
        ctx.count(e.instruction) - ctx.count(parents[e.meta["position"]]) for e in evolve1.kept
    ]
    sample = parents[:RENDER_LIMIT]
    equality = ctx.recipe.templates.equality
    return EvolParams(
        keep_evolve=share(*EVOLVE_KEEP, len(evolve1.kept), evolve1.generated),
        keep_judge=share(*JUDGE_KEEP, len(judge1.kept), judge1.generated)
        if c.options.equality_check
        else Param.fixed(1.0),
        keep_answer=share(*ANSWER_KEEP, len(answer1.kept), answer1.generated),
        growth=normal(*GROWTH, grown),
        evolve_len=lognormal(
            _mean([ctx.count(p) for p in sample]) + EVOLVE_EXTRA,
            EVOLVE_FACTOR,
            per_prompt(evolve1.completion_per_request, evolve1),
            cap=c.max_tokens,
        ),
        judge_len=lognormal(*JUDGE_TOKENS, per_prompt(judge1.completion_per_request, judge1), 8),
        answer_len=lognormal(
            *ANSWER_TOKENS,
            per_prompt(answer1.completion_per_request, answer1),
            c.options.answer_max_tokens,
        ),
        judge_base=_mean([ctx.text_tokens(equality.render(first=p, second=p)) for p in sample]),
        answer_base=_mean([ctx.text_tokens(p, ANSWER_SYSTEM) for p in sample]),
    )


def _round(ctx: Context, p: EvolParams, r: int, s: str, evolve_rest: float) -> list[StageNumbers]:
    """Round r in scenario s; `evolve_rest` is the mean evolve prompt of the positions left."""
    c, size = ctx.config, len(ctx.recipe.pool)
    evolve, judge, answer = (ctx.obs(f"{kind}-{r}") for kind in ("evolve", "judge", "answer"))
    survive = p.keep_evolve[s] * p.keep_judge[s] * p.keep_answer[s]
    delta = (r - 1) * survive * p.growth[s]  # how much longer the pool is by round r
    stages = [map_stage(ctx, evolve, size, evolve_rest + delta, p.evolve_len[s] + delta)]
    judged = survivors(evolve, size, p.keep_evolve, s)
    if c.options.equality_check:
        prompt = p.judge_base + p.growth[s] + 2 * delta
        stages.append(map_stage(ctx, judge, judged, prompt, p.judge_len[s]))
        judged = survivors(judge, judged, p.keep_judge, s)
    prompt = p.answer_base + p.growth[s] + delta
    model = c.options.answer_model or c.model
    stages.append(map_stage(ctx, answer, judged, prompt, p.answer_len[s], model=model))
    stages[-1].kept = survivors(answer, judged, p.keep_answer, s)
    return stages


def evol(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, pool = ctx.config, ctx.recipe.pool
    p = _params(ctx, [given_prompt(e) for e in pool])
    out: dict[str, list[StageNumbers]] = {s: [] for s in SCENARIOS}
    for r in range(1, c.options.rounds + 1):
        # Round r's operations, rendered on round 1's texts; the growth is added per scenario.
        sizes = PromptSizes(ctx, Evolve(pool, r, c, ctx.recipe.templates), slots=len(pool))
        done = ctx.obs(f"evolve-{r}").requests
        evolve_rest = sizes.total(done, len(pool)) / max(len(pool) - done, 1)
        for s in SCENARIOS:
            out[s].extend(_round(ctx, p, r, s, evolve_rest))
    note = (
        f"evolutions {p.keep_evolve.expected:.0%} kept, {p.keep_judge.expected:.0%} judged new, "
        f"answers {p.keep_answer.expected:.0%} kept; evolutions {p.evolve_len.expected:.0f} "
        f"tokens (+{p.growth.expected:.0f} a round), answers {p.answer_len.expected:.0f} tokens"
    )
    return out, note


def evol_written(ctx: Context, stages: list[StageNumbers]) -> float:
    """Examples kept.jsonl holds: every round's answered evolutions."""
    return sum(n.kept for n in stages if n.name.startswith("answer-"))
