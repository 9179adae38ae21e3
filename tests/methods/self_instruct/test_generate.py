"""The Self-Instruct prompt layout and the parser, on recorded raw completions."""

import pytest

from pipeline.methods import make_config
from pipeline.methods.self_instruct.generate import SelfInstruct, build_prompt, parse_tasks
from pipeline.types import Choice, Drop, Example

GOOD = (
    " List three ways to save water at home.\n4. Input:\n<noinput>\n4. Output:\n"
    "Fix leaks, take shorter showers, run full loads.\n###\n"
    "5. Instruction: Classify the sentiment of the review.\n5. Input:\nThe soup was cold.\n"
    "5. Output:\nNegative\n###\n6. Instruction: Name a prime number above 10.\n6. Input:\n"
    "<NoInput>\n6. Output:\n11\n###\n7. Instruction: Summarize the"
)

# (completion text, finish_reason, expected parsed tasks: (number, fields or None))
CASES = [
    (
        "stop keeps every complete task",
        GOOD,
        "stop",
        [
            (
                4,
                (
                    "List three ways to save water at home.",
                    "",
                    "Fix leaks, take shorter showers, run full loads.",
                ),
            ),
            (5, ("Classify the sentiment of the review.", "The soup was cold.", "Negative")),
            (6, ("Name a prime number above 10.", "", "11")),
            (7, None),
        ],
    ),
    (
        "length drops the cut-off last piece",
        GOOD,
        "length",
        [
            (
                4,
                (
                    "List three ways to save water at home.",
                    "",
                    "Fix leaks, take shorter showers, run full loads.",
                ),
            ),
            (5, ("Classify the sentiment of the review.", "The soup was cold.", "Negative")),
            (6, ("Name a prime number above 10.", "", "11")),
            (7, "truncated"),
        ],
    ),
    (
        "chat reply repeating the header",
        "4. Instruction: Say hi politely.\n4. Input:\n<noinput>\n4. Output:\nHello there!",
        "stop",
        [(4, ("Say hi politely.", "", "Hello there!"))],
    ),
    (
        "wrong number is a parse drop",
        " Do X now please.\n4. Input:\n\n4. Output:\nok\n###\n"
        "9. Instruction: Skip ahead.\n9. Input:\n\n9. Output:\nno",
        "stop",
        [(4, ("Do X now please.", "", "ok")), (5, None)],
    ),
    ("missing output label", " Give a tip.\n4. Input:\n<noinput>\n", "stop", [(4, None)]),
    (
        "whitespace after the dot may be any run",
        " Tell a joke.\n4.   Input:\n<noinput>\n4.\tOutput:\nHa",
        "stop",
        [(4, ("Tell a joke.", "", "Ha"))],
    ),
    (
        "no dot-space is not a label",
        " Tell a joke.\n4.Input:\n<noinput>\n4. Output:\nHa",
        "stop",
        [(4, None)],
    ),
    ("empty completion", "", "stop", [(4, None)]),
]


@pytest.mark.parametrize("name, text, finish, expected", CASES, ids=[c[0] for c in CASES])
def test_parse_tasks(name, text, finish, expected):
    got = [
        (p.number, "truncated" if p.truncated else p.fields) for p in parse_tasks(text, finish, 4)
    ]
    assert got == expected


def test_prompt_layout_follows_alpaca():
    demos = [
        Example("Name  a\n color:", "", "Red"),
        Example("Reverse the word.", "stressed", "desserts"),
    ]
    prompt = build_prompt("HEADER", demos)
    assert prompt == (
        "HEADER\n###\n1. Instruction: Name a color\n1. Input:\n<noinput>\n1. Output:\nRed\n"
        "###\n2. Instruction: Reverse the word.\n2. Input:\nstressed\n2. Output:\ndesserts\n"
        "###\n3. Instruction:"
    )


def _method(**kw):
    seeds = [Example(f"Seed instruction number {i} here.", "", "x", id=f"s{i}") for i in range(10)]
    return SelfInstruct(seeds, make_config(out="x", **kw))


@pytest.mark.parametrize(
    "kw, prompts, stop",
    [({}, 1, ("\n20", "20.")), ({"api": "completions"}, 5, ("\n20", "20."))],
)
def test_plan_is_deterministic_and_alpaca_shaped(kw, prompts, stop):
    m = _method(**kw)
    a, b = m.plan(7), _method(**kw).plan(7)
    assert a == b and a.key() == b.key()
    assert m.plan(8).key() != a.key()
    assert len(a.prompts) == prompts and a.stop == stop
    assert a.prompts[0].endswith("###\n4. Instruction:")
    assert a.prompts[0].startswith(m.header)
    assert a.max_tokens == 3072 and a.temperature == 1.0 and a.top_p == 1.0


def test_parse_gives_examples_and_drops_with_lineage():
    m = _method()
    items = m.parse(3, Choice(GOOD, "length", 0))
    examples = [i for i in items if isinstance(i, Example)]
    drops = [i for i in items if isinstance(i, Drop)]
    assert [e.id for e in examples] == ["si-000003-0-04", "si-000003-0-05", "si-000003-0-06"]
    assert examples[0].meta["demos"] == [d.id for d in m.demos_for(3, 0)]
    assert [(d.filter, d.reason) for d in drops] == [("parse", "truncated")]
