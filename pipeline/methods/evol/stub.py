"""The stub model's answers to the three rewriting prompts of Evol-Instruct.

In-depth evolving rewrites the original prompt by the operation its template names ("How to make
it harder: ..."), complicate-input adds data in the named format, and in-breadth writes a
brand-new prompt; stub_checks.py answers the equality check and the answer requests, and lists
the method's responders. Each matcher wants its template's last line (and header), so none can
claim Self-Instruct's, Unnatural's or a generic prompt.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pipeline.stub.ask import Ask
from pipeline.stub.families import vocab as V
from pipeline.stub.families.helpers import split_items as _s
from pipeline.stub.families.helpers import split_rows
from pipeline.stub.text import make_task

LEAK_RATE = 0.03  # a rewrite that names the template's marker words
SAME_RATE = 0.05  # a rewrite that barely changes the prompt
REPEAT_MARKER_RATE = 0.25  # chat models often repeat the marker they continue

NEW, CREATED, ORIGINAL = "#New Prompt#:", "#Created Prompt#:", "#Original Prompt#:"
_HARDER = "How to make it harder:"
_FORMAT = re.compile(r"input data in (.+?) format")


def last_line(prompt: str) -> str:
    return prompt.rstrip().rpartition("\n")[2].strip()


def _header(prompt: str) -> str:
    """The template's own text, before the first original prompt (which could say anything)."""
    return prompt.partition(ORIGINAL)[0]


def _ends_with(prompt: str, marker: str) -> bool:
    return last_line(prompt) == marker and ORIGINAL in prompt


def is_depth(prompt: str) -> bool:
    """An in-depth prompt: ends with `#New Prompt#:`, its header names the operation."""
    head = _header(prompt)
    return _ends_with(prompt, NEW) and _HARDER in head and not _FORMAT.search(head)


def is_complicate(prompt: str) -> bool:
    """A complicate-input prompt: ends with `#New Prompt#:`, its header names a data format."""
    return _ends_with(prompt, NEW) and _FORMAT.search(_header(prompt)) is not None


def is_breadth(prompt: str) -> bool:
    """An in-breadth prompt: ends with `#Created Prompt#:` after an original prompt."""
    return _ends_with(prompt, CREATED)


def _original(prompt: str, marker: str) -> str:
    return prompt.rstrip()[: -len(marker)].rpartition(ORIGINAL)[2].strip()


# --- Evolving: the rewrite, or one of its natural and injected failures -------------------------

# Each names the template's words in a way the method's marker stripping leaves in place.
_LEAKS = ("Here is the {k} prompt: {t}", "{K} prompt: {t}", "{t} (Based on the given prompt.)")


def _evolved(ask: Ask, original: str, marker: str, rewrite: Callable[[], str]) -> str:
    """The rewrite, except for leaks, near copies and faults; sometimes after the marker."""
    r, u = ask.rng, ask.rng.random()
    if ask.fault == "malformed" and u < 1 / 3:
        return r.choice(("", " ", "\n"))
    if ask.fault == "malformed" or (ask.fault is None and u < LEAK_RATE):
        kind = "created" if marker == CREATED else r.choice(("rewritten", "new"))
        text = r.choice(_LEAKS).format(k=kind, K=kind.capitalize(), t=rewrite())
    elif ask.fault == "duplicate":
        text = original
    elif u < LEAK_RATE + SAME_RATE:
        text = _nearly(r, original)
    else:
        text = rewrite()
    if ask.request.api == "chat" and r.random() < REPEAT_MARKER_RATE:
        text = f"{marker}\n{text}"
    return text


def _nearly(r: random.Random, original: str) -> str:
    """The original with two words added at most, which a judge calls equal."""
    first, nl, rest = original.partition("\n")
    u = r.random()
    if u < 1 / 3:
        first = "Please " + _lower_first(first)
    elif u < 2 / 3:
        first = f"{_sentence(first)} Be specific."
    else:
        first = first[:-1] if first.endswith(".") else first + "."
    return first + nl + rest


def _lower_first(text: str) -> str:
    keep = text[1:2].isupper() or re.match(r"I\b", text)  # "SQL ...", "I have ...": as they are
    return text if keep else text[:1].lower() + text[1:]


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


# --- 1. In-depth operations, on the prompt's first line (input lines stay as they are) ----------

_CONSTRAINTS = _s("""Answer in under 50 words and include one example.|Use exactly three bullet
points.|Do not use the word "very" anywhere in your answer.|Mention at least one number or
statistic.|Write it so that a ten-year-old could follow it.|End with a one-sentence summary.|Keep it
under 100 words and avoid technical jargon.|Give one argument for and one against.""")
_WHO = _s("""small farmers|city planners|first-time parents|hospital nurses|secondary-school
teachers|people who live alone|local shop owners""")
_DEEPER = _s("""explain why it matters for {w}|discuss its causes and its long-term effects on
{w}|describe the trade-offs it involves for {w}|compare how it plays out for {w} and for {v}""")
_STEPS = _s("""Explain your reasoning step by step before giving the final answer.|First list the
facts you need, then reason through them one at a time, then conclude.|Break the problem into
smaller steps and justify each one before you answer.""")
# Each specific phrase adds at least four words or drops one, so no judge calls it equal.
_SPECIFIC_ROWS = split_rows("""a general audience|readers of a local newspaper|visitors
to a science museum;a workshop|a two-hour workshop for volunteer firefighters|an evening class on
pottery;a tight budget|200 euros a month|a student loan and a part-time job;a journalist|an
investigative reporter at a weekly paper|a radio news editor;a new employee|a newly hired warehouse
supervisor|an intern on their first day;the future|the year 2040|the next five years in rural
Spain;a number|a four-digit number such as 4821|the number of days in a leap year;young
children|children aged four to six|first-graders;older adults|adults over seventy who live
alone|retired teachers;small businesses|family-run bakeries|bicycle repair shops in small towns;the
workplace|a hospital night shift|an open-plan call centre;modern life|daily life in a Nordic fishing
town|commuting in Tokyo;a person|a nurse on night shifts|a retired bus driver;people|nurses on night
shifts|adults in their first year at university;students|first-year nursing students at a city
college|adult evening-class learners;a city|Lisbon|a mid-sized port city like Gdansk;a company|a
40-person furniture maker|a regional airline;technology|voice assistants|electric cargo bikes;food|
fermented vegetables|school canteen lunches;a story|a ghost story set in a lighthouse|a fable about
a stubborn goat""")
_SPECIFIC = {general: tuple(specifics) for general, *specifics in _SPECIFIC_ROWS}
_GENERIC = re.compile(r"\b(" + "|".join(map(re.escape, _SPECIFIC)) + r")\b", re.I)
_PLACES = _s("Lisbon|rural Wales|a Nordic fishing town|Osaka|northern Kenya|small-town Ohio")


def _append(options: tuple[str, ...]) -> Callable[[random.Random, str], str]:
    return lambda r, first: f"{_sentence(first)} {r.choice(options)}"


def _deepen(r: random.Random, first: str) -> str:
    w, v = r.sample(_WHO, 2)
    clause = r.choice(_DEEPER).format(w=w, v=v)
    if first.endswith("?"):
        return f"{first} Also {clause}."
    return f"{first.rstrip('.!')}, and {clause}."


def _concretize(r: random.Random, first: str) -> str:
    def specific(m: re.Match[str]) -> str:
        out = r.choice(_SPECIFIC[m[1].lower()])
        return out[:1].upper() + out[1:] if m[1][:1].isupper() else out

    out, n = _GENERIC.subn(specific, first, count=2)
    if n:
        return out
    return f"{_sentence(first)} Focus on {r.choice(_WHO)} in {r.choice(_PLACES)}."


# The operation by a word of its sentence in prompts/evol/operations.txt; adding constraints else.
_DEPTH = {"deeper": _deepen, "specific": _concretize, "reasoning": _append(_STEPS)}


def depth(ask: Ask) -> str:
    """A harder version of the original prompt, by the operation its template names."""
    line = _header(ask.prompt).rpartition(_HARDER)[2].partition("\n")[0].lower()
    change = next((f for word, f in _DEPTH.items() if word in line), _append(_CONSTRAINTS))
    original = _original(ask.prompt, NEW)

    def rewrite() -> str:
        first, nl, rest = original.partition("\n")
        return change(ask.rng, first) + nl + rest

    return _evolved(ask, original, NEW, rewrite)


# --- 2. Complicate input: the prompt reworded around data in the named format -------------------

_FUNCTIONS = (
    "def total(xs):\n    return sum(x * {a} for x in xs if x > {b})",
    "def scale(values):\n    top = max(values)\n    return [round(v / top, {a}) for v in values]",
    "def streak(days):\n    best = run = 0\n    for d in days:\n"
    "        run = run + 1 if d >= {b} else 0\n        best = max(best, run)\n    return best",
)
_FORMULAS = _s(
    r"f(x) = {a}x^2 - {b}x + 7|C = \frac{{{a} \cdot n}}{{n + {b}}}|S_n = \sum_{{k=1}}^{{n}} {a}k"
)
_LABELS = {"Markdown table": "table", "Python code": "Python function", "LaTeX formula": "formula"}
_DATA_LEADS = ("Using {d}, ", "Based on {d}, ", "With reference to {d}, ")


def _rows(r: random.Random) -> list[tuple[str, int, str]]:
    return [(n, r.randint(18, 90), r.choice(V.CITIES)) for n in r.sample(V.NAMES, 3)]


def _data(r: random.Random, fmt: str) -> str:
    rows, a, b = _rows(r), r.randint(2, 9), r.randint(1, 20)
    if fmt == "Markdown table":
        lines = ["| name | age | city |", "| --- | --- | --- |"]
        return "\n".join(lines + [f"| {n} | {x} | {c} |" for n, x, c in rows])
    if fmt == "Python code":
        return f"```python\n{r.choice(_FUNCTIONS).format(a=a, b=b)}\n```"
    if fmt == "LaTeX formula":
        return f"$$ {r.choice(_FORMULAS).format(a=a, b=b)} $$"
    if fmt == "CSV":
        return "\n".join(["name,age,city", *(f"{n},{x},{c}" for n, x, c in rows)])
    records = ", ".join(f'{{"name": "{n}", "age": {x}, "city": "{c}"}}' for n, x, c in rows)
    return f"```json\n[{records}]\n```"  # JSON, and any format the stub does not know


def complicate(ask: Ask) -> str:
    """The original prompt reworded to work with data in the format its template names."""
    fmt = _FORMAT.search(_header(ask.prompt))[1]  # type: ignore[index]
    original = _original(ask.prompt, NEW)

    def rewrite() -> str:
        r = ask.rng
        first, nl, rest = original.partition("\n")
        lead = r.choice(_DATA_LEADS).format(d=f"the {_LABELS.get(fmt, fmt + ' data')} below")
        task = _lower_first(first.lstrip('"-*(“•¿ '))
        return f"{lead}{task}{nl}{rest}\n{_data(r, fmt)}"

    return _evolved(ask, original, NEW, rewrite)


# --- 3. In-breadth: a brand-new prompt, often on a rarer topic ----------------------------------

_RARE = _s("""medieval Icelandic farms|deep-sea research stations|beekeeping in cold
climates|lighthouse keepers|Antarctic field camps|rural post offices in the 1950s|glassblowing
studios|competitive bird-watching""")


def breadth(ask: Ask) -> str:
    """A fresh task from the stub's task writer, about half the time set in a rare context."""
    r = ask.rng

    def rewrite() -> str:
        instruction, given, _ = make_task(r)
        if given:
            return f"{instruction}\n{given}"
        if r.random() < 0.5:
            end = instruction[-1] if instruction[-1] in ".?!" else ""
            body = instruction[: len(instruction) - len(end)]
            return f"{body}, in the context of {r.choice(_RARE)}{end or '.'}"
        return instruction

    return _evolved(ask, _original(ask.prompt, CREATED), CREATED, rewrite)
