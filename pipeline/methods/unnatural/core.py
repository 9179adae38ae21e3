"""Unnatural Instructions, step 1: core examples (instruction, input, constraints) from 3
demonstrations and nothing else, by nucleus sampling. Steps 2 and 3 are in unnatural_expand.py.

The prompt is three demonstrations headed `Example 1` to `Example 3` and the bare header
`Example 4`; the model writes the fourth. Demonstrations come in sets (we ship 5 sets of 3 of
our own writing); each prompt takes one set, chosen and ordered by a seeded RNG per slot."""

from __future__ import annotations

import random
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import RunConfig
from pipeline.engine.requests import config_request
from pipeline.errors import InputError
from pipeline.resources import data_file
from pipeline.seeds import check_path, read_records
from pipeline.types import Choice, Drop, Example, Request

NAME = "unnatural"
FIELDS = ("Instruction", "Input", "Constraints")
DEMOS_PER_PROMPT = 3
_LABEL = re.compile(r"^(Instruction|Input|Constraints):[ \t]*", re.M)
_HEADER = re.compile(r"^[ \t]*Example[ \t]+\d+[ \t]*:?[ \t]*$", re.M)
_WS = re.compile(r"\s+")
_DEMO_FIX = (
    'write one demonstration a line: {"set": "a", "instruction": "...", "input": "...", '
    '"constraints": "..."} (at least 3 per set; "set" may be left out for one set)'
)


def load_demos(path: str | Path | None = None) -> dict[str, list[Example]]:
    """Demonstration sets by name; None reads the shipped seeds/unnatural_demos.jsonl.

    A demonstration is an Example whose meta holds its constraints and set."""
    path = data_file("seeds", "unnatural_demos.jsonl") if path is None else Path(path)
    check_path(path)
    sets: dict[str, list[Example]] = {}
    with closing(read_records(path)) as records:
        for line, rec in records:
            values = [rec.get(f.lower()) if isinstance(rec, dict) else None for f in FIELDS]
            if not all(isinstance(v, str) and v.strip() for v in values):
                missing = [f.lower() for f, v in zip(FIELDS, values, strict=True) if not v]
                problem = f"demonstration needs non-empty {', '.join(missing) or 'text fields'}"
                raise InputError(path, line, problem, _DEMO_FIX)
            name = str(rec.get("set", "all"))
            members = sets.setdefault(name, [])
            meta = {"constraints": values[2].strip(), "set": name}
            demo_id = f"demo-{name}-{len(members) + 1}"
            members.append(Example(values[0].strip(), values[1].strip(), "", demo_id, NAME, meta))
    if not sets:
        raise InputError(path, None, "no demonstrations (the file is empty)", _DEMO_FIX)
    small = [name for name, members in sets.items() if len(members) < DEMOS_PER_PROMPT]
    if small:
        problem = f"set {small[0]!r} has fewer than {DEMOS_PER_PROMPT} demonstrations"
        raise InputError(path, None, problem, _DEMO_FIX)
    return sets


def format_example(number: int, example: Example) -> str:
    constraints = example.meta.get("constraints", "None.")
    return (
        f"Example {number}\nInstruction: {example.instruction}\nInput: {example.input}\n"
        f"Constraints: {constraints}\n\n"
    )


def build_core_prompt(demos: list[Example]) -> str:
    body = "".join(format_example(i + 1, d) for i, d in enumerate(demos))
    return f"{body}Example {len(demos) + 1}\n"


def parse_core(text: str) -> tuple[str, str, str] | str:
    """(instruction, input, constraints) of the fourth example, or the name of a missing field.

    A repeated `Example 4` header is skipped; anything from the next example header on is not
    part of the fourth example. Each field runs until the next label."""
    text = text.lstrip()
    repeated = _HEADER.match(text)
    if repeated:
        text = text[repeated.end() :]
    text = _HEADER.split(text, maxsplit=1)[0]
    parts = _LABEL.split(text)
    found: dict[str, str] = {}
    for label, value in zip(parts[1::2], parts[2::2], strict=True):
        found.setdefault(label, value.strip())
    for name in FIELDS:
        if not found.get(name):
            return name
    return found["Instruction"], found["Input"], found["Constraints"]


def normalized(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


@dataclass
class UnnaturalCore:
    """Plans the core requests (slot i always asks the same) and parses the fourth example."""

    demos: dict[str, list[Example]]
    config: RunConfig
    name: str = NAME
    _names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._names = sorted(self.demos)

    @property
    def expected_kept_per_request(self) -> float:
        return self.config.prompts_per_request * 0.8

    def demos_for(self, slot: int, index: int) -> tuple[str, list[Example]]:
        rng = random.Random(f"{self.config.seed}:{NAME}:{slot}:{index}")
        name = rng.choice(self._names)
        return name, rng.sample(self.demos[name], DEMOS_PER_PROMPT)

    def plan(self, slot: int) -> Request:
        c = self.config
        prompts = tuple(
            build_core_prompt(self.demos_for(slot, i)[1]) for i in range(c.prompts_per_request)
        )
        return config_request(
            c,
            prompts,
            f"{NAME}:core:{slot}",
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.max_tokens,
            stop=(f"Example {DEMOS_PER_PROMPT + 2}",),
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        set_name, demos = self.demos_for(slot, choice.index)
        meta = {
            "stage": "core",
            "slot": slot,
            "prompt": choice.index,
            "demo_set": set_name,
            "demos": [d.id for d in demos],
        }
        fields = parse_core(choice.text)
        if isinstance(fields, str):
            reason = "truncated" if choice.finish_reason == "length" else "missing_field"
            return [Drop("parse", reason, fields, raw=choice.text, meta=meta)]
        instruction, given, constraints = fields
        example_id = f"un-{slot:06d}-{choice.index}"
        meta = {**meta, "core_id": example_id, "constraints": constraints}
        example = Example(instruction, given, "", example_id, NAME, meta)
        pair = (normalized(instruction), normalized(given))
        for demo in demos:
            if (normalized(demo.instruction), normalized(demo.input)) == pair:
                return [Drop("copy", "repeats_demonstration", demo.id, example=example)]
        if choice.finish_reason == "length":
            # The constraints, written last, may be cut off mid-sentence.
            return [Drop("parse", "truncated", "constraints", example=example)]
        return [example]


class DuplicatePairs:
    """Drops an (instruction, input) pair seen before in this run (whitespace and case aside)."""

    name = "duplicate"

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}

    def check(self, example: Example) -> str | None:
        pair = (normalized(example.instruction), normalized(example.input))
        first = self._seen.setdefault(pair, example.id)
        return None if first == example.id else f"same_instruction_and_input: as {first}"
