"""Test isolation. Prefect reads its settings at import, so they are set here, before any test
module can import it: a throwaway PREFECT_HOME, no API URL, no telemetry."""

from __future__ import annotations

import os
import tempfile

_prefect_home = tempfile.mkdtemp(prefix="instructgen-prefect-")
os.environ["PREFECT_HOME"] = _prefect_home
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests marked `server` (a real `prefect server start`) run last: Prefect's event clients in
    this process keep the first server they reached, and the test harness of tests/flows/ must
    be that one. Tests marked `live` talk to a real endpoint: only when
    INSTRUCTGEN_LIVE_BASE_URL is set."""
    items.sort(key=lambda item: "server" in item.keywords)  # stable: the rest keep their order
    if os.environ.get("INSTRUCTGEN_LIVE_BASE_URL"):
        return
    skip = pytest.mark.skip(
        reason="set INSTRUCTGEN_LIVE_BASE_URL to run tests against a real endpoint"
    )
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def hf_datasets(monkeypatch, tmp_path_factory):
    """The `datasets` library, offline and with its cache in a temp folder. It reads its offline
    switch when imported, so the module's copy is set as well as the environment."""
    datasets = pytest.importorskip("datasets")
    import huggingface_hub.constants

    cache = tmp_path_factory.mktemp("hf")
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
        monkeypatch.setattr(datasets.config, name, True, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache / "datasets")
    return datasets
