"""The stub model: determinism, stop/max_tokens, usage, faults, tokens, the task writer."""

from __future__ import annotations

import asyncio
import random
import re
import string
from collections import Counter

import pytest

from pipeline.errors import ConfigError
from pipeline.methods import stub_model
from pipeline.methods.self_instruct.generate import parse_tasks
from pipeline.stub.ask import Responder
from pipeline.stub.model import StubBackend
from pipeline.stub.text import FAMILIES, make_task
from pipeline.tokens import count_tokens, truncate_tokens
from pipeline.types import Request

ALPACA_STOP = ("\n20", "20.")
DEMOS = (
    ("Name the largest planet in our solar system.", "", "Jupiter."),
    (
        "Turn this sentence into a question.",
        "The shop opens at nine.",
        "Does the shop open at nine?",
    ),
    ("Suggest a title for a story about a lost cat.", "", "Whiskers Finds the Way Home"),
)


def alpaca_prompt(demos=DEMOS) -> str:
    body = "".join(
        f"###\n{k}. Instruction: {i}\n{k}. Input:\n{x or '<noinput>'}\n{k}. Output:\n{o}\n"
        for k, (i, x, o) in enumerate(demos, 1)
    )
    return f"Come up with 20 varied tasks.\n{body}###\n{len(demos) + 1}. Instruction:"


def request(prompt=None, n=1, api="completions", slot="s0", **kw) -> Request:
    prompts = (prompt or alpaca_prompt(),) * n
    return Request(model="stub", prompts=prompts, api=api, slot=slot, **kw)


def answer(req: Request, **backend) -> list:
    return list(asyncio.run(stub_model(**backend).complete(req)).choices)


def tasks_of(text: str, finish: str = "stop") -> list:
    return parse_tasks(text, finish, 4)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (dict(), dict(), True),
        (dict(slot="s1"), dict(slot="s2"), False),
        (dict(seed=1), dict(seed=2), False),
        (dict(prompt="Explain gravity."), dict(prompt="Explain gravity."), True),
        (
            dict(prompt="Explain gravity.", slot="a"),
            dict(prompt="Explain gravity.", slot="b"),
            False,
        ),
    ],
)
def test_same_request_same_answer(a, b, same):
    seed_a, seed_b = a.pop("seed", 0), b.pop("seed", 0)
    text_a = answer(request(**a), seed=seed_a)[0].text
    text_b = answer(request(**b), seed=seed_b)[0].text
    assert (text_a == text_b) is same


def test_each_prompt_of_a_request_gets_its_own_answer():
    choices = answer(request(n=5))
    assert [c.index for c in choices] == [0, 1, 2, 3, 4]
    assert len({c.text for c in choices}) == 5


FIXED_TEXT = "Alpha beta.\n20. Gamma delta epsilon; zeta eta theta iota kappa lambda mu."
FIXED = Responder("fixed", lambda prompt: prompt == "FIXED", lambda ask: FIXED_TEXT)


@pytest.mark.parametrize(
    ("stop", "max_tokens", "text", "finish"),
    [
        ((), 3072, FIXED_TEXT, "stop"),
        (ALPACA_STOP, 3072, "Alpha beta.", "stop"),
        (("20.",), 3072, "Alpha beta.\n", "stop"),
        ((";", "beta"), 3072, "Alpha ", "stop"),
        (("nowhere",), 3072, FIXED_TEXT, "stop"),
        ((), 4, truncate_tokens(FIXED_TEXT, 4), "length"),
        (("epsilon",), 5, truncate_tokens("Alpha beta.\n20. Gamma delta ", 5), "length"),
        (("beta",), 5, "Alpha ", "stop"),
    ],
)
def test_stop_and_max_tokens_cut_the_answer(stop, max_tokens, text, finish):
    backend = StubBackend(responders=(FIXED,))
    choice = backend.answer(request(prompt="FIXED", stop=stop, max_tokens=max_tokens)).choices[0]
    assert (choice.text, choice.finish_reason) == (text, finish)
    assert count_tokens(choice.text) <= max_tokens


@pytest.mark.parametrize(
    ("api", "n", "system"),
    [("completions", 5, None), ("chat", 1, "You are a helpful assistant."), ("chat", 1, None)],
)
def test_usage_counts_prompts_system_and_texts(api, n, system):
    req = request(n=n, api=api, system=system, stop=ALPACA_STOP)
    completion = stub_model().answer(req)
    expected_in = sum(count_tokens(p) for p in req.prompts) + count_tokens(system or "")
    assert completion.usage.prompt_tokens == expected_in
    assert completion.usage.completion_tokens == sum(
        count_tokens(c.text) for c in completion.choices
    )
    assert completion.model == "stub"


def _faults(choice, prompt: str) -> set[str]:
    """Which faults a Self-Instruct answer shows."""
    found = set()
    if choice.finish_reason == "length":
        found.add("truncated")
    pieces = [p for p in tasks_of(choice.text, choice.finish_reason) if p.raw.strip()]
    if any(p.fields is None and not p.truncated for p in pieces):
        found.add("malformed")
    instructions = [p.fields[0] for p in pieces if p.fields]
    demos = set(re.findall(r"\d+\. Instruction: (.*)\n", prompt))
    if len(set(instructions)) < len(instructions) or demos & set(instructions):
        found.add("duplicate")
    return found


@pytest.mark.parametrize("fault", ["malformed", "duplicate", "truncated", None])
def test_fault_rates_are_roughly_honoured(fault):
    rates = {f"{fault}_rate": 0.2} if fault else {}
    prompt, seen = alpaca_prompt(), Counter()
    for i in range(300):
        choice = answer(request(prompt=prompt, slot=f"f{i}", stop=ALPACA_STOP), seed=7, **rates)[0]
        seen.update(_faults(choice, prompt))
    # Without faults a few answers still look faulty, as real ones do: a short instruction
    # written twice in 16 tasks, or a stop sequence inside a task ("20.5 km").
    background = 18
    if fault is None:
        assert sum(seen.values()) <= background
    else:
        assert 0.14 <= seen[fault] / 300 <= 0.30
        assert sum(n for f, n in seen.items() if f != fault) <= background


@pytest.mark.parametrize(
    ("rates", "named"),
    [
        (dict(malformed_rate=-0.1), "malformed_rate"),
        (dict(duplicate_rate=1.5), "duplicate_rate"),
        (dict(truncated_rate=2.0), "truncated_rate"),
        (dict(malformed_rate=0.5, duplicate_rate=0.4, truncated_rate=0.3), "at most 1"),
    ],
)
def test_bad_rates_raise_config_error(rates, named):
    with pytest.raises(ConfigError, match=named):
        stub_model(**rates)


@pytest.mark.parametrize(
    ("prompt", "check"),
    [
        (
            "List three ways to save water at home.",
            lambda t: re.fullmatch(r"1\. .+\n2\. .+\n3\. .+", t),
        ),
        ("Give me five tips for better sleep.", lambda t: t.count("\n") == 4),
        ("Explain why the sky is blue.", lambda t: "\n" not in t and t.count(".") >= 2),
        ("Write a paragraph about the history of bicycles.", lambda t: "history of bicycles" in t),
    ],
)
def test_other_prompts_get_a_short_plausible_answer(prompt, check):
    text = answer(request(prompt=prompt, api="chat"))[0].text
    assert check(text), text
    assert len(text.split()) < 100


ECHO = Responder("echo", lambda prompt: prompt.startswith("ECHO"), lambda ask: ask.prompt.lower())


@pytest.mark.parametrize(("prompt", "echoed"), [("ECHO Hi", True), ("Explain tides.", False)])
def test_a_registered_responder_answers_its_prompts_first(prompt, echoed):
    text = StubBackend(responders=(ECHO,)).answer(request(prompt=prompt)).choices[0].text
    assert (text == prompt.lower()) is echoed
    assert text


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("The quick brown fox jumps over the lazy dog.", 9, 12),  # cl100k: 10
        ("Internationalization is a long word.", 6, 10),  # cl100k: 7
        ("###\n4. Instruction: Sort these numbers.\n4. Input:\n3, 1, 2\n", 20, 30),  # cl100k: 24
    ],
)
def test_count_tokens_estimates(text, low, high):
    assert low <= count_tokens(text) <= high


@pytest.mark.parametrize("limit", [0, 1, 5, 40])
def test_truncate_tokens_keeps_the_longest_prefix_within_the_limit(limit):
    text = "Tokens are counted by an estimate; " * 12
    cut = truncate_tokens(text, limit)
    assert text.startswith(cut) and count_tokens(cut) <= limit
    assert count_tokens(text[: len(cut) + 1]) > limit


def test_task_writer_has_many_families_and_alpaca_like_inputs():
    tasks = [make_task(random.Random(i)) for i in range(4000)]
    assert len(FAMILIES) >= 30
    assert all(t[0].strip() and t[2].strip() for t in tasks)
    assert 0.3 <= sum(bool(t[1]) for t in tasks) / len(tasks) <= 0.5
    assert sum(len(t[2].split()) <= 100 for t in tasks) / len(tasks) > 0.97
    assert len({t[0] for t in tasks}) > 0.8 * len(tasks)


BLOCKED = re.compile(
    r"\b(image|graph|picture|file|map|draw|plot|video|audio|music|diagram)s?\b", re.I
)


@pytest.mark.parametrize(
    "drops",
    [
        lambda i: len(i.split()) < 4,
        lambda i: BLOCKED.search(i) is not None,
        lambda i: i.startswith("Write a program"),
        lambda i: i[0] in string.punctuation,
        lambda i: not i[0].isascii(),
    ],
)
def test_a_few_instructions_are_what_alpaca_filters_drop(drops):
    r = random.Random(3)
    share = sum(bool(drops(make_task(r)[0])) for _ in range(5000)) / 5000
    assert 0.003 <= share <= 0.04


def _shared(m, task):
    return f"= {int(m[2]) // int(m[1])} remainder {int(m[2]) % int(m[1])}" in task[2]


def _area(m, task):
    return f"= {int(m[1]) * int(m[2])}," in task[2]


def _sorted(m, task):
    return task[2] == ", ".join(map(str, sorted(map(int, task[1].split(", ")))))


def _evaluated(m, task):
    return int(task[2]) == eval(task[1])  # our own arithmetic: digits, + - * and brackets


@pytest.mark.parametrize(
    ("pattern", "check"),
    [
        (r"(\d+) friends share (\d+) \w+ equally", _shared),
        (r"is (\d+) meters long and (\d+) meters wide\. What is its area", _area),
        (r"^Sort these numbers from smallest to largest", _sorted),
        (r"^Evaluate this expression", _evaluated),
    ],
)
def test_computed_answers_are_right(pattern, check):
    r, hits = random.Random(5), 0
    for _ in range(30000):
        task = make_task(r)
        m = re.search(pattern, task[0])
        if m:
            hits += 1
            assert check(m, task), task
    assert hits >= 3
