"""Evol-Instruct (WizardLM): rounds of rewriting each instruction in depth or in breadth.

A round has three map stages over the pool: evolve (one operation per instruction, chosen by a
seeded RNG), judge (an LLM says whether the evolution gained anything: "Equal" / "Not Equal")
and answer. The judge comes before the answer so that an evolution judged equal costs no answer.
An evolution that fails any elimination rule is dropped and its parent stays in the pool for the
next round; `next_pool` builds that pool. Pool position p always holds the line of one seed."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from pipeline.config import RunConfig
from pipeline.engine.requests import config_request
from pipeline.errors import ConfigError
from pipeline.prompts import PromptTemplate, load_template
from pipeline.resources import data_file
from pipeline.types import Choice, Drop, Example, Request

NAME = "evol-instruct"
DEPTH = ("add_constraints", "deepen", "concretize", "reasoning", "complicate_input")
OPERATIONS = (*DEPTH, "breadth")
# Formats the complicate-input operation asks its data in, picked by the same RNG.
INPUT_FORMATS = ("JSON", "Markdown table", "Python code", "LaTeX formula", "CSV")
# The authors' answer request: a plain user message after this system prompt.
ANSWER_SYSTEM = "You are a helpful assistant."
ANSWER_SAMPLING = {"temperature": 1.0, "top_p": 0.95}
_MARKERS = re.compile(r"#\s*(?:new|created|rewritten)\s+prompt\s*#\s*:?", re.I)
_VERDICT = re.compile(r"^\W*(not\s+equal|equal)\W*$", re.I)


def given_prompt(example: Example) -> str:
    """The prompt an evolution starts from: the instruction, and its input when it has one."""
    given = example.input.strip()
    return f"{example.instruction}\n{given}" if given else example.instruction


def load_operation_texts() -> dict[str, str]:
    """The sentence naming each in-depth operation, from prompts/evol/operations.txt."""
    lines = data_file("prompts", "evol/operations.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t", 1) for line in lines if line.strip())


def parse_weights(spec: str) -> dict[str, float]:
    """'add_constraints=2,breadth=1,...' -> weights; an empty spec weighs all six equally."""
    if not spec.strip():
        return dict.fromkeys(OPERATIONS, 1.0)
    weights: dict[str, float] = {}
    for part in spec.split(","):
        name, _, value = part.strip().partition("=")
        if name not in OPERATIONS:
            raise ConfigError(
                f"--operations: unknown operation {name!r}; use {', '.join(OPERATIONS)}"
            )
        try:
            weights[name] = float(value) if value else 1.0
        except ValueError:
            raise ConfigError(f"--operations: weight of {name} must be a number") from None
        if weights[name] < 0:
            raise ConfigError(f"--operations: weight of {name} must not be negative")
    if not any(weights.values()):
        raise ConfigError("--operations: give at least one operation a positive weight")
    return weights


@dataclass
class Templates:
    depth: PromptTemplate
    breadth: PromptTemplate
    complicate: PromptTemplate
    equality: PromptTemplate
    operations: dict[str, str]

    @classmethod
    def load(cls) -> Templates:
        names = ("evol/depth", "evol/breadth", "evol/complicate_input", "evol/equality")
        return cls(*(load_template(n) for n in names), load_operation_texts())

    @property
    def digests(self) -> list[str]:
        parts = (self.depth, self.breadth, self.complicate, self.equality)
        return [t.digest for t in parts] + [repr(sorted(self.operations.items()))]


@dataclass
class Evolve:
    """Stage 1 of a round: each pool instruction rewritten by one operation."""

    pool: list[Example]
    round: int
    config: RunConfig
    templates: Templates
    name: str = NAME
    expected_kept_per_request: float = 1.0
    _weights: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self._weights = parse_weights(self.config.options.operations)

    @property
    def requests(self) -> int:
        return len(self.pool)

    def operation(self, position: int) -> tuple[str, str]:
        """(operation, input format) of a pool position this round: seeded, uniform by default."""
        rng = random.Random(f"{self.config.seed}:{NAME}:{self.round}:{position}")
        names = list(self._weights)
        op = rng.choices(names, weights=[self._weights[n] for n in names])[0]
        return op, rng.choice(INPUT_FORMATS)

    def prompt(self, position: int) -> str:
        op, fmt = self.operation(position)
        given, t = given_prompt(self.pool[position]), self.templates
        if op == "breadth":
            return t.breadth.render(prompt=given)
        if op == "complicate_input":
            return t.complicate.render(prompt=given, format=fmt)
        return t.depth.render(prompt=given, method=t.operations[op])

    def plan(self, slot: int) -> Request:
        c = self.config
        return config_request(
            c,
            (self.prompt(slot),),
            f"{NAME}:evolve:{self.round}:{slot}",
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.max_tokens,
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        parent = self.pool[slot]
        op, _ = self.operation(slot)
        seed_id = parent.meta.get("seed_id", parent.id)
        meta = {
            "round": self.round,
            "operation": op,
            "parent_id": parent.id,
            "seed_id": seed_id,
            "position": slot,
        }
        text = _after_marker(choice.text)
        child = Example(text, "", "", f"ev{self.round}-{slot:06d}", NAME, meta)
        if choice.finish_reason == "length":
            return [Drop("parse", "truncated", "evolution cut at max_tokens", child)]
        if not text:
            return [Drop("parse", "empty", "no evolved prompt", child, raw=choice.text)]
        return [child]


def _after_marker(text: str) -> str:
    """The text after a repeated new/created/rewritten-prompt marker, stripped."""
    found = list(_MARKERS.finditer(text))
    return (text[found[-1].end() :] if found else text).strip()


@dataclass
class Equality:
    """Stage 2: the LLM compares parent and evolution; only a strict "Not Equal" survives."""

    evolved: list[Example]
    parents: dict[str, Example]
    round: int
    config: RunConfig
    templates: Templates
    name: str = NAME
    expected_kept_per_request: float = 1.0

    @property
    def requests(self) -> int:
        return len(self.evolved)

    def plan(self, slot: int) -> Request:
        child = self.evolved[slot]
        parent = self.parents[child.meta["parent_id"]]
        equality = self.templates.equality
        prompt = equality.render(first=given_prompt(parent), second=child.instruction)
        slot_id = f"{NAME}:judge:{self.round}:{child.meta['position']}"
        return config_request(self.config, (prompt,), slot_id, temperature=0.0, max_tokens=8)

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        child = self.evolved[slot]
        verdict = parse_verdict(choice.text)
        if verdict is None:
            detail = f"answer was {choice.text.strip()[:80]!r}"
            return [Drop("equality", "unparseable_verdict", detail, child, raw=choice.text)]
        if verdict == "equal":
            return [Drop("equality", "no_information_gain", "judged Equal to its parent", child)]
        return [child]


def parse_verdict(text: str) -> str | None:
    """'equal', 'not equal', or None for anything but those two answers."""
    m = _VERDICT.match(text.strip())
    return None if m is None else re.sub(r"\s+", " ", m[1].lower())


@dataclass
class Answer:
    """Stage 3: each surviving evolution answered as a plain user message."""

    evolved: list[Example]
    round: int
    config: RunConfig
    name: str = NAME
    expected_kept_per_request: float = 1.0

    @property
    def requests(self) -> int:
        return len(self.evolved)

    def plan(self, slot: int) -> Request:
        c, child = self.config, self.evolved[slot]
        return Request(
            model=c.options.answer_model or c.model,
            prompts=(child.instruction,),
            api="chat" if c.api == "chat" else "completions",
            system=ANSWER_SYSTEM,
            max_tokens=c.options.answer_max_tokens,
            slot=f"{NAME}:answer:{self.round}:{child.meta['position']}",
            **ANSWER_SAMPLING,  # type: ignore[arg-type]
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        child = self.evolved[slot]
        answered = Example(child.instruction, "", choice.text.strip(), child.id, NAME, child.meta)
        if choice.finish_reason == "length":
            return [Drop("answer", "truncated", "answer cut at max_tokens", answered)]
        return [answered]


def next_pool(pool: list[Example], survivors: list[Example]) -> list[Example]:
    """Each position's surviving evolution (answer dropped: it is evolved again as a prompt),
    or its parent when the evolution failed."""
    by_position = {s.meta["position"]: s for s in survivors}
    return [_as_parent(by_position[p]) if p in by_position else item for p, item in enumerate(pool)]


def _as_parent(example: Example) -> Example:
    return Example(example.instruction, "", "", example.id, NAME, example.meta)
