"""How a command runs one of our flows: Prefect's own failure logs quieted (the CLI reports a
failure itself, in one line), and the flow run's page in the UI remembered for the summary."""

from __future__ import annotations

import logging
from typing import Any

from prefect import Flow
from prefect.utilities.urls import url_for


async def run_flow(flow: Flow, *args: Any) -> tuple[Any, str | None]:
    """Run `flow` (an async flow); its result, and the flow run's page in the UI (None on
    Prefect's temporary server, which has no UI once the command ends)."""
    # Prefect's copies of a failure's traceback would bury the CLI's one line about it.
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    seen: list[Any] = []
    flow = flow.with_options(on_running=[lambda _flow, run, _state: seen.append(run.id)])
    result = await flow(*args)
    return result, url_for("flow-run", obj_id=seen[0]) if seen else None
