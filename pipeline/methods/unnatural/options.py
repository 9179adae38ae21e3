"""Unnatural Instructions' own options (the shared settings are in pipeline/config.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.filters.options import TaskFilters
from pipeline.options import Rule, Sampling, option


@dataclass(frozen=True)
class UnnaturalOptions(TaskFilters):
    # Nucleus sampling with top_p 0.99 for the core examples, as the paper did.
    SAMPLING = Sampling(temperature=1.0, top_p=0.99, max_tokens=1024)

    paraphrases: int = option(
        3, "Alternative formulations asked per core example (0: none).", always=True
    )
    demos: str | None = option(
        None,
        "Demonstrations: JSONL of set, instruction, input, constraints (default: ours).",
        path=True,
        always=True,
    )
    output_max_tokens: int = option(
        1024, "max_tokens of an output (asked with greedy decoding).", always=True
    )

    def rules(self) -> list[Rule]:
        return [
            *super().rules(),
            (0 <= self.paraphrases <= 20, f"--paraphrases must be 0 to 20, got {self.paraphrases}"),
            (
                self.output_max_tokens >= 1,
                f"--output-max-tokens must be at least 1, got {self.output_max_tokens}",
            ),
        ]
