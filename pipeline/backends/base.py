"""The backend protocol: one async method that turns a Request into a Completion."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pipeline.types import Completion, Request


@runtime_checkable
class Backend(Protocol):
    async def complete(self, request: Request) -> Completion:
        """Answer one request. Raise TransientBackendError for what a retry may fix,
        BackendError for what it cannot."""
        ...
