"""The judge's reply parsed strictly, an example as the judge is shown it, and the stub
model's verdicts, each as a table."""

from __future__ import annotations

import random

import pytest

from pipeline.score.rubric import SYSTEM, render, show
from pipeline.score.stub import ENV, complexity, is_score, quality, sections, verdict
from pipeline.score.verdict import Unparseable, Verdict, parse_verdict, shown
from pipeline.stub.ask import Ask
from pipeline.types import Example, Request


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Score: 4\nReason: Correct and clear.", Verdict(4.0, "Correct and clear.")),
        ("score: 1\nreason: Off topic.", Verdict(1.0, "Off topic.")),
        ("**Score:** 5\n**Reason:** Complete.", Verdict(5.0, "Complete.")),
        ("**Score: 2**\nReason: Wrong sum.", Verdict(2.0, "Wrong sum.")),
        ("### Score: 4.5\n- Reason: Nearly perfect.", Verdict(4.5, "Nearly perfect.")),
        ("Score: 3/5\nReason: Gaps.", Verdict(3.0, "Gaps.")),
        ("Score: 3 out of 5\nReason: Gaps.", Verdict(3.0, "Gaps.")),
        ("Here is my grade.\n\nScore: 4\nReason: Fine.", Verdict(4.0, "Fine.")),
        (
            "Score: 2\nReason:\nThe list misses\ntwo items.",
            Verdict(2.0, "The list misses two items."),
        ),
        ("I would give it a 4.", Unparseable("no Score: line")),
        ("The score is 4 and the reason is clarity.", Unparseable("no Score: line")),
        ("Score:\nReason: Fine.", Unparseable("an empty Score: line")),
        ("Score: four\nReason: Fine.", Unparseable("score 'four' is not a number")),
        ("Score: 4 out of 10\nReason: Fine.", Unparseable("score '4 out of 10' is not a number")),
        ("Score: 0\nReason: Bad.", Unparseable("score 0 is outside 1-5")),
        ("Score: 6\nReason: Great.", Unparseable("score 6 is outside 1-5")),
        ("Score: 3\nScore: 4\nReason: Torn.", Unparseable("2 Score: lines")),
        ("Score: 4", Unparseable("no Reason: line")),
        ("Score: 4\nReason:", Unparseable("no Reason: line")),
        ("Score: 4\nReason: A.\nReason: B.", Unparseable("2 Reason: lines")),
        ("", Unparseable("no Score: line")),
        (
            "Score: 5\nReason: Correct.\nFinal score: 2",
            Unparseable("text around the verdict: 'Final score: 2'"),
        ),
        (
            "Score: 5\nReason: Right.\n\nOn reflection I give it 2.",
            Unparseable("text around the verdict: 'On reflection I give it 2.'"),
        ),
        (
            "Score: 4\nActually, 2.\nReason: Fine.",
            Unparseable("text around the verdict: 'Actually, 2.'"),
        ),
        (
            "Quality score: 2\nScore: 4\nReason: Ok.",
            Unparseable("text around the verdict: 'Quality score: 2'"),
        ),
        (
            "Score: 4\nReason: Ok.\n<think>it is a 1</think>",
            Unparseable("text around the verdict: '<think>it is a 1</think>'"),
        ),
        ("Score: 4\nReason: .", Unparseable("no Reason: line")),
    ],
)
def test_verdicts_parse_strictly(text, expected):
    assert parse_verdict(text) == expected


@pytest.mark.parametrize("score, stored", [(4.0, 4), (1.0, 1), (4.5, 4.5)])
def test_scores_are_stored_as_written(score, stored):
    assert shown(score) == stored and type(shown(score)) is type(stored)


CHAT = Example(
    "Plan a trip",
    messages=(
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Plan a trip to Rome."},
        {"role": "assistant", "content": "Day 1: the Forum."},
        {"role": "user", "content": "And day 2?"},
        {"role": "assistant", "content": "The Vatican."},
    ),
)


@pytest.mark.parametrize(
    "example, rubric, expected",
    [
        (
            Example("Add the numbers.", "2 and 3", "5"),
            "quality",
            "[Instruction]\nAdd the numbers.\n\n[Input]\n2 and 3\n\n[Response]\n5",
        ),
        (
            Example("Name a color.", "", "Blue"),
            "quality",
            "[Instruction]\nName a color.\n\n[Response]\nBlue",
        ),
        (
            Example("Add the numbers.", "2 and 3", "5"),
            "complexity",
            "[Instruction]\nAdd the numbers.\n\n[Input]\n2 and 3",
        ),
        (
            CHAT,
            "quality",
            "[Conversation]\nSystem: Be brief.\n\nUser: Plan a trip to Rome.\n\n"
            "Assistant: Day 1: the Forum.\n\nUser: And day 2?\n\nAssistant: The Vatican.",
        ),
        (CHAT, "complexity", "[User requests]\nUser: Plan a trip to Rome.\n\nUser: And day 2?"),
    ],
)
def test_an_example_is_shown_to_the_judge(example, rubric, expected):
    assert show(example, rubric) == expected
    prompt = render(example, rubric)
    assert expected in prompt and prompt.rstrip().endswith("Reason: <one sentence saying why>")
    assert is_score(prompt)


def _ask(example: Example, rubric: str, fault: str | None = None, seed: int = 0) -> Ask:
    prompt = render(example, rubric)
    request = Request("stub", (prompt,), system=SYSTEM, temperature=0.0)
    return Ask(prompt, request, random.Random(seed), fault)


LONG = " ".join(["The answer explains each step with care."] * 6)


@pytest.mark.parametrize(
    "example, low, high",
    [
        (Example("Summarize the text.", "Some text.", ""), 1, 1),  # empty response
        (Example("Write a poem.", "", "I'm sorry, I cannot write poems."), 1, 1),
        (Example("Repeat after me", "", "Repeat after me"), 1, 1),
        (Example("Is 7 prime?", "", "Yes"), 1, 3),  # very short: at most 3
        (Example("Explain photosynthesis in detail.", "", LONG), 3, 5),  # full: never low
    ],
)
def test_stub_quality_follows_the_example(example, low, high):
    score, reason = quality(sections(render(example, "quality")))
    assert low <= score <= high and reason.endswith(".")


@pytest.mark.parametrize(
    "instruction, low, high",
    [
        ("Name a fruit.", 1, 2),
        (
            "Write a Python function that parses a CSV file, validates every row against a "
            "schema, and must report each error with its line number, then summarise the "
            "errors by column without using any third-party library.",
            4,
            5,
        ),
    ],
)
def test_stub_complexity_follows_the_instruction(instruction, low, high):
    score, _ = complexity(sections(render(Example(instruction), "complexity")))
    assert low <= score <= high


def test_stub_verdicts_parse_vary_and_are_sometimes_unparseable(monkeypatch):
    examples = [
        Example(f"Task {i} about topic {i * 7}", "", f"Answer {i} " * (i % 30)) for i in range(400)
    ]
    replies = [verdict(_ask(e, "quality", seed=i)) for i, e in enumerate(examples)]
    parsed = [parse_verdict(r) for r in replies]
    scores = {p.score for p in parsed if isinstance(p, Verdict)}
    broken = sum(isinstance(p, Unparseable) for p in parsed)
    assert scores >= {1.0, 3.0, 4.0, 5.0} and 1 <= broken <= 25  # the default rate is 2%
    assert isinstance(
        parse_verdict(verdict(_ask(examples[5], "quality", "malformed"))), Unparseable
    )
    monkeypatch.setenv(ENV, "unparseable=1")
    assert isinstance(parse_verdict(verdict(_ask(examples[5], "quality"))), Unparseable)
    monkeypatch.setenv(ENV, "unparseable=0")
    assert all(
        isinstance(parse_verdict(verdict(_ask(e, "quality", seed=i))), Verdict)
        for i, e in enumerate(examples)
    )
