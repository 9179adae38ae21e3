"""The filter protocol: check() returns None to keep an example, or the reason to drop it."""

from __future__ import annotations

from typing import Protocol

from pipeline.types import Example


class Filter(Protocol):
    name: str

    def check(self, example: Example) -> str | None:
        """None keeps the example; a short reason string drops it."""
        ...
