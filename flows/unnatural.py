"""Unnatural Instructions as a Prefect flow: one task per stage (core examples, outputs,
reformulations), each sending its requests in batches, plus a task that writes the outputs."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.common import DEFAULT_BATCH, run_stages
from pipeline.config import RunConfig
from pipeline.engine import progress
from pipeline.engine.session import Session


@flow(name="unnatural", log_prints=True)
async def unnatural_flow(config: dict[str, Any], batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """Core examples until `config['target']`, their outputs, then their reformulations."""
    run_config = RunConfig.from_dict({**config, "method": "unnatural"})
    session = Session.open(run_config, on_progress=progress.reporter())
    return await run_stages(session, batch)
