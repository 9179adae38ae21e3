"""Unnatural Instructions: parsers, rules, the three stages end to end, and resume mid-stage."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.errors import InputError
from pipeline.methods import make_config
from pipeline.methods.unnatural.core import (
    DuplicatePairs,
    UnnaturalCore,
    build_core_prompt,
    load_demos,
    parse_core,
)
from pipeline.methods.unnatural.expand import ReformulationDuplicates, UnnaturalParaphrases
from pipeline.types import Choice, Drop, Example
from tests.helpers import CountingBackend, Killed, run

GOOD = "Instruction: Name the capital.\nInput: France\nConstraints: One word."


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD, ("Name the capital.", "France", "One word.")),
        ("Example 4\n" + GOOD, ("Name the capital.", "France", "One word.")),
        (" Example 4:\n\n" + GOOD, ("Name the capital.", "France", "One word.")),
        (GOOD + "\n\nExample 5\nInstruction: Other.", ("Name the capital.", "France", "One word.")),
        (
            "Instruction: Sort.\nInput: 3, 1,\n2\nConstraints: None.",
            ("Sort.", "3, 1,\n2", "None."),
        ),
        ("Instruction: Name the capital.\nInput: France", "Constraints"),
        ("Instruction: Name the capital.\nConstraints: None.", "Input"),
        ("Input: France\nConstraints: None.", "Instruction"),
        ("Instruction:\nInput: France\nConstraints: None.", "Instruction"),
        ("Sure! Here is a fourth example about capitals.", "Instruction"),
        ("", "Instruction"),
    ],
)
def test_parse_core(text, expected):
    assert parse_core(text) == expected


def _core(**kw) -> UnnaturalCore:
    return UnnaturalCore(load_demos(), make_config(out="x", method="unnatural", **kw))


@pytest.mark.parametrize(
    "text, finish, filter_, reason",
    [
        (GOOD, "stop", None, None),
        ("Instruction: Name the capital.\nInput: France", "stop", "parse", "missing_field"),
        ("Instruction: Name the capital.\nInput: Fra", "length", "parse", "truncated"),
        (GOOD, "length", "parse", "truncated"),
        ("demo", "stop", "copy", "repeats_demonstration"),
    ],
)
def test_core_parse_rules(text, finish, filter_, reason):
    core = _core()
    _, demos = core.demos_for(7, 0)
    if text == "demo":
        d = demos[1]
        text = f"Instruction: {d.instruction}\nInput:  {d.input}\nConstraints: whatever"
    (item,) = core.parse(7, Choice(text, finish, 0))
    if filter_ is None:
        assert isinstance(item, Example) and item.meta["demo_set"] == demos[0].meta["set"]
        assert item.meta["constraints"] == "One word." and item.id == "un-000007-0"
    else:
        assert isinstance(item, Drop) and (item.filter, item.reason) == (filter_, reason)


def test_core_prompt_ends_with_the_fourth_header_and_is_deterministic():
    core = _core()
    a, b = core.plan(3), core.plan(3)
    assert a == b and a.prompts[0].endswith("Example 4\n") and a.top_p == 0.99
    assert a.stop == ("Example 5",)
    assert build_core_prompt(core.demos_for(3, 0)[1]) == a.prompts[0]
    assert len({core.plan(i).prompts[0] for i in range(40)}) > 20


def test_duplicate_pairs_ignore_case_and_spacing():
    f = DuplicatePairs()
    first = Example("Name  the capital.", "France", id="a")
    assert f.check(first) is None
    assert f.check(first) is None  # the same item checked again is not its own duplicate
    assert "as a" in f.check(Example("name the capital.", " France ", id="b"))
    assert f.check(Example("Name the capital.", "Spain", id="c")) is None


def _paraphrases(k=2) -> UnnaturalParaphrases:
    cfg = make_config(out="x", method="unnatural", paraphrases=k)
    source = Example("Name the capital.", "France", "Paris", "un-1", meta={"core_id": "un-1"})
    return UnnaturalParaphrases(cfg, examples=[source])


@pytest.mark.parametrize(
    "text, finish, expected",
    [
        ("What is the capital of {INPUT}?", "stop", "What is the capital of France?"),
        (" Alternative formulation: {INPUT}: its capital?", "stop", "France: its capital?"),
        ("What is the capital of the country?", "stop", ("placeholder", "missing")),
        ("{INPUT} and {INPUT}?", "stop", ("placeholder", "repeated")),
        ("What is the capital of {INPUT", "stop", ("placeholder", "missing")),
        ("What is the capital of {INPUT}", "length", ("parse", "truncated")),
        ("   ", "stop", ("parse", "empty")),
    ],
)
def test_placeholder_rule(text, finish, expected):
    (item,) = _paraphrases().parse(0, Choice(text, finish, 0))
    if isinstance(expected, str):
        assert isinstance(item, Example) and item.instruction == expected
        assert item.input == "" and item.output == "Paris"
        assert item.meta["core_id"] == "un-1" and item.meta["stage"] == "reformulation"
    else:
        assert isinstance(item, Drop) and (item.filter, item.reason) == expected


def test_reformulation_slots_map_to_examples_and_indices():
    p = _paraphrases(k=3)
    assert p.requests == 3
    items = [p.parse(s, Choice("Say {INPUT}.", "stop", 0))[0] for s in range(3)]
    assert [i.meta["reformulation"] for i in items] == [0, 1, 2]
    assert len({p.plan(s).slot for s in range(3)}) == 3  # same prompt, distinct cache keys


def test_reformulation_duplicates():
    f = ReformulationDuplicates({"un-1": "name the capital."})

    def ex(template: str, rid: str) -> Example:
        return Example("x", id=rid, meta={"core_id": "un-1", "template": template})

    assert f.check(ex("Name the capital. {INPUT}", "r0")).startswith("same_as_original")
    assert f.check(ex("Capital of {INPUT}?", "r1")) is None
    assert f.check(ex("capital of  {INPUT}?", "r2")).startswith("duplicate")


@pytest.mark.parametrize(
    "content, problem",
    [
        ("", "no demonstrations"),
        ('{"instruction": "a", "input": "b"}\n', "constraints"),
        ('{"set": "x", "instruction": "a", "input": "b", "constraints": "c"}\n', "fewer than 3"),
        ('{"instruction": "a", "input": "b", "constraints": "c"\n', "malformed JSON"),
    ],
)
def test_bad_demo_files(tmp_path, content, problem):
    path = tmp_path / "demos.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=problem) as e:
        load_demos(path)
    assert str(path) in str(e.value)


def test_shipped_demos_are_five_sets_of_three():
    demos = load_demos()
    assert len(demos) == 5 and all(len(d) == 3 for d in demos.values())


UN = {"method": "unnatural", "target": 40, "paraphrases": 2, "concurrency": 4}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("unnatural")
    paid = Counter()
    stats = run(out, backend=CountingBackend(paid), **UN)
    return out, stats, paid


def test_end_to_end_files_funnel_and_lineage(reference):
    out, stats, _ = reference
    f = stats["funnel"]
    assert f["generated"] == f["kept"] + f["dropped_total"]
    stages = stats["stages"]
    assert list(stages) == ["core", "outputs", "reformulations"]
    assert stages["core"]["funnel"]["kept"] == 40
    assert stages["outputs"]["funnel"]["generated"] == 40
    assert (
        stages["reformulations"]["funnel"]["generated"] == 2 * stages["outputs"]["funnel"]["kept"]
    )
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()]
    assert len(kept) == f["kept"] == len(json.loads((out / "alpaca.json").read_text()))
    cores = [k for k in kept if k["meta"]["stage"] == "core"]
    refs = [k for k in kept if k["meta"]["stage"] == "reformulation"]
    assert len(cores) == stages["outputs"]["funnel"]["kept"] and refs
    assert all(k["output"] and k["meta"]["demo_set"] and "constraints" in k["meta"] for k in kept)
    assert all(r["meta"]["core_id"] in {c["id"] for c in cores} for r in refs)
    full = [json.loads(line) for line in (out / "full.jsonl").read_text().splitlines()]
    core = [json.loads(line) for line in (out / "core.jsonl").read_text().splitlines()]
    assert len(full) == len(core) == len(cores)
    assert set(core[0]) == {"instruction", "instances"}
    instance = core[0]["instances"][0]
    assert set(instance) == {"instruction_with_input", "input", "constraints", "output"}
    assert sum(len(r["reformulations"]) for r in full) == len(refs)
    for record in full:
        for r in record["reformulations"]:
            assert r["instruction"].count("{INPUT}") == 1
            assert r["instruction_with_input"] == r["instruction"].replace("{INPUT}", r["input"])
    removed = [json.loads(line) for line in (out / "removed.jsonl").read_text().splitlines()]
    assert len(removed) == f["dropped_total"]
    assert {r["meta"]["stage"] for r in removed} <= {"core", "outputs", "reformulations"}


@pytest.mark.parametrize(
    "stage, share", [("core", 0.1), ("core", 0.9), ("outputs", 0.5), ("reformulations", 0.5)]
)
def test_killed_in_any_stage_resumes_identically_paying_once(tmp_path, reference, stage, share):
    out, stats, _ = reference
    before = {"core": 0, "outputs": 0, "reformulations": 0}
    sizes = {name: s["requests"]["total"] for name, s in stats["stages"].items()}
    before["outputs"] = sizes["core"]
    before["reformulations"] = sizes["core"] + sizes["outputs"]
    die_after = before[stage] + int(sizes[stage] * share)
    paid = Counter()
    with pytest.raises(Killed):
        run(tmp_path, backend=CountingBackend(paid, die_after=die_after), **UN)
    stats = run(tmp_path, backend=CountingBackend(paid), **UN)
    assert max(paid.values()) == 1, "a request was paid twice"
    # What was judged before the kill comes from the checkpoint, the rest from the cache.
    assert stats["session"]["requests_sent"] == sum(paid.values()) - die_after
    for name in ("kept.jsonl", "removed.jsonl", "alpaca.json", "core.jsonl", "full.jsonl"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_rerun_pays_nothing_and_a_higher_target_extends(tmp_path):
    run(tmp_path, backend=CountingBackend(), **{**UN, "target": 15})
    small = (tmp_path / "kept.jsonl").read_text().splitlines()
    again = Counter()
    stats = run(tmp_path, backend=CountingBackend(again), **{**UN, "target": 15})
    assert sum(again.values()) == 0 and stats["stopped"] == "target"
    run(tmp_path, backend=CountingBackend(), **{**UN, "target": 30})
    large = (tmp_path / "kept.jsonl").read_text().splitlines()
    assert len(large) > len(small) and large[: len(small)] == small
