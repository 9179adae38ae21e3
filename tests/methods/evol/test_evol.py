"""Evol-Instruct: elimination rules, operation choice, parent fallback, rounds and resume."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.errors import ConfigError, InputError
from pipeline.methods import make_config
from pipeline.methods.evol.filters import CopiedMarker, OnlyStopWords, SorryShort
from pipeline.methods.evol.recipe import load_pool
from pipeline.methods.evol.round import (
    OPERATIONS,
    Evolve,
    Templates,
    _after_marker,
    next_pool,
    parse_verdict,
    parse_weights,
)
from pipeline.types import Choice, Drop, Example
from tests.helpers import CountingBackend, Killed, run

LONG = " ".join(["word"] * 85)


@pytest.mark.parametrize(
    "rule, example, dropped",
    [
        (CopiedMarker(), Example("Explain the #Rewritten Prompt# rules."), True),
        (CopiedMarker(), Example("Rewrite the given prompt to be shorter."), True),
        (CopiedMarker(), Example("Here is the new prompt: name three rivers."), True),
        (CopiedMarker(), Example("Name three rivers in Peru and their lengths."), False),
        (SorryShort(), Example("q", output="Sorry, I cannot do that."), True),
        (SorryShort(), Example("q", output="I'm SORRY to hear it. " + LONG), False),
        (SorryShort(), Example("q", output="Paris is the capital of France."), False),
        (OnlyStopWords(), Example("q", output="..."), True),
        (OnlyStopWords(), Example("q", output=""), True),
        (OnlyStopWords(), Example("q", output="Yes, it is what it is!"), True),
        (OnlyStopWords(), Example("q", output="It is Paris."), False),
    ],
)
def test_elimination_rules(rule, example, dropped):
    assert (rule.check(example) is not None) == dropped


@pytest.mark.parametrize(
    "text, verdict",
    [
        ("Equal", "equal"),
        ("Not Equal", "not equal"),
        (" not equal. ", "not equal"),
        ("EQUAL", "equal"),
        ('"Not  Equal"', "not equal"),
        ("They are equal.", None),
        ("Equal, because both ask the same", None),
        ("", None),
        ("Unequal", None),
    ],
)
def test_verdicts_are_parsed_strictly(text, verdict):
    assert parse_verdict(text) == verdict


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Name three rivers.", "Name three rivers."),
        ("#New Prompt#:\nName three rivers.", "Name three rivers."),
        ("#Created Prompt#: Name three rivers. ", "Name three rivers."),
        ("Sure.\n#Rewritten Prompt#:\nName rivers.", "Name rivers."),
    ],
)
def test_text_after_a_repeated_marker(text, expected):
    assert _after_marker(text) == expected


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("", dict.fromkeys(OPERATIONS, 1.0)),
        ("breadth=2,deepen", {"breadth": 2.0, "deepen": 1.0}),
        ("breadth=0,reasoning=0.5", {"breadth": 0.0, "reasoning": 0.5}),
        ("widen=1", "unknown operation"),
        ("breadth=x", "must be a number"),
        ("breadth=-1", "must not be negative"),
        ("breadth=0", "at least one"),
    ],
)
def test_operation_weights(spec, expected):
    if isinstance(expected, str):
        with pytest.raises(ConfigError, match=expected):
            parse_weights(spec)
    else:
        assert parse_weights(spec) == expected


def _evolve(**kw) -> Evolve:
    pool = [Example(f"Instruction number {i}.", id=f"s{i}") for i in range(600)]
    config = make_config(out="x", method="evol-instruct", **kw)
    return Evolve(pool, 1, config, Templates.load())


def test_operations_are_seeded_and_roughly_uniform():
    a, b, other = _evolve(), _evolve(), _evolve(seed=1)
    ops = [a.operation(p)[0] for p in range(600)]
    assert ops == [b.operation(p)[0] for p in range(600)]
    assert ops != [other.operation(p)[0] for p in range(600)]
    counts = Counter(ops)
    assert set(counts) == set(OPERATIONS) and min(counts.values()) > 60
    only = _evolve(operations="breadth=1")
    assert {only.operation(p)[0] for p in range(50)} == {"breadth"}


def test_each_operation_renders_its_own_prompt():
    e = _evolve()
    prompts = {e.operation(p)[0]: e.prompt(p) for p in range(60)}
    assert "#Created Prompt#:" in prompts["breadth"]
    assert "format" in prompts["complicate_input"]
    assert all(
        p.rstrip().endswith(("#New Prompt#:", "#Created Prompt#:")) for p in prompts.values()
    )
    assert len(set(prompts.values())) == len(OPERATIONS)


def test_evolve_parse_keeps_lineage():
    e = _evolve()
    (child,) = e.parse(7, Choice("#New Prompt#:\nHarder instruction."))
    assert child.instruction == "Harder instruction." and child.id == "ev1-000007"
    assert child.meta["parent_id"] == "s7" and child.meta["seed_id"] == "s7"
    assert child.meta["round"] == 1 and child.meta["operation"] == e.operation(7)[0]
    (empty,) = e.parse(7, Choice("  "))
    assert isinstance(empty, Drop) and empty.reason == "empty"


def test_failed_evolutions_leave_their_parent_in_the_pool():
    pool = [Example("a", id="s0"), Example("b", id="s1"), Example("c", id="s2")]
    survivor = Example("b, harder", output="answer", id="ev1-000001", meta={"position": 1})
    nxt = next_pool(pool, [survivor])
    assert [p.id for p in nxt] == ["s0", "ev1-000001", "s2"]
    assert nxt[1].output == ""  # the next round evolves the prompt, not its answer


EV = {"method": "evol-instruct", "rounds": 3, "limit": 30, "concurrency": 4}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("evol")
    stats = run(out, backend=CountingBackend(malformed_rate=0.1, duplicate_rate=0.1), **EV)
    return out, stats


def test_rounds_funnel_lineage_and_parent_fallback(reference):
    out, stats = reference
    f = stats["funnel"]
    assert f["generated"] == 90 == f["kept"] + f["dropped_total"]
    assert list(stats["rounds"]) == ["1", "2", "3"]
    assert all(r["evolved"] == 30 for r in stats["rounds"].values())
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()]
    assert len(kept) == f["kept"] and all(k["output"] for k in kept)
    ids = {k["id"] for k in kept}
    seeds = {e.id for e in load_pool(make_config(out="x", **EV))}
    for k in kept:
        m = k["meta"]
        assert m["seed_id"] in seeds and m["operation"] in OPERATIONS
        # A parent is the seed, or the last surviving evolution of the same position.
        assert m["parent_id"] in seeds or m["parent_id"] in ids
    removed = [json.loads(line) for line in (out / "removed.jsonl").read_text().splitlines()]
    failed = {(r["example"]["meta"]["round"], r["example"]["meta"]["position"]) for r in removed}
    assert failed, "the faults should eliminate some evolutions"
    for k in kept:  # after a failed evolution the next round starts from the older parent
        m = k["meta"]
        if m["round"] > 1 and (m["round"] - 1, m["position"]) in failed:
            assert not m["parent_id"].startswith(f"ev{m['round'] - 1}-")
    assert len(json.loads((out / "alpaca.json").read_text())) == len(kept)


@pytest.mark.parametrize("stage", ["evolve-2", "judge-2", "answer-2", "answer-3"])
def test_killed_mid_round_resumes_identically_paying_once(tmp_path, reference, stage):
    out, stats = reference
    sizes = [(name, s["requests"]["total"]) for name, s in stats["stages"].items()]
    before = sum(n for name, n in sizes[: [name for name, _ in sizes].index(stage)])
    die_after = before + dict(sizes)[stage] // 2
    paid = Counter()
    faults = {"malformed_rate": 0.1, "duplicate_rate": 0.1}
    with pytest.raises(Killed):
        run(tmp_path, backend=CountingBackend(paid, die_after=die_after, **faults), **EV)
    again = run(tmp_path, backend=CountingBackend(paid, **faults), **EV)
    assert max(paid.values()) == 1, "a request was paid twice"
    # What was judged before the kill comes from the checkpoint, the rest from the cache.
    assert again["session"]["requests_sent"] == sum(paid.values()) - die_after
    for name in ("kept.jsonl", "removed.jsonl", "alpaca.json"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_without_the_equality_check_there_is_no_judge_stage(tmp_path):
    stats = run(tmp_path, backend=CountingBackend(), **{**EV, "equality_check": False})
    assert list(stats["stages"]) == [
        "evolve-1",
        "answer-1",
        "evolve-2",
        "answer-2",
        "evolve-3",
        "answer-3",
    ]


def test_pool_from_a_run_directory_with_limit_and_sample(tmp_path):
    run(tmp_path / "si", backend=CountingBackend(), target=20)
    pool = load_pool(make_config(out="x", method="evol-instruct", source=str(tmp_path / "si")))
    assert len(pool) == 20 and pool[0].id.startswith("si-")
    cfg = make_config(out="x", method="evol-instruct", source=str(tmp_path / "si"), sample=5)
    sample = load_pool(cfg)
    assert len(sample) == 5 and sample == load_pool(cfg)
    assert [pool.index(s) for s in sample] == sorted(pool.index(s) for s in sample)
    limited = make_config(out="x", method="evol-instruct", source=str(tmp_path / "si"), limit=3)
    assert load_pool(limited) == pool[:3]


@pytest.mark.parametrize(
    "kw, problem",
    [({"sample": 10_000}, "more than"), ({"source": "nope.json"}, "no such file")],
)
def test_bad_pool_options(kw, problem):
    with pytest.raises(InputError, match=problem):
        load_pool(make_config(out="x", method="evol-instruct", **kw))


def test_empty_run_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="has no kept"):
        load_pool(make_config(out="x", method="evol-instruct", source=str(tmp_path)))
