"""The `instructgen` command: every subcommand, its option groups and the progress display.

The only part of the library that may import Prefect or `flows/`."""

from __future__ import annotations

from typing import Any


def main(argv: list[str] | None = None) -> Any:
    """The console script's entry point (pyproject: `pipeline.cli:main`)."""
    from pipeline.cli.main import main as run

    return run(argv)
