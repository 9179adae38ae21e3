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

    def lookup(self, canonical: str) -> Completion | None:
        """The answer to the request with this canonical JSON, if it is already paid for."""
        hit = self.cache.get(key_of(canonical))
        self.hits += hit is not None
        return hit

    async def pay(self, request: Request, canonical: str) -> Completion:
        """Ask the model and commit the answer before returning it."""
        completion = await self.inner.complete(request)
        self.cache.put(request, completion, canonical)
        self.sent += 1
        return completion

    async def complete(self, request: Request) -> Completion:
        """The Backend protocol: from the cache if paid for, else paid for now."""
        canonical = request.canonical()
        hit = self.lookup(canonical)
        return hit if hit is not None else await self.pay(request, canonical)
