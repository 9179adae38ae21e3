"""The released data's own files (core_data.jsonl / full_data.jsonl), written beside a run's
kept.jsonl as core.jsonl and full.jsonl, from the kept examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.store import atomic_write, jsonl_lines
from pipeline.types import Example

CORE_FILE, FULL_FILE = "core.jsonl", "full.jsonl"


def is_reformulation(example: Example) -> bool:
    return example.meta.get("stage") == "reformulation"


def write_released(folder: Path, kept: list[Example]) -> None:
    """core.jsonl and full.jsonl of the kept examples: core examples, each followed by its
    reformulations (kept.jsonl's order)."""
    examples = [e for e in kept if not is_reformulation(e)]
    reformulations = [e for e in kept if is_reformulation(e)]
    core, full = released_records(examples, reformulations)
    atomic_write(Path(folder) / CORE_FILE, jsonl_lines(core))
    atomic_write(Path(folder) / FULL_FILE, jsonl_lines(full))


def released_records(
    examples: list[Example], reformulations: list[Example]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The released data's own format: core_data.jsonl and full_data.jsonl records.

    `instruction_with_input` joins instruction and input with a newline in a core instance,
    and is the placeholder filled with the input in a reformulation."""
    inputs = {e.id: e.input for e in examples}
    by_core: dict[str, list[dict[str, str]]] = {}
    for r in reformulations:
        by_core.setdefault(r.meta["core_id"], []).append(
            {
                "instruction": r.meta["template"],
                "instruction_with_input": r.instruction,
                "input": inputs.get(r.meta["core_id"], ""),
                "output": r.output,
            }
        )
    core, full = [], []
    for e in examples:
        instance = {
            "instruction_with_input": f"{e.instruction}\n{e.input}",
            "input": e.input,
            "constraints": e.meta.get("constraints", "None."),
            "output": e.output,
        }
        core.append({"instruction": e.instruction, "instances": [instance]})
        full.append({**core[-1], "reformulations": by_core.get(e.id, [])})
    return core, full
