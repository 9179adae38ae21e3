"""Against a real OpenAI-compatible endpoint: only with INSTRUCTGEN_LIVE_BASE_URL set.

    export INSTRUCTGEN_LIVE_BASE_URL=http://localhost:8000/v1 INSTRUCTGEN_LIVE_MODEL=my-model
    pytest -m live
(the key, if the server needs one, comes from OPENAI_API_KEY)."""

import json
import os

import pytest

from pipeline.cli.main import main

pytestmark = pytest.mark.live


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_small_run_against_a_real_endpoint(tmp_path, api):
    base_url = os.environ["INSTRUCTGEN_LIVE_BASE_URL"]
    model = os.environ.get("INSTRUCTGEN_LIVE_MODEL", "gpt-4o-mini")
    if api == "completions" and os.environ.get("INSTRUCTGEN_LIVE_COMPLETIONS", "1") == "0":
        pytest.skip("INSTRUCTGEN_LIVE_COMPLETIONS=0: this endpoint has no completions API")
    out = tmp_path / "live"
    args = [
        "run",
        "self-instruct",
        "--backend",
        "openai",
        "--base-url",
        base_url,
        "--model",
        model,
        "--api",
        api,
        "--target",
        "5",
        "--max-tokens",
        "1500",
        "--out",
        str(out),
        "--no-prefect",
        "--quiet",
    ]
    assert main(args) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["funnel"]["kept"] == 5 and stats["tokens"]["completion"] > 0
    assert main(args) == 0, "the re-run resumes"
    assert json.loads((out / "stats.json").read_text())["session"]["requests_sent"] == 0
