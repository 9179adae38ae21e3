"""Batch mode over real HTTP against the stub server's Files and Batch API, for every method:
the same outputs as an online run of the same server, one batch per wave; a kill -9 of a real
run while its batch is in progress, and a re-run that follows that batch instead of making
another; a server without the Batch API refused before anything is written."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.backends.batch.store import BatchStore
from pipeline.backends.retry import RetryPolicy
from pipeline.cli.main import main
from pipeline.engine.session import Session, run_session
from pipeline.store import CACHE_FILE
from pipeline.stub.server import StubServer

FILES = ("kept.jsonl", "removed.jsonl", "alpaca.json")


@pytest.fixture(scope="module")
def server():
    with StubServer(ignore_slot=True) as s:
        yield s


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")


def run(server: StubServer, out: Path, method: str, **settings) -> dict:
    spec = methods.get(method)
    config = methods.make_config(
        method, out=str(out), backend="openai", base_url=server.base_url, model="stub",
        judge="inline", poll_seconds=0.05, **{**spec.example, **settings},
    )  # fmt: skip
    session = Session.open(config, policy=RetryPolicy.no_wait(4))
    return asyncio.run(run_session(session, batch=64))


def waves(out: Path) -> list:
    store = BatchStore(out / CACHE_FILE)
    try:
        return store.waves()
    finally:
        store.close()


@pytest.mark.parametrize("method", methods.names())
def test_every_method_runs_in_batches_as_it_runs_online(server, tmp_path, method):
    before = server.app.stats.batches_created
    stats = run(server, tmp_path / "b", method, batch=True)
    created = server.app.stats.batches_created - before
    run(server, tmp_path / "o", method)
    for name in FILES:
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "o" / name).read_bytes()
    assert created == len(waves(tmp_path / "b")) == stats["batch"]["waves"] >= 1
    # A map stage is one wave; a stage generating until a target one or more (the next sized by
    # the keep rate of the answers so far).
    stages = stats.get("stages") or {"generate": stats}
    asking = [s for s in stages.values() if s["requests"]["total"]]
    if methods.get(method).target is None:
        assert stats["batch"]["waves"] == len(asking)
    assert stats["batch"]["waves"] >= len(asking)
    # A map stage sends its list; a first stage waves sized by the method's prior rate, then
    # the measured one: never twice what it used (answers past the target wait in the cache).
    sent, used = stats["session"]["requests_sent"], stats["requests"]["total"]
    assert used <= sent <= 2 * used


def test_a_run_killed_while_its_batch_runs_follows_that_batch(tmp_path):
    with StubServer(ignore_slot=True, batch_seconds=3.0) as s:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test-not-a-key"}
        command = [
            sys.executable, "-m", "pipeline.cli", "run", "evol-instruct", "--limit", "8",
            "--rounds", "1", "--no-equality-check", "--backend", "openai", "--base-url",
            s.base_url, "--model", "stub", "--batch", "--poll-seconds", "0.1", "--out",
            str(tmp_path / "b"), "--quiet", "--no-prefect",
        ]  # fmt: skip
        child = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while s.app.stats.batches_created == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the batch id committed, the run polling
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert s.app.stats.batches_created == 1
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        stats = json.loads((tmp_path / "b" / "stats.json").read_text())
        # Two stages (evolve, answer): two waves, two batches, the first followed, not remade.
        assert s.app.stats.batches_created == stats["batch"]["waves"] == 2
        assert stats["funnel"]["kept"] > 0


def test_batches_lists_a_runs_batches_and_cancel_stops_them(tmp_path, capsys):
    with StubServer(ignore_slot=True, batch_seconds=30.0) as s:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test-not-a-key"}
        out = tmp_path / "b"
        command = [
            sys.executable, "-m", "pipeline.cli", "run", "evol-instruct", "--limit", "6",
            "--rounds", "1", "--no-equality-check", "--backend", "openai", "--base-url",
            s.base_url, "--model", "stub", "--batch", "--poll-seconds", "0.1", "--out",
            str(out), "--quiet", "--no-prefect",
        ]  # fmt: skip
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not any(w.batch_id for w in _waves_if_any(out)) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert main(["batches", str(out), "--cancel"]) == 0
        listed = capsys.readouterr().out
        assert "cancel" in listed and "batch_" in listed
        # The cancelled lines go into a new wave; the re-run finishes with every answer.
        # From now on batches take no time: the cancel ends, the new waves end at once.
        s.app.batches.options = replace(s.app.batches.options, batch_seconds=0.0)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        stats = json.loads((out / "stats.json").read_text())
        assert stats["funnel"]["generated"] == 6 and stats["batch"]["waves"] >= 3


def _waves_if_any(out: Path) -> list:
    try:
        return waves(out) if (out / CACHE_FILE).exists() else []
    except Exception:  # the run is creating the database this very moment
        return []


def test_a_batch_refused_at_validation_is_created_again_after_a_wait(tmp_path):
    with StubServer(ignore_slot=True, batch_validation_failures=2) as s:
        stats = run(s, tmp_path / "b", "evol-instruct", batch=True)
        # The token limit refused the first two creates: the same file, created again.
        assert stats["batch"]["waves"] == len(stats["stages"])
        assert s.app.stats.batches_created == stats["batch"]["waves"] + 2
        assert stats["funnel"]["generated"] == 16


def test_a_server_that_cannot_be_reached_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "b"
    code = main([
        "run", "evol-instruct", "--limit", "4", "--backend", "openai", "--base-url",
        "http://127.0.0.1:9/v1", "--model", "stub", "--batch", "--out", str(out), "--no-prefect",
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not out.exists() and "cannot reach" in err and len(err.splitlines()) == 1


def test_a_server_without_the_batch_api_is_refused_before_anything_is_written(tmp_path, capsys):
    with StubServer(batches=False) as s:
        out = tmp_path / "b"
        code = main([
            "run", "evol-instruct", "--limit", "4", "--backend", "openai", "--base-url",
            s.base_url, "--model", "stub", "--batch", "--out", str(out), "--no-prefect",
        ])  # fmt: skip
    assert code == 2 and not out.exists()
    assert "has no /v1/batches" in capsys.readouterr().err
