"""An answer in flight when a run was killed: marked as sent before it left, fetched from the
provider's stored completions on resume (--store) instead of being paid for again."""

from __future__ import annotations

import asyncio
import json

import pytest

import pipeline.backends.cached as cached_module
from pipeline.backends.budget import BudgetReached
from pipeline.backends.cache import RequestCache
from pipeline.backends.cached import CachedBackend
from pipeline.backends.retry import RetryPolicy
from pipeline.engine.session import Session, run_session
from pipeline.errors import BackendError, ConfigError, TransientBackendError
from pipeline.methods import make_config
from pipeline.types import Choice, Completion, Request, Usage
from tests.helpers import CountingBackend, Killed


def _request(slot: str) -> Request:
    return Request(prompts=("Write a task.",), model="m", slot=slot)


ANSWER = Completion((Choice("1. Instruction: stored", "stop", 0),), Usage(10, 20), "m")


def test_marks_stay_until_their_answer_is_committed(tmp_path):
    cache = RequestCache(tmp_path / "cache.sqlite")
    first, second = _request("a"), _request("b")
    cache.mark_sent(first.key(), "a")
    cache.mark_sent(second.key(), "b")
    cache.put(first, ANSWER)
    cache.close()
    for _ in range(2):  # a session that asks nothing again leaves the mark for the next one
        cache = RequestCache(tmp_path / "cache.sqlite")
        assert set(cache.unanswered()) == {second.key()}
        cache.close()


class Store:
    """The provider's side: what `recover` finds, and how often it was asked."""

    def __init__(self, found: Completion | None):
        self.found, self.asked = found, 0

    async def recover(self, request: Request) -> Completion | None:
        self.asked += 1
        return self.found


@pytest.mark.parametrize(
    "in_flight, found, asked, paid, recovered",
    [
        (True, ANSWER, 1, 0, 1),  # lost at the kill, stored: fetched, not paid again
        (True, None, 1, 1, 0),  # lost, but the provider kept nothing: paid again
        (False, ANSWER, 0, 1, 0),  # never sent before: the store is not asked
    ],
)
def test_a_request_lost_at_a_kill_is_recovered_before_it_is_paid(
    tmp_path, in_flight, found, asked, paid, recovered
):
    request = _request("s1")
    cache = RequestCache(tmp_path / "cache.sqlite")
    if in_flight:
        cache.mark_sent(request.key(), request.slot)
    store, inner, settled = Store(found), CountingBackend(), []
    # patience 0: a provider that has nothing stored now will not have it later
    cached = CachedBackend(
        inner, cache, True, store.recover, lambda r, c: settled.append(c), patience=0
    )
    completion = asyncio.run(cached.pay(request, request.canonical()))
    assert (store.asked, inner.answered, cached.recovered) == (asked, paid, recovered)
    assert cached.in_flight_at_stop == int(in_flight)
    assert settled == ([ANSWER] if recovered else [])  # the spend is counted once, now
    assert cache.get(request.key()).choices == completion.choices
    assert set(cache.unanswered()) == set()  # answered: the mark is gone
    cache.close()


class Slow:
    """A provider's store that answers in turns: each look returns the next of `answers`, or
    raises it."""

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), 0

    async def recover(self, request: Request) -> Completion | None:
        self.asked += 1
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.mark.parametrize(
    "answers, patience, asked, recovered",
    [
        ((None, ANSWER), 5.0, 2, 1),  # still in the making at the first look: waited for
        ((None, ANSWER), 0.0, 1, 0),  # sent longer ago than the patience: asked again
        ((TransientBackendError("429"), TransientBackendError("503"), ANSWER), 0.0, 3, 1),
        ((TransientBackendError("429"),) * 3, 0.0, 3, 0),  # the store keeps failing: paid
        ((BackendError("405: no stored completions"), ANSWER), 5.0, 1, 0),  # no such endpoint
    ],
)
def test_the_store_is_asked_until_the_lost_request_is_old(
    tmp_path, monkeypatch, answers, patience, asked, recovered
):
    monkeypatch.setattr(cached_module, "RECHECK_SECONDS", 0.01)
    request = _request("s5")
    cache = RequestCache(tmp_path / "cache.sqlite")
    cache.mark_sent(request.key(), request.slot)
    store, inner = Slow(*answers), CountingBackend()
    cached = CachedBackend(inner, cache, True, store.recover, patience=patience)
    asyncio.run(cached.pay(request, request.canonical()))
    assert (store.asked, cached.recovered, inner.answered) == (asked, recovered, 1 - recovered)
    cache.close()


@pytest.mark.parametrize("mark", [True, False])
def test_a_paid_request_is_marked_before_it_is_sent(tmp_path, mark):
    request = _request("s2")
    cache = RequestCache(tmp_path / "cache.sqlite")
    seen = []

    class Peek(CountingBackend):
        async def complete(self, r: Request) -> Completion:
            # What a kill at this moment would leave behind: another connection's view.
            other = RequestCache(tmp_path / "cache.sqlite")
            seen.append(set(other.unanswered()))
            other.close()
            return await super().complete(r)

    cached = CachedBackend(Peek(), cache, mark=mark)
    asyncio.run(cached.pay(request, request.canonical()))
    assert seen == [{request.key()} if mark else set()]
    cache.tidy()  # as a session does when it ends: a finished run's cache holds no marks
    assert cache._db.execute("SELECT COUNT(*) FROM sent").fetchone() == (0,)
    cache.close()


@pytest.mark.parametrize(
    "options",
    [
        {"backend": "stub"},
        {"backend": "openai", "api": "completions", "base_url": "http://127.0.0.1:1/v1"},
    ],
)
def test_store_needs_the_openai_chat_api(tmp_path, options):
    with pytest.raises(ConfigError, match="--store needs --backend openai --api chat"):
        make_config(out=str(tmp_path), store=True, model="m", **options)


def test_store_does_not_change_the_run_identity(tmp_path):
    base = {"out": str(tmp_path), "backend": "openai", "model": "m"}
    assert make_config(**base).fingerprint() == make_config(**base, store=True).fingerprint()


def test_store_tags_each_chat_request_with_its_cache_key():
    from pipeline.backends.openai.backend import KEY_FIELD, OpenAIBackend

    request = _request("s3")
    plain = OpenAIBackend("m", base_url="http://127.0.0.1:1/v1")._body(request)
    stored = OpenAIBackend("m", base_url="http://127.0.0.1:1/v1", store=True)._body(request)
    assert "store" not in plain and "metadata" not in plain
    assert stored["store"] is True and stored["metadata"][KEY_FIELD] == request.key()
    assert json.dumps(stored)  # plain JSON, as sent


class LoseOne:
    """The openai backend, but the answer to the `nth` request dies with the process: the
    server has answered (and stored it, with --store); the run never commits it."""

    def __init__(self, inner, nth: int):
        self.inner, self.nth, self.calls = inner, nth, 0

    async def complete(self, request: Request) -> Completion:
        self.calls += 1
        completion = await self.inner.complete(request)
        if self.calls == self.nth:
            raise Killed("killed while the answer was on its way back")
        return completion


def _run(out, url: str, store: bool, backend=None) -> dict:
    """A small openai-backend run against the stub server at `url` (no Prefect)."""
    cfg = make_config(
        out=str(out), backend="openai", model="stub", base_url=url, target=30, concurrency=1,
        judge="inline", store=store,
    )  # fmt: skip
    session = Session.open(cfg, backend=backend, policy=RetryPolicy.no_wait(3))
    return asyncio.run(run_session(session))


@pytest.mark.parametrize("store, twice, recovered", [(True, 0, 1), (False, 1, 0)])
def test_a_resumed_run_fetches_the_answer_lost_at_the_kill(tmp_path, store, twice, recovered):
    from pipeline.backends.openai.backend import OpenAIBackend
    from pipeline.stub.server import StubServer

    with StubServer() as server:
        reference = _run(tmp_path / "ref", server.base_url, store)
    with StubServer() as server:
        url, out = server.base_url, tmp_path / "run"
        lose = LoseOne(OpenAIBackend("stub", base_url=url, store=store), nth=2)
        with pytest.raises(Killed):
            _run(out, url, store, backend=lose)
        stats = _run(out, url, store)
        seen = server.app.stats.to_dict()
    assert seen["keys_answered_more_than_once"] == twice
    assert stats["session"]["in_flight_at_last_stop"] == 1
    assert stats["session"]["recovered"] == recovered
    # A fetched answer is not one sent now: requests = sent now + answers the run already had.
    assert stats["requests"]["sent"] == stats["session"]["requests_sent"]
    assert stats["funnel"] == reference["funnel"]
    assert stats["cost"]["usd"] == reference["cost"]["usd"]  # the lost answer counted once


@pytest.mark.parametrize(
    "error, marked",
    [
        (BudgetReached(1.0, 1.0), False),  # refused before it was sent
        (BackendError("HTTP 401"), False),  # answered, with an error: nothing on the way
        (asyncio.CancelledError(), True),  # cancelled in flight: its answer may be on the way
    ],
)
def test_a_request_that_ends_in_an_error_is_not_left_in_flight(tmp_path, error, marked):
    request = _request("s4")
    cache = RequestCache(tmp_path / "cache.sqlite")

    class Fails:
        async def complete(self, r: Request) -> Completion:
            raise error

    cached = CachedBackend(Fails(), cache, mark=True)
    with pytest.raises(type(error)):
        asyncio.run(cached.pay(request, request.canonical()))
    assert set(cache.unanswered()) == ({request.key()} if marked else set())
    cache.close()
