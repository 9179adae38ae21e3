"""The stub model on Evol-Instruct prompts: routing, rewrites, verdicts, rates, faults."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter

import pytest

from pipeline.methods import make_config, responders, stub_model
from pipeline.methods.evol import round as evol
from pipeline.methods.evol import stub as ev
from pipeline.methods.evol import stub_checks as evc
from pipeline.methods.evol.filters import CopiedMarker, OnlyStopWords, SorryShort
from pipeline.methods.evol.round import INPUT_FORMATS, Templates, _after_marker, parse_verdict
from pipeline.prompts import load_template
from pipeline.stub.ask import Ask
from pipeline.stub.model import StubBackend
from pipeline.stub.text import make_task
from pipeline.types import Example, Request

RESPONDERS = responders()

T = Templates.load()
SLOTS = [f"s{i}" for i in range(300)]
_r = random.Random(7)
GIVEN = [f"{i}\n{x}" if x else i for i, x, _ in (make_task(_r) for _ in SLOTS)]
DEPTH_OPS = ("add_constraints", "deepen", "concretize", "reasoning")
ALPACA = (
    "Come up with 20 tasks.\n###\n1. Instruction: Hi.\n1. Input:\n<noinput>\n###\n2. Instruction:"
)
UNNATURAL_OUTPUT = load_template("unnatural/output").render(
    instruction="Classify the headline.", input="Rain today", constraints="None."
)
UNNATURAL_PARAPHRASE = load_template("unnatural/paraphrase").render(instruction="Say hi.")
UNNATURAL_CORE = "Example 1\nInstruction: A.\nInput: B.\nConstraints: None.\n\nExample 2\n"


def depth_prompt(given: str, op: str = "add_constraints") -> str:
    return T.depth.render(prompt=given, method=T.operations[op])


def complicate_prompt(given: str, fmt: str = "JSON") -> str:
    return T.complicate.render(prompt=given, format=fmt)


def breadth_prompt(given: str) -> str:
    return T.breadth.render(prompt=given)


def equality_prompt(first: str, second: str) -> str:
    return T.equality.render(first=first, second=second)


def text(prompt, slot="s0", api="chat", system=None, **backend) -> str:
    req = Request("stub", (prompt,), api=api, system=system, slot=slot)
    return stub_model(**backend).answer(req).choices[0].text


def leaked(instruction: str) -> bool:
    return CopiedMarker().check(Example(instruction, "", "")) is not None


EVOL_KINDS = [(depth_prompt("Name a fruit.", op), "evol-depth") for op in DEPTH_OPS]
EVOL_KINDS += [(complicate_prompt("Name a fruit.", f), "evol-complicate") for f in INPUT_FORMATS]


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        *EVOL_KINDS,
        (depth_prompt("Sort these.\nSee the input data in CSV format."), "evol-depth"),
        (depth_prompt("Explain gravity.").rstrip(), "evol-depth"),
        (breadth_prompt("Explain gravity."), "evol-breadth"),
        (breadth_prompt("How to make it harder: data in JSON format"), "evol-breadth"),
        (equality_prompt("Explain gravity.", "Explain gravity in depth."), "evol-equality"),
        (equality_prompt("A\n\nSecond prompt:\nB", "Reply with"), "evol-equality"),
        (ALPACA, "self-instruct"),
        (UNNATURAL_CORE, "unnatural-core"),
        (UNNATURAL_OUTPUT, "unnatural-output"),
        (UNNATURAL_PARAPHRASE, "unnatural-paraphrase"),
        ("Explain gravity.", "generic"),
        ("#New Prompt#:", "generic"),  # no original prompt
        ("Rewrite this.\n#Original Prompt#:\nHi\n#New Prompt#:", "generic"),  # no operation
        (depth_prompt("Hi") + "Sure, here it is:", "generic"),
        (breadth_prompt("Hi").replace("#Original Prompt#:", "Prompt:"), "generic"),
        ('Reply with "Equal" or "Not Equal" and nothing else.', "generic"),
        (equality_prompt("A", "B") + "\nThanks!", "generic"),
    ],
)
def test_each_prompt_goes_to_exactly_one_responder(prompt, name):
    matching = [r.name for r in RESPONDERS if r.accepts(prompt, None)]
    assert matching == ([] if name == "generic" else [name])


@pytest.mark.parametrize(
    ("prompt", "system"),
    [
        (ALPACA, None),
        (UNNATURAL_CORE, None),
        (UNNATURAL_OUTPUT, None),
        (UNNATURAL_PARAPHRASE, None),
        ("Explain gravity.", None),
        ("Name three fruits.", evol.ANSWER_SYSTEM),  # evolved instructions go to the generic answer
    ],
)
def test_other_prompts_get_the_answers_they_got_before(prompt, system):
    # The rewriting and equality responders claim no one else's prompt; the answers' own stays.
    others = [r for r in RESPONDERS if not r.name.startswith("evol-") or r.name == "evol-answer"]
    before = StubBackend(responders=others)
    for slot in ("a", "b", "c"):
        req = Request("stub", (prompt,), system=system, slot=slot)
        assert stub_model().answer(req) == before.answer(req)


@pytest.mark.parametrize(
    "prompt",
    [
        depth_prompt(GIVEN[0], "deepen"),
        complicate_prompt(GIVEN[1], "CSV"),
        breadth_prompt(GIVEN[2]),
        equality_prompt(GIVEN[3], GIVEN[4]),
    ],
)
@pytest.mark.parametrize("api", ["chat", "completions"])
def test_same_request_same_answer(prompt, api):
    assert text(prompt, "x", api) == text(prompt, "x", api)
    assert len({text(prompt, slot, api) for slot in SLOTS[:20]}) > 1


def test_the_answer_system_prompt_is_the_methods():
    assert evc.ANSWER_SYSTEM == evol.ANSWER_SYSTEM


def _outcomes(prompts: list[str], api: str = "chat") -> tuple[Counter, list[str]]:
    """Each evolution's fate in the method's terms, and the parsed evolutions that passed."""
    fates, kept = Counter(), []
    for prompt, given, slot in zip(prompts, GIVEN, SLOTS, strict=True):
        raw = text(prompt, slot, api)
        fates["repeated_marker"] += raw.startswith(("#New Prompt#:", "#Created Prompt#:"))
        parsed = _after_marker(raw)
        fate = (
            "empty"
            if not parsed
            else "leak"
            if leaked(parsed)
            else "near_copy"
            if evc.nearly_same(given, parsed)
            else "changed"
        )
        fates[fate] += 1
        if fate == "changed":
            kept.append((given, parsed))
    return fates, kept


SPECIFIC = [x for options in ev._SPECIFIC.values() for x in options]
_OP_SIGNS = {
    "add_constraints": lambda g, p: any(c in p for c in ev._CONSTRAINTS),
    "deepen": lambda g, p: any(w in p for w in ev._WHO),
    "concretize": lambda g, p: "Focus on" in p or any(x.lower() in p.lower() for x in SPECIFIC),
    "reasoning": lambda g, p: any(s in p for s in ev._STEPS),
}


@pytest.mark.parametrize("op", DEPTH_OPS)
@pytest.mark.parametrize(("api", "repeats"), [("chat", (0.17, 0.33)), ("completions", (0, 0))])
def test_depth_rewrites_follow_the_operation_and_keep_the_input(op, api, repeats):
    fates, kept = _outcomes([depth_prompt(g, op) for g in GIVEN], api)
    assert 0.003 <= fates["leak"] / 300 <= 0.07
    assert 0.015 <= fates["near_copy"] / 300 <= 0.10
    assert fates["empty"] == 0
    assert repeats[0] <= fates["repeated_marker"] / 300 <= repeats[1]
    for given, parsed in kept:
        assert _OP_SIGNS[op](given, parsed), parsed
        assert parsed.split("\n")[1:] == given.split("\n")[1:]  # input lines kept as they were


def _data_ok(fmt: str, parsed: str) -> bool:
    fenced = re.search(r"```(\w+)\n(.*?)\n```", parsed, re.S)
    if fmt == "JSON":
        return fenced is not None and len(json.loads(fenced[2])) == 3
    if fmt == "Python code":
        return fenced is not None and compile(fenced[2], "f", "exec") is not None
    if fmt == "Markdown table":
        return len(re.findall(r"^\|.*\|$", parsed, re.M)) == 5
    if fmt == "CSV":
        rows = list(csv.reader(parsed.split("\n")[-4:]))
        return rows[0] == ["name", "age", "city"] and all(len(row) == 3 for row in rows)
    return re.search(r"\$\$ .+ \$\$", parsed) is not None


@pytest.mark.parametrize("fmt", INPUT_FORMATS)
def test_complicated_prompts_carry_data_in_the_named_format(fmt):
    fates, kept = _outcomes([complicate_prompt(g, fmt) for g in GIVEN])
    assert fates["changed"] >= 0.88 * 300
    for given, parsed in kept:
        assert _data_ok(fmt, parsed), parsed
        assert all(line in parsed for line in given.split("\n")[1:])


def test_breadth_prompts_are_new_varied_and_sometimes_rare():
    fates, kept = _outcomes([breadth_prompt(g) for g in GIVEN])
    assert 0.003 <= fates["leak"] / 300 <= 0.07 and 0.015 <= fates["near_copy"] / 300 <= 0.10
    created = [p for _, p in kept]
    assert len(set(created)) > 0.9 * len(created)
    rare = sum("in the context of" in p for p in created) / len(created)
    assert 0.2 <= rare <= 0.5


NEAR = "Please explain how vaccines train the immune system. Be specific"
CHANGED = "Explain how vaccines train the immune system, and why boosters are needed for nurses."


@pytest.mark.parametrize(
    ("second", "equal"),
    [
        ("Explain how vaccines train the immune system.", (0.95, 1.0)),
        ("explain how  vaccines train the immune system", (0.95, 1.0)),
        (NEAR, (0.95, 1.0)),
        (CHANGED, (0.04, 0.14)),
        ("Write a haiku about lighthouse keepers.", (0.04, 0.14)),
    ],
)
def test_the_judge_calls_near_copies_equal_and_real_changes_mostly_not(second, equal):
    prompt = equality_prompt("Explain how vaccines train the immune system.", second)
    answers = [text(prompt, slot) for slot in SLOTS]
    verdicts = Counter(map(parse_verdict, answers))
    assert 0.003 <= verdicts[None] / 300 <= 0.05
    assert equal[0] <= verdicts["equal"] / 300 <= equal[1]
    assert 0.04 <= sum(a not in ("Equal", "Not Equal") for a in answers) / 300 <= 0.2


def _round(api: str) -> Counter:
    """One Evol-Instruct round run by the method's own stages against the stub."""
    config = make_config(out="unused", method="evol-instruct", api=api)
    pool = [Example(g, "", "", f"seed{i}", "seed") for i, g in enumerate(GIVEN)]
    stage, fates, evolved = evol.Evolve(pool, 1, config, T), Counter(), []
    for slot in range(stage.requests):
        for item in stage.parse(slot, stub_model().answer(stage.plan(slot)).choices[0]):
            if isinstance(item, Example) and leaked(item.instruction):
                fates["marker"] += 1
            elif isinstance(item, Example):
                evolved.append(item)
            else:
                fates[item.reason] += 1
    judge = evol.Equality(evolved, {p.id: p for p in pool}, 1, config, T)
    for slot in range(judge.requests):
        item = judge.parse(slot, stub_model().answer(judge.plan(slot)).choices[0])[0]
        fates["kept" if isinstance(item, Example) else item.reason] += 1
    return fates


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_a_round_keeps_most_evolutions_and_reaches_each_elimination(api):
    fates = _round(api)
    assert sum(fates.values()) == 300
    assert 0.07 <= fates["no_information_gain"] / 300 <= 0.20  # about 12%
    assert 0.005 <= fates["marker"] / 300 <= 0.07
    assert fates["unparseable_verdict"] >= 1, "the unparseable-verdict path is never reached"
    assert fates["unparseable_verdict"] <= 15
    assert fates["kept"] >= 0.75 * 300


def _answer(prompt: str, slot: str, **backend) -> str:
    return text(prompt, slot, system=evol.ANSWER_SYSTEM, **backend)


def _answer_dropped(prompt: str, slot: str, **backend) -> bool:
    answered = Example(prompt, "", _answer(prompt, slot, **backend).strip())
    return any(f.check(answered) for f in (SorryShort(), OnlyStopWords()))


@pytest.mark.parametrize(
    ("make_prompt", "fault", "broken"),
    [
        (depth_prompt, "malformed", lambda g, a: not _after_marker(a) or leaked(_after_marker(a))),
        (depth_prompt, "duplicate", lambda g, a: _after_marker(a) == g),
        (complicate_prompt, "malformed", lambda g, a: not a.strip() or leaked(_after_marker(a))),
        (complicate_prompt, "duplicate", lambda g, a: _after_marker(a) == g),
        (breadth_prompt, "malformed", lambda g, a: not a.strip() or leaked(_after_marker(a))),
        (breadth_prompt, "duplicate", lambda g, a: _after_marker(a) == g),
        (lambda g: equality_prompt(g, CHANGED), "malformed", lambda g, a: parse_verdict(a) is None),
        (
            lambda g: equality_prompt(g, CHANGED),
            "duplicate",
            lambda g, a: parse_verdict(a) == "equal",
        ),
    ],
)
def test_faults_break_answers_as_described(make_prompt, fault, broken):
    answers = [
        text(make_prompt(g), s, **{f"{fault}_rate": 1.0}) for g, s in zip(GIVEN, SLOTS, strict=True)
    ]
    hits = sum(broken(g, a) for g, a in zip(GIVEN, answers, strict=True))
    assert hits == len(answers)


def test_a_duplicate_evolution_is_then_judged_equal():
    for given, slot in zip(GIVEN[:60], SLOTS, strict=False):
        copy = _after_marker(text(depth_prompt(given), slot, duplicate_rate=1.0))
        verdict = parse_verdict(text(equality_prompt(given, copy), slot))
        assert verdict in ("equal", None)


def test_malformed_answers_are_dropped_by_the_sorry_or_stop_word_rule():
    assert all(_answer_dropped(g, s, malformed_rate=1.0) for g, s in zip(GIVEN, SLOTS, strict=True))
    # Without faults only the natural refusals (about 3% of answers) are dropped.
    natural = sum(_answer_dropped(g, s) for g, s in zip(GIVEN, SLOTS, strict=True))
    assert natural <= 0.1 * len(GIVEN)


def _ask(system: str | None, seed: int) -> Ask:
    req = Request("stub", ("Explain gravity.",), system=system)
    return Ask("Explain gravity.", req, random.Random(seed))


def test_the_refusal_hook_refuses_now_and_then_only_for_answer_requests():
    assert all(evc.refusal(_ask(None, seed)) is None for seed in range(300))
    outcomes = Counter()
    for seed in range(3000):
        said = evc.refusal(_ask(evol.ANSWER_SYSTEM, seed))
        answered = Example("Explain gravity.", "", said or "A real answer.")
        outcomes[
            "none" if said is None else "dropped" if SorryShort().check(answered) else "long"
        ] += 1
    assert 0.02 <= outcomes["dropped"] / 3000 <= 0.04
    assert 0.004 <= outcomes["long"] / 3000 <= 0.02
    other = _ask("Be brief.", 1)
    state = other.rng.getstate()
    assert evc.refusal(other) is None and other.rng.getstate() == state
