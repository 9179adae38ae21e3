"""A process-wide progress hook, so the CLI can watch a run that Prefect drives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_reporter: Callable[[Any], None] | None = None


def set_reporter(callback: Callable[[Any], None] | None) -> None:
    global _reporter
    _reporter = callback


def reporter() -> Callable[[Any], None] | None:
    return _reporter
