"""Self-Instruct as a Prefect flow: one task per batch of answers, never one per request."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.common import DEFAULT_BATCH, run_to_end
from pipeline.config import RunConfig
from pipeline.engine import progress
from pipeline.engine.session import Session


@task(name="generate-batch", cache_policy=NO_CACHE)
async def generate_batch(session: Session, answers: int) -> bool:
    """Process the next `answers` model answers in request order."""
    return await session.advance(answers)


@flow(name="self-instruct", log_prints=True)
async def self_instruct_flow(config: dict[str, Any], batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """Generate until `config['target']` examples are kept; resumable from the run directory."""
    run_config = RunConfig.from_dict({**config, "method": "self-instruct"})
    session = Session.open(run_config, on_progress=progress.reporter())
    return await run_to_end(session, lambda: generate_batch(quote(session), batch))
