"""The stall guard (pipeline/engine/stall.py): a stage whose last answers keep nothing stops by
itself with its reason; a slow but productive one never does; the stall falls on the same answer
however the answers arrive; a re-run tries again; --patience 0 turns it off."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from pipeline.cli.main import main
from pipeline.engine.stall import Guard, default_patience, diagnose
from pipeline.methods import stub_model
from pipeline.stub.server import StubServer
from pipeline.types import Choice, Completion, Drop, Request
from tests.helpers import run

STUB = stub_model()


class Scripted:
    """Answers each request with `answer(slot number, request)`; counts what it is asked."""

    def __init__(self, answer):
        self.answer, self.asked = answer, Counter()

    async def complete(self, request: Request) -> Completion:
        slot = int(request.slot.rsplit(":", 1)[1])
        self.asked[request.key()] += 1
        await asyncio.sleep(0)
        return self.answer(slot, request)


def empty(slot, request):
    return Completion(choices=())


def off_format(slot, request):
    return Completion(choices=(Choice("Sure! Here are some ideas you might like."),))


def saturated():
    """The first real answer, again and again: after its first time every task is a copy."""
    first: list[Completion] = []

    def answer(slot, request):
        if not first:
            first.append(STUB.answer(request))
        return first[0]

    return answer


def productive():
    """A new answer every 40th request (under the patience of 50), copies in between."""
    copy = saturated()
    return lambda slot, request: STUB.answer(request) if slot % 40 == 0 else copy(slot, request)


@pytest.mark.parametrize(
    ("answer", "answers", "cause"),
    [
        (lambda: empty, 50, "were empty: check the model and --api"),
        (lambda: off_format, 50, "did not follow the prompt's format"),
        (saturated, 51, "kept only near-duplicates: the pool is saturated"),
    ],
    ids=["empty", "off-format", "saturated"],
)
def test_a_stage_that_keeps_nothing_stops_with_its_reason(tmp_path, answer, answers, cause):
    backend = Scripted(answer())
    stats = run(tmp_path / "r", backend=backend, target=1000, judge="inline")
    assert stats["stopped"] == "stalled"
    assert stats["stall"]["answers"] == 50 and cause in stats["stall"]["message"]
    assert stats["requests"]["total"] == answers  # the saturated run kept from its first
    written = json.loads((tmp_path / "r" / "stats.json").read_text())
    assert written["stopped"] == "stalled" and written["stall"] == stats["stall"]


def test_a_slow_but_productive_run_never_trips_the_guard(tmp_path):
    stats = run(tmp_path / "r", backend=Scripted(productive()), target=100, judge="inline")
    assert stats["stopped"] == "target" and stats["requests"]["total"] > 200


def sometimes():
    """Seven new answers, then copies of one: a stall some answers in."""
    copy = saturated()
    return lambda slot, request: STUB.answer(request) if slot < 7 else copy(slot, request)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("stall") / "reference"
    run(out, backend=Scripted(sometimes()), target=1000, concurrency=8)
    return out


@pytest.mark.parametrize("concurrency", [1, 3, 16])
def test_the_stall_falls_on_the_same_answer_however_answers_arrive(
    tmp_path, reference, concurrency
):
    out = tmp_path / "r"
    stats = run(out, backend=Scripted(sometimes()), target=1000, concurrency=concurrency)
    assert (
        stats["stall"]["slot"]
        == json.loads((reference / "stats.json").read_text())["stall"]["slot"]
    )
    for name in ("kept.jsonl", "removed.jsonl"):
        assert (out / name).read_bytes() == (reference / name).read_bytes()


def test_a_rerun_tries_again_from_the_stall_and_pays_nothing_twice(tmp_path):
    backend = Scripted(empty)
    first = run(tmp_path / "r", backend=backend, target=1000, judge="inline")
    again = run(tmp_path / "r", backend=backend, target=1000, judge="inline")
    assert first["stall"]["slot"] == 49 and again["stall"]["slot"] == 99
    assert [s["slot"] for s in again["stalls"]] == [49, 99]
    assert max(backend.asked.values()) == 1


def test_patience_zero_never_stalls(tmp_path):
    stats = run(tmp_path / "r", backend=Scripted(empty), target=10, max_requests=120, patience=0)
    assert stats["stopped"] == "max_requests" and stats["requests"]["total"] == 120


def test_an_evol_round_whose_evolutions_are_all_eliminated_is_not_a_stall(tmp_path):
    def equal(slot, request):
        if 'Reply with "Equal"' in request.prompts[0]:
            return Completion(choices=(Choice("Equal"),))
        return STUB.answer(request)

    config = {"method": "evol-instruct", "limit": 30, "rounds": 1, "patience": 5}
    stats = run(tmp_path / "r", backend=Scripted(equal), **config)
    assert stats["stopped"] == "done" and stats["funnel"]["kept"] == 0


def test_a_map_stage_of_empty_answers_stalls(tmp_path):
    config = {"method": "evol-instruct", "limit": 30, "rounds": 1, "patience": 5}
    stats = run(tmp_path / "r", backend=Scripted(empty), **config)
    assert stats["stopped"] == "stalled" and stats["stall"]["stage"] == "evolve-1"
    assert stats["requests"]["total"] == 5


def test_the_command_exits_5_with_one_line_naming_the_cause(tmp_path, capsys):
    with StubServer(faults="empty*500") as server:
        code = main(
            ["run", "self-instruct", "--backend", "openai", "--model", "stub", "--base-url",
             server.base_url, "--out", str(tmp_path / "r"), "--no-prefect", "--quiet"]
        )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 5 and len(err) == 1
    assert "stalled: the last 50 answers were empty" in err[0] and "--patience 0" in err[0]


@pytest.mark.parametrize(
    ("expected", "patience"),
    [(16.0, 50), (8.0, 50), (1.0, 300), (0.8, 375)],
)
def test_default_patience_holds_a_few_hundred_candidates_or_50_answers(expected, patience):
    assert default_patience(expected) == patience


@pytest.mark.parametrize(
    ("reasons", "says"),
    [
        ([("parse: empty_response", 9)], "were empty"),
        ([("output: empty", 9)], "were empty"),
        ([("parse: truncated", 9)], "raise --max-tokens"),
        ([("parse: malformed_task", 9)], "did not follow the prompt's format"),
        ([("rouge: too_similar", 90)], "the pool is saturated"),
        ([("blocked_words: blocked_word", 9)], "most by blocked_words: blocked_word"),
        ([], "kept nothing"),
    ],
)
def test_the_message_names_the_dominant_reason_and_its_cause(reasons, says):
    assert says in diagnose(9, reasons, map_stage=False)


def test_the_guard_counts_only_after_an_earlier_stall_and_resets_on_a_keep():
    guard = Guard(patience=3, after=4)
    drop = [Drop("parse", "empty_response")]
    assert not any(guard.observe(slot, False, False, drop) for slot in range(5))
    assert not guard.observe(5, False, False, drop) and not guard.observe(6, False, False, drop)
    assert not guard.observe(7, True, True, [])  # a keep starts the count again
    assert [guard.observe(slot, False, False, drop) for slot in (8, 9, 10)] == [0, 0, 1]
    assert guard.stall["first_slot"] == 8 and guard.stall["answers"] == 3
