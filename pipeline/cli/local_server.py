"""The Prefect server `instructgen server start` runs for the user: `prefect server start`
detached in its own session, its database and log under PREFECT_HOME, found again through a
state file there (pid, host, port, log). Nothing here imports Prefect."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.errors import ServerError

STATE = "instructgen-server.json"
LOG = "instructgen-server.log"
STOP_GRACE = 20.0  # seconds between SIGTERM and SIGKILL


@dataclass(frozen=True)
class LocalServer:
    pid: int
    host: str
    port: int
    log: str

    @property
    def ui_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def describe(self) -> str:
        return f"UI {self.ui_url}, API {self.api_url} (pid {self.pid}, log {self.log})"


def home() -> Path:
    """Prefect's home folder: its database, profiles, and our state and log files."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


def state_path() -> Path:
    return home() / STATE


def read_state() -> LocalServer | None:
    """What the last `server start` wrote, whether or not that server still runs."""
    try:
        return LocalServer(**json.loads(state_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def forget() -> None:
    state_path().unlink(missing_ok=True)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return []
        done = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True)
        return done.stdout.decode(errors="replace").split()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it if it is our own child (a test's)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return bool(_cmdline(pid))  # a zombie has no command line


def is_ours(server: LocalServer) -> bool:
    """Whether the state file's pid is still the `prefect server start` we started on that
    port (a pid is reused once its process has gone)."""
    args = _cmdline(server.pid)
    port = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--port"]
    return _alive(server.pid) and "prefect" in " ".join(args) and port == [str(server.port)]


def running() -> LocalServer | None:
    """Our server if its process is still running (healthy or not)."""
    server = read_state()
    return server if server is not None and is_ours(server) else None


def healthy(server: LocalServer, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        # As uvicorn binds: a port whose last connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise ServerError(
                f"cannot listen on {host}:{port} ({e.strerror}): another server has that port; "
                "pass --port to use another"
            ) from None


def _spawn(host: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_HOME": str(home()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.setdefault("DO_NOT_TRACK", "1")
    env.pop("PREFECT_API_URL", None)  # a server is not a client of another one
    args = ["server", "start", "--host", host, "--port", str(port), "--analytics-off"]
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command and its terminal's Ctrl-C
        )


def start(host: str, port: int, timeout: float) -> tuple[LocalServer, float]:
    """Start the server and wait until it answers; returns it and the seconds that took."""
    _check_port_free(host, port)
    home().mkdir(parents=True, exist_ok=True)
    log = home() / LOG
    started = time.monotonic()
    process = _spawn(host, port, log)
    server = LocalServer(process.pid, host, port, str(log))
    state_path().write_text(json.dumps(asdict(server)) + "\n", encoding="utf-8")
    while not healthy(server):
        waited = time.monotonic() - started
        if process.poll() is not None or waited > timeout:
            stop(server)
            how = "exited" if process.returncode is not None else f"did not answer in {timeout:g} s"
            raise ServerError(f"the Prefect server {how}; see its log, {log}")
        time.sleep(0.2)
    return server, time.monotonic() - started


def stop(server: LocalServer) -> None:
    """SIGTERM to the server's process group (the server and its workers), SIGKILL if it is
    still there after STOP_GRACE seconds; then forget it."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        deadline = time.monotonic() + grace
        while _alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(server.pid):
            break
    forget()
