"""The task filters' settings that the methods gating generated tasks share: Alpaca's word limits
(pipeline/filters/heuristics.py) and the ROUGE-L gate's threshold (pipeline/filters/rouge/)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.options import MethodOptions, Rule, option


@dataclass(frozen=True)
class TaskFilters(MethodOptions):
    """A mixin of a method's options: the filters every generated task goes through."""

    rouge_threshold: float = option(
        0.7,
        "Drop an item whose ROUGE-L F to anything in the pool is above this (Alpaca: 0.7); "
        "1 turns the gate off.",
        always=True,
    )
    min_words: int = option(
        4, "Drop an instruction of fewer words (Alpaca's filter: 4).", always=True
    )
    max_words: int = option(
        150, "Drop an instruction of more words (Alpaca's filter: 150).", always=True
    )

    def rules(self) -> list[Rule]:
        return [
            *super().rules(),
            (
                0.0 < self.rouge_threshold <= 1.0,
                f"--rouge-threshold must be in (0, 1], got {self.rouge_threshold}",
            ),
            (
                1 <= self.min_words <= self.max_words,
                "--min-words must be at least 1 and at most --max-words",
            ),
        ]
