"""`instructgen server start | status | stop` against a real server it starts in a temporary
PREFECT_HOME (one for the module: a start costs 4-10 s), and every command that runs a flow
visible there: its parameters, its task runs' states, its artifacts (read back with Prefect's
client). Without a server: a stale pid file, and a pid that is not our server's."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import local_server
from pipeline.cli.main import main
from tests.helpers import dead_pid, shard_runs
from tests.prefect_server import flow_run_records, free_port

TRACKED = re.compile(r"^tracked in Prefect: (\S+)/runs/flow-run/([0-9a-f-]{36}) ", re.M)


def instructgen(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The command as a user runs it, with `home` as PREFECT_HOME and no PREFECT_API_URL."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    command = [sys.executable, "-m", "pipeline.cli", *args]
    done = subprocess.run(command, env={**env, "PREFECT_HOME": str(home)}, capture_output=True)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """`instructgen server start` once; stopped at the end (if the stop test did not)."""
    home = tmp_path_factory.mktemp("prefect-home")
    done = instructgen(home, "server", "start", "--port", str(free_port()), "--timeout", "180")
    assert done.returncode == 0, done.stdout + done.stderr
    server = local_server.LocalServer(**json.loads((home / local_server.STATE).read_text()))
    yield home, done.stdout
    if local_server.is_ours(server):
        local_server.stop(server)


@pytest.mark.server
def test_start_then_status_then_start_again(started):
    home, printed = started
    server = local_server.LocalServer(**json.loads((home / local_server.STATE).read_text()))
    assert f"UI {server.ui_url}, API {server.api_url}" in printed and "ready after" in printed
    assert server.api_url == f"http://127.0.0.1:{server.port}/api"
    assert (home / "prefect.db").exists() and Path(server.log).parent == home
    status = instructgen(home, "server", "status")
    assert status.returncode == 0 and f"running: UI {server.ui_url}, API {server.api_url}" in (
        status.stdout
    )
    again = instructgen(home, "server", "start", "--port", str(server.port))
    assert again.returncode == 0 and "already running" in again.stdout
    assert json.loads((home / local_server.STATE).read_text())["pid"] == server.pid


def _read_back(home: Path, printed: str, tasks: int) -> tuple:
    """The flow run the command's last line points at, read with Prefect's client."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    found = TRACKED.search(printed)
    assert found, printed
    ui, flow_run_id = found.groups()
    with temporary_settings(updates={PREFECT_API_URL: f"{ui}/api"}):
        return asyncio.run(flow_run_records(flow_run_id, tasks))


def _funnel(out: Path) -> dict:
    return json.loads((out / "stats.json").read_text())["funnel"]


@pytest.mark.server
def test_a_run_is_tracked_with_its_parameters_task_states_and_artifacts(started, tmp_path):
    home, _ = started
    out, library = tmp_path / "flow", tmp_path / "library"
    args = ["run", "self-instruct", "--target", "20", "--quiet", "--judge", "inline"]
    done = instructgen(home, *args, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "`instructgen server start`, pid" in done.stdout.splitlines()[-1]
    flow_run, tasks, artifacts = _read_back(home, done.stdout, 2)
    assert flow_run.state.is_completed() and flow_run.parameters["method"] == "self-instruct"
    config = flow_run.parameters["config"]
    assert config["target"] == 20 and config["out"] == str(out) and config["judge"] == "inline"
    names = sorted(t.name.rsplit("-", 1)[0] for t in tasks)
    assert names == ["generate-batch", "write-outputs"]
    assert all(t.state.is_completed() for t in tasks)
    assert sorted(a.key.rsplit("-", 1)[1] for a in artifacts) == ["funnel", "summary"]
    summary = next(a for a in artifacts if a.key.endswith("summary"))
    assert f"{_funnel(out)['kept']:,} kept of" in summary.data
    # The same run without Prefect writes the same files.
    assert main([*args, "--out", str(library), "--no-prefect"]) == 0
    for name in ("kept.jsonl", "removed.jsonl"):
        assert (out / name).read_bytes() == (library / name).read_bytes()
    assert _funnel(out) == _funnel(library)


# The command, the flow it runs and the kinds of artifact on that flow run.
COMMANDS = [
    ("estimate --pilot",
     lambda p: ["estimate", "self-instruct", "--out", str(p / "r"), "--pilot", "2"],
     "estimate", ["estimate"]),
    ("merge", lambda p: ["merge", *shard_runs(p), "--out", str(p / "m")], "merge",
     ["funnel", "summary"]),
]  # fmt: skip


@pytest.mark.server
@pytest.mark.parametrize("args, flow, kinds", [pytest.param(*c[1:], id=c[0]) for c in COMMANDS])
def test_estimate_pilot_and_merge_are_tracked_too(started, tmp_path, args, flow, kinds):
    home, _ = started
    done = instructgen(home, *args(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    flow_run, _, artifacts = _read_back(home, done.stdout, 0)
    assert flow_run.state.is_completed() and flow_run.name and flow_run.parameters
    assert sorted(a.key.rsplit("-", 1)[1] for a in artifacts) == kinds


@pytest.mark.server
def test_stop_ends_our_server_and_forgets_it(started):
    """Last in this module: the other tests use the server."""
    home, _ = started
    server = local_server.LocalServer(**json.loads((home / local_server.STATE).read_text()))
    done = instructgen(home, "server", "stop")
    assert done.returncode == 0 and f"stopped the Prefect server (pid {server.pid})" in done.stdout
    assert not local_server.is_ours(server) and not (home / local_server.STATE).exists()
    assert "no Prefect server of ours is running" in instructgen(home, "server", "status").stdout


# What the pid file says (None: there is none), and the word `status` and `stop` print.
STALE = [
    ("no pid file", None, "no Prefect server of ours"),
    ("its process has gone", dead_pid, "removed a stale pid file"),
    ("the pid is another program's", lambda: os.getpid(), "removed a stale pid file"),
]


@pytest.mark.parametrize("command", ["status", "stop"])
@pytest.mark.parametrize("pid, said", [pytest.param(*s[1:], id=s[0]) for s in STALE])
def test_without_our_server_status_and_stop_say_so_and_kill_nothing(
    tmp_path, monkeypatch, capsys, command, pid, said
):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    if pid is not None:
        state = {"pid": pid(), "host": "127.0.0.1", "port": 4200, "log": "log"}
        (tmp_path / local_server.STATE).write_text(json.dumps(state))
    assert main(["server", command]) == 0
    assert said in capsys.readouterr().out
    assert not (tmp_path / local_server.STATE).exists()  # and this test's process lives on
