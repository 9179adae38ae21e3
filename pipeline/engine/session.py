"""A run from config to files: open the run directory, wire the backend stack, write outputs.

A method's recipe (its MethodSpec's, pipeline/methods/) gives its stages; the session runs them
in order, each as a Generation with its own judge. Used by the CLI directly and by the Prefect
flows, which pass what to do once the run is over (`on_complete`: the HTML report)."""

from __future__ import annotations

import contextlib
import gc
import json
import pickle
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline import methods
from pipeline.backends.base import Backend
from pipeline.backends.batch.backend import BATCH_CONCURRENCY, batching, check_batch_api
from pipeline.backends.budget import Budget, BudgetedBackend
from pipeline.backends.cache import RequestCache
from pipeline.backends.cached import PATIENCE, CachedBackend
from pipeline.backends.ratelimit import RateLimitedBackend
from pipeline.backends.registry import make_backend
from pipeline.backends.retry import RetryingBackend, RetryPolicy
from pipeline.backends.shared_limit import current_wrapper
from pipeline.card import write_card
from pipeline.config import RunConfig
from pipeline.engine import checkpoint
from pipeline.engine.judge import Judge
from pipeline.engine.judge_process import JudgeProcess, LocalJudge
from pipeline.engine.runner import AsyncJudge, Generation
from pipeline.engine.stages import NO_TARGET, Recipe, StageResult, StageSpec
from pipeline.engine.stall import Guard, default_patience
from pipeline.prices import Price, price_for
from pipeline.store import ALPACA, CACHE_FILE, KEPT, REMOVED, REPORT, STATS, RunDir

# Answers per advance() call, as run_session takes them: judging in steps of 1,000 made a
# 10K-request stub run 0.3-2 s slower (measured).
STEP = 256
# Answers per Prefect task (flows/): every task run costs the Prefect server ~25 ms of CPU on
# the cores the judge needs; a task still advances in STEPs.
TASK_ANSWERS = 1024


def guarded(factory: Callable[..., Judge], args: tuple, guard: Guard) -> Judge:
    """A stage's judge with its stall guard (module-level: it runs in the judge process too)."""
    judge = factory(*args)
    judge.guard = guard
    return judge


def _judge(spec: StageSpec, guard: Guard) -> AsyncJudge:
    if spec.in_process:
        return LocalJudge(guarded(spec.judge_factory, spec.judge_args, guard))
    return JudgeProcess(guarded, spec.judge_factory, spec.judge_args, guard)


def earlier_stalls(run_dir: RunDir) -> list[dict[str, Any]]:
    """The stalls an earlier session of this run reported (stats.json): a re-run tries again
    from each, instead of stopping at it once more."""
    try:
        stats = json.loads(run_dir.file(STATS).read_text(encoding="utf-8"))
        return [s for s in stats.get("stalls", []) if isinstance(s.get("slot"), int)]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


@dataclass
class Session:
    config: RunConfig
    recipe: Recipe
    run_dir: RunDir
    cache: RequestCache
    cached: CachedBackend
    retry: RetryingBackend
    resumed: bool
    budget: Budget
    on_progress: Callable[[Session], None] | None = None
    on_complete: Callable[[Path], object] | None = None
    started: float = field(default_factory=time.monotonic)
    done: list[StageResult] = field(default_factory=list)
    complete: bool = False
    _finished: list[Generation] = field(default_factory=list)
    stalls: list[dict[str, Any]] = field(default_factory=list)  # earlier sessions' stalls
    fingerprint: str = ""
    # The checkpoint's header when the run was already over, its outputs untouched: the session
    # then has nothing to do (and no stage: `generation` is not set).
    over: dict[str, Any] | None = None
    _restore: bytes | None = None  # the current stage judge's checkpointed state, until used
    _first: bytes | None = None  # the first stage's judge state when it ended, if it has
    first_end: tuple[str, int] | None = None  # how the first stage ended: (stopped, target)
    _last_checkpoint: float = field(default_factory=time.monotonic)
    batcher: Any = None  # the BatchingBackend of a --batch run

    @classmethod
    def open(
        cls,
        config: RunConfig,
        backend: Backend | None = None,
        policy: RetryPolicy | None = None,
        on_progress: Callable[[Session], None] | None = None,
        wrap: Callable[[Backend], Backend] | None = None,
        on_complete: Callable[[Path], object] | None = None,
    ) -> Session:
        """Check everything a run needs before the first request is sent.

        `on_complete(run_dir)` runs after the outputs are written once the run is over (the
        HTML report, which takes seconds at 50K examples: not for checkpoints)."""
        recipe = methods.recipe(config)
        fingerprint = config.fingerprint(**recipe.fingerprint_parts())
        model = backend if backend is not None else make_backend(config)
        if config.batch:
            check_batch_api(model)  # a server without /v1/batches: exit 2, nothing written
        inner = model
        if config.rpm or config.tpm:
            # Below the retry policy: every attempt counts against the provider's limits.
            inner = RateLimitedBackend(inner, rpm=config.rpm, tpm=config.tpm)
        wrap = wrap or current_wrapper()
        if wrap is not None:
            # A limit shared with other runs: under the retries (each attempt takes a slot),
            # above nothing else (cached answers take none).
            inner = wrap(inner)
        run_dir = RunDir(config.out)
        resumed = run_dir.open(config, fingerprint, record=False)
        try:
            cache = RequestCache(run_dir.file(CACHE_FILE))
            run_dir.record(config, fingerprint)  # only once the whole folder is usable
        except BaseException:
            run_dir.close()
            raise
        batcher = None
        if config.batch:  # under the retries: a failed or expired line is asked again; a
            # provider's per-minute limits do not apply to batches
            inner = batcher = batching(config, model, run_dir, fingerprint)
        retry = RetryingBackend(inner, policy or RetryPolicy(max_attempts=config.max_attempts))
        budget = open_budget(config, cache)
        cached = CachedBackend(
            BudgetedBackend(retry, budget),
            cache,
            # An in-process stub costs nothing and cannot lose an answer on its way back.
            mark=config.backend != "stub",
            recover=getattr(model, "recover", None) if config.store else None,
            # Paid in the session that was killed, but not yet counted anywhere.
            on_recovered=budget.settle_earlier,
            # An answer still in the making when the last session stopped: waited for a while.
            patience=min(config.timeout, PATIENCE),
        )
        session = cls(
            config, recipe, run_dir, cache, cached, retry, resumed, budget, on_progress, on_complete
        )
        session.fingerprint = fingerprint
        session.batcher = batcher
        if batcher is not None and on_progress is not None:
            # Hours pass between answers in batch mode: each look at a batch is progress too.
            batcher.on_status = lambda wave: on_progress(session)
        session.stalls = earlier_stalls(run_dir) if resumed else []
        header = checkpoint.read_header(run_dir, fingerprint) if resumed else None
        if header is not None and _over(header, config, run_dir, on_complete is not None):
            session.over = header
        else:
            session._adopt(header)
            session._start_stage()
        # Everything built so far lives for the whole run: out of the collector's sight, so a
        # full collection cannot stall the loop for 50-250 ms while answers wait to be committed
        # (measured; an answer received but not committed is paid twice after a kill).
        gc.collect()
        gc.freeze()  # undone in aclose(): a long-lived process (serve) must not keep garbage
        return session

    def _adopt(self, header: dict[str, Any] | None) -> None:
        """Take the finished stages and the current stage's judge state from the checkpoint;
        with none that checks out, the run replays its cache from the first answer. When the
        settings that end the first stage changed (--target, --max-requests), a later stage's
        state is of no use: the first stage goes on from where it ended."""
        # A replay with another --patience could stall elsewhere (the guard counts every
        # streak only against its own patience): such a checkpoint is of no use.
        if header is None or header.get("patience") != self.config.patience:
            return
        parts = checkpoint.read_parts(self.run_dir, header)
        done = checkpoint.unpickle(parts[0]) if parts and len(parts) in (2, 3) else None
        if not isinstance(done, list) or len(done) >= len(self.recipe.stages):
            return
        same = (header["target"], header["max_requests"]) == (
            self.config.target,
            self.config.max_requests,
        )
        if done and not same:
            self._restore = parts[2] if len(parts) == 3 else None
            return
        if done and not isinstance(header.get("first_end"), list):
            return
        self.done = [replace(r, stats=checkpoint.as_replayed(r.stats)) for r in done]
        self._restore, self._first = parts[1], parts[2] if len(parts) == 3 else None
        if header.get("min_score") != self.config.min_score and self.config.scores:
            # The score stage (always the last) decided on another threshold: it judges its
            # cached verdicts again.
            self._restore = None if len(done) == len(self.recipe.stages) - 1 else self._restore
        self.first_end = tuple(header["first_end"]) if done else None

    async def _restored(self) -> None:
        """Hand the checkpointed state to the current stage's judge (once, before it judges)."""
        if self._restore is None:
            return
        state, self._restore = self._restore, None
        g = self.generation
        progress = await g.judge.restore(state, g.max_requests)
        if progress is not None:
            g.resume(progress)
            return
        await g.judge.aclose()  # it cannot go on exactly: replay from the start
        self.done, self._first, self.first_end = [], None, None
        self._start_stage()

    @property
    def stage(self) -> str:
        return self.recipe.stages[-1] if self.over else self.generation.name

    def _report(self, generation: Generation) -> None:
        if self.on_progress is not None:
            self.on_progress(self)

    def _guard(self, spec: StageSpec) -> Guard:
        patience = self.config.patience
        if patience is None:
            patience = default_patience(spec.method.expected_kept_per_request)
        after = max((s["slot"] for s in self.stalls if s.get("stage") == spec.name), default=-1)
        return Guard(patience, map_stage=spec.target == NO_TARGET, after=after)

    def _start_stage(self) -> None:
        spec = self.recipe.stage(len(self.done), self.done)
        self.stage_spent_before = self.budget.spent
        self.generation = Generation(
            method=spec.method,
            backend=self.cached,
            judge=_judge(spec, self._guard(spec)),
            target=spec.target,
            concurrency=BATCH_CONCURRENCY if self.config.batch else self.config.concurrency,
            eager=self.config.batch,
            max_requests=spec.max_requests,
            on_progress=self._report if self.on_progress else None,
            name=spec.name,
        )

    async def advance(self, answers: int) -> bool:
        """Judge up to `answers` answers of the current stage, STEP at a time; True once the
        last stage is done. Returns early when the stage ends, so a caller (a Prefect task per
        stage) never runs into the next one. The outputs are written every checkpoint_seconds."""
        if self.over is not None:
            self.complete = True
            return True
        await self._restored()
        stage = self.stage
        while True:
            step = min(answers, STEP)
            finished = await self._step(step)
            answers -= step
            if finished or answers <= 0 or self.stage != stage:
                return finished

    async def _step(self, answers: int) -> bool:
        g = self.generation
        finished = await g.advance(answers)
        if finished:
            # Requests already on the wire are paid for: let them land in the cache for a later
            # run with a higher target, but send nothing new.
            await g.abandon(grace=self.config.timeout)
        more = len(self.done) + 1 < len(self.recipe.stages)
        if finished and more and g.stopped not in ("budget", "stalled"):
            if not self.done:  # a higher --target later goes on from the first stage's end
                self._first = await g.judge.snapshot()
                self.first_end = (g.stopped, g.target)
            self.done.append(StageResult(g.name, *await g.judge.results()))
            self._finished.append(g)
            await g.judge.aclose()
            self._start_stage()
            finished = False
        self.complete = finished
        if time.monotonic() - self._last_checkpoint >= self.config.checkpoint_seconds:
            await self.write()
        return finished

    def _session_stats(self) -> dict[str, Any]:
        stages = [*self._finished, self.generation]
        answers = sum(g.progress.requests for g in stages)
        # The first stage decides why a run ended (its target, or --max-requests); the later
        # stages always run to the end of their lists. It may have ended in an earlier session.
        first = self.first_end or (stages[0].stopped, stages[0].target)
        stopped = first[0] if self.complete or not self.done else ""
        if self.complete and first[1] == NO_TARGET:
            stopped = "done"  # a recipe of map stages only: every list was worked through
        if any(g.stopped == "budget" for g in stages):
            stopped = "budget"
        stall = next((g for g in stages if g.stopped == "stalled"), None)
        stalls = list(self.stalls)
        if stall is not None:
            stopped = "stalled"
            stalls.append({"stage": stall.name, **(stall.progress.stall or {})})
        return {
            "target": self.config.target,
            "stopped": stopped or "interrupted",
            **({"stall": stalls[-1]} if stall is not None else {}),
            **({"stalls": stalls} if stalls else {}),
            "cost": self._cost(),
            **({"batch": self.batcher.summary()} if self.batcher is not None else {}),
            "session": self._session(answers, sum(g.unused for g in stages)),
        }

    def _session(self, answers: int, unused: int) -> dict[str, Any]:
        """What this session did (stats.json's "session")."""
        wall = time.monotonic() - self.started
        return {
            "resumed": self.resumed,
            "requests_sent": self.cached.sent,
            "cache_hits": self.cached.hits,
            "answered_unused": unused,
            # Sent by the last session, never answered: paid again unless recovered.
            "in_flight_at_last_stop": self.cached.in_flight_at_stop,
            "recovered": self.cached.recovered,
            "retries": self.retry.retries,
            "wall_seconds": round(wall, 3),
            "answers_per_second": round(answers / wall, 2) if wall > 0 else 0.0,
        }

    def _cost(self) -> dict[str, Any]:
        b, price = self.budget, price_for(self.config)
        return {
            "usd": round(b.spent, 6),
            "usd_this_session": round(b.spent - b.spent_before, 6),
            "max_cost": self.config.max_cost,
            "price": {
                "input_per_1m": price.input,
                "output_per_1m": price.output,
                "source": price.source,
            },
        }

    async def write(self) -> dict[str, Any]:
        """Write every output file atomically and the dataset card, then the checkpoint;
        returns the stats as written. Once the run is over, `on_complete` follows (before the
        checkpoint, which records what the files are)."""
        if self.over is not None:
            return self._write_over()
        await self._restored()
        extra = self._session_stats()
        stats = await self.recipe.write(self.run_dir, self.done, self.generation, extra)
        write_card(self.run_dir.path)
        if self.complete and self.on_complete is not None:
            self.on_complete(self.run_dir.path)
        await self._checkpoint(stats)
        self._last_checkpoint = time.monotonic()
        return stats

    async def _checkpoint(self, stats: dict[str, Any]) -> None:
        header = {
            "fingerprint": self.fingerprint,
            "over": self.complete and stats["stopped"] in OVER,
            "target": self.config.target,
            "max_requests": self.config.max_requests,
            "patience": self.config.patience,
            "min_score": self.config.min_score,
            "first_end": self.first_end,
            "stage": len(self.done),
            "stats": stats,
            "outputs": checkpoint.stamps(self.run_dir, outputs(self.config)),
        }
        done = pickle.dumps(self.done, protocol=pickle.HIGHEST_PROTOCOL)
        parts = [done, await self.generation.judge.snapshot()]
        self.cache.sync()
        checkpoint.save(self.run_dir, header, [*parts, self._first] if self._first else parts)

    def _write_over(self) -> dict[str, Any]:
        """A run already over: its outputs stand; stats.json says what this session did. The
        card is not among the outputs a finished run is recognised by: it is written again
        (cheap, and the way a missing or older card comes back)."""
        stats = {
            **checkpoint.as_replayed(self.over["stats"]),
            "cost": self._cost(),
            "session": self._session(0, 0),  # nothing was asked, looked up or judged
        }
        self.run_dir.write_stats(stats)
        write_card(self.run_dir.path)
        return stats

    async def aclose(self) -> None:
        """Close the judge, connections, the cache and the directory lock."""
        try:
            if self.over is None:
                await self.generation.judge.aclose()
            await self.retry.aclose()
        finally:
            gc.unfreeze()
            with contextlib.suppress(sqlite3.Error):  # a tidy cache is nice, not needed
                self.cache.tidy()
            self.cache.close()
            self.run_dir.close()


# How a run ends that a re-run with the same settings would end the same way at once.
OVER = ("target", "done", "max_requests")


def _over(header: dict[str, Any], config: RunConfig, run_dir: RunDir, report: bool) -> bool:
    """Whether the checkpoint is of a run that was over, with the same settings deciding its
    end, and every output file as it left them (a report too, when this session writes one)."""
    stamps = checkpoint.stamps(run_dir, outputs(config))
    return (
        header.get("over") is True
        and header.get("target") == config.target
        and header.get("max_requests") == config.max_requests
        and header.get("patience") == config.patience
        and header.get("min_score") == config.min_score
        and header.get("outputs") == stamps
        and not (report and stamps[REPORT] is None)
    )


def outputs(config: RunConfig) -> tuple[str, ...]:
    """The files a run writes (the ones --export adds are not the run's)."""
    own = methods.get(config.method).outputs
    return (KEPT, REMOVED, ALPACA, *(own.files if own else ()), REPORT)


def open_budget(config: RunConfig, cache: RequestCache) -> Budget:
    """The budget with what the run directory's earlier sessions already paid."""
    prices = {}

    def price_of(model: str) -> Price:
        if model not in prices:
            prices[model] = price_for(config, model)
        return prices[model]

    spent = sum(price_of(m).cost(*tokens) for m, tokens in cache.usage_by_model().items())
    return Budget(price_of, config.max_cost, spent)


async def run_session(session: Session, batch: int = STEP) -> dict[str, Any]:
    """Drive a session to the end without Prefect; outputs are written even on failure."""
    try:
        while not await session.advance(batch):
            pass
    finally:
        try:
            stats = await session.write()
        finally:
            await session.aclose()
    return stats
