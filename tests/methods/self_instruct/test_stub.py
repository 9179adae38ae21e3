"""The stub model's answers to Self-Instruct's prompt: Alpaca's numbered tasks, cut where
Alpaca's stop sequences cut them, parsing into tasks 4 to 19 (pipeline/methods/self_instruct/
stub.py)."""

from __future__ import annotations

import pytest

from tests.stub.test_model import ALPACA_STOP, answer, request, tasks_of


@pytest.mark.parametrize(
    ("stop", "ending"), [(ALPACA_STOP, "\n###"), ((), "\n###\n20. Instruction:")]
)
def test_self_instruct_answers_end_where_alpaca_stops_them(stop, ending):
    for i in range(20):
        choice = answer(request(slot=f"e{i}", stop=stop))[0]
        assert choice.text.endswith(ending) and choice.finish_reason == "stop"
        assert not any(s in choice.text for s in stop)


@pytest.mark.parametrize("slot", [f"s{i}" for i in range(8)])
def test_self_instruct_answer_parses_into_tasks_4_to_19(slot):
    choice = answer(request(slot=slot, stop=ALPACA_STOP))[0]
    pieces = [p for p in tasks_of(choice.text, choice.finish_reason) if p.raw.strip()]
    good = [p for p in pieces if p.fields is not None]
    # a stop sequence inside a task (e.g. "20.5 kilometers") may end an answer early, as with
    # the real model; the fixed slots here do not hit it
    assert [p.number for p in good] == list(range(4, 20))
    for p in good:
        instruction, _, output = p.fields
        assert instruction and output
    for k in range(5, 20):
        for label in ("Instruction:", "Input:\n", "Output:\n"):
            assert f"{k}. {label}" in choice.text


def test_chat_replies_sometimes_repeat_the_header_and_still_parse():
    repeats = 0
    for i in range(120):
        choice = answer(request(api="chat", slot=f"c{i}", stop=ALPACA_STOP))[0]
        repeats += choice.text.startswith("4. Instruction:")
        assert len([p for p in tasks_of(choice.text) if p.fields]) >= 14
    assert 20 <= repeats <= 60  # about a third of 120
