"""Stored chat completions: answers kept for `store: true` and listed at GET
/v1/chat/completions, over 127.0.0.1 through the official SDK."""

from __future__ import annotations

import json
import urllib.request

import openai
import pytest

from pipeline.stub.server import ServerOptions, StubApp, StubServer
from pipeline.types import Choice, Completion, Request, Usage


def echo(request: Request) -> Completion:
    """A stand-in model: one choice per prompt that names its prompt."""
    choices = tuple(Choice(f"re: {p}", "stop", i) for i, p in enumerate(request.prompts))
    return Completion(choices, Usage(len(request.prompts), 2), request.model)


def serve(**options) -> StubServer:
    return StubServer(app=StubApp(ServerOptions(**options), answer=echo))


def client(s: StubServer, key: str = "k") -> openai.OpenAI:
    return openai.OpenAI(base_url=s.base_url, api_key=key, max_retries=0)


def ask(c: openai.OpenAI, prompt: str = "hi", **kwargs):
    messages = [{"role": "user", "content": prompt}]
    return c.chat.completions.create(model="m", messages=messages, **kwargs)


def stats_of(s: StubServer) -> dict:
    with urllib.request.urlopen(s.base_url.removesuffix("/v1") + "/stats", timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.parametrize(
    "send, stored",
    [
        (lambda c: ask(c), 0),
        (lambda c: ask(c, store=False, metadata={"k": "v"}), 0),
        (lambda c: ask(c, metadata={"k": "v"}), 0),
        (lambda c: ask(c, store=True), 1),
        (lambda c: ask(c, store=True, metadata={"k": "v"}), 1),
        (lambda c: c.completions.create(model="m", prompt="p", extra_body={"store": True}), 0),
    ],
)
def test_only_chat_answers_with_store_true_are_kept(send, stored):
    with serve() as s:
        c = client(s)
        answer = send(c)
        listed = c.chat.completions.list()
        stats = stats_of(s)
    assert [item.id for item in listed.data] == [answer.id] * stored
    assert (stats["stored"], stats["list_requests"]) == (stored, 1)


@pytest.mark.parametrize(
    "metadata, model, prompts",
    [
        ({"run": "r1"}, None, ["p0", "p1"]),
        ({"key": "a"}, None, ["p0", "p2"]),
        ({"key": "a", "run": "r1"}, None, ["p0"]),
        ({"key": "a", "run": "r9"}, None, []),
        ({"key": "zzz"}, None, []),
        ({}, None, ["p0", "p1", "p2", "p3"]),
        ({}, "other", ["p3"]),
        ({"key": "a"}, "m", ["p0", "p2"]),
    ],
)
def test_list_filters_by_every_metadata_pair_and_model(metadata, model, prompts):
    kept = [
        ("p0", "m", {"key": "a", "run": "r1"}),
        ("p1", "m", {"key": "b", "run": "r1"}),
        ("p2", "m", {"key": "a", "run": "r2"}),
        ("p3", "other", {"key": "c"}),
    ]
    with serve() as s:
        c = client(s)
        for prompt, name, pairs in kept:
            messages = [{"role": "user", "content": prompt}]
            c.chat.completions.create(model=name, messages=messages, store=True, metadata=pairs)
        filters = {"model": model} if model else {}
        page = c.chat.completions.list(metadata=metadata or openai.omit, **filters)
    assert [item.choices[0].message.content for item in page.data] == [f"re: {p}" for p in prompts]
    assert all(item.metadata and metadata.items() <= item.metadata.items() for item in page.data)


@pytest.mark.parametrize(
    "params, numbers, has_more",
    [
        ({}, [0, 1, 2, 3, 4], False),
        ({"limit": 2}, [0, 1], True),
        ({"limit": 5}, [0, 1, 2, 3, 4], False),
        ({"limit": 2, "after": 1}, [2, 3], True),
        ({"limit": 2, "after": 3}, [4], False),
        ({"after": 4}, [], False),
        ({"order": "desc"}, [4, 3, 2, 1, 0], False),
        ({"order": "desc", "limit": 2, "after": 3}, [2, 1], True),
        ({"order": "desc", "after": 0}, [], False),
        ({"order": "asc", "limit": 1, "after": 0}, [1], True),
    ],
)
def test_list_pages_in_creation_order(params, numbers, has_more):
    with serve() as s:
        c = client(s)
        ids = [ask(c, f"n{i}", store=True, metadata={"n": str(i)}).id for i in range(5)]
        if "after" in params:
            params = {**params, "after": ids[params["after"]]}
        page = c.chat.completions.list(**params)
    assert [item.metadata["n"] for item in page.data] == [str(n) for n in numbers]
    assert page.has_more is has_more
    body = page.model_dump()
    assert (body["first_id"], body["last_id"]) == (
        (ids[numbers[0]], ids[numbers[-1]]) if numbers else (None, None)
    )


def test_the_sdk_pages_through_everything_by_after():
    with serve() as s:
        c = client(s)
        sent = [ask(c, f"n{i}", store=True, metadata={"run": "r"}).id for i in range(5)]
        listed = [item.id for item in c.chat.completions.list(metadata={"run": "r"}, limit=2)]
        stats = stats_of(s)
    assert listed == sent
    assert stats["list_requests"] == 3  # pages of 2, 2 and 1


def test_one_request_answered_twice_is_stored_twice_under_two_ids():
    with serve() as s:
        c = client(s)
        first, second = (ask(c, store=True, metadata={"k": "same"}) for _ in range(2))
        page = c.chat.completions.list(metadata={"k": "same"})
        stats = stats_of(s)
    assert first.id != second.id
    assert [item.id for item in page.data] == [first.id, second.id]
    assert (stats["keys"], stats["keys_answered_more_than_once"], stats["stored"]) == (1, 1, 2)


def test_listed_items_parse_as_the_answers_that_were_sent():
    with serve() as s:
        c = client(s)
        sent = ask(c, "q", store=True, metadata={"instructgen_key": "abc"})
        (item,) = c.chat.completions.list(metadata={"instructgen_key": "abc"}, limit=1).data
    assert isinstance(item, openai.types.chat.ChatCompletion)
    assert item.model_dump(exclude={"metadata"}) == sent.model_dump(exclude={"metadata"})
    assert item.metadata == {"instructgen_key": "abc"}
    assert (item.choices[0].message.content, item.choices[0].finish_reason) == ("re: q", "stop")
    assert item.usage.total_tokens == item.usage.prompt_tokens + item.usage.completion_tokens


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"limit": 0}, "limit must be"),
        ({"limit": 101}, "limit must be"),
        ({"extra_query": {"limit": "many"}}, "limit must be"),
        ({"order": "newest"}, "order must be"),
        ({"after": "chatcmpl-nothing"}, "no stored chat completion"),
    ],
)
def test_bad_list_parameters_answer_400(params, fragment):
    with serve() as s, pytest.raises(openai.BadRequestError, match=fragment) as caught:
        client(s).chat.completions.list(**params)
    assert caught.value.body["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ({"store": "yes"}, "store must be a boolean"),
        ({"store": True, "metadata": ["k", "v"]}, "metadata must be an object"),
        ({"store": True, "metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16 pairs"),
        ({"store": True, "metadata": {"k" * 65: "v"}}, "at most 64"),
        ({"store": True, "metadata": {"k": "v" * 513}}, "at most 512"),
        ({"store": True, "metadata": {"k": 1}}, "must be a string"),
        ({"metadata": {"k": "v" * 513}}, "at most 512"),  # checked without store too
    ],
)
def test_bad_store_requests_answer_400_and_keep_nothing(extra, fragment):
    with serve() as s:
        c = client(s)
        with pytest.raises(openai.BadRequestError, match=fragment):
            ask(c, extra_body=extra)
        ask(c, store=True, metadata={"k" * 64: "v" * 512, **{f"k{i}": "v" for i in range(15)}})
        assert stats_of(s)["stored"] == 1  # the limits themselves are allowed


@pytest.mark.parametrize("key, allowed", [("right", True), ("wrong", False), ("Right", False)])
def test_listing_needs_the_api_key(key, allowed):
    with serve(api_key="right") as s:
        ask(client(s, "right"), store=True)
        if allowed:
            assert len(client(s, key).chat.completions.list().data) == 1
        else:
            with pytest.raises(openai.AuthenticationError):
                client(s, key).chat.completions.list()
        stats = stats_of(s)
    assert stats["errors"] == ({} if allowed else {"401": 1})
    assert stats["list_requests"] == 1


@pytest.mark.parametrize(
    "options, stored",
    [
        ({}, 1),
        ({"faults": "ok,503*9"}, 1),  # the plan's next entry would fail an answer
        ({"rpm": 1}, 1),  # the one answer spends the limit
        ({"rate_limit_seconds": 60}, 0),  # the first request starts a stretch of 429s
        ({"latency_ms": 1500}, 1),  # a list call does not wait: its timeout is 1 s
    ],
)
def test_listing_is_not_an_answer_and_skips_faults_and_limits(options, stored):
    with serve(**options) as s:
        c = client(s)
        if stored:
            ask(c, store=True, timeout=10)
        else:
            with pytest.raises(openai.RateLimitError):
                ask(c, store=True)
        pages = [c.chat.completions.list(timeout=1) for _ in range(3)]
        stats = stats_of(s)
    assert [len(page.data) for page in pages] == [stored] * 3
    assert (stats["requests"], stats["stored"], stats["list_requests"]) == (1, stored, 3)
    assert stats["served"] == ({"chat": 1} if stored else {})
    assert sum(stats["seen_per_key"].values()) == 1
    assert stats["faults"] == {}
