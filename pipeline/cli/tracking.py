"""Where a run reports, decided without importing Prefect (that costs ~1 s): the server the user
has configured, as Prefect itself would find it, else the one `instructgen server start` left
running, else none, and then the library runs alone.

Prefect reads PREFECT_API_URL from, highest first: the environment, ./.env, ./prefect.toml
(`[api] url`), ./pyproject.toml (`[tool.prefect.api] url`), and the active profile of its
profiles file (PREFECT_PROFILE, else the file's `active`). A Prefect Cloud workspace is an API
URL of a profile too."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.cli import local_server
from pipeline.errors import ServerError

API_URL = "PREFECT_API_URL"
HEALTH_TIMEOUT = 3.0  # seconds a configured server gets to answer before a run refuses to start
NOT_TRACKED = (
    "not tracked in Prefect (no server configured): `instructgen server start` runs one whose "
    "UI shows every run; --prefect runs this one on a temporary server"
)


@dataclass(frozen=True)
class Server:
    """A Prefect API a run reports to, and where that came from (named in messages)."""

    url: str
    source: str
    ours: bool = False  # started by `instructgen server start`: Prefect must be pointed at it


@dataclass(frozen=True)
class Plan:
    """Run as a flow or as the library; `server` None with a flow is Prefect's temporary one."""

    flow: bool
    server: Server | None = None
    looked_for: bool = False  # a server was looked for (not --no-prefect)

    @property
    def note(self) -> str | None:
        """The line a command ends with when its run was not tracked for want of a server."""
        return NOT_TRACKED if self.looked_for and not self.flow else None


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (quotes and `export ` stripped, comments skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values = {}
    for line in lines:
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if sep and not key.startswith("#"):
            value = value.strip()
            if value[:1] in ("'", '"'):
                value = value[1:].partition(value[0])[0]  # quoted: up to the closing quote
            else:
                value = value.partition(" #")[0].strip()  # unquoted: an inline comment ends it
            values[key.strip()] = value
    return values


def _dig(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data


def profiles_path() -> Path:
    """Prefect's profiles file: PREFECT_PROFILES_PATH (environment, .env, prefect.toml,
    pyproject.toml), else profiles.toml under PREFECT_HOME."""
    found = (
        os.environ.get("PREFECT_PROFILES_PATH")
        or _dotenv(Path(".env")).get("PREFECT_PROFILES_PATH")
        or _dig(_toml(Path("prefect.toml")), "profiles_path")
        or _dig(_toml(Path("pyproject.toml")), "tool", "prefect", "profiles_path")
    )
    return Path(found).expanduser() if found else local_server.home() / "profiles.toml"


def _from_profile() -> Server | None:
    path = profiles_path()
    data = _toml(path)
    name = os.environ.get("PREFECT_PROFILE") or data.get("active")
    url = _dig(data, "profiles", str(name), API_URL) if name else None
    return Server(url, f"profile {name!r} in {path}") if url else None


def configured() -> Server | None:
    """The API URL Prefect would use, and its source; None when the user has configured none."""
    candidates = [
        (os.environ.get(API_URL), API_URL),
        (_dotenv(Path(".env")).get(API_URL), f"{API_URL} in ./.env"),
        (_dig(_toml(Path("prefect.toml")), "api", "url"), "api.url in ./prefect.toml"),
        (
            _dig(_toml(Path("pyproject.toml")), "tool", "prefect", "api", "url"),
            "[tool.prefect] api.url in ./pyproject.toml",
        ),
    ]
    for url, source in candidates:
        if url:
            return Server(str(url), source)
    return _from_profile()


def detect() -> Server | None:
    """The server a run reports to: the configured one, else ours if it is running."""
    found = configured()
    if found is not None:
        return found
    ours = local_server.running()
    if ours is None:
        return None
    return Server(ours.api_url, f"`instructgen server start`, pid {ours.pid}", ours=True)


def check_answers(server: Server, timeout: float = HEALTH_TIMEOUT) -> None:
    """Refuse to start a tracked run on a server that does not answer (nothing is written).

    Any HTTP answer but a 404 counts: Prefect Cloud answers 401 without a key."""
    try:
        with urllib.request.urlopen(f"{server.url.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError as e:
        if e.code != 404:
            return
        problem = "answers 404 at /health: not a Prefect API URL (it ends in /api)"
    except (OSError, ValueError) as e:
        problem = f"does not answer ({getattr(e, 'reason', e)})"
    fix = (
        "start it with `instructgen server start`"
        if server.ours
        else f"start that server or fix {server.source}"
    )
    raise ServerError(
        f"the Prefect server at {server.url} (from {server.source}) {problem}; {fix}, "
        "or pass --no-prefect to run untracked"
    )


def plan(prefect: bool | None) -> Plan:
    """--no-prefect (False): the library. Default (None): a flow if a server is found, else the
    library. --prefect (True): a flow, on Prefect's temporary server if none is found."""
    if prefect is False:
        return Plan(flow=False)
    server = detect()
    if server is None:
        return Plan(flow=bool(prefect), looked_for=True)
    check_answers(server)
    return Plan(flow=True, server=server, looked_for=True)


def report(plan: Plan, page: str | None = None, file: Any = None) -> None:
    """A command's last line: where its run is shown in Prefect (`page`, the flow run's), or
    that it was not tracked and how to track runs; nothing after --no-prefect."""
    if not plan.flow:
        line = plan.note
    elif plan.server is None:
        line = (
            "ran on Prefect's temporary server, which forgets it now: `instructgen server start` "
            "runs one that keeps every run"
        )
    else:
        line = f"tracked in Prefect: {page or plan.server.url} (server from {plan.server.source})"
    if line:
        print(line, file=file or sys.stdout)


def require_server(what: str) -> Server:
    """A persistent server for `what` (schedules): the temporary one has no scheduler."""
    server = detect()
    if server is None:
        raise ServerError(
            f"{what} need a persistent Prefect server and none is configured: start one with "
            f"`instructgen server start` (or set {API_URL} to a running one's API URL)"
        )
    check_answers(server)
    return server


def run_flow(plan: Plan, name: str, *args: Any) -> tuple[Any, str | None]:
    """Run the flow `name` ("module:attribute", imported only now) on the plan's server; its
    result and its page in the UI."""
    module, _, attribute = name.partition(":")
    with reporting_to(plan.server):
        from flows.tracked import run_flow as run

        return asyncio.run(run(getattr(importlib.import_module(module), attribute), *args))


@contextmanager
def reporting_to(server: Server | None) -> Iterator[None]:
    """Point Prefect at our own server for the duration (the configured ones it finds itself).

    The environment variable reaches child processes and a Prefect not imported yet; the
    temporary setting a Prefect this process has already imported (tests)."""
    if server is None or not server.ours or os.environ.get(API_URL):
        yield
        return
    os.environ[API_URL] = server.url
    try:
        importlib.import_module("flows")  # its quiet defaults first: Prefect reads them once
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: server.url}):
            yield
    finally:
        os.environ.pop(API_URL, None)
