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
    """One request's retry budget: failures other than rate limits, and seconds waited on 429s."""

    failures: int = 0
    waited: float = 0.0

    def count(self, exc: TransientBackendError) -> None:
        if not _rate_limited(exc):
            self.failures += 1


class RetryingBackend:
    """Retries TransientBackendError under a RetryPolicy; anything else passes through at once.

    A failure that carries a Retry-After starts a cool-down shared by every call through this
    wrapper, so concurrent requests back off together instead of hammering a limited server."""

    def __init__(self, inner: Backend, policy: RetryPolicy | None = None):
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.attempts = 0
        self.retries = 0
        self._cooldown_until = 0.0

    def __repr__(self) -> str:
        return f"RetryingBackend({self.inner!r}, {self.policy!r})"

    async def complete(self, request: Request) -> Completion:
        """Call the inner backend until it answers, fails permanently or attempts run out."""
        # The first attempt runs outside tenacity, whose loop costs ~15 us of CPU per call:
        # almost every call succeeds at once. Its failure waits exactly as tenacity would.
        # `honoured`: the latest cool-down deadline this call has already waited out.
        honoured = await self._wait_cooldown(0.0)
        self.attempts += 1
        call = _Call()
        try:
            return await self.inner.complete(request)
        except TransientBackendError as exc:
            honoured = self._start_cooldown(exc, honoured)
            call.count(exc)
            if self._spent(call, exc):
                raise RetriesExhausted(1, exc) from exc
            wait = self.policy.wait_for(1, exc.retry_after)
            call.waited += wait if _rate_limited(exc) else 0.0
            await self.policy.sleep(wait)
        return await self._retry(request, honoured, call)

    async def _retry(self, request: Request, honoured: float, call: _Call) -> Completion:
        """Attempts 2.. under tenacity, after a failed first attempt."""
        attempt_number = 1
        try:
            async for attempt in self._retrying(call):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number + 1
                    honoured = await self._wait_cooldown(honoured)
                    self.attempts += 1
                    self.retries += 1
                    try:
                        return await self.inner.complete(request)
                    except TransientBackendError as exc:
                        honoured = self._start_cooldown(exc, honoured)
                        call.count(exc)
                        raise
        except TransientBackendError as exc:
            raise RetriesExhausted(attempt_number, exc) from exc
        raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover

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

    def _start_cooldown(self, exc: TransientBackendError, honoured: float) -> float:
        if exc.retry_after is None:
            return honoured
        deadline = time.monotonic() + min(exc.retry_after, self.policy.max_wait)
        self._cooldown_until = max(self._cooldown_until, deadline)
        # This call sleeps through its own Retry-After in tenacity's wait, so count it as done.
        return max(honoured, deadline)

    async def _wait_cooldown(self, honoured: float) -> float:
        deadline = self._cooldown_until
        if deadline <= honoured:
            return honoured
        remaining = deadline - time.monotonic()
        if remaining > 0:
            await self.policy.sleep(remaining)
        return deadline
