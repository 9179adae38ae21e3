"""Evol-Instruct as a Prefect flow: one task per round stage (evolve, judge, answer), and the
flow that chains a Self-Instruct run into it (Alpaca's method, then WizardLM's)."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.common import DEFAULT_BATCH, run_stages
from flows.self_instruct import self_instruct_flow
from pipeline.config import RunConfig
from pipeline.engine import progress
from pipeline.engine.session import Session


@flow(name="evol-instruct", log_prints=True)
async def evol_instruct_flow(config: dict[str, Any], batch: int = DEFAULT_BATCH) -> dict[str, Any]:
    """`config['rounds']` rounds of evolution over the pool in `config['source']`."""
    run_config = RunConfig.from_dict({**config, "method": "evol-instruct"})
    session = Session.open(run_config, on_progress=progress.reporter())
    return await run_stages(session, batch)


@flow(name="self-instruct-then-evol", log_prints=True)
async def self_instruct_then_evol_flow(
    self_instruct: dict[str, Any], evol: dict[str, Any], batch: int = DEFAULT_BATCH
) -> dict[str, Any]:
    """A Self-Instruct run, then Evol-Instruct over what it kept; both resumable."""
    await self_instruct_flow(self_instruct, batch)
    return await evol_instruct_flow({**evol, "source": self_instruct["out"]}, batch)
