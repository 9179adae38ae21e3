"""The Prefect flow runs the same library under a real (temporary) Prefect API."""

import asyncio
import json

import pytest

pytest.importorskip("prefect")

from prefect.testing.utilities import prefect_test_harness

from flows.method import flow_for
from pipeline.methods import make_config


def self_instruct_flow(config, **kwargs):
    return flow_for("self-instruct")("self-instruct", config, **kwargs)


@pytest.fixture(scope="session")
def prefect_api():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_flow_runs_and_resumes_through_prefect(prefect_api, tmp_path):
    config = make_config(out=str(tmp_path / "r"), target=60).to_dict()
    stats = asyncio.run(self_instruct_flow(config, batch=5))
    assert stats["funnel"]["kept"] == 60 and stats["stopped"] == "target"
    first = (tmp_path / "r" / "kept.jsonl").read_bytes()
    again = asyncio.run(self_instruct_flow(config, batch=5))
    assert again["session"]["requests_sent"] == 0
    assert (tmp_path / "r" / "kept.jsonl").read_bytes() == first
    assert len(json.loads((tmp_path / "r" / "alpaca.json").read_text())) == 60


async def _flow_run_records(flow_run_id, want: int) -> tuple[list[str], list[str]]:
    """Task run names and artifact keys of one flow run. Prefect records task runs from events
    in the background: give the last ones a moment to land."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    async with get_client() as client:
        for _ in range(100):
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(tasks) >= want and all(t.state and t.state.is_final() for t in tasks):
                break
            await asyncio.sleep(0.1)
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return sorted(t.name for t in tasks), sorted(a.key.rsplit("-", 1)[1] for a in artifacts)


@pytest.mark.parametrize(
    ("requests", "batch", "batches"),
    [(30, 10, 3), (30, 30, 1), (30, 1000, 1)],
)
def test_self_instruct_runs_one_task_per_batch(prefect_api, tmp_path, requests, batch, batches):
    """Tasks per batch of answers, never per request; each completed in the UI, and the run's
    summary and funnel published on the flow run."""
    config = make_config(out=str(tmp_path / "r"), target=10**6, max_requests=requests).to_dict()
    state = asyncio.run(self_instruct_flow(config, batch=batch, return_state=True))
    assert state.is_completed() and state.result()["requests"]["total"] == requests
    names, artifacts = asyncio.run(_flow_run_records(state.state_details.flow_run_id, batches + 1))
    assert [n.rsplit("-", 1)[0] for n in names] == ["generate-batch"] * batches + ["write-outputs"]
    assert artifacts == ["funnel", "summary"]


def test_unnatural_flow_runs_one_task_per_stage(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client

    config = make_config(out=str(tmp_path / "u"), method="unnatural", target=12).to_dict()
    stats = asyncio.run(flow_for("unnatural")("unnatural", config, batch=5))
    assert stats["stages"]["core"]["funnel"]["kept"] == 12 and stats["stopped"] == "target"
    assert (tmp_path / "u" / "full.jsonl").exists()

    async def task_names() -> set[str]:
        # Prefect records task runs in the background: give the last ones a moment to land.
        async with get_client() as client:
            for _ in range(100):
                names = {r.name for r in await client.read_task_runs()}
                if {"core", "outputs", "reformulations"} <= names:
                    break
                await asyncio.sleep(0.1)
        return names

    assert {"core", "outputs", "reformulations"} <= asyncio.run(task_names())


def test_self_instruct_then_evol_flow_chains_the_two(prefect_api, tmp_path):
    from flows.chain import self_instruct_then_evol_flow

    si = make_config(out=str(tmp_path / "si"), target=10).to_dict()
    ev = make_config(out=str(tmp_path / "ev"), method="evol-instruct", rounds=2).to_dict()
    stats = asyncio.run(self_instruct_then_evol_flow(si, ev, batch=4))
    assert stats["stopped"] == "done" and stats["rounds"]["1"]["evolved"] == 10
    assert json.loads((tmp_path / "si" / "stats.json").read_text())["funnel"]["kept"] == 10
