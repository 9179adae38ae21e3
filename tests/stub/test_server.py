"""The stub HTTP server: body translation, routes, injected faults and /stats, over 127.0.0.1."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from pipeline.errors import ConfigError
from pipeline.stub.server import ServerOptions, StubApp, StubServer, request_from_body, run_server
from pipeline.types import Choice, Completion, Request, Usage


def echo(request: Request) -> Completion:
    """A stand-in model: one choice per prompt that names its prompt."""
    choices = tuple(Choice(f"re: {p}", "stop", i) for i, p in enumerate(request.prompts))
    return Completion(choices, Usage(len(request.prompts), 2), request.model)


def serve(**options) -> StubServer:
    return StubServer(app=StubApp(ServerOptions(**options), answer=echo))


def call(server: StubServer, method: str, path: str, body=None, headers=None, conn=None):
    """One HTTP exchange; returns (status, headers, decoded JSON)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers=headers or {})
    response = conn.getresponse()
    payload = json.loads(response.read())
    if own:
        conn.close()
    return response.status, dict(response.getheaders()), payload


@pytest.fixture(scope="module")
def server():
    with serve() as s:
        yield s


CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "api, body, slot, expected",
    [
        ("chat", CHAT, "", Request("m", ("hi",))),
        (
            "chat",
            {
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "first"},
                    {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": "last"},
                ],
                "temperature": 0.2,
                "top_p": 0.9,
                "max_tokens": 50,
                "stop": "###",
            },
            "s7",
            Request(
                "m",
                ("last",),
                "chat",
                "be brief",
                0.2,
                0.9,
                50,
                ("###",),
                slot="s7",
                history=(("user", "first"), ("assistant", "ok")),
            ),
        ),
        (
            "completions",
            {"model": "m", "prompt": "one", "stop": None, "temperature": None},
            "",
            Request("m", ("one",), "completions"),
        ),
        (
            "completions",
            {
                "model": "m",
                "prompt": ["a", "b"],
                "stop": ["\n20", "20."],
                "logit_bias": {"50256": -100},
            },
            "x",
            Request(
                "m",
                ("a", "b"),
                "completions",
                stop=("\n20", "20."),
                logit_bias=(("50256", -100),),
                slot="x",
            ),
        ),
    ],
)
def test_request_from_body(api, body, slot, expected):
    assert request_from_body(api, body, slot) == expected


U, A, S = ({"role": r, "content": "x"} for r in ("user", "assistant", "system"))


@pytest.mark.parametrize(
    "path, body, fragment",
    [
        ("/v1/chat/completions", b"{not json", "not JSON"),
        ("/v1/chat/completions", [1, 2], "JSON object"),
        ("/v1/chat/completions", {"messages": []}, "non-empty list"),
        ("/v1/chat/completions", {"messages": [{"role": "system", "content": "s"}]}, "user"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": 3}]}, "strings"),
        ("/v1/chat/completions", {"messages": [U, A]}, "ending with a user turn"),
        ("/v1/chat/completions", {"messages": [U, U]}, "alternating"),
        ("/v1/chat/completions", {"messages": [A, U]}, "alternating"),
        ("/v1/chat/completions", {"messages": [U, A, S, U]}, "alternating"),
        ("/v1/completions", {"prompt": 5}, "prompt must be"),
        ("/v1/completions", {"prompt": []}, "prompt must be"),
        ("/v1/completions", {"prompt": "p", "max_tokens": "many"}, "bad request body"),
    ],
)
def test_bad_bodies_answer_400_in_openai_shape(server, path, body, fragment):
    status, _, payload = call(server, "POST", path, body)
    assert status == 400
    assert fragment in payload["error"]["message"]


@pytest.mark.parametrize(
    "method, path, status, check",
    [
        ("GET", "/v1/models", 200, lambda p: p["data"][0]["id"] == "stub"),
        ("GET", "/v1/nowhere", 404, lambda p: "no route" in p["error"]["message"]),
        ("GET", "/v1/completions", 405, lambda p: "POST" in p["error"]["message"]),
        ("GET", "/v1/chat/completions", 200, lambda p: p["object"] == "list"),
        ("DELETE", "/v1/chat/completions", 405, lambda p: "GET" in p["error"]["message"]),
        ("PUT", "/v1/chat/completions", 405, lambda p: "POST" in p["error"]["message"]),
        ("POST", "/v1/completions", 200, lambda p: p["object"] == "text_completion"),
        ("POST", "/v1/chat/completions", 200, lambda p: p["object"] == "chat.completion"),
    ],
)
def test_routes(server, method, path, status, check):
    body = {"model": "m", "prompt": "p", "messages": CHAT["messages"]}
    got, headers, payload = call(server, method, path, body if method == "POST" else None)
    assert (got, headers["content-type"]) == (status, "application/json")
    assert check(payload)


@pytest.mark.parametrize(
    "path, body, choice",
    [
        (
            "/v1/chat/completions",
            CHAT,
            {
                "index": 0,
                "logprobs": None,
                "message": {"role": "assistant", "content": "re: hi"},
                "finish_reason": "stop",
            },
        ),
        (
            "/v1/completions",
            {"model": "m", "prompt": ["x", "y"]},
            {"index": 1, "logprobs": None, "text": "re: y", "finish_reason": "stop"},
        ),
    ],
)
def test_responses_follow_openai_schema(server, path, body, choice):
    _, _, payload = call(server, "POST", path, body)
    assert set(payload) == {"id", "object", "created", "model", "choices", "usage"}
    assert payload["choices"][-1] == choice
    assert payload["model"] == "m"
    usage = payload["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_stats_count_requests_keys_and_connections():
    with serve() as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
        for slot in ("a", "a", "b"):
            call(s, "POST", "/v1/chat/completions", CHAT, {"X-Instructgen-Slot": slot}, conn)
        call(s, "POST", "/v1/completions", {"prompt": "p"}, conn=conn)
        call(s, "GET", "/v1/models", conn=conn)
        _, _, stats = call(s, "GET", "/stats", conn=conn)
    assert stats["requests"] == 5
    assert stats["served"] == {"chat": 3, "completions": 1, "models": 1}
    assert (stats["keys"], stats["keys_seen_more_than_once"]) == (3, 1)
    assert stats["keys_answered_more_than_once"] == 1
    assert sorted(stats["seen_per_key"].values()) == [1, 1, 2]
    assert stats["connections"] == 1  # keep-alive: one connection carried every request


@pytest.mark.parametrize(
    "options, statuses",
    [
        ({"error_rate": 1.0}, {500, 503}),
        ({"rate_limit_rate": 1.0}, {429}),
        ({"error_rate": 0.3, "rate_limit_rate": 0.3}, {200, 429, 500, 503}),
        ({}, {200}),
    ],
)
def test_injected_faults_are_counted(options, statuses):
    with serve(seed=3, retry_after=4, **options) as s:
        replies = [call(s, "POST", "/v1/completions", {"prompt": "p"}) for _ in range(40)]
        _, _, stats = call(s, "GET", "/stats")
    assert {status for status, _, _ in replies} == statuses
    assert all(h.get("retry-after") == "4" for status, h, _ in replies if status == 429)
    for kind in ("429", "500", "503"):
        assert stats["errors"].get(kind, 0) == sum(str(r[0]) == kind for r in replies)
    assert stats["served"].get("completions", 0) == sum(r[0] == 200 for r in replies)


def test_faults_repeat_for_the_same_seed():
    def statuses(seed: int) -> list[int]:
        with serve(seed=seed, error_rate=0.5) as s:
            return [call(s, "POST", "/v1/completions", {"prompt": "p"})[0] for _ in range(20)]

    assert statuses(1) == statuses(1)
    assert statuses(1) != statuses(2)


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"error_rate": 1.5}, "--error-rate"),
        ({"rate_limit_rate": -0.1}, "--rate-limit-rate"),
        ({"truncated_rate": 2}, "--truncated-rate"),
        ({"error_rate": 0.6, "rate_limit_rate": 0.6}, "must not exceed 1"),
        ({"latency_ms": -1}, "--latency-ms"),
    ],
)
def test_bad_options_name_the_flag(options, fragment):
    with pytest.raises(ConfigError, match=fragment):
        ServerOptions(**options)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com"])
def test_run_server_binds_loopback_only(host):
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1 only"):
        run_server(host=host, port=0)


def test_base_url_points_at_v1_on_a_free_port():
    with serve() as s:
        url = urlsplit(s.base_url)
        assert (url.hostname, url.path) == ("127.0.0.1", "/v1")
        assert url.port == s.port and s.port > 0
        assert call(s, "GET", "/v1/models")[0] == 200


def test_default_app_answers_with_the_stub_backend():
    pytest.importorskip("pipeline.stub.model")
    with StubServer() as s:
        body = {"model": "stub", "prompt": ["p1", "p2"]}
        status, _, payload = call(s, "POST", "/v1/completions", body, {"X-Instructgen-Slot": "1"})
    assert status == 200
    assert [c["index"] for c in payload["choices"]] == [0, 1]
    assert payload["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize(
    "options",
    [
        {"rate_limit_rate": 1.0},  # random 429s
        {"faults": "429"},  # a scripted one
        {"rate_limit_seconds": 60},  # a long stretch
        {"rpm": 1, "limit_window": 1},  # a limit: the second request passes it
    ],
)
@pytest.mark.parametrize("header", [True, False])
def test_429s_say_when_to_retry_unless_told_not_to(options, header):
    with serve(retry_after_header=header, **options) as s:
        replies = [call(s, "POST", "/v1/completions", {"prompt": "p"}) for _ in range(2)]
    limited = [h for status, h, _ in replies if status == 429]
    assert limited
    said = [bool({"retry-after", "retry-after-ms"} & {k.lower() for k in h}) for h in limited]
    assert said == [header] * len(limited)
