"""A real `prefect server start` and the processes that talk to it, for tests: each in its own
process group, stopped with SIGTERM (then SIGKILL), with their output in a log file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prefect.client.orchestration import get_client

STARTUP_TIMEOUT = 180.0


@dataclass
class Server:
    url: str
    home: Path
    startup_seconds: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group (server, uvicorn, flow runs), then SIGKILL if needed."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as f:
        return subprocess.Popen(
            args, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True
        )


@contextlib.contextmanager
def running_server(home: Path) -> Iterator[Server]:
    """`prefect server start` on 127.0.0.1 and a free port, with `home` as its PREFECT_HOME."""
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    # The scheduler looks for new or changed schedules every second, not every 5-60 s.
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "1"
    env["PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS"] = "1"
    port = free_port()
    args = ["server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    started = time.monotonic()
    process = spawn([sys.executable, "-m", "prefect", *args, "--analytics-off"], env, home / "log")
    url = f"http://127.0.0.1:{port}/api"
    try:
        while not healthy(url):
            if process.poll() is not None or time.monotonic() - started > STARTUP_TIMEOUT:
                raise RuntimeError((home / "log").read_text()[-2000:])
            time.sleep(0.2)
        yield Server(url, home, round(time.monotonic() - started, 1))
    finally:
        stop(process)


def client_env(server: Server, **extra: str) -> dict[str, str]:
    """The environment of a process that talks to the server: serve, workers, flow runs."""
    env = {**os.environ, "PREFECT_API_URL": server.url, **extra}
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"  # look for due runs every second
    env["PREFECT_WORKER_QUERY_SECONDS"] = "1"
    return env


async def wait_final(run_ids: list[str], timeout: float = 120.0) -> list:
    """Poll flow runs until every one is in a final state (or the time is up)."""
    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while True:
            runs = [await client.read_flow_run(i) for i in run_ids]
            if all(r.state.is_final() for r in runs) or time.monotonic() > deadline:
                return runs
            await asyncio.sleep(0.5)


async def flow_run_records(flow_run_id, tasks: int) -> tuple:
    """A flow run, its task runs and its artifacts, as the server has them. Prefect records task
    runs from events in the background: give the last ones a moment to land."""
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    async with get_client() as client:
        for _ in range(100):
            found = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(found) >= tasks and all(t.state and t.state.is_final() for t in found):
                break
            await asyncio.sleep(0.1)
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        return await client.read_flow_run(flow_run_id), found, artifacts


async def child_runs(parent_id) -> list:
    """Flow runs started inside the flow run `parent_id` (subflows)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    parent = FlowRunFilterParentFlowRunId(any_=[parent_id])
    async with get_client() as client:
        return await client.read_flow_runs(flow_run_filter=FlowRunFilter(parent_flow_run_id=parent))


async def wait_idle(deployment: str, timeout: float = 120.0) -> None:
    """Wait until no run of the deployment is pending or running."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    states = FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING])
    busy = FlowRunFilter(state=FlowRunFilterState(type=states))
    named = DeploymentFilter(name=DeploymentFilterName(any_=[deployment.split("/")[-1]]))
    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            if not await client.read_flow_runs(flow_run_filter=busy, deployment_filter=named):
                return
            await asyncio.sleep(0.5)
