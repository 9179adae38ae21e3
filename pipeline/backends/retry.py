"""The one place that retries: a tenacity policy around any Backend, with a shared cool-down."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from pipeline.backends.base import Backend
from pipeline.errors import RetriesExhausted, TransientBackendError
from pipeline.types import Completion, Request

Sleep = Callable[[float], Awaitable[None]]


async def _no_sleep(seconds: float) -> None:
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient failures; `sleep` is injectable for tests."""

    max_attempts: int = 6
    # 429s do not use up attempts: a provider that rate-limits for a long stretch slows the run
    # down. A request gives up only after waiting this long on rate limits alone.
    rate_limit_patience: float = 3600.0
    initial_wait: float = 1.0
    max_wait: float = 60.0
    jitter: float = 1.0
    sleep: Sleep = field(default=asyncio.sleep, compare=False)

    @classmethod
    def no_wait(cls, max_attempts: int = 3, sleep: Sleep = _no_sleep) -> RetryPolicy:
        """No backoff and a sleep that returns at once; Retry-After still reaches `sleep`."""
        return cls(max_attempts, initial_wait=0.0, jitter=0.0, sleep=sleep)

    def backoff(self, attempt: int) -> float:
        """Exponential wait after failed attempt number `attempt` (from 1), plus jitter."""
        base = self.initial_wait * 2 ** (attempt - 1)
        return min(self.max_wait, base + random.uniform(0, self.jitter))

    def wait_for(self, attempt: int, retry_after: float | None) -> float:
        """The server's Retry-After wins when longer than our backoff; both capped at max_wait."""
        return min(self.max_wait, max(retry_after or 0.0, self.backoff(attempt)))


def _rate_limited(exc: BaseException | None) -> bool:
    return isinstance(exc, TransientBackendError) and exc.status == 429


@dataclass
class _Call:
    """One request's retry budget (failures other than rate limits, and seconds waited on
    429s) and `honoured`: the latest shared cool-down deadline it has already waited out."""

    failures: int = 0
    waited: float = 0.0
    honoured: float = 0.0

    def count(self, exc: TransientBackendError) -> None:
        if not _rate_limited(exc):
            self.failures += 1


class RetryingBackend:
    """Retries TransientBackendError under a RetryPolicy; anything else passes through at once.

    A 429 starts a cool-down shared by every call through this wrapper, so concurrent requests
    back off together instead of hammering a limited server: as long as its Retry-After says,
    or, when it says nothing, an exponential backoff that grows with every 429 in a row. Until
    a request succeeds again, those calls then go one at a time: one probes, the rest wait."""

    def __init__(self, inner: Backend, policy: RetryPolicy | None = None):
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.attempts = 0
        self.retries = 0
        self._cooldown_until = 0.0
        self._throttled = 0  # 429s without Retry-After in a row, with no success between
        self._probe: asyncio.Future[None] | None = None  # resolved when the probe returns

    def __repr__(self) -> str:
        return f"RetryingBackend({self.inner!r}, {self.policy!r})"

    async def complete(self, request: Request) -> Completion:
        """Call the inner backend until it answers, fails permanently or attempts run out."""
        # The first attempt runs outside tenacity, whose loop costs ~15 us of CPU per call:
        # almost every call succeeds at once. Its failure waits exactly as tenacity would.
        call = _Call()
        try:
            return await self._attempt(request, call)
        except TransientBackendError as exc:
            if self._spent(call, exc):
                raise RetriesExhausted(1, exc) from exc
            wait = self.policy.wait_for(1, exc.retry_after)
            call.waited += wait if _rate_limited(exc) else 0.0
            await self.policy.sleep(wait)
        return await self._retry(request, call)

    async def _retry(self, request: Request, call: _Call) -> Completion:
        """Attempts 2.. under tenacity, after a failed first attempt."""
        attempt_number = 1
        try:
            async for attempt in self._retrying(call):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number + 1
                    return await self._attempt(request, call, retry=True)
        except TransientBackendError as exc:
            raise RetriesExhausted(attempt_number, exc) from exc
        raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover

    async def _attempt(self, request: Request, call: _Call, retry: bool = False) -> Completion:
        """One call of the inner backend, once the shared cool-down lets it go."""
        probe = False
        if self._cooldown_until > call.honoured or self._throttled:
            probe = await self._admit(call)
        self.attempts += 1
        self.retries += retry
        try:
            completion = await self.inner.complete(request)
        except TransientBackendError as exc:
            self._start_cooldown(exc, call, probe)
            call.count(exc)
            raise
        finally:
            if probe:
                self._end_probe()
        self._throttled = 0
        if probe:  # the provider takes requests again: what is left of the pause is lifted
            self._cooldown_until = 0.0
        return completion

    def _spent(self, call: _Call, exc: BaseException | None) -> bool:
        """Whether this call may try no more: rate limits spend patience, other failures
        spend attempts."""
        if _rate_limited(exc):
            return call.waited >= self.policy.rate_limit_patience
        return call.failures >= self.policy.max_attempts

    async def aclose(self) -> None:
        """Close the inner backend if it holds connections."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

    def _retrying(self, call: _Call) -> AsyncRetrying:
        def stop(state: RetryCallState) -> bool:
            return self._spent(call, state.outcome.exception() if state.outcome else None)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            # tenacity's attempt n is our attempt n + 1.
            seconds = self.policy.wait_for(
                state.attempt_number + 1, getattr(exc, "retry_after", None)
            )
            call.waited += seconds if _rate_limited(exc) else 0.0
            return seconds

        return AsyncRetrying(
            sleep=self.policy.sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception_type(TransientBackendError),
            reraise=True,
        )

    def _start_cooldown(self, exc: TransientBackendError, call: _Call, probe: bool) -> None:
        if not _rate_limited(exc):
            return
        if exc.retry_after is not None:
            seconds = min(exc.retry_after, self.policy.max_wait)
            deadline = time.monotonic() + seconds
            # This call sleeps through its own Retry-After in its own wait: count it as done.
            call.honoured = max(call.honoured, deadline)
        elif probe or not self._throttled:
            # The first 429 in a row, or the probe's: the provider still limits, so the pause
            # grows. Others, sent before this pause began, only join it.
            self._throttled += 1
            deadline = time.monotonic() + self.policy.backoff(self._throttled)
        else:
            return
        self._cooldown_until = max(self._cooldown_until, deadline)

    async def _admit(self, call: _Call) -> bool:
        """Wait out the shared cool-down; while 429s without Retry-After go unanswered by a
        success, only one call at a time (the probe) goes. True if this call is the probe."""
        while True:
            deadline = self._cooldown_until
            if deadline > call.honoured:
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    await self.policy.sleep(remaining)
                call.honoured = deadline
                continue  # the probe may have started a longer pause meanwhile
            if not self._throttled:
                return False
            if self._probe is None:
                self._probe = asyncio.get_running_loop().create_future()
                return True
            await asyncio.shield(self._probe)

    def _end_probe(self) -> None:
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.set_result(None)
