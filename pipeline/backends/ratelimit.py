"""Client-side pacing under a provider's requests- and tokens-per-minute limits (--rpm, --tpm).

Providers state their limits per minute but enforce them continuously: a bucket that refills at
a sixtieth of the limit each second. A client that sends in bursts meets 429s while still under
its minute's allowance, so this wrapper spaces requests evenly instead. Each request starts no
earlier than the previous one's share of the minute has passed, counted in requests and in
tokens. A request's tokens are its prompts (estimated with pipeline.tokens) plus max_tokens for
every prompt: what providers charge against TPM before the answer is known.

It wraps the backend below the retry policy, so every attempt, retries included, is paced."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from pipeline.backends.base import Backend
from pipeline.errors import ConfigError
from pipeline.tokens import count_tokens
from pipeline.types import Completion, Request


def request_tokens(request: Request) -> int:
    """Tokens a provider counts against TPM for this request: prompts plus max_tokens each."""
    system = sum(map(count_tokens, request.preamble()))
    prompts = sum(count_tokens(p) + system for p in request.prompts)
    return prompts + request.max_tokens * len(request.prompts)


class RateLimitedBackend:
    """Sends each request only when the requests and tokens sent before it leave room."""

    def __init__(
        self,
        inner: Backend,
        rpm: float | None = None,
        tpm: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        for flag, value in (("--rpm", rpm), ("--tpm", tpm)):
            if value is not None and value <= 0:
                raise ConfigError(f"{flag} must be positive, got {value}")
        self.inner, self.rpm, self.tpm = inner, rpm, tpm
        self._sleep, self._clock = sleep, clock
        # The earliest moment the next request may start, by each limit (virtual scheduling:
        # a start time is claimed when the call arrives, so concurrent calls queue in order).
        self._free_requests = self._free_tokens = float("-inf")
        self.waited = 0.0  # seconds spent waiting for a turn, summed over requests

    def __repr__(self) -> str:
        return f"RateLimitedBackend({self.inner!r}, rpm={self.rpm}, tpm={self.tpm})"

    def claim(self, request: Request) -> float:
        """Claim the request's turn; returns how many seconds from now it starts."""
        now = self._clock()
        start = max(now, self._free_requests, self._free_tokens)
        if self.rpm:
            self._free_requests = start + 60.0 / self.rpm
        if self.tpm:
            self._free_tokens = start + request_tokens(request) * 60.0 / self.tpm
        return start - now

    async def complete(self, request: Request) -> Completion:
        wait = self.claim(request)
        if wait > 0:
            self.waited += wait
            await self._sleep(wait)
        return await self.inner.complete(request)

    async def aclose(self) -> None:
        """Close the inner backend if it holds connections."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()
