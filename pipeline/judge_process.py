"""Run the judge in this process or in a worker process of its own.

Judging is CPU work (parsing, filters, the ROUGE-L gate) and the HTTP client is CPU work too;
in one Python process they take turns on one core. In a worker process the judge uses the
second core while the event loop keeps requests flowing, and answers keep landing in the cache."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pipeline.errors import InstructgenError
from pipeline.judge import Judge, Progress
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
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, _PACKAGE_ROOT, str(child.fileno())],
            pass_fds=[child.fileno()],
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


def child_main(fd: int) -> None:
    _serve(Connection(fd))


_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from pipeline.judge_process import child_main; child_main(int(sys.argv[2]))"
)
