"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp, our stub server) via the SDK."""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from collections.abc import Mapping
from typing import Any

import openai

from pipeline.backends.openai.adapt import ADAPTABLE, ParamAdapter, cut_at_stops
from pipeline.backends.openai.wire import KEY_FIELD, chat_completion, stored_answer, text_completion
from pipeline.errors import BackendError, ConfigError, TransientBackendError
from pipeline.secrets import redact_url, scrub
from pipeline.types import Completion, Request

SLOT_HEADER = "X-Instructgen-Slot"
# Local servers (vLLM, llama.cpp, the stub) accept any bearer token, but the SDK insists on one.
PLACEHOLDER_KEY = "no-key-needed"
TRANSIENT_STATUSES = frozenset({408, 409})
# What the SDK's create() asks for: the API key as a bearer token, never the admin key.
BEARER_ONLY = {"bearer_auth": True}


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(0.0, float(lowered[name]) / scale)
        except (KeyError, ValueError):
            continue
    try:
        when = email.utils.parsedate_to_datetime(lowered["retry-after"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class OpenAIBackend:
    """Chat or legacy completions through `openai.AsyncOpenAI`, with the SDK's retries off."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        store: bool = False,
        user_sampling: frozenset[str] = frozenset(),
    ):
        self.model = model  # used when a Request leaves its model empty
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.store = store  # chat answers are stored by the provider, tagged with their key
        # What this endpoint's models refused, learnt once; `user_sampling`: the sampling
        # parameters the user chose, which are never dropped.
        self._adapter = ParamAdapter(user_sampling)
        self._api_key()  # fail at construction, not at the first request
        self._client: openai.AsyncOpenAI | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={redact_url(self.base_url)!r})"

    def _api_key(self) -> str:
        # Read on demand so the key never sits in an attribute of this object.
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if self.base_url is None:
            raise BackendError(
                f"no API key: set {self.api_key_env} (or --api-key-env NAME), or use --backend stub"
            )
        return PLACEHOLDER_KEY

    def _sdk(self) -> openai.AsyncOpenAI:
        # A connection pool belongs to one event loop; callers may run several loops in turn.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key(),
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=0,
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP connection pool of the current event loop's client."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def complete(self, request: Request) -> Completion:
        """Send one request; map the SDK's errors onto TransientBackendError / BackendError."""
        if request.api == "chat" and len(request.prompts) != 1:
            raise ConfigError(
                f"the chat API takes exactly one prompt per request, got {len(request.prompts)}; "
                "send one prompt per request or use the completions API"
            )
        if request.api != "chat" and request.history:
            raise ConfigError("a conversation's earlier turns are sent on the chat API only")
        chat = request.api == "chat"
        for _ in range(len(ADAPTABLE) + 1):  # each refused parameter is learnt once
            body = self._body(request)
            try:
                # The SDK's generic post still sends, authenticates, times out and raises its
                # typed HTTP errors; its typed create() would add ~0.5 ms of CPU per call
                # converting the parameters and building pydantic models we only copy from.
                raw = await self._sdk().post(
                    "/chat/completions" if chat else "/completions",
                    cast_to=bytes,
                    body=body,
                    options={"headers": {SLOT_HEADER: request.slot}, "security": BEARER_ONLY},
                )
                data = json.loads(raw)
                break
            except openai.BadRequestError as exc:
                if not self._adapter.learn(exc.body, body):
                    raise self._map_error(exc, request.model or self.model) from exc
            except openai.APIError as exc:
                raise self._map_error(exc, request.model or self.model) from exc
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a body that is not JSON
                raise TransientBackendError(f"unparseable response body: {exc}") from exc
        else:  # every adjustable parameter adjusted, and still refused
            raise BackendError(f"the endpoint at {self._where()} refused every form of the request")
        completion = chat_completion(data, request) if chat else text_completion(data, request)
        if request.stop and self._adapter.stops_here(body.get("model", "")):
            completion = cut_at_stops(completion, request.stop)
        return completion

    def _body(self, request: Request) -> dict[str, Any]:
        """The JSON body, as the SDK's create() sends these parameters (options not set are
        left out)."""
        body: dict[str, Any] = {"model": request.model or self.model}
        if request.api == "chat":
            body["messages"] = _messages(request)
        else:
            body["prompt"] = list(request.prompts)
        body.update(
            temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens
        )
        # No stop sequences: left out, not null, which a strict compatible server may refuse.
        if request.stop:
            body["stop"] = list(request.stop)
        if request.logit_bias:
            body["logit_bias"] = dict(request.logit_bias)
        if self.store and request.api == "chat":
            body.update(store=True, metadata={KEY_FIELD: request.key()})
        return self._adapter.apply(body)

    async def recover(self, request: Request) -> Completion | None:
        """The answer the provider stored for this request in an earlier session, if any.

        Only for a request that was sent but whose answer was never committed (the process
        was killed while it was on its way back): it was paid for once, and is fetched, free,
        instead of being asked again. None: nothing stored under the request's key;
        TransientBackendError: the provider could not say (429, 5xx, timeout); BackendError:
        it has no stored completions (404, 405: vLLM, llama.cpp) or refuses to list them."""
        if not (self.store and request.api == "chat"):
            return None
        key = request.key()
        params = {f"metadata[{KEY_FIELD}]": key, "limit": 1}
        try:
            raw = await self._sdk().get(
                "/chat/completions",
                cast_to=bytes,
                options={"params": params, "security": BEARER_ONLY},
            )
        except openai.APIError as exc:
            raise self._map_error(exc, request.model or self.model) from exc
        return stored_answer(raw, key, request)

    def _map_error(self, exc: openai.APIError, model: str) -> Exception:
        mapped = self._classify(exc, model)
        # A provider may echo the key or the URL's credentials in its message.
        mapped.args = (scrub(str(mapped), os.environ.get(self.api_key_env), self.base_url),)
        return mapped

    def _classify(self, exc: openai.APIError, model: str) -> Exception:
        if isinstance(exc, openai.APITimeoutError):
            return TransientBackendError(f"timed out after {self.timeout:g}s")
        if isinstance(exc, openai.APIConnectionError):
            return TransientBackendError(f"cannot connect to {self._where()}: {exc}")
        if not isinstance(exc, openai.APIStatusError):
            return TransientBackendError(f"unparseable response body: {exc.message}")
        status = exc.status_code
        if status == 429 and exc.code == "insufficient_quota":
            # OpenAI says 429 for an empty account too, and waiting does not refill it.
            return BackendError(
                f"the account behind {self.api_key_env} is out of quota (HTTP 429): "
                "add credits or use another key, or use --backend stub"
            )
        if status == 429 or status >= 500 or status in TRANSIENT_STATUSES:
            wait = parse_retry_after(exc.response.headers)
            return TransientBackendError(
                f"HTTP {status} from {self._where()}: {server_message(exc)}", wait, status
            )
        if status in (401, 403):
            # The server's message may echo part of the key, so it is left out.
            return BackendError(
                f"the endpoint at {self._where()} refused the API key (HTTP {status}): set "
                f"{self.api_key_env} to a valid key (or --api-key-env NAME), or use --backend stub"
            )
        if status == 404:
            return BackendError(
                f"model {model!r} or its API not found at {self._where()} (HTTP 404): "
                f"{server_message(exc)}; check --model and --base-url"
            )
        return BackendError(
            f"the endpoint rejected the request (HTTP {status}): {server_message(exc)}"
        )

    def _where(self) -> str:
        return redact_url(self.base_url) or "the OpenAI API"


def _messages(request: Request) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [{"role": role, "content": text} for role, text in request.history]
    return [*messages, {"role": "user", "content": request.prompts[0]}]


def server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return str(body) if body else exc.message
