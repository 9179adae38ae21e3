"""The stub model's task writer: Alpaca-style tasks from many families, each with a real answer.

`make_task(rng)` returns (instruction, input, output). The families (in stub/families/) vary
their instructions in verb, form (question or imperative) and length, and fill them from sizable
lists so that a ROUGE-L novelty gate keeps a realistic, slowly falling share. A few percent are
the kinds Alpaca's heuristic filters drop, as a real model writes now and then: too short,
visual or audio words, "Write a program", or a leading punctuation mark or non-ASCII character.
"""

from __future__ import annotations

import random

from pipeline.stub.families import FAMILIES
from pipeline.stub.families.helpers import Task

# Families drawn in proportion to their weights (in half units) by one choice() call.
_WHEEL = tuple(family for family, weight in FAMILIES for _ in range(round(weight * 2)))
_ODD_STARTS = ('"', "- ", "* ", "(", "“", "• ", "¿")
_CLOSERS = {'"': '"', "(": ")", "“": "”"}


def make_task(r: random.Random) -> Task:
    """One task: instruction, input ("" when it needs none) and an output that answers it."""
    instruction, text, output = r.choice(_WHEEL)(r)
    roll = r.random()
    if roll < 0.03:
        # a leading quote, bullet or non-ASCII mark, as models sometimes write
        start = r.choice(_ODD_STARTS)
        instruction = f"{start}{instruction}{_CLOSERS.get(start, '')}"
    elif roll < 0.15 and instruction.endswith("."):
        instruction = instruction[:-1]  # real instructions often lack the final period
    return instruction, text, output


__all__ = ["FAMILIES", "Task", "make_task"]
