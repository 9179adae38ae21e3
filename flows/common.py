"""What every method's flow shares: the output-writing task, the stage task, the run loop."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.settings import get_current_settings
from prefect.utilities.annotations import quote

from flows.artifacts import publish_artifacts
from pipeline.engine.session import TASK_ANSWERS, Session

DEFAULT_BATCH = TASK_ANSWERS  # answers per task run


class JsonFlow(Flow):
    """A flow whose parameters are plain JSON (a RunConfig's dict, paths): they go to the
    server as they are, not through FastAPI's encoder, whose import alone costs a command
    0.1-0.25 s of its ~1.5 s of Prefect."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            return json.loads(json.dumps(parameters))
        except (TypeError, ValueError):
            return super().serialize_parameters(parameters)

    def with_options(self, **options: Any) -> JsonFlow:
        copy = super().with_options(**options)  # Prefect makes a plain Flow: ours again
        copy.__class__ = JsonFlow
        return copy


def json_flow(**options: Any) -> Callable[[Callable[..., Any]], JsonFlow]:
    """@json_flow(name=...) as @flow(name=...). Its results are not persisted (the run
    directory holds the outputs); naming where they would go, Prefect's local result folder,
    spares each flow run a blocking round trip asking the server for its default storage."""
    local = Path(get_current_settings().results.local_storage_path)
    defaults = {"result_storage": local, "persist_result": False}
    return lambda fn: JsonFlow(fn, **{**defaults, **options})


@task(name="write-outputs", cache_policy=NO_CACHE)
async def write_outputs(session: Session) -> dict[str, Any]:
    """Replace every output file of the run directory atomically, and publish the run's
    summary as Prefect artifacts (shown on the flow run in the UI)."""
    stats = await session.write()
    await publish_artifacts(stats, session.run_dir.path)
    return stats


@task(name="stage", task_run_name="{name}", cache_policy=NO_CACHE)
async def run_stage(session: Session, name: str, batch: int) -> bool:
    """Run one stage to its end, its requests in batches; True when it was the last one."""
    while session.stage == name:  # advance() returns when the stage ends
        if await session.advance(batch):
            return True
    return False


async def run_to_end(session: Session, step: Callable[[], Awaitable[bool]]) -> dict[str, Any]:
    """Call `step` (a task) until it says the run is done, then write the outputs (a task).
    On any failure the outputs are still written, and the session is always closed.

    Tasks get the session `quote`d: Prefect would otherwise walk all of it (the method, the
    judge, the backends) looking for futures, twice per task run."""
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
        return await write_outputs(quote(session))
    finally:
        await session.aclose()


async def run_stages(session: Session, batch: int) -> dict[str, Any]:
    """A multi-stage method: one task per stage."""
    return await run_to_end(session, lambda: run_stage(quote(session), session.stage, batch))
