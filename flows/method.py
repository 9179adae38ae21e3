"""Every method as a Prefect flow: one flow, named after the method it runs.

A method whose recipe has one stage (generate until the target) runs it as one task per batch
of answers, so a long run shows its progress in the UI; a method of several stages runs one task
per stage. Either way the outputs are written by one last task, and the flow is a thin wrapper:
the session (pipeline/engine/session.py) does the work, as it does without Prefect."""

from __future__ import annotations

from functools import cache
from typing import Any

from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.common import DEFAULT_BATCH, json_flow, run_stages, run_to_end
from pipeline import methods
from pipeline.engine import progress
from pipeline.engine.session import Session
from pipeline.report.build import write_report


@task(name="generate-batch", cache_policy=NO_CACHE)
async def generate_batch(session: Session, answers: int) -> bool:
    """Process the next `answers` model answers in request order."""
    return await session.advance(answers)


@json_flow(name="method", log_prints=True)
async def method_flow(
    method: str, config: dict[str, Any], batch: int = DEFAULT_BATCH
) -> dict[str, Any]:
    """Run `method` on `config` (a flat RunConfig) to its end; resumable from the run directory."""
    run_config = methods.load_config({**config, "method": method})
    session = Session.open(run_config, on_progress=progress.reporter(), on_complete=write_report)
    if len(session.recipe.stages) == 1:
        return await run_to_end(session, lambda: generate_batch(quote(session), batch))
    return await run_stages(session, batch)


@cache
def flow_for(method: str) -> Flow:
    """The flow of `method`, under the method's name (what the Prefect UI lists)."""
    methods.get(method)  # an unknown method is a one-line error, not a Prefect one
    return method_flow.with_options(name=method)
