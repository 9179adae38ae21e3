"""Self-Instruct as a Prefect flow: one task per batch of answers, never one per request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline import progress
from pipeline.config import RunConfig
from pipeline.session import Session

DEFAULT_BATCH = 256


@task(name="generate-batch", cache_policy=NO_CACHE)
async def generate_batch(session: Session, answers: int) -> bool:
    """Process the next `answers` model answers in request order."""
    return await session.advance(answers)


@task(name="write-outputs", cache_policy=NO_CACHE)
async def write_outputs(session: Session) -> dict[str, Any]:
    """Replace kept.jsonl, removed.jsonl, alpaca.json and stats.json atomically."""
    return await session.write()


async def run_to_end(session: Session, step: Callable[[], Awaitable[bool]]) -> dict[str, Any]:
    """Call `step` (a task) until it says the run is done, then write the outputs (a task).
    On any failure the outputs are still written, and the session is always closed."""
    try:
        while not await step():
            pass
    except BaseException:
        # Written directly, not as a task: after a Ctrl-C the Prefect API may be gone too.
        try:
            await session.write()
        finally:
            await session.aclose()
        raise
    try:
        return await write_outputs(session)
    finally:
        await session.aclose()


@flow(name="self-instruct", log_prints=True)
async def self_instruct_flow(config: dict[str, Any], batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """Generate until `config['target']` examples are kept; resumable from the run directory."""
    run_config = RunConfig.from_dict({**config, "method": "self-instruct"})
    session = Session.open(run_config, on_progress=progress.reporter())
    return await run_to_end(session, lambda: generate_batch(session, batch))
