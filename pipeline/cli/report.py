"""`instructgen report RUN_DIR [RUN_DIR...]`: (re)build the HTML report of one or more runs."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import ConfigError

RunDirs = Annotated[
    list[Path],
    typer.Argument(metavar="RUN_DIR", help="Run directories; several are shown side by side."),
]
Out = Annotated[
    Path | None,
    typer.Option(help="HTML file to write [RUN_DIR/report.html; required for several runs]."),
]
Open = Annotated[bool, typer.Option("--open", help="Open the report in the default browser.")]


def report_command(run_dirs: RunDirs, out: Out = None, open_: Open = False) -> None:
    """Write a self-contained HTML report: funnel, similarity, diversity, lengths, cost."""
    from pipeline.report.build import build_report, save, write_report

    if len(run_dirs) > 1 and out is None:
        raise ConfigError(
            f"{len(run_dirs)} run directories: pass --out FILE for the side-by-side report"
        )
    if len(run_dirs) == 1:
        path = write_report(run_dirs[0], out)
    else:
        path = save(build_report(list(run_dirs)), out)
    print(path)
    if open_:
        webbrowser.open(path.resolve().as_uri())
