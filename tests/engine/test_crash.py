"""kill -9 and Ctrl-C on a real `instructgen run` subprocess: re-running ends exactly as an
uninterrupted run. Three trials per method from benchmarks/crash_trials.py (which runs 20)."""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline import methods
from pipeline.methods import make_config
from pipeline.store import RunDir
from pipeline.stub.server import StubServer
from tests.helpers import ROOT


def _load_trials():
    # The script imports its sibling crash_kill.py, as it does when run from benchmarks/.
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "crash_trials", ROOT / "benchmarks" / "crash_trials.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_trials"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


ct = _load_trials()
LATENCY_MS = 40.0
# Every registered method, at its example's size (smaller than the benchmark's runs: each takes
# a second or two past Python's start-up). With --store an answer the server sent but the
# killed run never committed is fetched, not re-paid.
ARGS = {s.name: [*s.example_flags(), "--concurrency", "8", "--store"] for s in methods.specs()}
# Kills by trial: once a share of the uninterrupted run's answers is in the cache (mid-flight),
# or while the outputs are written.
KILLS = [
    [("answers", "pid", 0.5)],
    [("write", "group", 0.0)],  # the judge worker killed too
    [("answers", "group", 0.3), ("answers", "pid", 0.7)],  # twice in a row
]


class ThreadServer:
    """The stub server on a thread of this process, with the subprocess server's interface."""

    def __init__(self, latency_ms: float):
        self._server = StubServer(latency_ms=latency_ms)
        self._server.start()
        self.base_url = self._server.base_url

    def stats(self) -> dict:
        return ct.get_json(f"http://127.0.0.1:{self._server.port}/stats")

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def references(work):
    refs = {}

    def get(method: str):
        if method not in refs:
            refs[method] = ct.reference_run(method, work, ThreadServer, LATENCY_MS, ARGS[method])
        return refs[method]

    return get


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.parametrize("index", range(len(KILLS)))
@pytest.mark.parametrize("method", list(ARGS))
def test_killed_and_rerun_ends_identical(work, references, method, index):
    ref = references(method)
    kills = [ct.Kill(mode, target, share * ref.answered) for mode, target, share in KILLS[index]]
    trial = ct.run_trial(index, ref, work, ThreadServer, LATENCY_MS, kills)
    assert not trial.error, trial.error
    assert trial.identical, f"differs from the uninterrupted run: {trial.mismatched}"
    assert trial.duplicate_ids == 0 and trial.leftovers == 0
    # Answers the server had sent when the kill landed, not yet committed, were recovered from
    # its stored completions (tests/backends/test_recover.py: without --store they are paid).
    assert trial.answered_twice == 0, ct.describe(trial)


def _wait_for_answers(out: Path, proc: subprocess.Popen, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while len(ct.cached_slots(out)) < at_least:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_ctrl_c_writes_the_outputs_exits_130_and_the_rerun_resumes(work, references, tmp_path):
    """SIGTERM takes the same path (pipeline/cli/display.py)."""
    ref = references("self-instruct")
    server = ThreadServer(LATENCY_MS)
    out = tmp_path / "run"
    cmd = ct.run_command("self-instruct", out, server.base_url, ARGS["self-instruct"])
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait_for_answers(out, proc, 8)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
        assert proc.returncode == 130, stderr.decode()[-2000:]
        assert "re-run the same command to resume" in stderr.decode()
        stats = json.loads((out / "stats.json").read_text())
        assert stats["stopped"] == "interrupted"
        # What was judged before the interrupt is written: the reference's first examples.
        kept = (out / "kept.jsonl").read_text().splitlines()
        assert kept == (ref.out / "kept.jsonl").read_text().splitlines()[: len(kept)]
        answered = set(server.stats()["answered_slots"])
        lost = len(answered - ct.cached_slots(out))
        assert subprocess.run(cmd, capture_output=True).returncode == 0
        twice = server.stats()["keys_answered_more_than_once"]
    finally:
        server.stop()
    for name in ct.outputs_of("self-instruct"):
        assert (out / name).read_bytes() == (ref.out / name).read_bytes(), name
    # As with kill -9, only answers that had reached the run but were not yet committed are
    # paid twice (see the next test).
    assert twice <= lost


class InterruptAfter:
    """The stub server, sending SIGINT to its client right after writing its `n`th answer: the
    answer is in the client's socket, not yet in its cache, when Ctrl-C lands."""

    def __init__(self, n: int):
        self.app, self.n, self.pid, self.slot = StubServer(latency_ms=20).app, n, 0, None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("completions"):
            return await self.app(scope, receive, send)

        async def send_then_interrupt(message):
            await send(message)
            if message["type"] == "http.response.body" and self.n > 0:
                self.n -= 1
                if self.n == 0:
                    self.slot = dict(scope["headers"])[b"x-instructgen-slot"].decode()
                    os.kill(self.pid, signal.SIGINT)

        await self.app(scope, receive, send_then_interrupt)


def test_ctrl_c_keeps_an_answer_that_has_already_arrived(tmp_path):
    app = InterruptAfter(12)
    with StubServer(app=app) as server:
        out = tmp_path / "run"
        cmd = ct.run_command("self-instruct", out, server.base_url, ARGS["self-instruct"])
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        app.pid = proc.pid
        assert proc.wait(timeout=60) == 130
    assert app.slot in ct.cached_slots(out)


HOLD_LOCK = (
    "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
    "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"
)


def test_a_stale_lock_from_a_killed_process_is_taken_over(tmp_path):
    """flock belongs to the process's open file: the kernel releases it when the holder dies."""
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out / ".lock")], stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline() == b"locked\n"
        fd = os.open(out / ".lock", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    finally:
        holder.kill()
        holder.wait()
    cfg = make_config(out=str(out))
    run_dir = RunDir(out)
    assert run_dir.open(cfg, cfg.fingerprint()) is False  # a new run, in the killed one's folder
    run_dir.close()


@pytest.mark.parametrize(
    "leftovers",
    [
        [".lock"],  # killed between taking the lock and writing run.json
        [".lock", ".run.json.k3j_9x0a.tmp"],  # killed while writing run.json
    ],
)
def test_a_run_killed_before_its_run_file_was_written_can_be_rerun(tmp_path, leftovers):
    out = tmp_path / "run"
    out.mkdir()
    for name in leftovers:
        (out / name).write_text("")
    cfg = make_config(out=str(out))
    run_dir = RunDir(out)
    assert run_dir.open(cfg, cfg.fingerprint()) is False
    run_dir.close()
    assert sorted(p.name for p in out.iterdir()) == [".lock", "run.json"]


def test_temp_files_of_a_killed_write_are_removed_on_resume(tmp_path):
    cfg = make_config(out=str(tmp_path))
    first = RunDir(tmp_path)
    first.open(cfg, cfg.fingerprint())
    first.close()
    stale = [".kept.jsonl.abcd1234.tmp", ".stats.json.zz_9y8x7.tmp"]
    for name in stale:
        (tmp_path / name).write_text("half")
    (tmp_path / "notes.tmp").write_text("not ours")
    run_dir = RunDir(tmp_path)
    assert run_dir.open(cfg, cfg.fingerprint()) is True
    run_dir.close()
    assert not any((tmp_path / name).exists() for name in stale)
    assert (tmp_path / "notes.tmp").exists()


def test_the_stub_server_does_not_answer_a_client_that_has_gone():
    """A provider stops working for a client that disconnected: its answer is never sent."""
    body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "hi"}]})
    with StubServer(latency_ms=300) as server:
        request = urllib.request.Request(
            server.base_url + "/chat/completions", body.encode(), method="POST"
        )
        with pytest.raises(OSError):
            urllib.request.urlopen(request, timeout=0.05)
        time.sleep(0.4)
        stats = server.app.stats.to_dict()
    assert (stats["abandoned"], stats["served"]) == (1, {})
