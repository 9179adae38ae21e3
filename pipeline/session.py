"""A run from config to files: open the run directory, wire the backend stack, write outputs.

Used by the CLI directly and by the Prefect flow, which makes a task of each `advance` batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.backends.base import Backend
from pipeline.backends.cached import CachedBackend
from pipeline.backends.registry import make_backend
from pipeline.backends.retry import RetryingBackend, RetryPolicy
from pipeline.cache import RequestCache
from pipeline.config import RunConfig
from pipeline.filters.heuristics import alpaca_filters
from pipeline.filters.rouge import RougeIndex
from pipeline.judge import Judge
from pipeline.judge_process import JudgeProcess, LocalJudge
from pipeline.methods.self_instruct import SelfInstruct
from pipeline.prompts import load_template
from pipeline.runner import AsyncJudge, Generation
from pipeline.seeds import load_seeds
from pipeline.store import CACHE_FILE, RunDir
from pipeline.types import Example, content_hash


def build_judge(config: RunConfig, seeds: list[Example]) -> Judge:
    """Everything a keep/drop decision depends on; also called inside the judge process."""
    gate = RougeIndex(threshold=config.rouge_threshold)
    gate.extend([s.instruction for s in seeds])
    filters = alpaca_filters(min_words=config.min_words, max_words=config.max_words)
    return Judge(SelfInstruct(seeds, config), filters, gate, config.target)


def _judge(config: RunConfig, seeds: list[Example]) -> AsyncJudge:
    if config.judge == "process":
        return JudgeProcess(build_judge, config, seeds)
    return LocalJudge(build_judge(config, seeds))


@dataclass
class Session:
    config: RunConfig
    run_dir: RunDir
    cache: RequestCache
    cached: CachedBackend
    retry: RetryingBackend
    generation: Generation
    resumed: bool
    started: float = field(default_factory=time.monotonic)
    _last_checkpoint: float = field(default_factory=time.monotonic)

    @classmethod
    def open(
        cls,
        config: RunConfig,
        backend: Backend | None = None,
        policy: RetryPolicy | None = None,
        on_progress: Callable[[Generation], None] | None = None,
    ) -> Session:
        """Check everything a run needs before the first request is sent."""
        seeds = load_seeds(config.seeds)
        template = load_template("self_instruct")
        seed_digest = content_hash([s.to_dict() for s in seeds])
        fingerprint = config.fingerprint(seeds=seed_digest, prompt=template.digest)
        inner = backend if backend is not None else make_backend(config)
        run_dir = RunDir(config.out)
        resumed = run_dir.open(config, fingerprint)
        try:
            cache = RequestCache(run_dir.file(CACHE_FILE))
        except BaseException:
            run_dir.close()
            raise
        retry = RetryingBackend(inner, policy or RetryPolicy(max_attempts=config.max_attempts))
        cached = CachedBackend(retry, cache)
        generation = Generation(
            method=SelfInstruct(seeds, config, template),
            backend=cached,
            judge=_judge(config, seeds),
            target=config.target,
            concurrency=config.concurrency,
            max_requests=config.max_requests,
            on_progress=on_progress,
        )
        return cls(config, run_dir, cache, cached, retry, generation, resumed)

    async def advance(self, answers: int) -> bool:
        """Judge a batch of answers; write the outputs every checkpoint_seconds."""
        done = await self.generation.advance(answers)
        if done:
            # Requests already on the wire are paid for: let them land in the cache for a later
            # run with a higher target, but send nothing new.
            await self.generation.abandon(grace=self.config.timeout)
        if time.monotonic() - self._last_checkpoint >= self.config.checkpoint_seconds:
            await self.write()
        return done

    def _session_stats(self) -> dict[str, Any]:
        g = self.generation
        wall = time.monotonic() - self.started
        return {
            "target": self.config.target,
            "stopped": g.stopped or "interrupted",
            "session": {
                "resumed": self.resumed,
                "requests_sent": self.cached.sent,
                "cache_hits": self.cached.hits,
                "answered_unused": g.unused,
                "retries": self.retry.retries,
                "wall_seconds": round(wall, 3),
                "answers_per_second": round(g.progress.requests / wall, 2) if wall > 0 else 0.0,
            },
        }

    async def write(self) -> dict[str, Any]:
        """Write every output file atomically; returns the stats as written."""
        stats = await self.generation.judge.write(str(self.run_dir.path), self._session_stats())
        self._last_checkpoint = time.monotonic()
        return stats

    async def aclose(self) -> None:
        """Close the judge, connections, the cache and the directory lock."""
        try:
            await self.generation.judge.aclose()
            await self.retry.aclose()
        finally:
            self.cache.close()
            self.run_dir.close()


async def run_session(session: Session, batch: int = 256) -> dict[str, Any]:
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
