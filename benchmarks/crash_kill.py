"""The process side of benchmarks/crash_trials.py: the stub server in a subprocess, one run of
`instructgen` killed as a Kill says, and what a killed run left in its directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def instructgen() -> list[str]:
    """The installed `instructgen` command beside this interpreter, or the module."""
    script = Path(sys.executable).with_name("instructgen")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class SubprocessServer:
    """`instructgen stub-server` in its own process; `stats()` reads its /stats."""

    def __init__(self, latency_ms: float):
        # A free port can be taken by someone else (another run's outgoing connection) before
        # the server binds it: then the server exits at once, and another port is tried.
        for _ in range(5):
            if self._start(latency_ms):
                return
        raise RuntimeError(f"the stub server did not start: {self._stderr[-500:]}")

    def _start(self, latency_ms: float) -> bool:
        self.port = free_port()
        cmd = [*instructgen(), "stub-server", "--port", str(self.port)]
        with tempfile.TemporaryFile() as err:
            self._proc = subprocess.Popen(
                [*cmd, "--latency-ms", str(latency_ms)], stdout=subprocess.DEVNULL, stderr=err
            )
            return self._wait_started(err)

    def _wait_started(self, err: Any) -> bool:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.stats()
                return True
            except OSError:
                if self._proc.poll() is not None:
                    err.seek(0)
                    self._stderr = err.read().decode(errors="replace")
                    return False
                if time.monotonic() > deadline:
                    self._proc.kill()
                    raise RuntimeError("the stub server did not answer in 30 s") from None
                time.sleep(0.05)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        return get_json(f"http://127.0.0.1:{self.port}/stats")

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)


ServerFactory = Callable[[float], Any]


@dataclass
class Kill:
    # "time": `at` seconds after the start; "answers": once `at` answers are in the cache;
    # "write": while an output file is being written
    mode: str
    # "pid": SIGKILL the run's process; "group": SIGKILL its process group (the judge worker
    # too); "int": SIGINT (Ctrl-C) the run's process, which then has to stop cleanly
    target: str
    at: float = 0.0

    def __str__(self) -> str:
        when = {"time": f"{self.at:.2f}s", "answers": f"{self.at:.0f}ans"}.get(self.mode, "write")
        return f"{when}/{self.target}"


@dataclass
class Attempt:
    kill: Kill | None
    killed: bool
    code: int | None
    seconds: float
    cached: int  # answers in the cache after this attempt
    writing: bool  # an output temp file existed when the kill landed
    stderr: str = ""
    lost: int = 0  # answers the server sent that did not reach the cache before the kill


def temp_files(out: Path) -> list[str]:
    """Temp files of atomic writes (.NAME.XXXX.tmp) in the run directory."""
    try:
        return [n for n in os.listdir(out) if n.startswith(".") and n.endswith(".tmp")]
    except FileNotFoundError:
        return []


def due(kill: Kill, out: Path, elapsed: float) -> bool:
    if kill.mode == "time":
        return kill.at <= elapsed
    if kill.mode == "answers":
        return len(cached_slots(out)) >= kill.at
    # An output's temp file, not run.json's (written as the run opens its directory).
    return any(not n.startswith(".run.json.") for n in temp_files(out))


def cached_slots(out: Path) -> set[str]:
    """The slots whose answers are committed to the run's cache."""
    path = out / "cache.sqlite"
    if not path.exists():
        return set()
    db = sqlite3.connect(path, timeout=5)
    try:
        return {row[0] for row in db.execute("SELECT slot FROM responses")}
    except sqlite3.OperationalError:  # killed before the table was created
        return set()
    finally:
        db.close()


def _child_env() -> dict[str, str]:
    # No real key is ever sent to the stub; with --base-url and no key a placeholder is used.
    return {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}


def attempt(cmd: list[str], out: Path, kill: Kill | None, limit: float) -> Attempt:
    """Run `cmd` once; SIGKILL it as `kill` says (if it has not finished by then)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err, env=_child_env(), start_new_session=True
        )
        killed = writing = False
        while proc.poll() is None:
            elapsed = time.monotonic() - started
            if kill and due(kill, out, elapsed):
                writing = bool(temp_files(out))
                if kill.target == "group":
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.send_signal(signal.SIGINT if kill.target == "int" else signal.SIGKILL)
                killed = True
                break
            if elapsed > limit:
                proc.kill()
                raise RuntimeError(f"run did not finish in {limit:.0f}s: {' '.join(cmd)}")
            time.sleep(0.0002 if kill and kill.mode == "write" else 0.005)
        code = proc.wait(timeout=30)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    seconds = time.monotonic() - started
    return Attempt(kill, killed, code, seconds, len(cached_slots(out)), writing, stderr[-2000:])
