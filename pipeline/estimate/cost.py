"""What a run will cost before it starts: requests, tokens, money and wall time, each as
low / expected / high, under the same names as a run's stats.json.

The method's own cost model (its folder's estimate.py, built on estimate/models.py) counts the
prompts the run will send and takes keep rates and output lengths from a prior, from the answers
the run directory already holds (a resumed or extended run), or from a pilot of N real requests sent
through the run's own cache (so the run reuses them). Without a pilot nothing is sent and
nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline import methods
from pipeline.backends.base import Backend
from pipeline.config import RunConfig
from pipeline.estimate.models import Context, StageNumbers
from pipeline.estimate.observe import Observed, history_cache, replay
from pipeline.estimate.pilot import run_pilot
from pipeline.estimate.stats import SCENARIOS
from pipeline.prices import Price, price_for
from pipeline.score.estimate import after_method
from pipeline.score.stage import STAGE
from pipeline.store import CACHE_FILE
from pipeline.tokens import REASONING, count_tokens

# Seconds per request before a pilot measures them: a hosted model's first token, then its
# writing speed; the stub answers in-process.
LATENCY_BASE, TOKENS_PER_SECOND = 0.5, 60.0
# The in-process stub's request before a pilot measures it: planning, answering, committing
# to the cache, all on the session's one event loop (0.5-1 ms measured, 2 cores).
STUB_SECONDS = 0.0007
# A run's fixed start: opening the run directory, and starting the worker process that judges
# a ROUGE-gated stage (0.2-0.4 s measured with --judge process, a few ms inline).
STARTUP_SECONDS, WORKER_START_SECONDS = 0.03, 0.3


def token_counter(config: RunConfig) -> tuple[Callable[[str], int], str]:
    """The stub reports pipeline.tokens counts; for a real model, tiktoken if it is installed
    and its encoding is already on disk (never downloaded here), else the same approximation."""
    if config.backend != "stub":
        encoding = _offline_tiktoken(config.model)
        if encoding is not None:
            return (lambda text: len(encoding.encode(text, disallowed_special=()))), (
                f"tiktoken {encoding.name}"
            )
    return count_tokens, "pipeline.tokens (a fitted approximation of cl100k)"


def _offline_tiktoken(model: str) -> Any:
    try:
        import tiktoken
        import tiktoken.load as load
    except ImportError:
        return None
    if not hasattr(load, "read_file"):
        return None  # not the tiktoken we know how to keep offline: do not risk a download

    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("instructgen never downloads a tokenizer")

    original, load.read_file = load.read_file, refuse
    try:
        try:
            return tiktoken.encoding_for_model(model)
        except KeyError:
            return tiktoken.get_encoding("cl100k_base")
    except Exception:  # not in the local cache: the approximation it is
        return None
    finally:
        load.read_file = original


def estimate(config: RunConfig, pilot: int = 0, backend: Backend | None = None) -> dict[str, Any]:
    """The estimate of a run of `config`, as one JSON-ready dict. Every input is checked
    before a pilot sends anything."""
    spec = methods.get(config.method)
    recipe, model = methods.recipe(config), spec.cost
    price = price_for(config)
    cache = history_cache(config, config.fingerprint(**recipe.fingerprint_parts()))
    latency: list[float] = []
    pilot_seconds = 0.0
    if pilot:  # online even with --batch: a pilot of hours would defeat its purpose
        online = replace(config, batch=False)
        covers = model.pilot_covers
        latency, pilot_seconds = run_pilot(
            online, pilot, lambda s: s == STAGE or covers(s), backend
        )
        cache = Path(config.out) / CACHE_FILE
    seeds = set(spec.gate.seeds(recipe)) if spec.gate else set()
    observed = replay(recipe, cache, seeds) if cache is not None else Observed()
    observed.latency, observed.pilot, observed.pilot_seconds = latency, pilot, pilot_seconds
    count, tokenizer = token_counter(config)
    # The method's model reads its own recipe; a score stage after it is counted here.
    own = getattr(recipe, "inner", recipe)
    ctx = Context(config, own, count, observed, chat_overhead=config.backend != "stub")
    scenarios, note = model.estimate(ctx)
    if config.scores and not spec.options.SCORES:
        note += _add_score_stage(ctx, scenarios, model)
    models = {n.model for s in scenarios.values() for n in s} | set(observed.paid)
    prices = {m: price_for(config, m) for m in models}
    seconds = _seconds_per_request(config, observed)
    startup = STARTUP_SECONDS
    if spec.gate and config.judge == "process":
        startup += WORKER_START_SECONDS
    result = _assemble(config, scenarios, prices, seconds, observed.unused, startup)
    result["cost"]["price"] = _price_dict(price)
    result["in_cache"] = _in_cache(observed, prices)
    result["assumptions"] = _assumptions(config, price, observed, note, tokenizer)
    if config.batch:
        _as_batches(result, config, scenarios, models)
    return result


def _add_score_stage(ctx: Context, scenarios: dict[str, list], model: Any) -> str:
    written = {s: model.written(ctx, scenarios[s]) for s in SCENARIOS}
    stage = after_method(ctx, written, model.example_tokens)
    for s in SCENARIOS:
        scenarios[s].append(stage[s])
    verdict = stage["expected"]
    per = verdict.completion / max(verdict.requests, 1)
    return f"; a verdict for each of {written['expected']:.0f} kept examples, {per:.0f} tokens"


def _as_batches(result: dict, config: RunConfig, scenarios: dict, models: set[str]) -> None:
    """--batch: the online cost beside the batch cost, and a wall time of waves, not requests
    (a stage is one wave or more; the provider promises each within its 24 h window)."""
    online = replace(config, batch=False)
    prices = {m: price_for(online, m) for m in models}
    result["cost"]["online_usd"] = _band(
        lambda s: sum(_stage_usd(n, prices) for n in scenarios[s]), 6
    )
    waves = len(scenarios["expected"])
    result["wall_seconds"] = {s: waves * BATCH_HOURS[s] * 3600.0 for s in SCENARIOS}
    result["assumptions"] += (
        f"; batch: at least {waves} wave{'s' if waves != 1 else ''} (one a stage), each "
        f"{BATCH_HOURS['low']:g}-{BATCH_HOURS['high']:g} h (the provider's window is 24 h)"
    )


# Hours a batch takes, low / expected / high: the provider promises 24 h at most; small batches
# on OpenAI often finish within the hour (a guess, not a measurement: no batch was timed here).
BATCH_HOURS = {"low": 0.5, "expected": 4.0, "high": 24.0}


def _seconds_per_request(config: RunConfig, observed: Observed) -> Callable[[float], float]:
    """Wall seconds one request adds, by its completion tokens: an HTTP model's latency over the
    configured concurrency; the in-process stub's work, one request at a time."""
    if observed.latency and config.backend == "stub":
        # In process, answering is CPU work on the session's event loop: concurrency does not
        # overlap it, and the pilot's wall time per request holds all of a request's work.
        per_request = observed.pilot_seconds / len(observed.latency)
        return lambda tokens: per_request
    if observed.latency:
        # Measured: the pilot's mean, scaled by how much each request writes.
        written = [s.completion_tokens / s.requests for s in observed.stages.values() if s.requests]
        mean_written = max(sum(written) / len(written), 1.0) if written else 1.0
        mean_latency = sum(observed.latency) / len(observed.latency)
        base = min(LATENCY_BASE, mean_latency)
        rate = mean_written / max(mean_latency - base, 1e-6)

        def latency(tokens: float) -> float:
            return base + tokens / rate
    elif config.backend == "stub":
        return lambda tokens: STUB_SECONDS
    else:

        def latency(tokens: float) -> float:
            return LATENCY_BASE + tokens / TOKENS_PER_SECOND

    return lambda tokens: latency(tokens) / config.concurrency


def _band(value: Callable[[str], float], digits: int | None = None) -> dict[str, Any]:
    return {s: round(value(s), digits) for s in SCENARIOS}


def _stage_usd(n: StageNumbers, prices: dict[str, Price]) -> float:
    """Answers past the target are paid for too (a run's cost counts them)."""
    share = 1 + n.unused / n.requests if n.requests else 1
    return prices[n.model].cost(n.prompt * share, n.completion * share)


def _stage_wall(n: StageNumbers, seconds: Callable[[float], float]) -> float:
    """Requests in flight at the configured concurrency, judged in a second process: the slower
    of the two."""
    if not n.requests:
        return 0.0
    return n.requests * max(seconds(n.completion / n.requests), n.judge_seconds)


def _stage(at: dict[str, StageNumbers], prices: dict[str, Price]) -> dict[str, Any]:
    return {
        "model": at["expected"].model,
        "requests": _band(lambda s: at[s].requests),
        "tokens": {
            "prompt": _band(lambda s: at[s].prompt),
            "completion": _band(lambda s: at[s].completion),
        },
        "cost": {"usd": _band(lambda s: _stage_usd(at[s], prices), 6)},
    }


def _assemble(
    config: RunConfig,
    scenarios: dict[str, list[StageNumbers]],
    prices: dict[str, Price],
    seconds: Callable[[float], float],
    unused: dict[str, tuple[int, int, int]],
    startup: float,
) -> dict[str, Any]:
    """The JSON result; requests and tokens count judged answers, as stats.json does, and the
    cost counts every answer paid for (`unused`: in the cache, judged by no stage); the wall
    time adds the run's fixed `startup` seconds."""

    def total(pick: Callable[[StageNumbers], float]) -> Callable[[str], float]:
        return lambda s: sum(pick(n) for n in scenarios[s])

    already = sum(prices[m].cost(p, c) for m, (_, p, c) in unused.items())
    return {
        "method": config.method,
        "model": config.model,
        "requests": _band(total(lambda n: n.requests)),
        "tokens": {
            "prompt": _band(total(lambda n: n.prompt)),
            "completion": _band(total(lambda n: n.completion)),
        },
        "cost": {"usd": _band(lambda s: total(lambda n: _stage_usd(n, prices))(s) + already, 6)},
        "wall_seconds": _band(lambda s: startup + total(lambda n: _stage_wall(n, seconds))(s), 1),
        "stages": {
            n.name: _stage({s: scenarios[s][i] for s in SCENARIOS}, prices)
            for i, n in enumerate(scenarios["expected"])
        },
    }


def _price_dict(price: Price) -> dict[str, Any]:
    return {"input_per_1m": price.input, "output_per_1m": price.output, "source": price.source}


def _in_cache(observed: Observed, prices: dict[str, Price]) -> dict[str, Any]:
    """What the run directory already paid for (the run will not pay it again)."""
    paid = observed.paid.items()
    usd = sum(prices[m].cost(p, c) for m, (_, p, c) in paid)
    return {"requests": sum(n for _, (n, _, _) in paid), "usd": round(usd, 6)}


def _assumptions(
    config: RunConfig, price: Price, observed: Observed, note: str, tokenizer: str
) -> str:
    if observed.pilot:
        source = f"pilot of {observed.pilot} requests a stage ({observed.requests} answers)"
    elif observed.requests:
        source = f"this run directory's {observed.requests} cached answers"
    else:
        source = "priors (no pilot, no earlier run in --out)"
    money = f"${price.input:g}/${price.output:g} per 1M tokens, {price.source}"
    text = f"price {money}; keep rates and lengths from {source}: {note}; tokens: {tokenizer}"
    if REASONING.match(config.model) and not observed.requests:
        # Billed as completion tokens, never seen in the answer: the priors know nothing of it.
        text += f"; {config.model} reasons before it answers: only a --pilot measures that"
    return text
