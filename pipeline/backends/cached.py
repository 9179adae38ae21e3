"""Every model call goes through the request cache: hits are free, new answers are committed."""

from __future__ import annotations

from pipeline.backends.base import Backend
from pipeline.cache import RequestCache
from pipeline.types import Completion, Request


class CachedBackend:
    """Answers from the cache when it can; commits every new answer before returning it."""

    def __init__(self, inner: Backend, cache: RequestCache):
        self.inner = inner
        self.cache = cache
        self.sent = 0
        self.hits = 0

    def lookup(self, request: Request) -> Completion | None:
        """The answer if it is already paid for."""
        hit = self.cache.get(request.key())
        self.hits += hit is not None
        return hit

    async def complete(self, request: Request, looked_up: bool = False) -> Completion:
        """Answer from the cache, else pay for it and commit it. `looked_up` skips a second
        lookup when the caller just missed."""
        canonical = request.canonical()
        if not looked_up:
            hit = self.lookup(request)
            if hit is not None:
                return hit
        completion = await self.inner.complete(request)
        self.cache.put(request, completion, canonical)
        self.sent += 1
        return completion
