"""The judge worker process dies with its parent: after a kill -9 of `instructgen run`, a worker
busy with a batch must not live on to finish it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pipeline.engine.judge_process import JudgeProcess
from tests.helpers import ROOT

# A judge whose every call marks itself busy and then takes a minute.
SLOW_JUDGE = """
import os, pathlib, time

class SlowJudge:
    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def _busy(self, *args):
        self.marker.write_text(str(os.getpid()))
        time.sleep(60)

    take = write = results = _busy
"""

# The parent: starts the worker (from its main thread or another one), then calls it.
PARENT = """
import asyncio, sys, threading
from pipeline.engine.judge_process import JudgeProcess
from slow_judge import SlowJudge

judges = []
start = lambda: judges.append(JudgeProcess(SlowJudge, sys.argv[1]))
if sys.argv[3] == "main":
    start()
else:
    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
judge = judges[0]
calls = {"take": lambda: judge.take([]), "write": lambda: judge.write("x", {}),
         "results": judge.results}
asyncio.run(calls[sys.argv[2]]())
"""


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its new parent to reap it has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return not sys.platform.startswith("linux")


def wait_for(check, seconds: float) -> float | None:
    """Seconds until `check()` holds, or None if it did not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.01)
    return None


@pytest.fixture
def parent_env(tmp_path):
    (tmp_path / "slow_judge.py").write_text(textwrap.dedent(SLOW_JUDGE))
    root = ROOT
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}


# (where the parent starts the worker, the call the worker is busy with when the parent dies)
BUSY = [
    ("main", "take"),  # Linux's PR_SET_PDEATHSIG
    ("main", "write"),
    ("thread", "take"),  # started off the main thread: the worker polls for its parent
    ("thread", "results"),
]


@pytest.mark.parametrize("started_from, call", BUSY)
def test_a_busy_worker_dies_with_its_killed_parent(tmp_path, parent_env, started_from, call):
    marker = tmp_path / "busy"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(marker), call, started_from], env=parent_env
    )
    try:
        assert wait_for(marker.exists, 30) is not None, "the worker never got busy"
        worker = int(wait_for_text(marker))
        assert alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        gone_after = wait_for(lambda: not alive(worker), 2.0)
        assert gone_after is not None, "the worker outlived its parent by more than 2 s"
    finally:
        parent.kill()
        parent.wait()
        pid = int(marker.read_text() or 0) if marker.exists() else 0
        if pid and alive(pid):  # a worker that outlived the test is not left behind
            os.kill(pid, signal.SIGKILL)


def wait_for_text(path: Path) -> str:
    wait_for(lambda: path.read_text() != "", 5)
    return path.read_text()


class Echo:
    """A quick judge: answers every call with what it was given."""

    def take(self, answers):
        return answers

    def results(self):
        return "results"


def test_a_worker_started_from_a_thread_outlives_that_thread(monkeypatch):
    """PR_SET_PDEATHSIG fires when the forking thread ends; a worker started from a thread
    that has since ended (a Prefect task's, say) must keep serving."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the worker unpickles Echo (tests.engine...)
    judges: list[JudgeProcess] = []
    thread = threading.Thread(target=lambda: judges.append(JudgeProcess(Echo)))
    thread.start()
    thread.join()
    time.sleep(0.3)  # longer than the worker's poll

    async def use() -> object:
        try:
            return await judges[0].results()
        finally:
            await judges[0].aclose()

    assert asyncio.run(use()) == "results"
