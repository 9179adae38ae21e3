"""Each method's cost model: the requests and tokens of every stage of a run, in the low-cost,
expected and high-cost scenario. A model is one small function of a Context; a new method
plugs in by adding its function to MODELS (and, if it runs in rounds, which stages a pilot
covers).

Prompt tokens are counted on the prompts the run will send (the methods plan them
deterministically); what the model writes and how much of it is kept comes from a prior,
updated by the answers the run directory's cache already holds (an earlier run or a pilot)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.config import RunConfig
from pipeline.estimate.observe import Observed, StageObs
from pipeline.estimate.stats import (
    MAX_REQUESTS,
    SCENARIOS,
    SHAPE,
    Param,
    decline,
    lognormal,
    mostly_prior,
    pool_after,
    requests_to_grow,
    share,
)
from pipeline.methods.unnatural.expand import PARAPHRASE_MAX_TOKENS
from pipeline.types import Request

# Prompts rendered one by one; past this many, a stage's prompts are counted as their mean.
RENDER_LIMIT = 5_000


@dataclass(frozen=True)
class GatePrior:
    """A generate-until-target stage before anything is measured (per prompt of a request).

    Guesses for a 2024-25 chat model, wide on purpose. `lam` is the ROUGE decline (see
    estimate_stats): Alpaca's 52K for under $500 puts it near 1e-4 at most for davinci-003; the
    stub model's measures 5.6e-4."""

    candidates: float  # items per prompt that reach the gate's generated pool (past the filters)
    candidates_factor: float
    completion: float  # tokens per prompt
    completion_factor: float
    lam: float = 5e-5
    lam_factor: float = 20.0


# Judging CPU seconds per answer before a replay measures them: the ROUGE gate per candidate,
# parsing per answer.
GATE_SECONDS, ANSWER_SECONDS = 0.0002, 0.0003
# Answers paid for after a target is reached (in flight then; the runner paces dispatch so that
# at most about one is): low, expected, high.
PAST_TARGET = {"low": 0.0, "expected": 1.0, "high": 2.0}


@dataclass
class StageNumbers:
    """One stage in one scenario. `kept` is what it hands to the next stage; `unused` answers
    are paid for but never judged (past the target); `judge_seconds` is CPU per answer."""

    name: str
    model: str
    requests: int
    prompt: float
    completion: float
    kept: float = 0.0
    unused: float = 0.0
    judge_seconds: float = ANSWER_SECONDS


@dataclass
class Context:
    config: RunConfig
    recipe: Any
    count: Callable[[str], int]
    observed: Observed
    chat_overhead: bool = False  # the endpoint counts chat formatting tokens

    def obs(self, name: str) -> StageObs:
        return self.observed.stages.get(name) or StageObs(name)

    def request_tokens(self, request: Request) -> int:
        """Prompt tokens of a request as usage reports them: the stub counts the texts; a chat
        API adds about 4 per message and 3 to prime the reply (OpenAI's documented rule)."""
        system = self.count(request.system) if request.system else 0
        extra = 0
        if self.chat_overhead and request.api == "chat":
            extra = 3 + 4 * (len(request.prompts) + bool(request.system))
        return sum(map(self.count, request.prompts)) + system + extra

    def text_tokens(self, text: str, system: str | None = None) -> int:
        """One prompt's tokens as a one-prompt request of this config would report them."""
        return self.request_tokens(Request("", (text,), api=self.config.api, system=system))


class PromptSizes:
    """Prompt tokens of a stage's real requests, rendered slot by slot."""

    def __init__(self, ctx: Context, method: Any, slots: int | None = None):
        self.ctx, self.method, self.slots = ctx, method, slots
        self.prefix = [0]

    def total(self, start: float, stop: float) -> float:
        """Tokens of requests start..stop-1 (fractional ends: the mean request)."""
        return self._upto(stop) - self._upto(start)

    def _upto(self, stop: float) -> float:
        limit = min(RENDER_LIMIT, self.slots if self.slots is not None else RENDER_LIMIT)
        while len(self.prefix) <= min(math.ceil(stop), limit):
            request = self.method.plan(len(self.prefix) - 1)
            self.prefix.append(self.prefix[-1] + self.ctx.request_tokens(request))
        whole = min(int(stop), len(self.prefix) - 1)
        mean = self.prefix[-1] / max(len(self.prefix) - 1, 1)
        return self.prefix[whole] + (stop - whole) * mean


def judge_seconds(obs: StageObs, prior: float) -> float:
    """CPU seconds per answer: measured by the replay when it judged enough of them."""
    return obs.judge_seconds / obs.requests if obs.requests >= 20 else prior


def per_prompt(values: list[float], obs: StageObs) -> list[float]:
    """Per-request values as per-prompt ones (the completions API packs several prompts)."""
    each = obs.prompts / obs.requests if obs.requests else 1.0
    return [v / each for v in values]


# --- The first stage of Self-Instruct and Unnatural: generate until the target --------------


def gated_stage(
    ctx: Context, spec: Any, prior: GatePrior, cap: float
) -> tuple[dict[str, StageNumbers], str]:
    """Requests until `target` items pass the ROUGE gate: the known part replayed from the
    cache, the rest from the keep curve."""
    c, obs = ctx.config, ctx.obs(spec.name)
    ppr = c.prompts_per_request
    reached = [k + b for k, b in zip(obs.kept_per_request, obs.blocked_per_request, strict=True)]
    candidates = lognormal(
        prior.candidates, prior.candidates_factor, per_prompt(reached, obs), cap, False
    )
    completion = lognormal(
        prior.completion,
        prior.completion_factor,
        per_prompt(obs.completion_per_request, obs),
        cap=c.max_tokens,
    )
    sizes = PromptSizes(ctx, spec.method)
    calibration = obs.prompt_tokens / sizes.total(0, obs.requests) if obs.requests else 1.0
    lam = decline(prior.lam, prior.lam_factor, obs.kept_per_request, obs.blocked_per_request)
    seconds = judge_seconds(obs, ANSWER_SECONDS + GATE_SECONDS * candidates.expected * ppr)
    out = {}
    for s in SCENARIOS:
        more, kept = _remaining(c, obs, candidates[s] * ppr, lam[s], SHAPE[s])
        total = obs.requests + math.ceil(more)
        prompt = obs.prompt_tokens + calibration * sizes.total(obs.requests, total)
        used = obs.completion_tokens + more * ppr * completion[s]
        past = PAST_TARGET[s] if more > 0 and kept >= c.target else 0.0
        out[s] = StageNumbers(spec.name, c.model, total, prompt, used, kept, past, seconds)
    note = (
        f"{candidates.expected * ppr:.2f} candidates/request, each passing a pool of n "
        f"generated items w.p. 1/(1 + {lam.expected:.2g} n){_lam_source(obs, prior, lam)}; "
        f"{completion.expected:.0f} completion tokens/prompt"
    )
    if out["high"].requests >= MAX_REQUESTS:
        note += f" (at lam {lam.high:.2g} the keep rate falls to nothing before the target)"
    return out, note


def _lam_source(obs: StageObs, prior: GatePrior, lam: Param) -> str:
    """Says when lam is still the prior's guess: too few candidates were replayed to measure it."""
    if not obs.requests or not mostly_prior(lam, prior.lam_factor):
        return ""
    blocked = sum(obs.blocked_per_request)
    seen = blocked + sum(obs.kept_per_request)
    met = f"{blocked} of {seen} candidates met a generated near-duplicate"
    return f" (lam mostly the prior: {met}; a larger --pilot measures it)"


def _remaining(
    c: RunConfig, obs: StageObs, per_request: float, lam: float, alpha: float
) -> tuple[float, float]:
    """Requests the first stage still needs, and how many items it keeps in the end."""
    if obs.complete:
        return 0.0, float(len(obs.kept))
    start = len(obs.kept)
    more = requests_to_grow(per_request, lam, alpha, start, c.target)
    if c.max_requests is not None and obs.requests + more > c.max_requests:
        more = max(c.max_requests - obs.requests, 0)
        return more, pool_after(per_request, lam, alpha, start, more)
    return more, float(c.target)


def map_stage(
    ctx: Context,
    obs: StageObs,
    items: float,
    prompt: float,
    completion: float,
    per_request: int = 1,
    model: str | None = None,
) -> StageNumbers:
    """A stage over a list of `items`: what the cache holds, plus the items left at `prompt`
    and `completion` tokens each."""
    rest = max(items - obs.prompts, 0.0)
    requests = obs.requests + math.ceil(rest / per_request)
    return StageNumbers(
        obs.name,
        model or ctx.config.model,
        requests,
        obs.prompt_tokens + rest * prompt,
        obs.completion_tokens + rest * completion,
        judge_seconds=judge_seconds(obs, ANSWER_SECONDS),
    )


def mean_tokens(ctx: Context, texts: list[str], system: str | None = None) -> float:
    return statistics.fmean(ctx.text_tokens(t, system) for t in texts[:RENDER_LIMIT])


def survivors(obs: StageObs, items: float, keep: Param, s: str) -> float:
    """Items a stage keeps: those already judged, plus a share of the rest."""
    return len(obs.kept) + keep[s] * max(items - obs.prompts, 0.0)


def self_instruct_prior(c: RunConfig) -> GatePrior:
    """Tasks per prompt: num_tasks - num_prompt_instructions - 1 (16 by default); about 75%
    parse, pass Alpaca's filters and are not copies of a seed; an Alpaca task (instruction,
    input, output and labels) is about 65 tokens."""
    tasks = c.num_tasks - c.num_prompt_instructions - 1
    return GatePrior(0.75 * tasks, 2.0, 65.0 * tasks, 2.5)


def self_instruct(ctx: Context) -> tuple[dict[str, list[StageNumbers]], str]:
    c, recipe = ctx.config, ctx.recipe
    tasks = c.num_tasks - c.num_prompt_instructions - 1
    stage, note = gated_stage(ctx, recipe.stage(0, []), self_instruct_prior(c), cap=tasks)
    return {s: [stage[s]] for s in SCENARIOS}, note


# Unnatural Instructions: a gated core stage, then one output per core example, then
# --paraphrases reformulations per example with an output.
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
        _lengths(outputs, OUTPUT_TOKENS, c.output_max_tokens),
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
        items = survivors(outputs, core[s].kept, keep, s) * c.paraphrases
        rewritten = map_stage(
            ctx, reformulations, items, paraphrase_prompt[s], paraphrase_len[s], ppr
        )
        out[s] = [core[s], answered, rewritten]
    note += (
        f"; outputs {output_len.expected:.0f} tokens, {keep.expected:.0%} kept; "
        f"reformulations {paraphrase_len.expected:.0f} tokens"
    )
    return out, note
