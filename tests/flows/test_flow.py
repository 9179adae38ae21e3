"""The Prefect flow runs the same library under a real (temporary) Prefect API."""

import asyncio
import json

import pytest

pytest.importorskip("prefect")

from prefect.testing.utilities import prefect_test_harness

from flows.method import flow_for
from pipeline.methods import make_config
from tests.prefect_server import flow_run_records


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
    """Task run names and artifact kinds of one flow run."""
    _, tasks, artifacts = await flow_run_records(flow_run_id, want)
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


def test_conversations_flow_runs_one_task_per_turn_stage(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client

    out = tmp_path / "c"
    config = make_config(out=str(out), method="conversations", limit=10, turns="3", reanswer=True)
    stats = asyncio.run(flow_for("conversations")("conversations", config.to_dict(), batch=5))
    stages = {"answer-1", "user-2", "answer-2", "user-3", "answer-3"}
    assert set(stats["stages"]) == stages and stats["stopped"] == "done"
    assert (out / "sharegpt.json").exists()

    async def task_names() -> set[str]:
        async with get_client() as client:
            for _ in range(100):
                names = {r.name for r in await client.read_task_runs()}
                if stages <= names:
                    break
                await asyncio.sleep(0.1)
        return names

    assert stages <= asyncio.run(task_names())


def test_self_instruct_then_evol_flow_chains_the_two(prefect_api, tmp_path):
    from flows.chain import self_instruct_then_evol_flow

    si = make_config(out=str(tmp_path / "si"), target=10).to_dict()
    ev = make_config(out=str(tmp_path / "ev"), method="evol-instruct", rounds=2).to_dict()
    stats = asyncio.run(self_instruct_then_evol_flow(si, ev, batch=4))
    assert stats["stopped"] == "done" and stats["rounds"]["1"]["evolved"] == 10
    assert json.loads((tmp_path / "si" / "stats.json").read_text())["funnel"]["kept"] == 10


def _flow_runs_into(out) -> list:
    from prefect.client.orchestration import get_client

    async def read() -> list:
        async with get_client() as client:
            runs = await client.read_flow_runs()
        return [r for r in runs if (r.parameters.get("config") or {}).get("out") == str(out)]

    return asyncio.run(read())


# The flag, whether the run is a flow (here: on the harness's server, which the CLI does not
# find: it looks for PREFECT_API_URL, profiles and `instructgen server start`), and the line
# the command ends with.
MODES = [
    ("--prefect", ["--prefect"], 1, "ran on Prefect's temporary server"),
    ("default", [], 0, "not tracked in Prefect"),
    ("--no-prefect", ["--no-prefect"], 0, None),  # no word of Prefect
]


@pytest.mark.parametrize("args, flows, last", [pytest.param(*m[1:], id=m[0]) for m in MODES])
def test_prefect_forces_a_flow_and_every_mode_writes_the_same(
    prefect_api, tmp_path, capsys, args, flows, last
):
    from pipeline.cli.main import main

    run = ["run", "self-instruct", "--target", "25", "--quiet", "--judge", "inline"]
    out, reference = tmp_path / "r", tmp_path / "reference"
    assert main([*run, "--out", str(reference), "--no-prefect"]) == 0
    capsys.readouterr()
    assert main([*run, "--out", str(out), *args]) == 0
    printed = capsys.readouterr().out
    if last is None:
        assert "Prefect" not in printed
    else:
        assert last in printed.strip().splitlines()[-1]
    assert len(_flow_runs_into(out)) == flows
    for name in ("kept.jsonl", "removed.jsonl"):
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    stats = [json.loads((d / "stats.json").read_text())["funnel"] for d in (out, reference)]
    assert stats[0] == stats[1]
    # --prefect and --no-prefect are no part of the run: either resumes the other's directory.
    flip = ["--no-prefect"] if args == ["--prefect"] else ["--prefect"]
    assert main([*run, "--out", str(out), *flip]) == 0
    assert json.loads((out / "stats.json").read_text())["session"]["requests_sent"] == 0
