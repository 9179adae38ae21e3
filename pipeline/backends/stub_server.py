"""The stub model as an OpenAI-compatible HTTP server on 127.0.0.1: a plain ASGI app on uvicorn.

It lets the real OpenAI backend, its retries and its errors be exercised offline, with latency
and injected faults (429 with Retry-After, 500, 503) drawn from a seeded RNG."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import uvicorn

from pipeline.errors import ConfigError
from pipeline.types import Completion, Request, content_hash

Answer = Callable[[Request], Completion]
SLOT_HEADER = b"x-instructgen-slot"
ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}
RATES = ("error_rate", "rate_limit_rate", "malformed_rate", "duplicate_rate", "truncated_rate")


@dataclass(frozen=True)
class ServerOptions:
    """Latency, injected HTTP faults and the stub model's own fault rates."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    seed: int = 0
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0
    truncated_rate: float = 0.0
    model: str = "stub"

    def __post_init__(self) -> None:
        for name in RATES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 1")
        if self.error_rate + self.rate_limit_rate > 1.0:
            raise ConfigError("--error-rate plus --rate-limit-rate must not exceed 1")
        if min(self.latency_ms, self.retry_after) < 0:
            raise ConfigError("--latency-ms and --retry-after must not be negative")


@dataclass
class ServerStats:
    """What the server saw; a cache key is the sha256 of the canonical body plus the slot."""

    requests: int = 0
    served: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    clients: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        """The JSON served at GET /stats."""
        return {
            "requests": self.requests,
            "served": dict(self.served),
            "errors": dict(self.errors),
            "connections": len(self.clients),
            "keys": len(self.seen),
            "keys_seen_more_than_once": sum(n > 1 for n in self.seen.values()),
            "keys_answered_more_than_once": sum(n > 1 for n in self.answered.values()),
            "seen_per_key": dict(self.seen),
        }


class HTTPError(Exception):
    """An error response in OpenAI's shape: {"error": {"message", "type", "code"}}."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def body(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {"error": {"message": self.message, "type": kind, "param": None, "code": None}}


def stub_answer(options: ServerOptions) -> Answer:
    """The shipped StubBackend's synchronous answer, configured from the server options."""
    from pipeline.backends.stub import StubBackend  # imported late: written alongside this module

    names = ("seed", "malformed_rate", "duplicate_rate", "truncated_rate", "model")
    return StubBackend(**{name: getattr(options, name) for name in names}).answer


class StubApp:
    """The ASGI app: routes, fault injection and counters; `answer` replaces the stub in tests."""

    def __init__(self, options: ServerOptions | None = None, answer: Answer | None = None):
        self.options = options or ServerOptions()
        self.answer = answer or stub_answer(self.options)
        self.stats = ServerStats()
        self._faults = random.Random(self.options.seed)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # uvicorn runs with lifespan off; nothing else is served
            return
        body = await _read_body(receive)
        try:
            payload, status, headers = await self._route(scope, body), 200, {}
        except HTTPError as exc:
            payload, status, headers = exc.body(), exc.status, exc.headers
        await _send_json(send, status, payload, headers)

    async def _route(self, scope: dict[str, Any], body: bytes) -> dict[str, Any]:
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == "/stats" and method == "GET":
            return self.stats.to_dict()
        self.stats.requests += 1
        if scope.get("client"):
            self.stats.clients.add(str(scope["client"]))
        if path == "/v1/models" and method == "GET":
            self.stats.served["models"] += 1
            return _models_body(self.options.model)
        if path not in ENDPOINTS:
            raise HTTPError(404, f"no route {method} {path}")
        if method != "POST":
            raise HTTPError(405, f"{path} takes POST")
        return await self._complete(ENDPOINTS[path], scope, body)

    async def _complete(self, api: str, scope: dict[str, Any], raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HTTPError(400, f"body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise HTTPError(400, "body must be a JSON object")
        slot = dict(scope["headers"]).get(SLOT_HEADER, b"").decode("latin-1")
        key = content_hash({"body": body, "slot": slot})
        self.stats.seen[key] += 1
        request = request_from_body(api, body, slot)
        if self.options.latency_ms:
            await asyncio.sleep(self.options.latency_ms / 1000)
        self._maybe_fail()
        completion = self.answer(request)
        self.stats.answered[key] += 1
        self.stats.served[api] += 1
        return response_body(api, key, request.model, completion)

    def _maybe_fail(self) -> None:
        draw, opts = self._faults.random(), self.options
        if draw < opts.error_rate:
            status = self._faults.choice((500, 503))
            self.stats.errors[str(status)] += 1
            raise HTTPError(status, f"injected {status}")
        if draw < opts.error_rate + opts.rate_limit_rate:
            self.stats.errors["429"] += 1
            raise HTTPError(429, "injected rate limit", {"retry-after": f"{opts.retry_after:g}"})


def request_from_body(api: str, body: dict[str, Any], slot: str = "") -> Request:
    """Translate an OpenAI request body into the Request the stub model answers."""
    try:
        if api == "chat":
            system, prompt = _from_messages(body.get("messages"))
            prompts: tuple[str, ...] = (prompt,)
        else:
            system, prompts = None, _prompts(body.get("prompt"))
        stop, bias = body.get("stop") or (), body.get("logit_bias") or {}
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 3072
        return Request(
            model=str(body.get("model") or "stub"),
            prompts=prompts,
            api="chat" if api == "chat" else "completions",
            system=system,
            temperature=float(_default(body.get("temperature"), 1.0)),
            top_p=float(_default(body.get("top_p"), 1.0)),
            max_tokens=int(max_tokens),
            stop=(stop,) if isinstance(stop, str) else tuple(str(s) for s in stop),
            logit_bias=tuple(sorted((str(k), int(v)) for k, v in dict(bias).items())),
            slot=slot,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise HTTPError(400, f"bad request body: {exc}") from exc


def _default(value: Any, default: float) -> Any:
    return default if value is None else value


def _from_messages(messages: Any) -> tuple[str | None, str]:
    if not isinstance(messages, list) or not messages:
        raise TypeError("messages must be a non-empty list")
    system = next((m["content"] for m in messages if m.get("role") == "system"), None)
    users = [m["content"] for m in messages if m.get("role") == "user"]
    if not users or not all(isinstance(t, str) for t in [*users, system or ""]):
        raise ValueError("messages need a user message, and contents must be strings")
    return system, users[-1]


def _prompts(prompt: Any) -> tuple[str, ...]:
    if isinstance(prompt, str):
        return (prompt,)
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return tuple(prompt)
    raise TypeError("prompt must be a string or a non-empty list of strings")


def response_body(api: str, key: str, model: str, completion: Completion) -> dict[str, Any]:
    """The OpenAI-shaped JSON for a stub Completion (chat.completion or text_completion)."""
    chat = api == "chat"
    choices = []
    for i, c in enumerate(completion.choices):
        choice: dict[str, Any] = {"index": i if chat else c.index, "logprobs": None}
        if chat:
            choice["message"] = {"role": "assistant", "content": c.text}
        else:
            choice["text"] = c.text
        choices.append({**choice, "finish_reason": c.finish_reason})
    u = completion.usage
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{key[:24]}",
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {**asdict(u), "total_tokens": u.prompt_tokens + u.completion_tokens},
    }


def _models_body(model: str) -> dict[str, Any]:
    entry = {"id": model, "object": "model", "created": 0, "owned_by": "instructgen"}
    return {"object": "list", "data": [entry]}


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_json(send: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
    data = json.dumps(payload).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def _uvicorn_config(app: Any, log_level: str = "warning") -> uvicorn.Config:
    # h11 (httptools is not installed) keeps connections alive since every response has a
    # content-length; a long keep-alive stops clients reusing a connection being closed.
    return uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=75,
    )


def _loopback(host: str) -> str:
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"the stub server binds to 127.0.0.1 only, not {host}; drop --host")
    return host


class StubServer:
    """The stub server on a background thread (port 0 picks a free port); a context manager."""

    def __init__(self, port: int = 0, app: Any = None, **options: Any):
        self.app = app if app is not None else StubApp(ServerOptions(**options))
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 10.0) -> str:
        """Serve in a thread; return the base URL once the socket accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(_uvicorn_config(self.app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"stub server on port {self.port} did not start")
            time.sleep(0.005)
        return self.base_url

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for its thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> StubServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_server(host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serve the stub model until interrupted (the `instructgen stub-server` command)."""
    host = _loopback(host)
    config = _uvicorn_config(StubApp(ServerOptions(**options)), log_level="info")
    config.host, config.port = host, port
    print(f"point a run at it: --backend openai --model stub --base-url http://{host}:{port}/v1")
    uvicorn.Server(config).run()
