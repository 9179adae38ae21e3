"""The pilot: a real session on the run directory, stopped after N requests of each stage (of
the first round, for a method of rounds). Every answer lands in the run's own cache, so the
later run reuses them, and observe.py replays them as the run directory's history."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from pipeline.backends.base import Backend
from pipeline.backends.registry import make_backend
from pipeline.config import RunConfig
from pipeline.engine.session import STEP, Session
from pipeline.types import Completion, Request


class TimedBackend:
    """Records how long each paid request took (cache hits never reach it)."""

    def __init__(self, inner: Backend):
        self.inner = inner
        self.seconds: list[float] = []

    async def complete(self, request: Request) -> Completion:
        started = time.perf_counter()
        completion = await self.inner.complete(request)
        self.seconds.append(time.perf_counter() - started)
        return completion

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:
        # Everything else is the wrapped backend's: `recover` (--store) above all, so a pilot
        # fetches an answer a killed run left on its way back instead of paying it again.
        return getattr(self.inner, name)


def run_pilot(
    config: RunConfig, n: int, covers: Any, backend: Backend | None = None
) -> tuple[list[float], float]:
    """Send up to n requests of each stage `covers(name)` accepts, through the run's cache.

    Only runtime settings differ from the run (max_requests, the judge's place, checkpoints):
    the fingerprint is the same, so the run resumes from every answer the pilot paid for.
    Returns the seconds each paid request took, and the session's wall time for all of them
    (planning, answering, caching and judging: what an in-process backend costs a request)."""
    pilot = replace(config, max_requests=n, judge="inline", checkpoint_seconds=1e9)
    timed = TimedBackend(backend if backend is not None else make_backend(pilot))
    wall = asyncio.run(_pilot(pilot, n, covers, timed))
    return timed.seconds, wall


async def _pilot(config: RunConfig, n: int, covers: Any, backend: Backend) -> float:
    session = Session.open(config, backend=backend)
    started = time.perf_counter()
    try:
        while session.over is None and covers(session.generation.name):
            g = session.generation
            # A map stage plans its whole list; the pilot asks only its first n items.
            g.max_requests = n if g.max_requests is None else min(n, g.max_requests)
            if await session.advance(STEP):
                break
        return time.perf_counter() - started
    finally:
        await session.aclose()
