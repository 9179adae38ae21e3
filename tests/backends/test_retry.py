"""The retry policy: what is retried, how long it waits, the shared cool-down, the final error."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from pipeline.backends.openai.backend import OpenAIBackend
from pipeline.backends.retry import RetryingBackend, RetryPolicy
from pipeline.errors import BackendError, ConfigError, RetriesExhausted, TransientBackendError
from pipeline.stub.server import ServerOptions, StubApp, StubServer
from pipeline.types import Choice, Completion, Request, Usage

OK = Completion((Choice("ok"),), Usage(1, 1), "m")
REQUEST = Request("m", ("p",))


def flaky(retry_after: float | None = None) -> TransientBackendError:
    return TransientBackendError("flaky", retry_after, 429 if retry_after else 503)


class Sleeps(list):
    """An injected sleep that records how long it was asked to wait and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Scripted:
    """A backend that replays outcomes in order: a Completion is returned, an error raised."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    async def complete(self, request: Request) -> Completion:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.mark.parametrize(
    "outcomes, max_attempts, raised, calls, sleeps",
    [
        ([OK], 3, None, 1, []),
        ([flaky(), flaky(), OK], 3, None, 3, [0.0, 0.0]),
        ([flaky(), flaky(), flaky(), OK], 3, RetriesExhausted, 3, [0.0, 0.0]),
        ([flaky(), OK], 1, RetriesExhausted, 1, []),
        ([BackendError("bad key"), OK], 3, BackendError, 1, []),
        ([ConfigError("bad flag"), OK], 3, ConfigError, 1, []),
        ([ValueError("a bug"), OK], 3, ValueError, 1, []),
        ([flaky(retry_after=7), OK], 3, None, 2, [7.0]),
        ([flaky(retry_after=100), OK], 3, None, 2, [60.0]),
    ],
)
def test_what_is_retried(outcomes, max_attempts, raised, calls, sleeps):
    inner, recorded = Scripted(*outcomes), Sleeps()
    backend = RetryingBackend(inner, RetryPolicy.no_wait(max_attempts, sleep=recorded))
    if raised is None:
        assert asyncio.run(backend.complete(REQUEST)) is OK
    else:
        with pytest.raises(raised):
            asyncio.run(backend.complete(REQUEST))
    assert (inner.calls, backend.attempts, backend.retries) == (calls, calls, calls - 1)
    assert recorded == sleeps


@pytest.mark.parametrize("attempts", [1, 2, 5])
def test_retries_exhausted_says_how_many_attempts(attempts):
    last = flaky()
    inner = Scripted(*[flaky()] * (attempts - 1), last)
    with pytest.raises(RetriesExhausted) as caught:
        asyncio.run(RetryingBackend(inner, RetryPolicy.no_wait(attempts)).complete(REQUEST))
    assert caught.value.attempts == attempts
    assert caught.value.last is last
    assert f"gave up after {attempts} attempts" in str(caught.value)


@pytest.mark.parametrize(
    "attempt, retry_after, wait",
    [
        (1, None, 1.0),
        (2, None, 2.0),
        (3, None, 4.0),
        (7, None, 60.0),  # 64 s of backoff, capped
        (1, 5.0, 5.0),  # the server asks for longer than our backoff
        (3, 2.0, 4.0),  # our backoff is longer than the server asks
        (1, 300.0, 60.0),
        (50, None, 60.0),
    ],
)
def test_wait_is_the_longer_of_backoff_and_retry_after_capped(attempt, retry_after, wait):
    policy = RetryPolicy(initial_wait=1.0, max_wait=60.0, jitter=0.0)
    assert policy.wait_for(attempt, retry_after) == wait


@pytest.mark.parametrize(
    "failures, max_attempts, sleeps, raised",
    [
        (1, 6, [1.0], None),
        (3, 6, [1.0, 2.0, 4.0], None),
        (3, 3, [1.0, 2.0], RetriesExhausted),
        (7, 8, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0], None),
    ],
)
def test_backoff_counts_every_attempt_from_the_first(failures, max_attempts, sleeps, raised):
    inner, recorded = Scripted(*[flaky()] * failures, OK), Sleeps()
    policy = RetryPolicy(max_attempts, initial_wait=1.0, jitter=0.0, sleep=recorded)
    backend = RetryingBackend(inner, policy)
    if raised is None:
        assert asyncio.run(backend.complete(REQUEST)) is OK
    else:
        with pytest.raises(raised):
            asyncio.run(backend.complete(REQUEST))
    assert recorded == sleeps
    assert backend.attempts == min(failures + 1, max_attempts)


@pytest.mark.parametrize("attempt, low", [(1, 1.0), (3, 4.0)])
def test_jitter_stays_within_its_bound(attempt, low):
    policy = RetryPolicy(initial_wait=1.0, jitter=0.5)
    waits = [policy.backoff(attempt) for _ in range(300)]
    assert low <= min(waits) and max(waits) <= low + 0.5
    assert max(waits) - min(waits) > 0.25  # it does vary


def test_a_retry_after_holds_back_the_next_call():
    recorded = Sleeps()
    shared = RetryingBackend(
        Scripted(flaky(retry_after=5), OK, OK), RetryPolicy.no_wait(3, recorded)
    )
    asyncio.run(shared.complete(REQUEST))
    asyncio.run(shared.complete(REQUEST))
    assert recorded[0] == 5.0  # the call that was told to wait
    assert recorded[1:] == [pytest.approx(5.0, abs=0.5)]  # the next call waits out the rest
    other, other_sleeps = Scripted(OK), Sleeps()
    asyncio.run(RetryingBackend(other, RetryPolicy.no_wait(3, other_sleeps)).complete(REQUEST))
    assert other_sleeps == []  # the cool-down belongs to one wrapper, not to everyone


class TwoCalls:
    """Call B is in flight when call A hits a 429 with Retry-After 5; then B fails too."""

    def __init__(self):
        self.rate_limited = asyncio.Event()
        self.seen: list[str] = []

    async def complete(self, request: Request) -> Completion:
        self.seen.append(request.slot)
        if self.seen.count(request.slot) > 1:
            return OK
        if request.slot == "A":
            self.rate_limited.set()
            raise flaky(retry_after=5)
        await self.rate_limited.wait()
        raise flaky()


def test_in_flight_calls_back_off_together():
    async def both(backend: RetryingBackend) -> None:
        await asyncio.gather(
            backend.complete(Request("m", ("p",), slot="B")),
            backend.complete(Request("m", ("p",), slot="A")),
        )

    inner, recorded = TwoCalls(), Sleeps()
    asyncio.run(both(RetryingBackend(inner, RetryPolicy.no_wait(3, recorded))))
    assert inner.seen == ["B", "A", "A", "B"]
    # A waits its Retry-After; B's own backoff is 0 but it then waits out A's cool-down.
    assert recorded == [5.0, 0.0, pytest.approx(5.0, abs=0.5)]


def stats(server: StubServer) -> dict:
    with urllib.request.urlopen(server.base_url.removesuffix("/v1") + "/stats") as response:
        return json.load(response)


def echo(request: Request) -> Completion:
    return Completion(tuple(Choice(p) for p in request.prompts), Usage(1, 1), request.model)


def test_retries_over_http_succeed_after_injected_failures():
    options = ServerOptions(error_rate=0.2, rate_limit_rate=0.3, retry_after=2, seed=5)
    recorded = Sleeps()
    with StubServer(app=StubApp(options, answer=echo)) as server:
        inner = OpenAIBackend("m", base_url=server.base_url)
        backend = RetryingBackend(inner, RetryPolicy.no_wait(30, recorded))

        async def many() -> list[Completion]:
            requests = [Request("m", (f"p{i}",), slot=str(i)) for i in range(20)]
            done = await asyncio.gather(*(backend.complete(r) for r in requests))
            await backend.aclose()
            return done

        completions = asyncio.run(many())
        seen = stats(server)
    assert [c.choices[0].text for c in completions] == [f"p{i}" for i in range(20)]
    injected = sum(seen["errors"].values())
    assert injected > 0 and seen["errors"]["429"] > 0
    assert backend.retries == injected and backend.attempts == 20 + injected
    assert 2.0 in recorded  # the server's Retry-After reached the sleep
    assert all(s == 0.0 or 0.0 < s <= 2.0 for s in recorded)


@pytest.mark.parametrize(
    "path, options, raised, requests",
    [
        ("/v1", {"error_rate": 1.0}, RetriesExhausted, 4),
        ("", {}, BackendError, 1),  # no /v1: the server answers 404, which is not retried
    ],
)
def test_over_http_permanent_errors_are_not_retried(path, options, raised, requests):
    with StubServer(app=StubApp(ServerOptions(**options), answer=echo)) as server:
        inner = OpenAIBackend("m", base_url=server.base_url.removesuffix("/v1") + path)
        backend = RetryingBackend(inner, RetryPolicy.no_wait(4))
        with pytest.raises(raised) as caught:
            asyncio.run(backend.complete(REQUEST))
        assert stats(server)["requests"] == requests
    assert type(caught.value) is raised


class Limiting:
    """Answers its first `limited` calls with a 429 that says nothing of when to retry. Records
    the most calls in flight at once among those sent after the first round (`first_round`
    calls sent together before any 429), up to and including the first success."""

    def __init__(self, limited: int, first_round: int):
        self.limited, self.first_round, self.calls = limited, first_round, 0
        self.in_flight: set[int] = set()
        self.overlap = 0

    async def complete(self, request: Request) -> Completion:
        self.calls += 1
        number = self.calls
        if self.first_round < number <= self.limited + 1:
            self.in_flight.add(number)
            self.overlap = max(self.overlap, len(self.in_flight))
        try:
            await asyncio.sleep(0)  # the others in flight get their turn
            if number <= self.limited:
                raise bare_429()
            return OK
        finally:
            self.in_flight.discard(number)


def bare_429() -> TransientBackendError:
    return TransientBackendError("HTTP 429", None, 429)


def test_429s_without_retry_after_pause_every_call_and_one_probes():
    """Three calls in flight all get a 429 with no Retry-After: they pause together, then one
    probes at a time, each 429 in a row doubling the pause, until a success lets all go."""
    inner, recorded = Limiting(limited=5, first_round=3), Sleeps()
    policy = RetryPolicy(10, initial_wait=1.0, jitter=0.0, sleep=recorded)
    backend = RetryingBackend(inner, policy)

    async def three() -> list[Completion]:
        calls = (backend.complete(Request("m", ("p",), slot=s)) for s in "ABC")
        return await asyncio.gather(*calls)

    assert asyncio.run(three()) == [OK, OK, OK]
    assert inner.calls == 8  # 3 at once, 2 probes limited, 1 probe answered, then the other 2
    assert inner.overlap == 1  # while limited, one probe at a time
    assert max(recorded) == pytest.approx(4.0, abs=0.1)  # pauses of 1, 2, then 4 s
    waits = len(recorded)
    assert asyncio.run(backend.complete(REQUEST)) is OK
    assert len(recorded) == waits  # the success ended the pause: the next call goes at once


def shared_waits(recorded: list[float]) -> list[float]:
    return sorted({round(w, 1) for w in recorded})


@pytest.mark.parametrize(
    "outcomes, waits",
    [
        ([bare_429(), OK], [1.0]),
        ([bare_429(), bare_429(), OK], [1.0, 2.0]),
        ([bare_429(), bare_429(), bare_429(), OK], [1.0, 2.0, 4.0]),
        ([flaky(retry_after=3), OK], [3.0]),  # the server's Retry-After, no growth of its own
    ],
)
def test_the_shared_pause_grows_with_429s_in_a_row_and_a_success_resets_it(outcomes, waits):
    inner, recorded = Scripted(*outcomes, *outcomes), Sleeps()
    policy = RetryPolicy(10, initial_wait=1.0, jitter=0.0, sleep=recorded)
    backend = RetryingBackend(inner, policy)
    # Each 429 waits the call's own backoff, then the rest of the shared pause (the injected
    # sleep lets no time pass, so both show in full).
    asyncio.run(backend.complete(REQUEST))
    assert shared_waits(recorded) == waits
    recorded.clear()
    asyncio.run(backend.complete(REQUEST))  # after the success, the pause starts small again
    assert shared_waits(recorded) == waits
