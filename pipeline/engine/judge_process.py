"""Run the judge in this process or in a worker process of its own.

Judging is CPU work (parsing, filters, the ROUGE-L gate) and the HTTP client is CPU work too;
in one Python process they take turns on one core. In a worker process the judge uses the
second core while the event loop keeps requests flowing, and answers keep landing in the cache."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pipeline.engine.judge import Judge, Progress
from pipeline.errors import InstructgenError
from pipeline.types import Completion, Drop, Example


class LocalJudge:
    """The judge in the caller's own process and thread."""

    def __init__(self, judge: Judge):
        self.judge = judge

    async def take(self, answers: list[tuple[int, Completion]]) -> Progress:
        return self.judge.take(answers)

    async def write(self, run_dir: str, extra: dict[str, Any]) -> dict[str, Any]:
        return self.judge.write(run_dir, extra)

    async def results(self) -> tuple[list[Example], list[Drop], dict[str, Any]]:
        return self.judge.results()

    async def snapshot(self) -> bytes:
        return self.judge.snapshot()

    async def restore(self, state: bytes, max_requests: int | None) -> Progress | None:
        return self.judge.restore(state, max_requests)

    async def aclose(self) -> None:
        return None


class JudgeProcess:
    """The judge in a spawned worker process, driven over a pipe, one call at a time."""

    def __init__(self, factory: Any, *args: Any):
        # A plain child interpreter, not multiprocessing's spawn: spawn re-runs the caller's
        # main script in the child, which breaks scripts without a __main__ guard. Our own
        # package's folder goes first on its path: a `pipeline/` folder in the user's working
        # directory must not shadow it.
        parent, child = socket.socketpair()
        # The kernel ties PR_SET_PDEATHSIG to the thread that forks, not to the process: a
        # worker started from any other thread would be killed when that thread ends, so it
        # watches its parent by polling instead.
        tie = "pdeathsig" if threading.current_thread() is threading.main_thread() else "poll"
        argv = [_PACKAGE_ROOT, str(child.fileno()), str(os.getpid()), tie]
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, *argv], pass_fds=[child.fileno()]
        )
        child.close()
        self._conn = Connection(parent.detach())
        self._conn.send((factory, args))
        # One thread does the blocking send/recv, so the event loop never waits on the pipe.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge-pipe")

    async def take(self, answers: list[tuple[int, Completion]]) -> Progress:
        return await self._call("take", answers)

    async def write(self, run_dir: str, extra: dict[str, Any]) -> dict[str, Any]:
        return await self._call("write", run_dir, extra)

    async def results(self) -> tuple[list[Example], list[Drop], dict[str, Any]]:
        return await self._call("results")

    async def snapshot(self) -> bytes:
        return await self._call("snapshot")

    async def restore(self, state: bytes, max_requests: int | None) -> Progress | None:
        return await self._call("restore", state, max_requests)

    async def _call(self, op: str, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, self._roundtrip, op, args)

    def _roundtrip(self, op: str, args: tuple) -> Any:
        try:
            self._conn.send((op, args))
            status, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._proc.poll()
            raise RuntimeError(f"the judge process died (exit code {code})") from None
        if status == "user_error":
            raise InstructgenError(value)
        if status == "bug":
            raise RuntimeError(f"the judge process failed:\n{value}")
        return value

    async def aclose(self) -> None:
        try:
            self._conn.close()
        finally:
            self._io.shutdown(wait=False)
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._proc.wait, 5)
            except subprocess.TimeoutExpired:
                self._proc.kill()


def _serve(conn: Connection) -> None:
    """The worker's loop: build the judge, then answer calls until the pipe closes."""
    # Ctrl-C goes to the whole process group; the parent decides, and asks for the outputs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    factory, args = conn.recv()
    judge = factory(*args)
    while True:
        try:
            op, call_args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", getattr(judge, op)(*call_args)))
        except InstructgenError as e:
            conn.send(("user_error", str(e)))
        except Exception:
            conn.send(("bug", traceback.format_exc()))


def child_main(fd: int, parent: int, tie: str = "poll") -> None:
    """The worker's entry point: die with `parent`, then serve the judge on descriptor `fd`."""
    die_with_parent(parent, tie)
    _serve(Connection(fd))


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.1


def die_with_parent(parent: int, tie: str) -> None:
    """Exit as soon as `parent` does, even in the middle of a call: after a kill -9 of the
    run, a worker finishing its batch would hold the CPU and the run directory's files for
    nothing. "pdeathsig" asks Linux for a SIGKILL when the parent dies; elsewhere, or when it
    cannot be had, a thread polls for the parent."""
    if not (tie == "pdeathsig" and _pdeathsig()):
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()
    # The parent may have died before the signal was asked for: we were re-parented then.
    if os.getppid() != parent:
        os._exit(1)


def _pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from pipeline.engine.judge_process import child_main; "
    "child_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])"
)
