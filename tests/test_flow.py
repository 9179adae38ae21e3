"""The Prefect flow runs the same library under a real (temporary) Prefect API."""

import asyncio
import json

import pytest

pytest.importorskip("prefect")

from prefect.testing.utilities import prefect_test_harness

from flows.self_instruct import self_instruct_flow
from pipeline.config import RunConfig


@pytest.fixture(scope="session")
def prefect_api():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_flow_runs_and_resumes_through_prefect(prefect_api, tmp_path):
    config = RunConfig(out=str(tmp_path / "r"), target=60).to_dict()
    stats = asyncio.run(self_instruct_flow(config, batch=5))
    assert stats["funnel"]["kept"] == 60 and stats["stopped"] == "target"
    first = (tmp_path / "r" / "kept.jsonl").read_bytes()
    again = asyncio.run(self_instruct_flow(config, batch=5))
    assert again["session"]["requests_sent"] == 0
    assert (tmp_path / "r" / "kept.jsonl").read_bytes() == first
    assert len(json.loads((tmp_path / "r" / "alpaca.json").read_text())) == 60
