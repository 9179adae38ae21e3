"""Self-Instruct as Stanford Alpaca ran it: 3 seed demonstrations in, up to 16 new tasks out."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from pipeline.config import RunConfig
from pipeline.engine.requests import config_request
from pipeline.prompts import PromptTemplate, load_template
from pipeline.types import Choice, Drop, Example, Request

NAME = "self-instruct"
_WS = re.compile(r"\s+")


def format_task(number: int, example: Example) -> str:
    """One demonstration in Alpaca's layout; an empty input is written as <noinput>."""
    instruction = _WS.sub(" ", example.instruction).strip().rstrip(":")
    given = example.input if example.input.strip() else "<noinput>"
    return (
        f"###\n{number}. Instruction: {instruction}\n"
        f"{number}. Input:\n{given}\n{number}. Output:\n{example.output}\n"
    )


def build_prompt(header: str, demos: list[Example]) -> str:
    body = "".join(format_task(i + 1, d) for i, d in enumerate(demos))
    return f"{header}\n{body}###\n{len(demos) + 1}. Instruction:"


@cache  # task numbers repeat in every answer; compile each pattern once
def _task_pattern(number: int) -> re.Pattern[str]:
    return re.compile(rf"{number}\.\s+(Instruction|Input|Output):")


class Piece(NamedTuple):
    number: int
    raw: str
    fields: tuple[str, str, str] | None
    truncated: bool = False


def parse_tasks(text: str, finish_reason: str, first: int) -> list[Piece]:
    """Split a completion into numbered pieces with (instruction, input, output) or None.

    Alpaca's rules: piece i must be task first+i with exactly the three labelled parts; when the
    model stopped on length the last piece may be cut off, so it is not used."""
    head = f"{first}. Instruction:"
    body = text.lstrip()
    # Chat models often repeat the header they were asked to continue.
    if body.startswith(head):
        text = body[len(head) :]
    pieces = (head + text).split("###")
    truncated_at = len(pieces) - 1 if finish_reason == "length" else -1
    out = []
    for i, raw in enumerate(pieces):
        number = first + i
        if i == truncated_at:
            out.append(Piece(number, raw, None, truncated=True))
            continue
        parts = _task_pattern(number).split(raw)
        if len(parts) != 7:
            out.append(Piece(number, raw, None))
            continue
        instruction, given, output = parts[2].strip(), parts[4].strip(), parts[6].strip()
        if given.lower() == "<noinput>":
            given = ""
        out.append(Piece(number, raw, (instruction, given, output)))
    return out


@dataclass
class SelfInstruct:
    """Plans deterministic requests (slot i always asks the same) and parses their answers."""

    seeds: list[Example]
    config: RunConfig
    template: PromptTemplate | None = None

    name = NAME

    def __post_init__(self) -> None:
        self.template = self.template or load_template("self_instruct/generate")
        self.header = self.template.render(num_tasks=self.config.options.num_tasks)
        self.first = self.config.options.num_prompt_instructions + 1

    @property
    def expected_kept_per_request(self) -> float:
        """A prior before any answer is in: tasks per prompt times a typical keep share."""
        tasks = self.config.options.num_tasks - self.first
        return self.config.prompts_per_request * tasks * 0.5

    def demos_for(self, slot: int, index: int) -> list[Example]:
        # A string seed is hashed with SHA-512 by random.Random: stable across processes.
        rng = random.Random(f"{self.config.seed}:{slot}:{index}")
        return rng.sample(self.seeds, self.config.options.num_prompt_instructions)

    def plan(self, slot: int) -> Request:
        c = self.config
        prompts = tuple(
            build_prompt(self.header, self.demos_for(slot, i)) for i in range(c.prompts_per_request)
        )
        return config_request(
            c,
            prompts,
            f"{NAME}:{slot}",
            temperature=c.temperature,
            top_p=c.top_p,
            max_tokens=c.max_tokens,
            stop=c.options.stop,
        )

    def parse(self, slot: int, choice: Choice) -> list[Example | Drop]:
        """Every piece of the answer becomes an Example or a parse Drop, in order."""
        index = choice.index
        demos = [d.id for d in self.demos_for(slot, index)]
        id_prefix = f"si-{slot:06d}-{index}-"
        items: list[Example | Drop] = []
        for piece in parse_tasks(choice.text, choice.finish_reason, self.first):
            meta = {"slot": slot, "prompt": index, "task": piece.number, "demos": demos}
            if piece.fields is None:
                if piece.raw.strip():
                    reason = "truncated" if piece.truncated else "malformed_task"
                    detail = f"task {piece.number}"
                    items.append(Drop("parse", reason, detail, raw=piece.raw, meta=meta))
                continue
            instruction, given, output = piece.fields
            example_id = f"{id_prefix}{piece.number:02d}"
            items.append(Example(instruction, given, output, example_id, NAME, meta))
        return items
