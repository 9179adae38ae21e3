"""The stub model as an OpenAI-compatible HTTP server on 127.0.0.1: a plain ASGI app on uvicorn.

It lets the real OpenAI backend, its retries and its errors be exercised offline: latency,
random faults (429 with Retry-After, 500, 503) from a seeded RNG, scripted faults and rate limits
(pipeline/stub/faults.py), a required API key and strict model names. Like a provider,
it stops working for a client that has gone: an answer whose client disconnected during its
latency is neither sent nor counted as answered (it is counted as abandoned). Chat answers
asked for with `"store": true` are kept and listed as OpenAI's stored completions
(pipeline/stub/store.py), so a client can find an answer it paid for but lost. OpenAI's Files
and Batch APIs are served under /v1/files and /v1/batches (pipeline/stub/batches.py)."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from pipeline.errors import ConfigError
from pipeline.stub.batches import PATHS as BATCH_PATHS
from pipeline.stub.batches import BatchApi
from pipeline.stub.faults import (
    ClientGone,
    FaultPlan,
    HTTPError,
    Presence,
    Reset,
    cut_off,
    fault_error,
    reset_connection,
    retry_after_header,
)
from pipeline.stub.options import ServerOptions, ServerStats
from pipeline.stub.store import CompletionStore, ListQuery, stored_metadata
from pipeline.stub.wire import (
    models_body,
    read_body,
    refuse_as_reasoning_model,
    request_from_body,
    response_body,
    send_json,
)
from pipeline.types import Completion, Request, content_hash

__all__ = [
    "HTTPError",
    "ServerOptions",
    "ServerStats",
    "StubApp",
    "StubServer",
    "request_from_body",
    "run_server",
]

Answer = Callable[[Request], Completion]
SLOT_HEADER = b"x-instructgen-slot"
CHAT_PATH = "/v1/chat/completions"
ENDPOINTS = {CHAT_PATH: "chat", "/v1/completions": "completions"}
HANG_LIMIT = 3600.0  # seconds a hung request waits for its client to give up
MALFORMED_BODY = b'{"id": "chatcmpl-cut", "object": "chat.completion", "choices": [{"ind'


def stub_answer(options: ServerOptions) -> Answer:
    """The shipped StubBackend's synchronous answer, configured from the server options."""
    from pipeline.methods import stub_model

    names = ("seed", "malformed_rate", "duplicate_rate", "truncated_rate", "model")
    return stub_model(**{name: getattr(options, name) for name in names}).answer


class StubApp:
    """The ASGI app: routes, fault injection and counters; `answer` replaces the stub in tests."""

    def __init__(self, options: ServerOptions | None = None, answer: Answer | None = None):
        self.options = options or ServerOptions()
        self.answer = answer or stub_answer(self.options)
        self.stats = ServerStats()
        self.store = CompletionStore()
        self._faults = random.Random(self.options.seed)
        self._plan = FaultPlan(self.options.faults)
        self._limits = self.options.limits()
        self.batches = BatchApi(self.options, self.answer, self.stats, self._check_model)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # uvicorn runs with lifespan off; nothing else is served
            return
        body = await read_body(receive)
        gone = Presence(receive, send)
        try:
            payload, status, headers = await self._route(scope, body, gone), 200, {}
        except HTTPError as exc:
            self.stats.errors[str(exc.status)] += 1
            if self.options.echo_key:
                exc.message += f" (key sent: {_bearer(scope)})"
            payload, status, headers = exc.body(), exc.status, exc.headers
        except ClientGone:
            self.stats.abandoned += 1
            return
        except Reset:
            await reset_connection(send, gone)
            return
        finally:
            gone.close()
        await send_json(send, status, payload, headers)

    async def _route(self, scope: dict[str, Any], body: bytes, gone: Presence) -> Any:
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == "/stats" and method == "GET":
            return self.stats.to_dict()
        if path == CHAT_PATH and method == "GET":
            return self._list(scope)
        if self.options.batches and path.startswith(BATCH_PATHS):
            self._check_key(scope)
            return self.batches.route(scope, path, body)
        self.stats.requests += 1
        if scope.get("client"):
            self.stats.clients.add(str(scope["client"]))
        if path == "/v1/models" and method == "GET":
            self._check_key(scope)
            self.stats.served["models"] += 1
            return models_body(self.options.model)
        if path not in ENDPOINTS:
            raise HTTPError(404, f"no route {method} {path}")
        if method != "POST":
            raise HTTPError(405, f"{path} takes POST" + (" or GET" if path == CHAT_PATH else ""))
        return await self._complete(ENDPOINTS[path], scope, body, gone)

    async def _complete(self, api: str, scope: dict[str, Any], raw: bytes, gone: Presence) -> Any:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise HTTPError(400, f"body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise HTTPError(400, "body must be a JSON object")
        slot = dict(scope["headers"]).get(SLOT_HEADER, b"").decode("latin-1")
        slot = "" if self.options.ignore_slot else slot
        key = content_hash({"body": body, "slot": slot})
        self.stats.seen[key] += 1
        self._check_key(scope)
        if self.options.reasoning and api == "chat":
            refuse_as_reasoning_model(body)
        request = request_from_body(api, body, slot)
        metadata = stored_metadata(body) if api == "chat" else None
        self._check_model(request.model)
        self._limits.check(request)  # a provider counts a request against its limits on arrival
        fault = self._plan.next()
        if fault != "ok":
            self.stats.faults[fault] += 1
        latency = HANG_LIMIT if fault == "hang" else self.options.latency_ms / 1000
        # An answer to be stored is finished (and billed) even if its client leaves, as a
        # provider does; any other stops when its client has gone.
        finish = metadata is not None and fault != "hang"
        if latency:
            await (asyncio.sleep(latency) if finish else gone.wait(latency))
        if fault == "hang":
            raise ClientGone
        answer = self._answer(api, key, request, fault, gone, finish)
        if metadata is None or not isinstance(answer, dict):
            return answer
        self.stats.stored += 1
        stored = self.store.add(answer, metadata)
        if gone.gone():
            raise ClientGone  # stored, never sent: the client finds it by its metadata
        return stored

    def _list(self, scope: dict[str, Any]) -> dict[str, Any]:
        """List stored chat completions: no faults, limits or latency, and not an answer."""
        self.stats.list_requests += 1
        self._check_key(scope)
        return self.store.page(ListQuery.parse(scope.get("query_string", b"")))

    def _answer(
        self, api: str, key: str, request: Request, fault: str, gone: Presence, finish: bool
    ) -> Any:
        error = fault_error(fault, self.options.retry_after_or_none)
        if error is not None:
            raise error
        if fault == "reset":
            raise Reset
        if fault == "malformed":
            return MALFORMED_BODY
        self._maybe_fail()
        completion = self.answer(request)
        if fault == "length":
            completion = cut_off(completion)
        elif fault == "empty":
            completion = Completion((), completion.usage, completion.model)
        # Checked last, right before the answer is sent: a provider stops working for a client
        # that has gone, and its answer is neither sent nor counted.
        if gone.gone() and not finish:
            raise ClientGone
        self.stats.answered[key] += 1
        self.stats.answered_slots.add(request.slot)
        self.stats.served[api] += 1
        return response_body(api, key, request.model, completion)

    def _check_key(self, scope: dict[str, Any]) -> None:
        key = self.options.api_key
        if key is not None and _bearer(scope) != key:
            raise HTTPError(401, "Incorrect API key provided.", code="invalid_api_key")

    def _check_model(self, model: str) -> None:
        if self.options.strict_model and model != self.options.model:
            message = f"The model `{model}` does not exist or you do not have access to it."
            raise HTTPError(404, message, code="model_not_found")

    def _maybe_fail(self) -> None:
        draw, opts = self._faults.random(), self.options
        if draw < opts.error_rate:
            status = self._faults.choice((500, 503))
            raise HTTPError(status, f"injected {status}")
        if draw < opts.error_rate + opts.rate_limit_rate:
            wait = retry_after_header(opts.retry_after_or_none)
            raise HTTPError(429, "injected rate limit", wait)


def _bearer(scope: dict[str, Any]) -> str:
    auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    return auth.removeprefix("Bearer ").strip()


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
