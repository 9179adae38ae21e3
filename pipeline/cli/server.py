"""`instructgen server start | stop | status`: a persistent local Prefect server for the user,
so that every run is tracked and shown in its UI (pipeline/cli/local_server.py runs it)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli import local_server, tracking

server_app = typer.Typer(
    help="A local Prefect server that keeps every run (its UI shows them), in the background.",
    rich_markup_mode=None,
    no_args_is_help=True,
)


def _reports_elsewhere() -> None:
    """Say so when the user's own Prefect settings send runs to another server than ours."""
    other = tracking.configured()
    if other is not None:
        print(f"note: runs report to {other.url} (from {other.source}) while that is set")


def _forget_stale() -> None:
    stale = local_server.read_state()
    if stale is not None:
        local_server.forget()
        print(f"removed a stale pid file: pid {stale.pid} is no longer our Prefect server")


@server_app.command("start")
def server_start(
    port: Annotated[int, typer.Option(help="Port of its UI and API.")] = 4200,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    timeout: Annotated[float, typer.Option(help="Seconds to wait until it answers.")] = 120.0,
) -> None:
    """Start a Prefect server in the background (database and log under PREFECT_HOME)."""
    found = local_server.running()
    if found is not None:
        print(f"a Prefect server is already running: {found.describe()}")
        _reports_elsewhere()
        return
    _forget_stale()
    print(f"starting a Prefect server on {host}:{port} (the first start takes 10-20 s)", flush=True)
    server, seconds = local_server.start(host, port, timeout)
    print(f"ready after {seconds:.0f} s: {server.describe()}")
    print(
        f"runs are tracked there: open {server.ui_url} to see them; "
        "`instructgen server stop` stops it"
    )
    _reports_elsewhere()


@server_app.command("status")
def server_status() -> None:
    """Print the running server's UI and API URLs, or how to start one."""
    found = local_server.running()
    if found is None:
        _forget_stale()
        print("no Prefect server of ours is running; start one with `instructgen server start`")
    elif local_server.healthy(found):
        print(f"running: {found.describe()}")
    else:
        print(f"started but not answering: {found.describe()}; see its log")
    _reports_elsewhere()


@server_app.command("stop")
def server_stop() -> None:
    """Stop the server `instructgen server start` started (no other)."""
    found = local_server.running()
    if found is None:
        _forget_stale()
        print("no Prefect server of ours is running")
        return
    local_server.stop(found)
    print(f"stopped the Prefect server (pid {found.pid}); its runs stay in {local_server.home()}")
