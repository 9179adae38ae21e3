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

    async def complete(self, request: Request) -> Completion:
        hit = self.cache.get(request.key())
        if hit is not None:
            self.hits += 1
            return hit
        completion = await self.inner.complete(request)
        self.cache.put(request, completion)
        self.sent += 1
        return completion
