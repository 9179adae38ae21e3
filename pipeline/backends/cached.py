"""Every model call goes through the request cache: hits are free, new answers are committed.

A request to a paid endpoint is marked as sent before it leaves, so a session killed while an
answer was on its way back leaves a trace. The next session asks the provider for that answer
first (`recover`, OpenAI's stored completions with --store) and pays again only if it has none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pipeline.backends.base import Backend
from pipeline.cache import RequestCache, key_of
from pipeline.errors import InstructgenError
from pipeline.types import Completion, Request

Recover = Callable[[Request], Awaitable[Completion | None]]


class CachedBackend:
    """Answers from the cache when it can; commits every new answer before returning it."""

    def __init__(
        self,
        inner: Backend,
        cache: RequestCache,
        mark: bool = False,
        recover: Recover | None = None,
        on_recovered: Callable[[Request, Completion], None] | None = None,
    ):
        self.inner = inner
        self.cache = cache
        self.mark, self.recover, self.on_recovered = mark, recover, on_recovered
        # Sent by an earlier session, never answered: in flight when it stopped.
        self.unanswered = cache.unanswered()
        self.in_flight_at_stop = len(self.unanswered)
        self.sent = 0
        self.hits = 0
        self.recovered = 0  # answers fetched from the provider's store instead of paid again

    def lookup(self, canonical: str) -> Completion | None:
        """The answer to the request with this canonical JSON, if it is already paid for."""
        hit = self.cache.get(key_of(canonical))
        self.hits += hit is not None
        return hit

    async def pay(self, request: Request, canonical: str) -> Completion:
        """Ask the model and commit the answer before returning it."""
        key = key_of(canonical)
        if key in self.unanswered:
            self.unanswered.discard(key)
            found = await self.recover(request) if self.recover is not None else None
            if found is not None:
                self.cache.put(request, found, canonical)
                self.recovered += 1
                if self.on_recovered is not None:
                    self.on_recovered(request, found)
                return found
        if self.mark:
            self.cache.mark_sent(key, request.slot)
        try:
            completion = await self.inner.complete(request)
        except InstructgenError:
            # Refused by the budget before sending, or failed for good: not in flight. A kill or
            # a cancellation (not an Exception) leaves the mark: its answer may be on the way.
            if self.mark:
                self.cache.unmark(key)
            raise
        self.cache.put(request, completion, canonical)
        self.sent += 1
        return completion

    async def complete(self, request: Request) -> Completion:
        """The Backend protocol: from the cache if paid for, else paid for now."""
        canonical = request.canonical()
        hit = self.lookup(canonical)
        return hit if hit is not None else await self.pay(request, canonical)
