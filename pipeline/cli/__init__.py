"""The `instructgen` command: every subcommand, its option groups and the progress display.

The only part of the library that may import Prefect or `flows/`."""

from __future__ import annotations

import gc
from typing import Any


def main(argv: list[str] | None = None) -> Any:
    """The console script's entry point (pyproject: `pipeline.cli:main`)."""
    from pipeline.cli.main import main as run

    code = run(argv)
    # The process ends now: spare it the last collections over every module's objects, which
    # take ~0.3 s once Prefect is imported (measured, benchmarks/prefect_overhead.py).
    gc.freeze()
    return code
