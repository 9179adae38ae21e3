"""Every model call goes through the request cache: hits are free, new answers are committed."""

from __future__ import annotations

from pipeline.backends.base import Backend
from pipeline.cache import RequestCache, key_of
from pipeline.types import Completion, Request


class CachedBackend:
    """Answers from the cache when it can; commits every new answer before returning it."""

    def __init__(self, inner: Backend, cache: RequestCache):
        self.inner = inner
        self.cache = cache
        self.sent = 0
        self.hits = 0

    def has(self, request: Request) -> bool:
        """True when the answer is already paid for."""
        return self.cache.has(request.key())

    async def complete(self, request: Request) -> Completion:
        canonical = request.canonical()
        hit = self.cache.get(key_of(canonical))
        if hit is not None:
            self.hits += 1
            return hit
        completion = await self.inner.complete(request)
        self.cache.put(request, completion, canonical)
        self.sent += 1
        return completion
