"""The flows of the commands beside `run` that do work worth tracking: `estimate --pilot` (real
requests, paid, through the run's cache) and `merge` (one ROUGE-L pass over shards). Each is
the library's own function, with its result as an artifact on the flow run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prefect.artifacts import acreate_table_artifact

from flows.artifacts import publish_artifacts
from flows.common import json_flow
from pipeline import methods
from pipeline.engine.merge import merge_runs
from pipeline.report.summary import artifact_key


def estimate_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The estimate's low / expected / high of each quantity, one row each."""
    rows = {
        "requests": result["requests"],
        "prompt tokens": result["tokens"]["prompt"],
        "completion tokens": result["tokens"]["completion"],
        "cost (USD)": result["cost"]["usd"],
        "wall seconds": result["wall_seconds"],
    }
    return [{"": name, **values} for name, values in rows.items()]


@json_flow(name="estimate", log_prints=True)
async def estimate_flow(method: str, config: dict[str, Any], pilot: int) -> dict[str, Any]:
    """Estimate a run of `method` on `config` from a pilot of `pilot` requests a stage."""
    from pipeline.estimate.cost import estimate

    run_config = methods.load_config({**config, "method": method})
    # The pilot runs an event loop of its own (asyncio.run): in a thread, not on the flow's.
    result = await asyncio.to_thread(estimate, run_config, pilot)
    await acreate_table_artifact(
        table=estimate_rows(result),
        key=artifact_key(run_config.out, "estimate"),
        description=f"estimate of {method} on {result['model']}: {result['assumptions']}",
    )
    return result


@json_flow(name="merge", log_prints=True)
async def merge_flow(runs: list[str], out: str, target: int | None = None) -> dict[str, Any]:
    """Merge shard runs into `out` with one ROUGE-L pass over their union."""
    stats = merge_runs([Path(r) for r in runs], Path(out), target)
    await publish_artifacts(stats, out)
    return stats
