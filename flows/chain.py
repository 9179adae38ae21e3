"""A Self-Instruct run, then Evol-Instruct over what it kept, as one flow (Alpaca's method, then
WizardLM's): each step is its method's own flow, so both are resumable and shown as subflows."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.common import DEFAULT_BATCH
from flows.method import flow_for


@flow(name="self-instruct-then-evol", log_prints=True)
async def self_instruct_then_evol_flow(
    self_instruct: dict[str, Any], evol: dict[str, Any], batch: int = DEFAULT_BATCH
) -> dict[str, Any]:
    """A Self-Instruct run, then Evol-Instruct over its run directory (its --from)."""
    await flow_for("self-instruct")("self-instruct", self_instruct, batch)
    then = {**evol, "source": self_instruct["out"]}
    return await flow_for("evol-instruct")("evol-instruct", then, batch)
