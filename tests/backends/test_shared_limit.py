"""The shared rate limit wrapper: one slot per call to the provider, none for cached answers."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.backends.retry import RetryingBackend, RetryPolicy
from pipeline.backends.shared_limit import (
    Batched,
    SharedLimitBackend,
    current_wrapper,
    shared_limit,
)
from pipeline.errors import TransientBackendError
from pipeline.methods import stub_model
from pipeline.types import Request
from tests.helpers import run


class Recorder:
    """An acquire() that records what it was asked for, and the order of events."""

    def __init__(self, events: list[str], wait: float = 0.0):
        self.events, self.wait, self.requests = events, wait, []

    async def __call__(self, request: Request) -> None:
        self.events.append("acquire")
        self.requests.append(request)
        await asyncio.sleep(self.wait)


class Flaky:
    """Fails transiently `failures` times, then answers like the stub; logs each call."""

    def __init__(self, events: list[str], failures: int = 0):
        self.events, self.failures, self.stub = events, failures, stub_model()

    async def complete(self, request: Request):
        self.events.append("call")
        if self.failures:
            self.failures -= 1
            raise TransientBackendError("503", status=503)
        return await self.stub.complete(request)


REQUEST = Request(model="stub", prompts=("Name a colour.",))


@pytest.mark.parametrize(
    "failures, expected",
    [
        (0, ["acquire", "call"]),
        (2, ["acquire", "call", "acquire", "call", "acquire", "call"]),  # retries pay too
    ],
)
def test_every_attempt_takes_a_slot_before_the_call(failures, expected):
    events: list[str] = []
    acquire = Recorder(events)
    limited = SharedLimitBackend(Flaky(events, failures), acquire)
    backend = RetryingBackend(limited, RetryPolicy.no_wait(5))
    asyncio.run(backend.complete(REQUEST))
    assert events == expected
    assert limited.slots == failures + 1 and acquire.requests[0] is REQUEST


def test_time_spent_waiting_for_slots_is_counted():
    limited = SharedLimitBackend(stub_model(), Recorder([], wait=0.02))
    asyncio.run(limited.complete(REQUEST))
    assert limited.waited >= 0.02


def test_the_context_sets_the_wrapper_and_restores_it():
    outer, inner = Recorder([]), Recorder([])
    assert current_wrapper() is None
    with shared_limit(outer):
        with shared_limit(inner):
            assert current_wrapper()(stub_model()).acquire is inner
        assert current_wrapper()(stub_model()).acquire is outer
    assert current_wrapper() is None


def test_a_run_takes_one_slot_per_request_sent_and_none_on_resume(tmp_path):
    acquire = Recorder([])
    first = run(tmp_path / "r", backend=SharedLimitBackend(stub_model(), acquire), target=30)
    assert len(acquire.requests) == first["session"]["requests_sent"] > 0
    again = run(tmp_path / "r", backend=SharedLimitBackend(stub_model(), acquire), target=30)
    assert again["session"]["requests_sent"] == 0
    assert len(acquire.requests) == first["session"]["requests_sent"], "cache hits take none"


@pytest.mark.parametrize("size, calls, takes", [(1, 3, [1, 1, 1]), (4, 9, [4, 4, 4]), (5, 5, [5])])
def test_batched_takes_slots_size_at_a_time(size, calls, takes):
    taken: list[int] = []

    async def take(slots: int) -> None:
        await asyncio.sleep(0.001)  # a round trip: the others queue behind it
        taken.append(slots)

    acquire = Batched(take, size)

    async def requests() -> None:
        await asyncio.gather(*(acquire(REQUEST) for _ in range(calls)))

    asyncio.run(requests())
    assert taken == takes
