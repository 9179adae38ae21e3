"""The stub model on Unnatural Instructions prompts: routing, formats, rates, faults, HTTP."""

from __future__ import annotations

import http.client
import json
import random
import re
from collections import Counter

import pytest

from pipeline.methods import responders, stub_model
from pipeline.methods.unnatural import stub as un
from pipeline.prompts import load_template
from pipeline.stub.model import StubBackend
from pipeline.stub.server import StubServer, request_from_body
from pipeline.types import Request

RESPONDERS = responders()

DEMOS = (
    (
        "Decide whether the reviewer would recommend the product.",
        "The blender is loud,\nbut it crushed ice in seconds.",
        'Answer with "Yes" or "No".',
    ),
    ("Replace the bracketed word with a synonym.", "A [unanimous] decision.", "None."),
    (
        "Classify the topic of the news headline.",
        "Central bank raises interest rates",
        "Answer with one of: Politics, Business, Sports.",
    ),
)
SLOTS = [f"s{i}" for i in range(300)]
STOP = ("Example 5",)


def core_prompt(demos=DEMOS, next_number=4) -> str:
    body = "".join(
        f"Example {k}\nInstruction: {i}\nInput: {x}\nConstraints: {c}\n\n"
        for k, (i, x, c) in enumerate(demos, 1)
    )
    return f"{body}Example {next_number}\n"


def output_prompt(instruction="Classify the headline.", given="Rain today", constraints="None."):
    return load_template("unnatural/output").render(
        instruction=instruction, input=given, constraints=constraints
    )


def paraphrase_prompt(instruction="Tell whether the given sentence is a question.") -> str:
    return load_template("unnatural/paraphrase").render(instruction=instruction)


ALPACA = (
    "Come up with 20 tasks.\n###\n1. Instruction: Hi.\n1. Input:\n<noinput>\n###\n2. Instruction:"
)


def text(prompt, slot="s0", api="chat", stop=(), **backend) -> str:
    req = Request("stub", (prompt,), api=api, slot=slot, stop=stop, temperature=0.0)
    return stub_model(**backend).answer(req).choices[0].text


def parse_core(answer: str) -> tuple[str, str, str] | None:
    """The first example of a core answer, or None when a field is missing."""
    body = re.sub(r"\A\s*Example \d+\n", "", answer).split("\n\nExample ")[0].strip()
    m = re.fullmatch(r"Instruction: (.+?)\nInput: (.+?)\nConstraints: (.+)", body, re.S)
    return (m[1], m[2], m[3]) if m else None


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        (core_prompt(), "unnatural-core"),
        (core_prompt(next_number=12), "unnatural-core"),
        (core_prompt().rstrip(), "unnatural-core"),
        (output_prompt(), "unnatural-output"),
        (output_prompt(given="line one\nline two\nConstraints: fake"), "unnatural-output"),
        (paraphrase_prompt(), "unnatural-paraphrase"),
        (ALPACA, "self-instruct"),
        ("Explain gravity.", "generic"),
        ("Here is Example 4", "generic"),  # no labelled demonstrations
        (core_prompt() + "Instruction:", "generic"),
        ("Instruction: Add the numbers.\nInput: 2 3\nOutput:", "generic"),  # no constraints
        ("Give an alternative formulation:", "generic"),  # no instruction
        (output_prompt() + " The answer is", "generic"),
    ],
)
def test_each_prompt_goes_to_exactly_one_responder(prompt, name):
    matching = [r.name for r in RESPONDERS if r.accepts(prompt, None)]
    assert matching == ([] if name == "generic" else [name])


@pytest.mark.parametrize(
    "prompt", [ALPACA, "Explain gravity.", "Name three fruits.", output_prompt()[:-8]]
)
def test_other_prompts_get_the_answers_they_got_before(prompt):
    self_instruct_only = StubBackend(responders=RESPONDERS[:1])
    for slot in ("a", "b", "c"):
        req = Request("stub", (prompt,), slot=slot)
        assert stub_model().answer(req) == self_instruct_only.answer(req)


@pytest.mark.parametrize("prompt", [core_prompt(), output_prompt(), paraphrase_prompt()])
@pytest.mark.parametrize("api", ["chat", "completions"])
def test_same_request_same_answer(prompt, api):
    assert text(prompt, "x", api) == text(prompt, "x", api)


@pytest.mark.parametrize(("api", "repeats"), [("chat", (0.2, 0.47)), ("completions", (0, 0))])
def test_core_answers_parse_into_new_examples_with_inputs(api, repeats):
    answers = [text(core_prompt(), slot, api, STOP) for slot in SLOTS]
    parsed = [p for p in map(parse_core, answers) if p]
    assert 0.95 <= len(parsed) / len(answers) < 1  # about 2% leave out a field
    assert all(p[1].strip() for p in parsed)
    assert len({p[0] for p in parsed}) > 0.8 * len(parsed)
    assert not any("Example 5" in a for a in answers)
    share = sum(a.startswith("Example 4\n") for a in answers) / len(answers)
    assert repeats[0] <= share <= repeats[1]
    kinds = Counter(re.sub(r"[\d\":,].*", "", p[2]) for p in parsed)
    assert {"None.", "At most ", "Answer with one of", "The output must be a number."} <= set(kinds)


@pytest.mark.parametrize(
    ("output", "allowed"),
    [
        ("Positive", r"(Answer with|The answer must be) one of: .*Positive.*\."),
        ("Health", r"(Answer with|The answer must be) one of: .*Health.*\."),
        ("Not spam", r'Answer with "Spam" or "Not spam"\.|.*one of: Spam, Not spam\.'),
        ("True.", r'Answer with "True" or "False"\.|.*one of: True, False\.'),
        ("42", r"The output must be a number\.|Answer with a number only\."),
        ("swept", r"The output must be a single word\."),
        ("Dogs bark at night when they hear noises outside", r"None\.|At most 2\d words\.|.*"),
        ("One. Two. Three.", r"None\.|At most 20 words\."),
    ],
)
def test_constraints_follow_the_output(output, allowed):
    for seed in range(40):
        assert re.fullmatch(allowed, un.constraints_for(random.Random(seed), output))


@pytest.mark.parametrize(
    ("constraints", "ok"),
    [
        ('Answer with "Yes" or "No".', lambda t: t in ("Yes", "No")),
        (
            "Answer with one of: Politics, Business, Sports.",
            lambda t: t in ("Politics", "Business", "Sports"),
        ),
        (
            'Answer with "entailment", "contradiction" or "neutral".',
            lambda t: t in ("entailment", "contradiction", "neutral"),
        ),
        ("The output must be a number.", lambda t: re.fullmatch(r"\d+", t)),
        ("The output must be a single word.", lambda t: t and " " not in t),
        ("At most 5 words.", lambda t: 0 < len(t.split()) <= 5),
        ("Answer in one sentence.", lambda t: t.count(". ") == 0 and t),
        ("None.", lambda t: len(t.split()) >= 3),
    ],
)
def test_outputs_honour_the_constraints(constraints, ok):
    given = "Central bank raises interest rates for the third time this year."
    prompt = output_prompt("Classify the topic of the headline.", given, constraints)
    for slot in SLOTS[:40]:
        assert ok(text(prompt, slot).strip())


def test_paraphrases_mostly_hold_one_placeholder_and_differ_by_slot():
    instruction = "Given the sentence below, decide whether it is a question."
    answers = [text(paraphrase_prompt(instruction), slot) for slot in SLOTS]
    counts = Counter(a.count(un.PLACEHOLDER) for a in answers)
    assert 0.88 <= counts[1] / len(answers) <= 0.97
    assert 0.01 <= counts[0] / len(answers) <= 0.10
    assert 0.003 <= counts[2] / len(answers) <= 0.05
    assert instruction not in answers and len(set(answers)) > 0.6 * len(answers)
    places = Counter(
        "start" if a.startswith("{") else "end" if a.endswith(("}", '}"')) else "inside"
        for a in answers
    )
    assert min(places.values()) > 0.1 * len(answers)


@pytest.mark.parametrize(
    ("instruction", "never"),
    [
        ("Below is a list of words. Sort them.", "That follows is"),
        ("Following the recipe, name the method.", "Next the recipe"),
        ("I have a poem. Tell me its theme.", "i have"),
        ("SQL query: explain it.", "sQL"),
    ],
)
def test_rewording_changes_the_instruction_but_keeps_its_start_readable(instruction, never):
    for seed in range(30):
        out = un.reword(random.Random(seed), instruction, different=True)
        assert out != instruction and never not in out


def _duplicated(answer: str) -> bool:
    return parse_core(answer) in (*DEMOS, *un.POPULAR)


@pytest.mark.parametrize(
    ("prompt", "fault", "broken"),
    [
        (core_prompt(), "malformed", lambda a: parse_core(a) is None),
        (core_prompt(), "duplicate", _duplicated),
        (output_prompt(given="Rain today"), "malformed", lambda a: a.strip() == ""),
        (output_prompt(given="Rain today"), "duplicate", lambda a: a.strip() == "Rain today"),
        (paraphrase_prompt(), "malformed", lambda a: un.PLACEHOLDER not in a),
        (
            paraphrase_prompt("Say hi."),
            "duplicate",
            lambda a: a.strip() == "Say hi. {INPUT}",
        ),
    ],
)
@pytest.mark.parametrize("api", ["chat", "completions"])
def test_faults_break_answers_as_described(prompt, fault, broken, api):
    answers = [text(prompt, slot, api, STOP, **{f"{fault}_rate": 1.0}) for slot in SLOTS[:60]]
    assert all(map(broken, answers))


def test_duplicates_come_from_the_prompt_and_from_popular_tasks():
    answers = [text(core_prompt(), slot, duplicate_rate=1.0) for slot in SLOTS[:60]]
    sources = Counter("demo" if parse_core(a) in DEMOS else "popular" for a in answers)
    assert min(sources.values()) >= 15


def test_the_stub_server_answers_an_output_prompt():
    body = {
        "model": "stub",
        "temperature": 0,
        "messages": [
            {"role": "user", "content": output_prompt(constraints='Answer with "A" or "B".')}
        ],
    }
    with StubServer() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body))
        content = json.loads(conn.getresponse().read())["choices"][0]["message"]["content"]
        conn.close()
    assert content in ("A", "B")
    assert content == stub_model().answer(request_from_body("chat", body)).choices[0].text
