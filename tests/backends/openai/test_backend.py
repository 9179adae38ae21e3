"""The OpenAI backend over real HTTP on 127.0.0.1: both APIs, what is sent, and error mapping."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest

from pipeline.backends.openai.backend import PLACEHOLDER_KEY, OpenAIBackend, parse_retry_after
from pipeline.errors import BackendError, ConfigError, TransientBackendError
from pipeline.stub.server import ServerOptions, StubApp, StubServer
from pipeline.types import Choice, Completion, Request, Usage, canonical_json

KEY = "sk-test-secret-0123456789"


def echo(request: Request) -> Completion:
    """A stand-in model whose every answer is what it was asked, as JSON, in reverse order
    (so the backend must put choices back by index); prompts with LONG stop for length."""
    seen = request.to_dict()
    choices = [
        Choice(canonical_json({**seen, "prompt": p}), "length" if "LONG" in p else "stop", i)
        for i, p in enumerate(request.prompts)
    ]
    return Completion(tuple(reversed(choices)), Usage(11 * len(choices), 7), request.model)


class ScriptedApp:
    """Answers every request with the next scripted (status, headers, body, delay); records
    the paths, headers and JSON bodies it received."""

    def __init__(self):
        self.replies: list[tuple[int, dict[str, str], bytes, float]] = []
        self.headers: list[dict[str, str]] = []
        self.bodies: list[dict] = []
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        chunks = [await receive()]
        while chunks[-1].get("more_body"):
            chunks.append(await receive())
        self.paths.append(scope["path"])
        raw_body = b"".join(c.get("body", b"") for c in chunks)
        self.bodies.append(json.loads(raw_body) if raw_body else {})  # a GET has none
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        status, headers, body, delay = self.replies.pop(0)
        await asyncio.sleep(delay)
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def stub_url():
    with StubServer(app=StubApp(ServerOptions(), answer=echo)) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def scripted():
    app = ScriptedApp()
    with StubServer(app=app) as server:
        yield app, server.base_url


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def complete(backend: OpenAIBackend, request: Request) -> Completion:
    async def go() -> Completion:
        try:
            return await backend.complete(request)
        finally:
            await backend.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize(
    "request_, sent",
    [
        (
            Request("m", ("hello",), "chat", system="be brief", temperature=0.5, slot="s1"),
            [{"prompt": "hello", "system": "be brief", "temperature": 0.5, "slot": "s1"}],
        ),
        (
            Request("m", ("a", "b", "c"), "completions", stop=("\n20", "20."), max_tokens=99),
            [{"prompt": p, "stop": ["\n20", "20."], "max_tokens": 99} for p in "abc"],
        ),
        (
            Request("m", ("x",), "completions", logit_bias=(("50256", -100),), top_p=0.9),
            [{"prompt": "x", "logit_bias": [["50256", -100]], "top_p": 0.9, "stop": []}],
        ),
    ],
)
def test_what_the_server_receives(stub_url, request_, sent):
    completion = complete(OpenAIBackend("m", base_url=stub_url), request_)
    received = [json.loads(c.text) for c in completion.choices]
    for got, want in zip(received, sent, strict=True):
        assert {k: got[k] for k in want} == want
        assert got["api"] == request_.api


@pytest.mark.parametrize(
    "prompts, reasons",
    [
        (("one",), ["stop"]),
        (("p0", "p1 LONG", "p2", "p3", "p4"), ["stop", "length", "stop", "stop", "stop"]),
    ],
)
def test_completions_choices_map_back_by_index(stub_url, prompts, reasons):
    request = Request("m", prompts, "completions")
    completion = complete(OpenAIBackend("m", base_url=stub_url), request)
    assert [c.index for c in completion.choices] == list(range(len(prompts)))
    assert [json.loads(c.text)["prompt"] for c in completion.choices] == list(prompts)
    assert [c.finish_reason for c in completion.choices] == reasons
    assert completion.usage == Usage(11 * len(prompts), 7)
    assert completion.model == "m"


def test_chat_takes_exactly_one_prompt(stub_url):
    with pytest.raises(ConfigError, match="exactly one prompt"):
        complete(OpenAIBackend("m", base_url=stub_url), Request("m", ("a", "b"), "chat"))


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


JSON = {"content-type": "application/json"}
OK_CHAT = {"id": "x", "object": "chat.completion", "created": 0, "model": "m"}
ONE = [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]


@pytest.mark.parametrize(
    "status, headers, body, expected",
    [
        # No usage reported: counted by pipeline/tokens.py ("p" 1 + 4 a message; "hi" 1).
        (200, JSON, _json({**OK_CHAT, "choices": ONE, "usage": None}), Usage(5, 1)),
        (200, JSON, _json({**OK_CHAT, "choices": ONE}), Usage(5, 1)),
        (200, JSON, _json({**OK_CHAT, "choices": [], "usage": None}), Usage(5, 0)),
        (200, JSON, _json({**OK_CHAT, "choices": ONE, "usage": {}}), Usage(5, 1)),
        (200, JSON, _json({**OK_CHAT, "choices": ONE, "usage": {"prompt_tokens": 0,
                                                                 "completion_tokens": 0}}),
         Usage(5, 1)),
        (200, JSON, _json({**OK_CHAT, "choices": ONE, "usage": {"prompt_tokens": 3,
                                                                 "completion_tokens": 4}}),
         Usage(3, 4)),
    ],
)  # fmt: skip
def test_usage_and_empty_choices(scripted, status, headers, body, expected):
    app, url = scripted
    app.replies = [(status, headers, body, 0.0)]
    completion = complete(OpenAIBackend("m", base_url=url), Request("m", ("p",)))
    assert completion.usage == expected
    assert len(completion.choices) == (0 if b'"choices": []' in body else 1)


ERR = _json({"error": {"message": "the server says no", "type": "x"}})


@pytest.mark.parametrize(
    "status, headers, body, error, fragments, retry_after",
    [
        (429, {"retry-after": "7"}, ERR, TransientBackendError, ["HTTP 429"], 7.0),
        (429, {"retry-after-ms": "250"}, ERR, TransientBackendError, ["HTTP 429"], 0.25),
        (503, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, ERR, TransientBackendError,
         ["HTTP 503"], 0.0),
        (500, JSON, ERR, TransientBackendError, ["HTTP 500", "the server says no"], None),
        (502, {}, b"bad gateway", TransientBackendError, ["HTTP 502"], None),
        (408, JSON, ERR, TransientBackendError, ["HTTP 408"], None),
        (409, JSON, ERR, TransientBackendError, ["HTTP 409"], None),
        (200, JSON, b"{not json", TransientBackendError, ["unparseable"], None),
        (200, {"content-type": "text/html"}, b"<html>", TransientBackendError,
         ["unparseable"], None),
        (200, JSON, _json({"object": "chat.completion"}), TransientBackendError,
         ["unparseable"], None),
        (401, JSON, ERR, BackendError, ["OPENAI_API_KEY", "--api-key-env", "--backend stub"],
         None),
        (403, JSON, ERR, BackendError, ["HTTP 403", "--backend stub"], None),
        (429, JSON, _json({"error": {"message": "quota", "code": "insufficient_quota"}}),
         BackendError, ["out of quota", "add credits"], None),
        (404, JSON, ERR, BackendError, ["'m'", "127.0.0.1", "--model", "--base-url"], None),
        (400, JSON, ERR, BackendError, ["HTTP 400", "the server says no"], None),
        (422, JSON, b"", BackendError, ["HTTP 422"], None),
    ],
)  # fmt: skip
def test_error_mapping(scripted, status, headers, body, error, fragments, retry_after):
    app, url = scripted
    app.replies = [(status, {**JSON, **headers}, body, 0.0)]
    with pytest.raises(error) as caught:
        complete(OpenAIBackend("m", base_url=url), Request("m", ("p",)))
    assert type(caught.value) is error
    for fragment in fragments:
        assert fragment in str(caught.value)
    if error is TransientBackendError:
        assert caught.value.retry_after == retry_after
        assert caught.value.status == (status if status != 200 else None)


@pytest.mark.parametrize(
    "options, statuses",
    [({"rate_limit_rate": 1.0, "retry_after": 3}, {429}), ({"error_rate": 1.0}, {500, 503})],
)
def test_injected_faults_from_the_stub_server_are_transient(options, statuses):
    with StubServer(app=StubApp(ServerOptions(**options), answer=echo)) as server:
        backend = OpenAIBackend("m", base_url=server.base_url)
        errors = []
        for _ in range(4):
            with pytest.raises(TransientBackendError) as caught:
                complete(backend, Request("m", ("p",)))
            errors.append(caught.value)
    assert {e.status for e in errors} <= statuses
    assert {e.retry_after for e in errors} == ({3.0} if 429 in statuses else {None})


def test_timeout_is_transient(scripted):
    app, url = scripted
    app.replies = [(200, JSON, ERR, 0.4)]
    with pytest.raises(TransientBackendError, match="timed out"):
        complete(OpenAIBackend("m", base_url=url, timeout=0.1), Request("m", ("p",)))


def test_connection_refused_is_transient():
    with socket.socket() as sock:  # a port nobody listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(TransientBackendError, match="cannot connect"):
        complete(backend, Request("m", ("p",)))


@pytest.mark.parametrize(
    "env, base_url, error",
    [
        ({"OPENAI_API_KEY": ""}, None, "no API key: set OPENAI_API_KEY (or --api-key-env NAME)"),
        ({"MY_KEY": ""}, None, "no API key: set MY_KEY"),
        ({"OPENAI_API_KEY": ""}, "http://127.0.0.1:1/v1", None),
        ({"OPENAI_API_KEY": KEY}, None, None),
    ],
)
def test_api_key_rules(monkeypatch, env, base_url, error):
    for name, value in env.items():
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    key_env = next(iter(env))
    if error:
        with pytest.raises(BackendError) as caught:
            OpenAIBackend("m", base_url=base_url, api_key_env=key_env)
        assert error in str(caught.value) and "--backend stub" in str(caught.value)
    else:
        assert KEY not in repr(OpenAIBackend("m", base_url=base_url, api_key_env=key_env))


@pytest.mark.parametrize("env_value, sent", [(KEY, KEY), (None, PLACEHOLDER_KEY)])
def test_key_is_sent_but_never_logged_or_shown(scripted, monkeypatch, caplog, env_value, sent):
    app, url = scripted
    if env_value is None:
        monkeypatch.delenv("OPENAI_API_KEY")
    app.replies = [(401, JSON, _json({"error": {"message": f"bad key {sent}"}}), 0.0)]
    backend = OpenAIBackend("m", base_url=url)
    with caplog.at_level(logging.DEBUG), pytest.raises(BackendError) as caught:
        complete(backend, Request("m", ("p",)))
    assert app.headers[-1]["authorization"] == f"Bearer {sent}"
    assert caplog.records  # the SDK did log at DEBUG, so the next check means something
    for text in (caplog.text, repr(backend), str(caught.value), repr(vars(backend))):
        assert KEY not in text


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_only_the_api_key_is_sent_never_an_admin_key(scripted, monkeypatch, api):
    app, url = scripted
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-never-sent")
    app.replies = [(200, JSON, _json({**OK_CHAT, "choices": []}), 0.0)]
    complete(OpenAIBackend("m", base_url=url), Request("m", ("p",), api))
    assert app.headers[-1]["authorization"] == f"Bearer {KEY}"
    assert "sk-admin-never-sent" not in repr(app.headers[-1])


def test_slot_header_reaches_the_server(scripted):
    app, url = scripted
    app.replies = [(200, JSON, _json({**OK_CHAT, "choices": ONE}), 0.0)]
    complete(OpenAIBackend("m", base_url=url), Request("m", ("p",), slot="slot-42"))
    assert app.headers[-1]["x-instructgen-slot"] == "slot-42"


@pytest.mark.parametrize(
    "request_, path, body",
    [
        (
            Request("m", ("hi",), "chat", temperature=0.7, top_p=0.9, max_tokens=64),
            "/chat/completions",
            {
                "model": "m",
                "messages": [{"role": "user", "content": "hi"}],
                "temperature": 0.7,
                "top_p": 0.9,
                "max_tokens": 64,
            },
        ),
        (
            Request("", ("hi",), "chat", system="sys", stop=("###",)),
            "/chat/completions",
            {
                "model": "default-model",
                "messages": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": "hi"},
                ],
                "temperature": 1.0,
                "top_p": 1.0,
                "max_tokens": 3072,
                "stop": ["###"],
            },
        ),
        (
            Request("m", ("a", "b"), "completions", stop=("20.",), logit_bias=(("50256", -100),)),
            "/completions",
            {
                "model": "m",
                "prompt": ["a", "b"],
                "temperature": 1.0,
                "top_p": 1.0,
                "max_tokens": 3072,
                "stop": ["20."],
                "logit_bias": {"50256": -100},
            },
        ),
    ],
)
def test_the_wire_format(scripted, request_, path, body):
    app, url = scripted
    app.replies = [(200, JSON, _json({**OK_CHAT, "choices": []}), 0.0)]
    complete(OpenAIBackend("default-model", base_url=url), request_)
    assert (app.paths[-1], app.bodies[-1]) == ("/v1" + path, body)


NOW = 1_000_000_000.0  # 2001-09-09T01:46:40Z


@pytest.mark.parametrize(
    "headers, seconds",
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Sun, 09 Sep 2001 01:47:10 GMT"}, 30.0),
        ({"retry-after": "Sun, 09 Sep 2001 01:40:00 GMT"}, 0.0),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"x-other": "1"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, seconds):
    assert parse_retry_after(headers, now=NOW) == seconds


TASKS_PROMPT = (
    "List tasks.\n###\n1. Instruction: Say hi.\n1. Input:\n<noinput>\n1. Output:\nHi.\n"
    "###\n2. Instruction:"
)


@pytest.mark.parametrize(
    "stop, options, check",
    [
        ((), {}, lambda c: "###" in c.text and c.finish_reason == "stop"),
        (("###",), {}, lambda c: "###" not in c.text and c.text.strip()),
        ((), {"truncated_rate": 1.0}, lambda c: c.finish_reason == "length"),
    ],
)
def test_the_stub_model_over_http_honours_stop_and_faults(stop, options, check):
    pytest.importorskip("pipeline.stub.model")
    with StubServer(**options) as server:
        request = Request("stub", (TASKS_PROMPT,) * 3, "completions", stop=stop, slot="1")
        completion = complete(OpenAIBackend("stub", base_url=server.base_url), request)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert all(check(c) for c in completion.choices)
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


STORED = Request("m", ("p",), slot="lost-1")


def _listed(key: str) -> dict:
    return {**OK_CHAT, "choices": ONE, "metadata": {"instructgen_key": key}}


@pytest.mark.parametrize(
    "status, body, outcome",
    [
        (200, _json({"object": "list", "data": [_listed(STORED.key())]}), "found"),
        (200, _json({"object": "list", "data": []}), None),
        # A server that ignores the metadata filter: another request's answer is not taken.
        (200, _json({"object": "list", "data": [_listed("another-key")]}), None),
        (200, _json({"data": {"not": "a list"}}), None),
        (200, b"<html>not json</html>", None),
        (503, ERR, TransientBackendError),  # the store could not say: looked up again
        (405, ERR, BackendError),  # no stored completions here (vLLM, llama.cpp)
    ],
)
def test_recover_takes_only_this_requests_stored_answer(scripted, status, body, outcome):
    app, url = scripted
    app.replies = [(status, JSON, body, 0.0)]
    backend = OpenAIBackend("m", base_url=url, store=True)

    async def go():
        try:
            return await backend.recover(STORED)
        finally:
            await backend.aclose()

    if isinstance(outcome, type):
        with pytest.raises(outcome):
            asyncio.run(go())
        return
    found = asyncio.run(go())
    assert (found.choices[0].text if found else None) == ("hi" if outcome else None)
    assert app.paths[-1] == "/v1/chat/completions"
