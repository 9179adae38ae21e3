"""Every model call goes through the request cache: hits are free, new answers are committed.

A request to a paid endpoint is marked as sent before it leaves, so a session killed while an
answer was on its way back leaves a trace. The next session asks the provider for that answer
first (`recover`, OpenAI's stored completions with --store) and pays again only if it has none."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

from pipeline.backends.base import Backend
from pipeline.backends.budget import BudgetReached
from pipeline.backends.cache import RequestCache, key_of
from pipeline.errors import BackendError, TransientBackendError
from pipeline.types import Completion, Request

Recover = Callable[[Request], Awaitable[Completion | None]]
# Seconds after it was sent that a lost request's stored answer is still waited for (a run
# restarted at once after a kill; a request killed before it reached the provider is never
# stored, so this is also what such a restart may stall); between looks; and looks when the
# store itself fails (429, 5xx) after that.
PATIENCE, RECHECK_SECONDS, LOOKUP_TRIES = 10.0, 1.0, 3


class CachedBackend:
    """Answers from the cache when it can; commits every new answer before returning it."""

    def __init__(
        self,
        inner: Backend,
        cache: RequestCache,
        mark: bool = False,
        recover: Recover | None = None,
        on_recovered: Callable[[Request, Completion], None] | None = None,
        patience: float = PATIENCE,
    ):
        self.inner = inner
        self.cache = cache
        self.mark, self.recover, self.on_recovered = mark, recover, on_recovered
        self.patience = patience
        # Sent by an earlier session, never answered (in flight when it stopped): when sent.
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
        earlier = key in self.unanswered
        if earlier and self.recover is not None:
            found = await self._look_up(request, self.unanswered[key])
            if found is not None:
                del self.unanswered[key]
                self.cache.put(request, found, canonical)
                self.recovered += 1
                if self.on_recovered is not None:
                    self.on_recovered(request, found)
                # Not paid now: counted with the answers a run already had, not as sent.
                return dataclasses.replace(found, cached=True)
        if self.mark:
            self.cache.mark_sent(key, request.slot)
        try:
            completion = await self.inner.complete(request)
        except (BudgetReached, BackendError):
            # Not sent, or refused for good: not in flight (a kill, a cancellation or retries
            # used up keep the mark: an answer may be on its way, or stored).
            if self.mark and not earlier:
                self.cache.unmark(key)
            raise
        self.cache.put(request, completion, canonical)
        self.unanswered.pop(key, None)
        self.sent += 1
        return completion

    async def _look_up(self, request: Request, sent_at: float) -> Completion | None:
        """The provider's stored answer, asked again until the request is `patience` seconds
        old: one cut off by a kill may still be in the making (a provider finishes it, and bills
        it). A server without stored completions ends the search at once."""
        assert self.recover is not None
        deadline, failures = sent_at + self.patience, 0
        while True:
            try:
                found = await self.recover(request)
            except TransientBackendError:
                found, failures = None, failures + 1
            except BackendError:
                self.recover = None  # no such endpoint here: ask nothing more of it
                return None
            if found is not None:
                return found
            left = deadline - time.time()
            if left <= 0 and not 0 < failures < LOOKUP_TRIES:
                return None
            await asyncio.sleep(min(RECHECK_SECONDS, max(left, RECHECK_SECONDS / 4)))

    async def complete(self, request: Request) -> Completion:
        """The Backend protocol: from the cache if paid for, else paid for now."""
        canonical = request.canonical()
        hit = self.lookup(canonical)
        return hit if hit is not None else await self.pay(request, canonical)
