"""Evol-Instruct's own options (the shared settings are in pipeline/config.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline.formats.check import check_input_format
from pipeline.options import MethodOptions, Rule, Sampling, option


@dataclass(frozen=True)
class EvolOptions(MethodOptions):
    # The WizardLM authors' requests: temperature 1, top_p 0.95, max_tokens 2048.
    SAMPLING = Sampling(temperature=1.0, top_p=0.95, max_tokens=2048)
    # The first config fingerprinted the task filters for every method; Evol-Instruct never
    # read them. Their defaults, as constants: its run directories made then still resume.
    LEGACY_IDENTITY: ClassVar[dict[str, Any]] = {
        "rouge_threshold": 0.7,
        "min_words": 4,
        "max_words": 150,
    }

    source: str | None = option(
        None,
        "Instructions to evolve: a file or folder in any readable format, or a run directory "
        "(default: the built-in seed tasks).",
        flag="--from",
        path=True,
        exists=False,  # a schedule's --from is often what an earlier scheduled run writes
        always=True,
    )
    from_format: str | None = option(None, "Format of --from (default: detected).")
    from_map: str | None = option(
        None, "Field mapping for plain JSONL, e.g. instruction=q,output=a.", flag="--map"
    )
    rounds: int = option(3, "Rounds of evolution.", always=True)
    limit: int | None = option(None, "Evolve only the first N.", always=True)
    sample: int | None = option(None, "Evolve a seeded sample of N.", always=True)
    operations: str = option(
        "",
        "Weights, e.g. add_constraints=2,breadth=1 (default: all six equal).",
        always=True,
    )
    equality_check: bool = option(
        True, "Ask the model whether an evolution gained anything.", always=True
    )
    answer_model: str | None = option(
        None, "Model for the answers (default: --model).", always=True
    )
    answer_max_tokens: int = option(2048, "max_tokens of an answer.", always=True)

    def rules(self) -> list[Rule]:
        return [
            (1 <= self.rounds <= 20, f"--rounds must be 1 to 20, got {self.rounds}"),
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (self.sample is None or self.sample >= 1, "--sample must be at least 1"),
            (self.answer_max_tokens >= 1, "--answer-max-tokens must be at least 1"),
        ]

    def check(self) -> None:
        check_input_format(self.from_format, self.from_map, "--from-format")
