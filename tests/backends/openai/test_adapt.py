"""A model that refuses parameters older chat models take (OpenAI's reasoning models): the
backend learns each from its first 400, adjusts the rest of the run, and fails only where the
request would change its meaning."""

from __future__ import annotations

import asyncio
import json

import pytest

from pipeline.backends.openai.adapt import ParamAdapter, cut_at_stops
from pipeline.backends.retry import RetryPolicy
from pipeline.engine.session import Session, run_session
from pipeline.errors import BackendError
from pipeline.methods import make_config
from pipeline.stub.server import StubServer
from pipeline.types import Choice, Completion

BODY = {"model": "m", "max_tokens": 64, "temperature": 1.0, "top_p": 1.0, "stop": ["20."]}


def _error(param: str, code: str) -> dict:
    kind = "invalid_request_error"
    return {"error": {"message": "x", "type": kind, "param": param, "code": code}}


@pytest.mark.parametrize(
    "param, code, body, user_set, learnt, after",
    [
        ("max_tokens", "unsupported_parameter", BODY, (), True, {"max_completion_tokens": 64}),
        ("stop", "unsupported_parameter", BODY, (), True, {}),
        ("temperature", "unsupported_value", BODY, (), True, {}),  # 1: the model's own anyway
        # The method's choice (evol's judge at 0): left out, the model samples its one way.
        ("temperature", "unsupported_value", {**BODY, "temperature": 0.0}, (), True, {}),
        # The user's --temperature 0.7: theirs to change, never silently dropped.
        ("temperature", "unsupported_value", {**BODY, "temperature": 0.7}, ("temperature",),
         False, None),
        ("temperature", "unsupported_parameter", {**BODY, "temperature": 0.7}, ("temperature",),
         False, None),
        ("temperature", "unsupported_value", BODY, ("temperature",), True, {}),  # 1 is its own
        ("messages", "unsupported_parameter", BODY, (), False, None),  # not ours to change
        ("max_tokens", "invalid_value", BODY, (), False, None),  # refused for another reason
        ("logit_bias", "unsupported_parameter", BODY, (), False, None),
    ],
)  # fmt: skip
def test_what_a_refusal_teaches(param, code, body, user_set, learnt, after):
    adapter = ParamAdapter(frozenset(user_set))
    assert adapter.learn(_error(param, code), dict(body)) is learnt
    if learnt:
        adjusted = adapter.apply(dict(body))
        assert param not in adjusted
        assert {k: v for k, v in adjusted.items() if k not in body} == after
        assert adapter.apply({**body, "model": "other"}) == {**body, "model": "other"}  # per model


def test_stop_sequences_left_out_are_applied_to_the_answer():
    done = Completion((Choice("1. a\n2. b\n20. c", "length"), Choice("x", "stop", 1)))
    cut = cut_at_stops(done, ("\n20", "20."))
    assert [(c.text, c.finish_reason) for c in cut.choices] == [
        ("1. a\n2. b", "stop"),
        ("x", "stop"),
    ]


def test_a_refusal_learnt_meanwhile_resends_an_older_body():
    adapter = ParamAdapter()
    error = _error("max_tokens", "unsupported_parameter")
    assert adapter.learn(error, dict(BODY))
    assert adapter.learn(error, dict(BODY))  # another request in flight, sent before: again
    assert not adapter.learn(error, adapter.apply(dict(BODY)))  # sent after: something else


def _run(out, url: str, **config) -> dict:
    cfg = make_config(
        out=str(out), backend="openai", model="stub", base_url=url, target=30, concurrency=4,
        judge="inline", **config,
    )  # fmt: skip
    session = Session.open(cfg, policy=RetryPolicy.no_wait(3))
    return asyncio.run(run_session(session))


def test_a_run_against_a_reasoning_model_adjusts_and_finishes(tmp_path, caplog):
    with StubServer(reasoning=True) as server:
        stats = _run(tmp_path / "run", server.base_url)
        seen = server.app.stats.to_dict()
    assert stats["stopped"] == "target"
    # One refusal per parameter per request in flight at first (max_tokens, then stop), at most.
    assert 2 <= seen["errors"].get("400", 0) <= 2 * 4
    assert {"max_tokens", "stop"} <= {r.args[1] for r in caplog.records if r.args}
    # Alpaca's stop sequence, applied here: no task 20, as with a model that takes it.
    kept = [json.loads(line) for line in (tmp_path / "run" / "kept.jsonl").open()]
    assert kept and max(e["meta"]["task"] for e in kept) <= 19


@pytest.mark.parametrize(
    "method, options",
    [
        # The output stage asks at temperature 0, the core at top_p 0.99: the method's own.
        ("unnatural", {"paraphrases": 1}),
        # The equality judge asks at temperature 0, the answers at top_p 0.95.
        ("evol-instruct", {"limit": 6, "rounds": 1}),
    ],
)
def test_every_method_runs_on_a_reasoning_model(tmp_path, method, options):
    with StubServer(reasoning=True) as server:
        stats = _run(tmp_path / "run", server.base_url, method=method, **options)
    assert stats["stopped"] in ("target", "done")


def test_sampling_a_reasoning_model_refuses_stops_the_run(tmp_path):
    refused = pytest.raises(BackendError, match=r"'temperature' does not support 0\.7")
    with StubServer(reasoning=True) as server, refused:
        _run(tmp_path / "run", server.base_url, temperature=0.7)
