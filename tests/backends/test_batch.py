"""Batch mode against an in-process provider that keeps OpenAI's files and batches: the waves,
answers identical to online ones, partial results asked again exactly once, kills at every step
of a wave never making a second batch of the same requests, the cap, a server without batches.

The provider answers a line by its body alone (no slot travels in a batch line): the online
runs compared with it are made with a stub that ignores slots too."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.backends.batch import backend as batch_backend
from pipeline.backends.batch.store import BatchStore
from pipeline.backends.openai.backend import OpenAIBackend
from pipeline.backends.retry import RetryPolicy
from pipeline.engine.session import Session, run_session
from pipeline.errors import ConfigError
from pipeline.methods import make_config, stub_model
from pipeline.store import CACHE_FILE
from pipeline.stub.wire import request_from_body, response_body
from tests.helpers import Killed

EVOL = {"method": "evol-instruct", "limit": 12, "rounds": 1}
STEPS = ("upload", "uploaded", "create", "created", "retrieve", "content")


class Provider:
    """OpenAI's files and batches, kept in memory; `kill_at` raises Killed at one step once."""

    def __init__(self, fail_lines: int = 0):
        self.files: dict[str, tuple[str, bytes]] = {}
        self.batches: dict[str, dict] = {}
        self.lines_in: Counter = Counter()  # custom_id -> batches holding it
        self.kill_at: str | None = None
        self.fail_lines = fail_lines
        self.stub = stub_model()

    def step(self, name: str) -> None:
        if self.kill_at == name:
            self.kill_at = None
            raise Killed(name)

    def answer(self, line: dict) -> dict:
        api = "chat" if line["url"].endswith("chat/completions") else "completions"
        request = request_from_body(api, line["body"])
        completion = self.stub.answer(request)
        body = response_body(api, request.key(), "stub", completion)
        return {"custom_id": line["custom_id"], "response": {"status_code": 200, "body": body}}


class FakeAPI:
    """BatchAPI's calls, answered by the Provider of the test."""

    provider: Provider

    def __init__(self, backend):
        self.p = FakeAPI.provider

    async def check(self) -> None:
        pass

    async def upload(self, filename: str, data: bytes) -> str:
        self.p.step("upload")
        file_id = f"file-{len(self.p.files)}"
        self.p.files[file_id] = (filename, data)
        self.p.step("uploaded")
        return file_id

    async def create(self, file_id: str, endpoint: str, metadata: dict) -> dict:
        self.p.step("create")
        lines = [json.loads(x) for x in self.p.files[file_id][1].decode().splitlines()]
        self.p.lines_in.update(x["custom_id"] for x in lines)
        out, err = [], []
        first = not self.p.batches
        for n, line in enumerate(lines):
            if first and n < self.p.fail_lines:  # the first wave's first lines: a 500 each
                body = {"error": {"message": "server error", "type": "server_error"}}
                response = {"status_code": 500, "body": body}
                err.append({"custom_id": line["custom_id"], "response": response, "error": None})
            elif first and n < 2 * self.p.fail_lines:  # the next ones: not run before expiry
                gone = {"code": "batch_expired", "message": "not run before expiry"}
                err.append({"custom_id": line["custom_id"], "response": None, "error": gone})
            else:
                out.append(self.p.answer(line))
        ident = f"batch_{len(self.p.batches)}"
        self.p.files[f"{ident}-out"] = ("out", "\n".join(map(json.dumps, out)).encode())
        self.p.files[f"{ident}-err"] = ("err", "\n".join(map(json.dumps, err)).encode())
        batch = {
            "id": ident, "status": "completed", "metadata": metadata, "endpoint": endpoint,
            "output_file_id": f"{ident}-out", "error_file_id": f"{ident}-err" if err else None,
            "request_counts": {"total": len(lines), "completed": len(out), "failed": len(err)},
        }  # fmt: skip
        self.p.batches[ident] = batch
        self.p.step("created")
        return dict(batch)

    async def retrieve(self, batch_id: str) -> dict:
        self.p.step("retrieve")
        return dict(self.p.batches[batch_id])

    async def cancel(self, batch_id: str) -> dict:
        return dict(self.p.batches[batch_id])

    async def content(self, file_id: str) -> bytes:
        self.p.step("content")
        return self.p.files[file_id][1]

    async def find_file(self, filename: str) -> str | None:
        return next((i for i, (name, _) in self.p.files.items() if name == filename), None)

    async def find_batch(self, metadata: dict) -> dict | None:
        found = [b for b in self.p.batches.values() if b["metadata"] == metadata]
        return dict(found[-1]) if found else None


class SlotBlind:
    """The stub answering by body alone, as the provider above does."""

    def __init__(self):
        self.stub = stub_model()

    async def complete(self, request):
        return self.stub.answer(replace(request, slot=""))


@pytest.fixture
def provider(monkeypatch) -> Provider:
    p = Provider()
    FakeAPI.provider = p
    monkeypatch.setattr(batch_backend, "BatchAPI", FakeAPI)
    monkeypatch.setattr(batch_backend, "FLUSH_IDLE", 0.01)
    monkeypatch.setattr(batch_backend, "FIRST_POLL", 0.0)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    return p


def batch_run(out: Path, **settings) -> dict:
    where = {"base_url": "http://127.0.0.1:9/v1", "model": "stub", **EVOL, **settings}
    config = make_config(out=str(out), backend="openai", judge="inline", batch=True, **where)
    online = OpenAIBackend(config.model, config.base_url)
    session = Session.open(config, backend=online, policy=RetryPolicy.no_wait(4))
    return asyncio.run(run_session(session, batch=64))


def online_run(out: Path, **settings) -> dict:
    config = make_config(out=str(out), judge="inline", **{**EVOL, **settings})
    session = Session.open(config, backend=SlotBlind(), policy=RetryPolicy.no_wait(4))
    return asyncio.run(run_session(session, batch=64))


def outputs(out: Path) -> dict[str, bytes]:
    return {n: (out / n).read_bytes() for n in ("kept.jsonl", "removed.jsonl", "alpaca.json")}


def waves(out: Path) -> list:
    store = BatchStore(out / CACHE_FILE)
    try:
        return store.waves()
    finally:
        store.close()


@pytest.mark.parametrize("settings", [{}, {"rounds": 2}, {"equality_check": False}])
def test_a_batch_run_ends_as_an_online_run_of_the_same_answers(provider, tmp_path, settings):
    stats = batch_run(tmp_path / "b", **settings)
    online_run(tmp_path / "o", **settings)
    assert outputs(tmp_path / "b") == outputs(tmp_path / "o")
    # One wave a stage (a map stage sends its whole list), one batch a wave.
    assert len(waves(tmp_path / "b")) == len(provider.batches) == len(stats["stages"])
    assert max(provider.lines_in.values()) == 1


def test_failed_and_expired_lines_go_into_the_next_wave_once(provider, tmp_path):
    online_run(tmp_path / "o")
    provider.fail_lines = 3  # 3 lines answered 500, 3 expired, in the first wave
    stats = batch_run(tmp_path / "b")
    assert outputs(tmp_path / "b") == outputs(tmp_path / "o")
    total = len(provider.lines_in)
    assert Counter(provider.lines_in.values()) == {1: total - 6, 2: 6}
    first, again = waves(tmp_path / "b")[:2]
    assert set(again.keys) == set(first.keys[:6])
    assert stats["requests"]["total"] == total


@pytest.mark.parametrize("step", STEPS)
def test_a_kill_at_any_step_of_a_wave_never_makes_a_second_batch(provider, tmp_path, step):
    online_run(tmp_path / "o")
    provider.kill_at = step
    with pytest.raises(Killed):
        batch_run(tmp_path / "b")
    batch_run(tmp_path / "b")
    assert outputs(tmp_path / "b") == outputs(tmp_path / "o")
    assert max(provider.lines_in.values()) == 1, "a request went into two batches"
    done = [w for w in waves(tmp_path / "b") if w.batch_id]
    assert len(done) == len(provider.batches)


def test_a_finished_batch_run_asks_the_provider_nothing_again(provider, tmp_path):
    batch_run(tmp_path / "b")
    before = len(provider.batches)
    again = batch_run(tmp_path / "b")
    assert len(provider.batches) == before and again["session"]["requests_sent"] == 0


def test_batch_prices_are_half_and_a_wave_never_passes_the_cap(provider, tmp_path):
    full = batch_run(tmp_path / "a", model="gpt-4o-mini", base_url=None)
    assert full["cost"]["price"]["input_per_1m"] == pytest.approx(0.075)  # half of 0.15
    # A few requests' worst case (2,048 tokens out at $0.30 per 1M: $0.0006 each), far more than
    # they cost: the cap stops the run after a short wave.
    cap = 0.004
    provider.lines_in.clear()
    capped = batch_run(tmp_path / "b", model="gpt-4o-mini", base_url=None, max_cost=cap)
    assert capped["stopped"] == "budget" and capped["cost"]["usd"] <= cap
    # Each request's worst case was reserved before its wave was created: the wave is short.
    assert 0 < len(provider.lines_in) < full["requests"]["total"]


def test_batch_needs_a_provider_with_the_batch_api(tmp_path):
    with pytest.raises(ConfigError, match="--backend openai"):
        make_config(out=str(tmp_path), batch=True)


def test_a_wave_is_split_at_the_providers_limit_of_lines(provider, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_backend, "MAX_LINES", 5)
    online_run(tmp_path / "o")
    stats = batch_run(tmp_path / "b")
    assert outputs(tmp_path / "b") == outputs(tmp_path / "o")
    # 12 evolutions and their answers: each stage's wave in files of 5, 5 and 2 lines.
    sizes = [len(w.keys) for w in waves(tmp_path / "b")]
    assert max(sizes) == 5 and sum(sizes) == stats["requests"]["total"]
    assert len(provider.batches) == len(sizes) and max(provider.lines_in.values()) == 1
