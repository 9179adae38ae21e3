"""The grade method's own options: what to score (the judge, its rubric and --min-score are
shared settings, pipeline/config.py, as every method's --score-with stage takes them)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.options import MethodOptions, Rule, Sampling, option
from pipeline.score.stage import MAX_TOKENS


@dataclass(frozen=True)
class ScoreOptions(MethodOptions):
    # The judge's requests set their own (temperature 0, MAX_TOKENS); nothing else is sampled.
    SAMPLING = Sampling(temperature=0.0, top_p=1.0, max_tokens=MAX_TOKENS)
    SCORES = True

    source: str | None = option(
        None,
        "The data to score: a file or folder in any readable format, or a run directory of "
        "any method, read whole (default: the built-in seed tasks).",
        flag="--from",
        path=True,
        exists=False,  # a schedule scores what an earlier scheduled run writes
    )
    limit: int | None = option(None, "Score the first N examples only.")
    sample: int | None = option(None, "Score a seeded sample of N examples, in their order.")

    def rules(self) -> list[Rule]:
        return [
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (self.sample is None or self.sample >= 1, "--sample must be at least 1"),
        ]
