"""Our deployments on a Prefect server: create or update, list, pause, resume, delete, start
now, and serve them (Prefect's runner executes a deployment's runs when its schedule fires).

Every deployment runs flows/scheduled.py's flow, is named `instructgen/NAME`, carries the tag
`instructgen`, and runs one at a time unless its runs are shards (a run directory takes one
process)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.deployments import arun_deployment
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.runner import Runner
from prefect.settings import get_current_settings
from pydantic import ValidationError

from flows.common import DEFAULT_BATCH
from flows.scheduled import FLOW_NAME, scheduled_run, zone
from pipeline.errors import ConfigError, InstructgenError

TAG = "instructgen"


@dataclass(frozen=True)
class ScheduleSpec:
    """What `instructgen schedule <method>` asks for."""

    name: str
    method: str
    config: dict[str, Any]
    batch: int = DEFAULT_BATCH
    cron: str | None = None
    interval: float | None = None
    timezone: str | None = None
    grow: int = 0
    rate_limit: str | None = None
    work_pool: str | None = None

    def parameters(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "config": self.config,
            "batch": self.batch,
            "timezone": self.timezone or "UTC",
            "grow": self.grow,
            "rate_limit": self.rate_limit,
        }

    def schedules(self) -> list[DeploymentScheduleCreate]:
        """The one schedule asked for, checked here so a bad one is a one-line error."""
        tz = self.timezone or "UTC"
        zone(tz)
        try:
            if self.cron is not None:
                schedule: Any = CronSchedule(cron=self.cron, timezone=tz)
            elif self.interval is not None:
                anchor = dt.datetime.now(dt.UTC).replace(microsecond=0)
                every = dt.timedelta(seconds=self.interval)
                schedule = IntervalSchedule(interval=every, anchor_date=anchor, timezone=tz)
            else:
                return []
        except ValidationError:
            if self.cron is None:
                raise ConfigError(f"--interval {self.interval!r}: not a time span") from None
            raise ConfigError(
                f"--cron {self.cron!r}: not a cron expression; write five fields, e.g. "
                "'0 2 * * *' (02:00 every day)"
            ) from None
        return [DeploymentScheduleCreate(schedule=schedule, active=True)]


def api_url() -> str:
    """The Prefect server's API; schedules only fire on a real server, never a temporary one."""
    url = get_current_settings().api.url
    if not url:
        raise ConfigError(
            "schedules live on a persistent Prefect server: start one with `instructgen server "
            "start` (or set PREFECT_API_URL to a running one's API URL)"
        )
    return url


@contextmanager
def reaching_server() -> Iterator[str]:
    """Turn an unreachable server into one line naming the fix."""
    url = api_url()
    try:
        yield url
    except httpx.TransportError as e:
        raise InstructgenError(
            f"cannot reach the Prefect server at {url} ({type(e).__name__}); start it with "
            "`instructgen server start`, or point PREFECT_API_URL at a running one"
        ) from None


def _full_name(name: str) -> str:
    return f"{FLOW_NAME}/{name}"


async def _build(
    name: str,
    parameters: dict[str, Any],
    schedules: list[DeploymentScheduleCreate],
    tags: list[str],
    paused: bool,
    work_pool: str | None,
) -> RunnerDeployment:
    return await scheduled_run.ato_deployment(
        name,
        # An empty list would keep the old schedules on an update: None says "none".
        schedules=schedules or None,
        parameters=parameters,
        tags=tags,
        paused=paused,
        # Two runs in one run directory would collide on its lock: the second waits its turn.
        # Shards write to a directory each, and run side by side.
        concurrency_limit=None if "{shard}" in parameters["config"]["out"] else 1,
        work_pool_name=work_pool,
        # By module, so any machine with instructgen installed runs it, whatever its folder.
        entrypoint_type=EntrypointType.MODULE_PATH,
        description=f"instructgen run {parameters['method']}, scheduled",
    )


async def apply(spec: ScheduleSpec) -> UUID:
    """Create or update the deployment; an update keeps a paused schedule paused."""
    schedules = spec.schedules()
    with reaching_server():
        async with get_client() as client:
            try:
                existing = await client.read_deployment_by_name(_full_name(spec.name))
            except ObjectNotFound:
                existing = None
            paused = bool(existing and existing.paused)
            tags = [TAG, spec.method]
            built = await _build(
                spec.name, spec.parameters(), schedules, tags, paused, spec.work_pool
            )
            deployment_id = await built.aapply()
            if existing is not None and not schedules:
                for old in existing.schedules:  # now run on demand only
                    await client.delete_deployment_schedule(deployment_id, old.id)
    return deployment_id


async def read(name: str) -> Any:
    """Our deployment called `name`, as the server has it."""
    with reaching_server():
        async with get_client() as client:
            try:
                return await client.read_deployment_by_name(_full_name(name))
            except ObjectNotFound:
                raise ConfigError(
                    f"no schedule named {name!r}; see `instructgen schedule list`"
                ) from None


async def list_all() -> list[Any]:
    """Every deployment of ours, by name."""
    with reaching_server():
        async with get_client() as client:
            found = await client.read_deployments(
                deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[TAG]))
            )
    return sorted(found, key=lambda d: d.name)


async def set_paused(name: str, paused: bool) -> None:
    deployment = await read(name)
    with reaching_server():
        async with get_client() as client:
            if paused:
                await client.pause_deployment(deployment.id)
            else:
                await client.resume_deployment(deployment.id)


async def delete(name: str) -> None:
    deployment = await read(name)
    with reaching_server():
        async with get_client() as client:
            await client.delete_deployment(deployment.id)


async def start_now(name: str, shards: int = 1) -> list[Any]:
    """Start runs at once: one, or `shards` runs with shard = 0..shards-1."""
    await read(name)
    runs = []
    with reaching_server():
        for shard in range(shards):
            parameters = {"shard": shard} if shards > 1 else {}
            run = await arun_deployment(_full_name(name), parameters=parameters, timeout=0)
            runs.append(run)
    return runs


def describe(deployment: Any) -> dict[str, str]:
    """One row of `instructgen schedule list`."""
    params = deployment.parameters or {}
    when = []
    for s in deployment.schedules:
        if isinstance(s.schedule, CronSchedule):
            when.append(f"cron '{s.schedule.cron}' {s.schedule.timezone or 'UTC'}")
        elif isinstance(s.schedule, IntervalSchedule):
            when.append(f"every {s.schedule.interval.total_seconds():g} s")
    return {
        "name": deployment.name,
        "method": str(params.get("method", "?")),
        "schedule": ", ".join(when) or "on demand",
        "state": "paused" if deployment.paused else "active",
        "out": str((params.get("config") or {}).get("out", "")),
        "runs on": f"work pool {deployment.work_pool_name}"
        if deployment.work_pool_name
        else "instructgen serve",
    }


async def _as_served(deployment: Any) -> RunnerDeployment:
    """The deployment as the server has it, for the runner to serve unchanged."""
    schedules = [
        DeploymentScheduleCreate(
            schedule=s.schedule, active=s.active, parameters=s.parameters, slug=s.slug
        )
        for s in deployment.schedules
    ]
    return await _build(
        deployment.name, deployment.parameters, schedules, deployment.tags, deployment.paused, None
    )


async def _add_new(runner: Runner, served: dict[UUID, str]) -> list[str]:
    """Hand the runner every deployment of ours it does not serve yet (not a work pool's)."""
    added = []
    for deployment in await list_all():
        if deployment.id in served or deployment.work_pool_name:
            continue
        with reaching_server():
            await runner.aadd_deployment(await _as_served(deployment))
        served[deployment.id] = deployment.name
        added.append(deployment.name)
    return added


async def serve(refresh: float = 30.0, limit: int | None = None) -> None:
    """Execute our deployments' runs when they are due, until stopped (Ctrl-C or SIGTERM).

    Schedules made while serving are picked up within `refresh` seconds. Stopping leaves the
    schedules as they are (Prefect's own serve pauses them): `schedule pause` is the switch."""
    runner = Runner(name="instructgen-serve", pause_on_shutdown=False, limit=limit)
    served: dict[UUID, str] = {}
    added = await _add_new(runner, served)
    print(f"serving {len(added)} schedule(s): {', '.join(added) or 'none yet'}; Ctrl-C stops")

    async def keep_adding() -> None:
        while True:
            await asyncio.sleep(refresh)
            try:
                for name in await _add_new(runner, served):
                    print(f"serving new schedule {name}")
            except InstructgenError as e:  # the server is away for a moment: try again later
                print(f"looking for new schedules: {e}")

    adder = asyncio.create_task(keep_adding())
    try:
        with reaching_server():
            await runner.start()
    finally:
        adder.cancel()
