"""What every method's cost model is made of: the requests and tokens of every stage of a run, in
the low-cost, expected and high-cost scenario. A method's model (its folder's estimate.py) is one
small function of a Context, built from the stage models here: a generate-until-target stage
behind a ROUGE-L gate (gated_stage) and a stage that maps over a list (map_stage).

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
)
from pipeline.types import Request

Estimate = Callable[["Context"], tuple[dict[str, list["StageNumbers"]], str]]


def last_kept(ctx: Context, stages: list[StageNumbers]) -> float:
    return stages[-1].kept


@dataclass(frozen=True)
class CostModel:
    """A method's cost model: `estimate(ctx)` returns each scenario's stages and a one-line note
    of what it assumed; `pilot_covers(stage)` says which stages a pilot sends requests for (a
    method of rounds: the first round's, which measure them all).

    For a score stage after the method (--score-with, pipeline/score/estimate.py):
    `written(ctx, stages)` is how many examples one scenario's stages keep in the end, and
    `example_tokens` the tokens of one such example (instruction, input, output) before any
    is measured."""

    estimate: Estimate
    pilot_covers: Callable[[str], bool] = lambda stage: True
    written: Callable[[Context, list[StageNumbers]], float] = last_kept
    example_tokens: float = 200.0


# Prompts rendered one by one; past this many, a stage's prompts are counted as their mean.
RENDER_LIMIT = 5_000


@dataclass(frozen=True)
class GatePrior:
    """A generate-until-target stage before anything is measured (per prompt of a request).

    Guesses for a 2024-25 chat model, wide on purpose. `lam` is the ROUGE decline (see
    pipeline/estimate/stats.py): Alpaca's 52K for under $500 puts it near 1e-4 at most for
    davinci-003; the stub model's measures 5.6e-4."""

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
        preamble = request.preamble()
        extra = 0
        if self.chat_overhead and request.api == "chat":
            extra = 3 + 4 * (len(request.prompts) + len(preamble))
        return sum(map(self.count, request.prompts)) + sum(map(self.count, preamble)) + extra

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
