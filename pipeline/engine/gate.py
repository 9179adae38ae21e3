"""A method's ROUGE-L novelty gate, described once for every place that rebuilds it: the
method's judge, the estimate (is a drop a copied seed or a near-duplicate of a generated item?),
the merge of shards, and the report's similarity figure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.filters.rouge.index import RougeIndex
from pipeline.types import Example


def instruction(example: Example) -> str:
    return example.instruction


def everything(example: Example) -> bool:
    return True


@dataclass(frozen=True)
class Gate:
    """`seeds(recipe)` are the texts the pool starts with (the method's recipe knows its seed
    tasks or demonstrations); `text(example)` is what is compared; `gated(example)` says which
    kept examples went through the gate (Unnatural's reformulations do not); `compares` and
    `scored` name both for the report when they are not the instruction and every kept one."""

    seeds: Callable[[Any], list[str]]
    text: Callable[[Example], str] = instruction
    gated: Callable[[Example], bool] = everything
    compares: str | None = None
    scored: str | None = None

    def index(self, threshold: float, seed_texts: list[str]) -> RougeIndex:
        """A fresh pool holding the seed texts, deciding at `threshold`."""
        gate = RougeIndex(threshold=threshold)
        gate.extend(seed_texts)
        return gate
