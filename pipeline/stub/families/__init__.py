"""The stub model's task families, by kind; FAMILIES lists every family with its weight.

Each family is a function `(rng) -> (instruction, input, output)`. The weights set how often
`make_task` (pipeline.stub.text) picks each family.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pipeline.stub.families import classify, compute, edit, knowledge, passages, topics, writing
from pipeline.stub.families.helpers import Task

FAMILIES: tuple[tuple[Callable[[random.Random], Task], float], ...] = (
    *classify.FAMILIES,
    *edit.FAMILIES,
    *passages.FAMILIES,
    *knowledge.FAMILIES,
    *compute.FAMILIES,
    *writing.FAMILIES,
    *topics.FAMILIES,
)
