"""Unnatural Instructions as a Prefect flow: one task per stage (core examples, outputs,
reformulations), each sending its requests in batches, plus a task that writes the outputs."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.self_instruct import DEFAULT_BATCH, run_to_end
from pipeline import progress
from pipeline.config import RunConfig
from pipeline.session import Session


@task(name="stage", task_run_name="{name}", cache_policy=NO_CACHE)
async def run_stage(session: Session, name: str, batch: int) -> bool:
    """Run one stage to its end; True when it was the last one."""
    while session.stage == name:
        if await session.advance(batch):
            return True
    return False


@flow(name="unnatural", log_prints=True)
async def unnatural_flow(config: dict[str, Any], batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """Core examples until `config['target']`, their outputs, then their reformulations."""
    run_config = RunConfig.from_dict({**config, "method": "unnatural"})
    session = Session.open(run_config, on_progress=progress.reporter())
    return await run_to_end(session, lambda: run_stage(session, session.stage, batch))
