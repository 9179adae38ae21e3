"""What the stub server does besides answering: scripted faults and a provider's rate limits.

A fault plan scripts what the next completion requests get, in the order they arrive:
"503*3,reset,hang,429*2" answers the first three with 503, closes the fourth's connection
without a response, never answers the fifth (until its client gives up), and rate-limits the
next two; later requests are answered normally. Rate limits are per-minute budgets enforced as
providers enforce them: a bucket per limit that refills continuously and holds `window` seconds'
worth (60 is a whole minute's allowance; tests use a short window so limits bite at once)."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any

from pipeline.backends.ratelimit import request_tokens
from pipeline.errors import ConfigError
from pipeline.types import Choice, Completion, Request

FAULTS = {
    "ok": "answered normally",
    "429": "rate limited, with Retry-After",
    "500": "internal server error",
    "503": "service unavailable",
    "quota": "429 insufficient_quota: the account is out of credits (permanent)",
    "hang": "no answer until the client disconnects",
    "reset": "the connection is closed abruptly, no response",
    "malformed": "a 200 whose body is cut-off JSON",
    "empty": "a 200 with no choices",
    "length": "every choice cut off at max_tokens (finish_reason length)",
}
_PLAN_FIX = f"write KIND or KIND*COUNT, comma-separated; kinds: {', '.join(FAULTS)}"


class HTTPError(Exception):
    """An error response in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.headers, self.code = status, message, headers or {}, code
        self.param = param

    def body(self) -> dict[str, Any]:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        error = {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        return {"error": error}


class ClientGone(Exception):
    """The client disconnected before its answer was sent: nothing is sent or counted."""


class Reset(Exception):
    """Close the connection abruptly instead of answering."""


def parse_plan(text: str) -> list[list[Any]]:
    """'503*3,reset' -> [['503', 3], ['reset', 1]]; a bad plan names --faults and the fix."""
    plan: list[list[Any]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, star, count = part.partition("*")
        if kind not in FAULTS or (star and not count.isdigit()):
            raise ConfigError(f"--faults {part!r}: {_PLAN_FIX}")
        plan.append([kind, int(count or 1)])
    return plan


class FaultPlan:
    """The scripted faults still to come, consumed one per completion request."""

    def __init__(self, text: str = ""):
        self._left = parse_plan(text)

    def next(self) -> str:
        while self._left and self._left[0][1] == 0:
            self._left.pop(0)
        if not self._left:
            return "ok"
        self._left[0][1] -= 1
        return self._left[0][0]


def retry_after_header(seconds: float | None, ms: bool = False) -> dict[str, str]:
    """The header a 429 says when to come back in; none when `seconds` is None (providers that
    leave the client to guess)."""
    if seconds is None:
        return {}
    if ms:  # whole milliseconds, rounded up, so a client that honours it fits
        return {"retry-after-ms": str(int(seconds * 1000) + 1)}
    return {"retry-after": f"{seconds:g}"}


def fault_error(kind: str, retry_after: float | None) -> HTTPError | None:
    """The error response a fault kind stands for, if it is one."""
    if kind == "429":
        wait = retry_after_header(retry_after)
        return HTTPError(429, "Rate limit reached; please try again later", wait, "rate_limit")
    if kind in ("500", "503"):
        return HTTPError(int(kind), f"injected {kind}")
    if kind == "quota":
        message = "You exceeded your current quota, please check your plan and billing details."
        return HTTPError(429, message, code="insufficient_quota")
    return None


def cut_off(completion: Completion) -> Completion:
    """Every choice cut at half its text, as an answer stopped by max_tokens."""
    cut = [Choice(c.text[: len(c.text) // 2], "length", c.index) for c in completion.choices]
    choices = tuple(cut)
    return Completion(choices, completion.usage, completion.model)


class Bucket:
    """A per-minute limit enforced continuously: refills at limit/60 a second, holds `window`
    seconds' worth, and starts full."""

    def __init__(self, per_minute: float, window: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * window)
        self.level, self._stamp = self.capacity, time.monotonic()

    def wait(self, cost: float) -> float:
        """Seconds until `cost` fits (a request larger than the bucket fits when it is full)."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
        self._stamp = now
        need = min(cost, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, cost: float) -> None:
        self.level -= cost


@dataclass
class Limits:
    """The account's limits: requests and tokens per minute, and a 429 stretch at the start."""

    rpm: float | None = None
    tpm: float | None = None
    window: float = 60.0
    stretch: float = 0.0  # seconds after the first request during which everything gets 429
    retry_after: float | None = 1.0  # None: the stretch's 429s carry no Retry-After

    def __post_init__(self) -> None:
        self._buckets = {
            name: Bucket(limit, self.window)
            for name, limit in (("requests", self.rpm), ("tokens", self.tpm))
            if limit
        }
        self._first: float | None = None

    def check(self, request: Request) -> None:
        """Raise a 429 with Retry-After when the request would pass a limit; else count it."""
        now = time.monotonic()
        self._first = now if self._first is None else self._first
        if now - self._first < self.stretch:
            wait = retry_after_header(self.retry_after)
            raise HTTPError(429, "Rate limit reached (a long stretch)", wait, "rate_limit")
        costs = {"requests": 1.0, "tokens": float(request_tokens(request))}
        waits = {name: b.wait(costs[name]) for name, b in self._buckets.items()}
        if any(waits.values()):
            name = max(waits, key=lambda n: waits[n])
            wait = retry_after_header(waits[name] if self.retry_after is not None else None, True)
            raise HTTPError(429, f"Rate limit reached for {name} per min", wait, "rate_limit")
        for name, bucket in self._buckets.items():
            bucket.take(costs[name])


class Presence:
    """Whether the client is still there. After the body is read, the next ASGI receive returns
    only on disconnect (http.disconnect): `disconnected` is that call, awaitable."""

    def __init__(self, receive: Any, send: Any):
        self.disconnected = asyncio.ensure_future(receive())
        self._send = send

    def gone(self) -> bool:
        return self.disconnected.done() or peer_closed(self._send)

    async def wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less if the client disconnects meanwhile."""
        await asyncio.wait({self.disconnected}, timeout=seconds)

    def close(self) -> None:
        self.disconnected.cancel()


def _transport(send: Any) -> Any:
    # uvicorn gives an ASGI app no transport, but its `send` is a method of the request cycle,
    # which holds one.
    return getattr(getattr(send, "__self__", None), "transport", None)


def peer_closed(send: Any) -> bool:
    """Whether the client has closed its end, checked on the socket itself: the event loop
    learns of it only when it next polls, and a busy server would answer a dead client."""
    transport = _transport(send)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    try:
        # asyncio hands out a wrapper without recv(); a duplicate descriptor reads the same.
        with socket.socket(sock.family, sock.type, fileno=os.dup(sock.fileno())) as dup:
            return dup.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing to read
    except OSError:
        return True  # reset


async def reset_connection(send: Any, presence: Presence) -> None:
    """Close the client's connection with a TCP reset (linger 0), no response."""
    transport = _transport(send)
    if transport is None:
        raise RuntimeError("connection resets need the stub server's uvicorn h11 transport")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let uvicorn see the connection lost before the app returns, or it answers a 500.
    await presence.wait(1.0)
