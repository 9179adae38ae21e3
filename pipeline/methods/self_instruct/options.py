"""Self-Instruct's own options (the settings every method shares are in pipeline/config.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.filters.options import TaskFilters
from pipeline.formats.check import check_input_format
from pipeline.options import Rule, Sampling, option


@dataclass(frozen=True)
class SelfInstructOptions(TaskFilters):
    # Alpaca's request: temperature 1, top_p 1, max_tokens 3072.
    SAMPLING = Sampling(temperature=1.0, top_p=1.0, max_tokens=3072)

    seeds: str | None = option(
        None,
        "Seed tasks: a file or folder in any readable format, or a run dir.",
        path=True,
        always=True,
    )
    seeds_format: str | None = option(
        None, "Format of --seeds (default: detected), e.g. superni, sharegpt."
    )
    seeds_map: str | None = option(
        None, "Field mapping for plain JSONL, e.g. instruction=q,output=a.", flag="--map"
    )
    num_prompt_instructions: int = option(
        3, "Seed tasks shown as demonstrations in each prompt (Alpaca: 3).", always=True
    )
    num_tasks: int = option(
        20,
        "Tasks each prompt asks for; the stop sequences end the answer before task N, so a "
        "prompt yields at most N minus the demonstrations minus 1 (Alpaca: 20, up to 16).",
        always=True,
    )

    def rules(self) -> list[Rule]:
        return [
            (
                1 <= self.num_prompt_instructions < self.num_tasks,
                "--num-prompt-instructions must be at least 1 and below --num-tasks",
            ),
            (self.num_tasks <= 99, f"--num-tasks must be at most 99, got {self.num_tasks}"),
            *super().rules(),
        ]

    def check(self) -> None:
        check_input_format(self.seeds_format, self.seeds_map, "--seeds-format")

    @property
    def stop(self) -> tuple[str, ...]:
        """Alpaca's stop sequences: the model halts before it writes task number num_tasks."""
        return (f"\n{self.num_tasks}", f"{self.num_tasks}.")
