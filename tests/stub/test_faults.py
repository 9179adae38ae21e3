"""Fault injection: whole runs of the openai backend against the stub server's scripted faults,
its rate limits and its permanent errors. Each run completes with the right retries and drops,
or stops at once with one line naming the fix."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.backends.openai.backend import OpenAIBackend
from pipeline.backends.ratelimit import RateLimitedBackend, request_tokens
from pipeline.backends.retry import RetryPolicy
from pipeline.cli.main import main
from pipeline.engine.session import Session, run_session
from pipeline.errors import ConfigError
from pipeline.methods import make_config
from pipeline.stub.faults import Bucket, FaultPlan, peer_closed
from pipeline.stub.server import ServerOptions, StubServer
from pipeline.types import Request

TARGET = 30  # about three answers of the stub model


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def run_against(server: StubServer, out: Path, policy=None, backend=None, **config) -> dict:
    """One library run (no Prefect, inline judge) of the openai backend against `server`."""
    settings = {"target": TARGET, "concurrency": 1, "judge": "inline", **config}
    cfg = make_config(
        out=str(out), backend="openai", model="stub", base_url=server.base_url, **settings
    )
    session = Session.open(cfg, backend=backend, policy=policy or RetryPolicy.no_wait(4))
    return asyncio.run(run_session(session))


def removed(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "removed.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """The same run with no faults: what every run with transient faults must write."""
    out = tmp_path_factory.mktemp("clean") / "run"
    with StubServer() as server:
        assert run_against(server, out)["stopped"] == "target"
    return out


class Sleeps:
    """An injected sleep that returns at once and records every wait asked for."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


# (fault plan, server options, run config, retries, server faults/abandoned)
TRANSIENT = [
    ("429 with Retry-After", "429*3", {"retry_after": 2.0}, {}, 3, {"429": 3}),
    ("500 and 503 burst", "500*2,503*3", {}, {}, 5, {"500": 2, "503": 3}),
    ("connection resets", "reset*3", {}, {}, 3, {"reset": 3}),
    ("malformed JSON bodies", "malformed*2", {}, {}, 2, {"malformed": 2}),
    ("hangs past the timeout", "hang*2", {}, {"timeout": 0.4}, 2, {"hang": 2}),
    ("a mix at concurrency 4", "503,reset,malformed,429,hang", {}, {"timeout": 0.4}, 5, {}),
]


@pytest.mark.parametrize(
    "plan, options, config, retries, faults",
    [case[1:] for case in TRANSIENT],
    ids=[case[0] for case in TRANSIENT],
)
def test_transient_faults_are_retried_and_the_run_ends_as_without_them(
    tmp_path, clean, plan, options, config, retries, faults
):
    sleeps = Sleeps()
    concurrency = 4 if "," in plan and len(plan.split(",")) > 3 else 1
    with StubServer(faults=plan, **options) as server:
        stats = run_against(
            server, tmp_path, RetryPolicy.no_wait(6, sleeps), concurrency=concurrency, **config
        )
        seen = server.app.stats.to_dict()
    assert stats["stopped"] == "target" and stats["funnel"]["kept"] == TARGET
    assert stats["session"]["retries"] == retries
    assert all(seen["faults"][k] == n for k, n in faults.items())
    assert seen["keys_answered_more_than_once"] == 0
    assert seen["abandoned"] == faults.get("hang", seen["faults"].get("hang", 0))
    if "retry_after" in options:
        # Each 429 waits its Retry-After; later requests wait out what is left of the shared
        # cool-down (the injected sleep lets no time pass).
        assert sleeps.waits.count(options["retry_after"]) == retries
        assert max(sleeps.waits) == options["retry_after"]
    if concurrency == 1:
        for name in ("kept.jsonl", "alpaca.json", "removed.jsonl"):
            assert (tmp_path / name).read_bytes() == (clean / name).read_bytes(), name
    else:
        assert (tmp_path / "kept.jsonl").read_bytes() == (clean / "kept.jsonl").read_bytes()


# (fault plan, the drop each faulty answer becomes)
UNUSABLE = [
    ("empty choices", "empty*2", ("parse", "empty_response")),
    ("truncated outputs", "length*2", ("parse", "truncated")),
]


@pytest.mark.parametrize(
    "plan, drop", [case[1:] for case in UNUSABLE], ids=[case[0] for case in UNUSABLE]
)
def test_unusable_answers_are_counted_drops_with_their_reason(tmp_path, plan, drop):
    with StubServer(faults=plan) as server:
        stats = run_against(server, tmp_path)
    assert stats["stopped"] == "target" and stats["session"]["retries"] == 0
    funnel = stats["funnel"]
    assert funnel["generated"] == funnel["kept"] + funnel["dropped_total"]
    assert funnel["dropped"][drop[0]][drop[1]] == 2
    rows = [r for r in removed(tmp_path) if (r["filter"], r["reason"]) == drop]
    assert len(rows) == 2 and all(r["detail"] or r.get("raw") is not None for r in rows)


def _cli(out: Path, url: str, *args: str) -> int:
    common = ["--backend", "openai", "--base-url", url, "--no-prefect", "--quiet"]
    return main(["run", "self-instruct", "--out", str(out), *common, *args])


# (server options, client arguments, what the one line must say)
PERMANENT = [
    (
        "bad key (401)",
        {"api_key": "sk-the-right-one"},
        ["--model", "stub"],
        ["refused the API key (HTTP 401)", "OPENAI_API_KEY"],
    ),
    (
        "unknown model (404)",
        {"strict_model": True},
        ["--model", "gpt-9"],
        ["model 'gpt-9'", "HTTP 404", "check --model"],
    ),
    (
        "exhausted quota",
        {"faults": "quota*100"},
        ["--model", "stub"],
        ["out of quota", "add credits"],
    ),
]


@pytest.mark.parametrize(
    "options, args, fragments", [c[1:] for c in PERMANENT], ids=[c[0] for c in PERMANENT]
)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_permanent_errors_stop_at_once_in_one_line(
    tmp_path, capsys, monkeypatch, options, args, fragments, concurrency
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-the-right-one")
    with StubServer(**options) as server:
        started = time.monotonic()
        code = _cli(tmp_path / "r", server.base_url, *args, "--concurrency", str(concurrency))
        seen = server.app.stats.to_dict()
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert all(f in err for f in fragments), err
    assert time.monotonic() - started < 5
    assert seen["keys_seen_more_than_once"] == 0, "a permanent error was retried"
    if concurrency == 1:
        assert seen["requests"] == 1


def test_a_long_429_stretch_slows_the_run_with_one_shared_cool_down(tmp_path):
    """Every request gets 429 for 1.5 s, far longer than 3 attempts' backoff: 429s spend the
    retry policy's patience, not its attempts."""
    policy = RetryPolicy(max_attempts=3, initial_wait=0.05, max_wait=0.5, jitter=0.0)
    with StubServer(rate_limit_seconds=1.5, retry_after=0.2) as server:
        started = time.monotonic()
        stats = run_against(server, tmp_path, policy, concurrency=4)
        seen = server.app.stats.to_dict()
    assert stats["stopped"] == "target"
    assert time.monotonic() - started >= 1.5
    # One cool-down shared by the requests in flight: about 4 requests per Retry-After.
    assert seen["errors"]["429"] <= 4 * (1.5 / 0.2 + 2)


@pytest.mark.parametrize("concurrency", [8, 32])
def test_429s_without_retry_after_pause_all_requests_together(tmp_path, concurrency):
    """Every request gets a 429 with no Retry-After for 1.5 s. The requests in flight pause
    together for a shared backoff that doubles with each 429 in a row (0.05 s, 0.1 s, ... up
    to 0.5 s), and one request at a time probes until the server answers: the server sees the
    first round plus one probe per pause (measured: 13 at concurrency 8, 37 at 32). Each
    request backing off on its own sent a whole round per pause (measured: 45-46 and 161-163)."""
    policy = RetryPolicy(max_attempts=3, initial_wait=0.05, max_wait=0.5, jitter=0.05)
    options = {"rate_limit_seconds": 1.5, "retry_after_header": False}
    with StubServer(**options) as server:
        started = time.monotonic()
        stats = run_against(server, tmp_path, policy, concurrency=concurrency, target=1000)
        seen = server.app.stats.to_dict()
    assert stats["stopped"] == "target"
    assert time.monotonic() - started >= 1.5
    pauses = 8  # 0.05 + 0.1 + 0.2 + 0.4 + 0.5 + 0.5 > 1.5 s, with room for slow machines
    assert concurrency <= seen["errors"]["429"] <= concurrency + pauses


@pytest.mark.parametrize(
    "limits",
    [{"rpm": 2400}, {"tpm": 2400 * 1400}, {"rpm": 2400, "tpm": 2400 * 1400}],
    ids=["rpm", "tpm", "both"],
)
def test_rpm_and_tpm_keep_a_run_under_the_servers_limits(tmp_path, limits):
    """The server allows 40 requests (or 40 x 1,400 tokens) a second, 10 at once; at
    concurrency 8 an unpaced run passes that at once (429s slow it down), a paced one never
    does."""
    config = {"target": 400, "concurrency": 8, "max_tokens": 800}
    window = {"limit_window": 0.25}
    waits = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.5, jitter=0.0)
    with StubServer(**limits, **window) as server:
        run_against(server, tmp_path / "unpaced", waits, **config)
    assert server.app.stats.errors["429"] > 0, "the server does not enforce its limits"
    with StubServer(**limits, **window) as server:
        inner = OpenAIBackend("stub", base_url=server.base_url)
        paced = RateLimitedBackend(inner, **limits)
        started = time.monotonic()
        stats = run_against(server, tmp_path / "paced", backend=paced, **config)
        seconds = time.monotonic() - started
        seen = server.app.stats.to_dict()
    assert stats["stopped"] == "target"
    assert seen["errors"].get("429", 0) == 0 and stats["session"]["retries"] == 0
    assert seconds >= (seen["requests"] - 1) / 40 * 0.9  # paced, not merely lucky


def test_request_tokens_are_prompts_plus_max_tokens_per_prompt():
    chat = Request("m", ("one two three",), system="be brief", max_tokens=100)
    assert request_tokens(chat) == 3 + 2 + 100  # count_tokens: 3 for the prompt, 2 the system
    batch = Request("m", ("a", "b"), "completions", max_tokens=10)
    assert request_tokens(batch) == 1 + 1 + 2 * 10


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "rpm, tpm, max_tokens, starts",
    [
        (60, None, 10, [0.0, 1.0, 2.0, 3.0]),  # one a second
        (None, 660, 10, [0.0, 1.0, 2.0, 3.0]),  # 11 tokens each, 11 a second
        (120, 660, 10, [0.0, 1.0, 2.0, 3.0]),  # the tighter limit wins
        (120, 6600, 10, [0.0, 0.5, 1.0, 1.5]),
    ],
)
def test_requests_start_evenly_spaced_under_the_tighter_limit(rpm, tpm, max_tokens, starts):
    clock = Clock()
    limiter = RateLimitedBackend(None, rpm=rpm, tpm=tpm, clock=clock)
    request = Request("m", ("x",), max_tokens=max_tokens)
    assert [limiter.claim(request) for _ in starts] == starts
    clock.now = 10.0  # after a pause the next request goes at once
    assert limiter.claim(request) == 0.0


@pytest.mark.parametrize("rpm, tpm", [(0, None), (None, -5)])
def test_limits_must_be_positive(rpm, tpm):
    with pytest.raises(ConfigError, match="must be positive"):
        RateLimitedBackend(None, rpm=rpm, tpm=tpm)


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("", ["ok", "ok"]),
        ("503*2,reset", ["503", "503", "reset", "ok"]),
        ("hang, 429*0, empty", ["hang", "empty", "ok"]),
    ],
)
def test_fault_plans_are_consumed_in_order(text, kinds):
    plan = FaultPlan(text)
    assert [plan.next() for _ in kinds] == kinds


@pytest.mark.parametrize("text", ["explode", "503*x", "503*", "*3"])
def test_bad_fault_plans_name_the_flag(text):
    with pytest.raises(ConfigError, match="--faults"):
        ServerOptions(faults=text)


def test_a_bucket_refills_at_its_rate_and_holds_its_window():
    bucket = Bucket(per_minute=600, window=0.5)  # 10 a second, 5 at once
    assert bucket.capacity == 5
    for _ in range(5):
        assert bucket.wait(1) == 0
        bucket.take(1)
    assert 0.09 < bucket.wait(1) <= 0.1


class Cycle:
    """Stands in for uvicorn's request cycle: its bound `send` leads to the transport."""

    def __init__(self, sock: socket.socket):
        self.transport = SimpleNamespace(get_extra_info=lambda name: sock)

    async def send(self, message):
        return None


@pytest.mark.parametrize(
    "peer_action, closed", [("nothing", False), ("write", False), ("close", True)]
)
def test_peer_closed_reads_the_socket_itself(peer_action, closed):
    ours, theirs = socket.socketpair()
    with ours:
        if peer_action == "write":
            theirs.sendall(b"GET")
        if peer_action == "close":
            theirs.close()
        assert peer_closed(Cycle(ours).send) is closed
        if peer_action == "write":  # the peek left the data to be read
            assert ours.recv(3, socket.MSG_DONTWAIT) == b"GET"
    theirs.close()
