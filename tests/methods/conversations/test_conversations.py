"""The conversations method: its parsers and checks on recorded text, its stages end to end on
the stub (both modes, early endings, cut turns, --min-turns, --reanswer, --system), openings
from chat files, its outputs read back, and requests carrying a conversation's history."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from pipeline.backends.openai.backend import _messages
from pipeline.errors import ConfigError
from pipeline.estimate.cost import estimate
from pipeline.formats import read_examples, write_examples
from pipeline.methods import make_config, stub_model
from pipeline.methods.conversations import checks
from pipeline.methods.conversations.openings import is_later_turn
from pipeline.methods.conversations.options import parse_turns
from pipeline.methods.conversations.selfchat import SelfChat, self_chat_template, split_turns
from pipeline.methods.conversations.stub import ENV
from pipeline.methods.conversations.turns import AssistantTurn
from pipeline.seeds import load_seeds
from pipeline.types import Choice, Example, Request
from tests.helpers import run


class Recording:
    """The stub model, keeping every request it is sent."""

    def __init__(self, seen: list[Request]):
        self.seen, self.stub = seen, stub_model()

    async def complete(self, request: Request):
        self.seen.append(request)
        return await self.stub.complete(request)


M = "conversations"


def conversation_run(out: Path, **options) -> tuple[dict, list[dict], list[dict]]:
    stats = run(out, method=M, judge="inline", **options)
    kept = [json.loads(line) for line in (out / "kept.jsonl").open()]
    removed = [json.loads(line) for line in (out / "removed.jsonl").open()]
    return stats, kept, removed


def user_turns(conv: dict) -> int:
    return sum(m["role"] == "user" for m in conv["messages"])


@pytest.mark.parametrize(
    "text, first, roles, failure",
    [
        ("[|AI|] Hi.\n[|Human|] More?\n[|AI|] Yes.", "assistant", "aua", None),
        ("[|Human|] More?\n[|AI|] Yes.", "user", "ua", None),
        ("[|AI|] Hi.\n[|AI|] Again.", "assistant", "a", "turns_do_not_alternate"),
        ("Sure, here is a chat.\n[|AI|] Hi.", "assistant", "", "text_before_first_marker"),
        ("User: hi\nAssistant: hello", "assistant", "", "no_speaker_markers"),
        ("[|Human|] Hi.", "assistant", "", "turns_do_not_alternate"),
    ],
)
def test_self_chat_transcripts_parse_strictly(text, first, roles, failure):
    turns, failed = split_turns(text, first)
    assert "".join(role[0] for role, _ in turns) == roles
    assert (failed[1] if failed else None) == failure


@pytest.mark.parametrize(
    "role, text, earlier, failure",
    [
        ("assistant", "", [], ("turn", "empty")),
        ("assistant", "I'm sorry, I can't help with that.", [], ("refusal", "sorry_or_as_an_ai")),
        ("assistant", "As an AI, I have no opinion.", [], ("refusal", "sorry_or_as_an_ai")),
        ("assistant", "Sorry for the wait. " + "word " * 90, [], None),
        ("assistant", "Paris.\n\nUser: and Rome?", [], ("role_leak", "assistant_wrote_user_turn")),
        ("assistant", "Paris.\n[|Human|] Rome?", [], ("role_leak", "assistant_wrote_user_turn")),
        ("user", "Sure! Here is the answer: 42.", [], ("role_leak", "user_answered")),
        ("user", "Certainly, the capital is Paris.", [], ("role_leak", "user_answered")),
        ("user", "Here is my draft, can you check it?", [], None),
        ("user", "Here's the code I have: why does it fail?", [], None),
        ("user", "Of course, but what about Rome?", [], None),
        ("user", "What about Rome?\nAssistant: Rome is...", [], ("role_leak", "user_answered")),
        ("user", "Why?\nUser: and then?", [], ("role_leak", "user_wrote_exchange")),
        ("user", "What is the capital of France?", ["what is the capital of france"],
         ("repeat", "repeated_question")),
        ("user", "And what is its population?", ["What is the capital of France?"], None),
        ("user", "  ", [], ("turn", "empty")),
    ],
)  # fmt: skip
def test_every_turn_is_checked_by_its_role(role, text, earlier, failure):
    if role == "assistant":
        found = checks.check_answer(text)
    else:
        found = checks.check_user(text, earlier, 0.7)
    assert (found[:2] if found else None) == failure


@pytest.mark.parametrize("spec, expected", [("3", (3, 3)), ("2-5", (2, 5)), (" 1 - 20 ", (1, 20))])
def test_turns_read_as_a_range(spec, expected):
    assert parse_turns(spec) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"turns": "5-2"},
        {"turns": "0"},
        {"turns": "two"},
        {"turns": "2-30"},
        {"mode": "both"},
        {"rouge_threshold": 1.5},
    ],
)
def test_bad_options_are_refused_before_anything_runs(options, tmp_path):
    with pytest.raises(ConfigError):
        make_config(M, out=str(tmp_path), **options)


@pytest.mark.parametrize("mode", ["simulate", "self-chat"])
def test_kept_conversations_alternate_and_keep_at_least_min_turns(mode, tmp_path):
    stats, kept, removed = conversation_run(tmp_path, mode=mode, limit=60, turns="2-4")
    funnel = stats["funnel"]
    assert funnel["kept"] == len(kept) > 0
    assert len(removed) == funnel["dropped_total"] + funnel["cut_total"]
    for conv in kept:
        roles = [m["role"] for m in conv["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        meta = conv["meta"]
        assert meta["reached"] == user_turns(conv) <= meta["planned"]
        assert meta["ended"] in ("planned", "user_ended", "cut")
        assert meta["ended"] != "planned" or meta["reached"] == meta["planned"]
        assert meta["ended"] == "planned" or meta["reached"] >= 2
        assert conv["output"] == conv["messages"][1]["content"]
    for drop in removed:
        assert drop["meta"]["conversation"] in ("kept", "dropped") and drop["meta"]["turn"] >= 0
    block = stats["conversations"]
    assert block["mode"] == mode and block["settled"] == funnel["generated"]
    assert sum(block["reached"].values()) == len(kept)


def test_the_simulator_ending_early_is_its_own_outcome(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "end=1,repeat=0,answered=0,refusal=0,leak=0")
    stats, kept, removed = conversation_run(tmp_path / "a", limit=20, turns="3")
    assert not kept and {d["filter"] for d in removed} == {"ended"}
    assert stats["funnel"]["dropped"] == {"ended": {"too_few_turns": 20}}
    stats, kept, _ = conversation_run(tmp_path / "b", limit=20, turns="3", min_turns=1)
    assert len(kept) == 20 and {c["meta"]["ended"] for c in kept} == {"user_ended"}
    assert stats["conversations"]["ended"]["user_ended"] == 20


def test_a_failed_turn_cuts_the_conversation_and_keeps_its_turns_before(tmp_path, monkeypatch):
    # Every assistant answer refused: with --reanswer the first answer fails, so nothing is
    # kept; with the source's own answers, turn 2's answer fails: one turn, fewer than 2.
    monkeypatch.setenv(ENV, "refusal=1,end=0,repeat=0,answered=0")
    stats, kept, removed = conversation_run(tmp_path / "a", limit=10, turns="3", reanswer=True)
    assert not kept and stats["funnel"]["dropped"] == {"refusal": {"sorry_or_as_an_ai": 10}}
    stats, kept, removed = conversation_run(tmp_path / "b", limit=10, turns="3", min_turns=1)
    assert len(kept) == 10 and all(c["meta"]["cut"]["turn"] == 2 for c in kept)
    assert stats["funnel"]["cut"] == {"refusal": {"sorry_or_as_an_ai": 10}}
    assert all(d["meta"]["conversation"] == "kept" and d["meta"]["stage"] == "answer-2"
               for d in removed)  # fmt: skip


def test_repeated_questions_are_caught(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "repeat=1,end=0,answered=0,refusal=0,leak=0")
    stats, kept, _ = conversation_run(tmp_path, limit=10, turns="3")
    assert not kept and stats["funnel"]["dropped"] == {"repeat": {"repeated_question": 10}}


@pytest.mark.parametrize("mode", ["simulate", "self-chat"])
def test_system_prompt_comes_first_and_is_sent_with_every_answer(mode, tmp_path):
    system = "You are a patient tutor."
    seen: list[Request] = []
    backend = Recording(seen)
    options = dict(mode=mode, limit=8, turns="2", reanswer=True, system=system)
    stats = run(tmp_path, backend=backend, method=M, judge="inline", **options)
    kept = [json.loads(line) for line in (tmp_path / "kept.jsonl").open()]
    assert kept and all(c["messages"][0] == {"role": "system", "content": system} for c in kept)
    sharegpt = json.loads((tmp_path / "sharegpt.json").read_text())
    assert sharegpt[0]["conversations"][0] == {"from": "system", "value": system}
    answers = [r for r in seen if ":answer:" in r.slot or ":chat:" in r.slot]
    assert len(answers) == stats["requests"]["total"] - sum(":user:" in r.slot for r in seen)
    for r in answers:  # simulate: the system message; self-chat: the assistant's brief
        assert r.system == system if mode == "simulate" else system in r.prompts[0]


def test_self_chat_asks_nothing_of_a_conversation_already_complete(tmp_path):
    stats, kept, _ = conversation_run(tmp_path, mode="self-chat", limit=10, turns="1", min_turns=1)
    assert stats["requests"]["total"] == 0 and len(kept) == 10
    assert all(c["meta"]["ended"] == "planned" and user_turns(c) == 1 for c in kept)


@pytest.mark.parametrize(
    "text, reached",
    [
        ("[|AI|] Paris.\n[|Human|] And Rome?\n[|AI|] Rome.", 2),  # the prompt's marker again
        ("Paris.\n[|Human|] And Rome?\n[|AI|] Rome.", 2),
        ("Paris.\n[|AI|] More.\n[|Human|] And Rome?", 1),  # a speaker twice: cut after one
    ],
)
def test_self_chat_reads_what_chat_models_write(text, reached, tmp_path):
    config = make_config(M, out=str(tmp_path), mode="self-chat", reanswer=True, turns="2")
    opening = Example(
        "Capital of France?",
        messages=({"role": "user", "content": "Capital of France?"},),
        meta={"position": 0, "planned": 2, "reached": 0},
    )
    [conv] = SelfChat([opening], config, self_chat_template()).parse(0, Choice(text))
    assert conv.meta["reached"] == reached
    assert [m["role"] for m in conv.messages] == ["user", "assistant"] * reached


def test_a_source_answer_that_fails_the_checks_drops_its_opening(tmp_path):
    source = tmp_path / "refusals.jsonl"
    rows = [
        {"instruction": "Write a poem about the sea.", "output": "I'm sorry, I cannot do that."},
        {"instruction": "Name a prime number.", "output": "Seven is a prime number."},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows))
    stats, _, removed = conversation_run(tmp_path / "a", source=str(source), turns="1")
    assert stats["conversations"]["openings"]["first_answer_failed"] == 1
    assert removed[0]["reason"] == "sorry_or_as_an_ai" and removed[0]["meta"]["turn"] == 1
    stats, _, _ = conversation_run(tmp_path / "b", source=str(source), turns="1", reanswer=True)
    assert stats["conversations"]["openings"]["first_answer_failed"] == 0


def test_an_example_with_an_output_keeps_it_unless_reanswer(tmp_path):
    seeds = load_seeds()
    _, kept, _ = conversation_run(tmp_path / "a", limit=5, turns="2", min_turns=1)
    by_source = {s.id: s for s in seeds}
    for conv in kept:
        assert conv["meta"]["first_answer"] == "source"
        assert conv["output"] == by_source[conv["meta"]["source_id"]].output.strip()
    stats, kept, _ = conversation_run(tmp_path / "b", limit=5, turns="2", reanswer=True)
    assert stats["conversations"]["stages"]["answer-1"] == 5
    assert all(c["meta"]["first_answer"] == "model" for c in kept)


def test_chat_files_open_with_their_first_exchange_only(tmp_path):
    rows = [
        {"id": f"c{i}", "conversations": [
            {"from": "human", "value": f"Question {i}: how do {w} work?"},
            {"from": "gpt", "value": f"They work well, {w}."},
            {"from": "human", "value": "And then?"},
            {"from": "gpt", "value": "Then it ends."},
        ]}
        for i, w in enumerate(["magnets", "tides", "vaccines", "compilers", "elections"])
    ]  # fmt: skip
    source = tmp_path / "chats.json"
    source.write_text(json.dumps(rows))
    stats, kept, _ = conversation_run(tmp_path / "run", turns="2", min_turns=1, source=str(source))
    assert stats["conversations"]["openings"] == {
        "read": 5, "later_turns_skipped": 5, "gated": 0, "first_answer_failed": 0,
        "with_answer": 5,
    }  # fmt: skip
    assert [c["meta"]["source_id"] for c in kept] == [f"c{i}_0" for i in range(5)][: len(kept)]


def test_near_duplicate_openings_are_dropped_before_any_request(tmp_path):
    source = tmp_path / "dup.jsonl"
    lines = [{"instruction": "Name three rivers in Africa.", "input": "", "output": ""}] * 3
    lines.append({"instruction": "Explain how a bicycle gear works.", "input": "", "output": ""})
    source.write_text("\n".join(json.dumps(x) for x in lines))
    stats, _, removed = conversation_run(tmp_path / "run", turns="2", source=str(source))
    assert stats["conversations"]["openings"]["gated"] == 2
    assert stats["conversations"]["stages"]["answer-1"] == 2  # the two distinct ones only
    assert [d["reason"] for d in removed if d["filter"] == "rouge"] == ["too_similar"] * 2


def test_the_outputs_read_back_with_every_turn(tmp_path):
    _, kept, _ = conversation_run(tmp_path, limit=30, turns="2-3")
    turns = sum(user_turns(c) for c in kept)
    for name in ("sharegpt.json", "openai.jsonl"):
        examples = read_examples(tmp_path / name)
        assert len(examples) == turns, name
    # As --from, a conversation run reads as a chat file: every exchange, the later ones
    # with the turns before them (so a conversations run opens with the first ones only).
    read = load_seeds(tmp_path)
    assert len(read) == turns
    firsts = [e for e in read if not is_later_turn(e)]
    assert [e.output for e in firsts] == [c["output"] for c in kept]
    again = Example.from_dict(kept[0])
    assert [dict(m) for m in again.messages] == kept[0]["messages"]


@pytest.mark.parametrize("fmt, name", [("jsonl", "dataset.jsonl"), ("parquet", "dataset.parquet")])
def test_flat_exports_keep_every_turn(fmt, name, tmp_path):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    conversation_run(tmp_path, limit=20, turns="2-3")
    examples = [Example.from_dict(json.loads(line)) for line in (tmp_path / "kept.jsonl").open()]
    write_examples(examples, fmt, tmp_path / name)
    back = read_examples(tmp_path / name, fmt)
    assert [e.messages for e in back] == [e.messages for e in examples]
    assert [e.meta for e in back] == [e.meta for e in examples]


def test_a_request_without_history_keeps_its_cache_key():
    plain = Request("m", ("Hi",), system="S")
    assert "history" not in plain.to_dict()
    talk = Request("m", ("And then?",), system="S", history=(("user", "Hi"), ("assistant", "Yo")))
    assert talk.key() != plain.key()
    assert _messages(talk) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Yo"},
        {"role": "user", "content": "And then?"},
    ]


def test_the_completions_api_continues_a_transcript(tmp_path):
    config = make_config(M, out=str(tmp_path), api="completions", system="Be brief.")
    conv = Example("Hi", messages=({"role": "user", "content": "Hi"},), meta={"position": 0})
    request = AssistantTurn([conv], 1, config).plan(0)
    assert request.api == "completions" and not request.history
    assert request.prompts[0] == "Be brief.\n\nUser: Hi\n\nAssistant:"
    stats, _, _ = conversation_run(tmp_path / "run", api="completions", limit=6, turns="2")
    assert stats["funnel"]["generated"] == 6


def test_the_estimate_sees_prompts_grow_with_every_turn(tmp_path):
    config = make_config(M, out=str(tmp_path), turns="6", reanswer=True)
    stages = estimate(config)["stages"]
    per_request = [
        stages[f"user-{t}"]["tokens"]["prompt"]["expected"]
        / stages[f"user-{t}"]["requests"]["expected"]
        for t in range(2, 7)
    ]
    growth = [b - a for a, b in itertools.pairwise(per_request)]
    assert all(g > 100 for g in growth)  # a user message and an answer more each turn
