"""A rate limit shared with other runs: every call to the provider waits for a slot first.

Several runs that call one provider must together stay under the account's limit (requests
per minute). The slot comes from an injected `acquire(request)` coroutine, so the library does
not know who hands out slots: the Prefect flows pass one backed by a Prefect global
concurrency limit (flows/limits.py), tests pass a plain function.

The wrapper sits under the retry policy, so a retried attempt takes a slot too (the provider
counts it), and above nothing else: answers from the request cache never take one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pipeline.backends.base import Backend
from pipeline.types import Completion, Request

Acquire = Callable[[Request], Awaitable[None]]

_current: ContextVar[Acquire | None] = ContextVar("instructgen_shared_limit", default=None)


class SharedLimitBackend:
    """Awaits `acquire(request)` before each call to `inner`; counts slots and time waited."""

    def __init__(self, inner: Backend, acquire: Acquire):
        self.inner = inner
        self.acquire = acquire
        self.slots = 0
        self.waited = 0.0

    async def complete(self, request: Request) -> Completion:
        started = time.monotonic()
        await self.acquire(request)
        self.waited += time.monotonic() - started
        self.slots += 1
        return await self.inner.complete(request)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


class Batched:
    """An acquire() that takes slots `size` at a time from `take(n)`: one round trip to the
    shared limit per `size` requests, not per request (a round trip to Prefect's server takes
    tens of milliseconds). Slots taken but unused when the run ends are lost, at most
    size - 1: the limit is under-used then, never exceeded."""

    def __init__(self, take: Callable[[int], Awaitable[None]], size: int):
        if size < 1:
            raise ValueError(f"batch size must be at least 1, got {size}")
        self.take, self.size = take, size
        self.free = 0
        self._lock = asyncio.Lock()

    async def __call__(self, request: Request) -> None:
        async with self._lock:
            if self.free == 0:
                await self.take(self.size)
                self.free = self.size
            self.free -= 1


@contextmanager
def shared_limit(acquire: Acquire) -> Iterator[None]:
    """Within this block, sessions opened in this context wrap their backend with `acquire`."""
    token = _current.set(acquire)
    try:
        yield
    finally:
        _current.reset(token)


def current_wrapper() -> Callable[[Backend], Backend] | None:
    """The wrapper a session opened here should apply to its backend, if a limit is set."""
    acquire = _current.get()
    if acquire is None:
        return None
    return lambda inner: SharedLimitBackend(inner, acquire)
