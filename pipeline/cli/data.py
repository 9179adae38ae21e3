"""`instructgen template` (labelled tasks into a Flan/P3-style mix) and `instructgen export`
(a run's examples in the formats training tools load)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import ConfigError
from pipeline.formats import READABLE, WRITABLE, check_format

Exports = Annotated[
    list[str],
    typer.Option("--export", help=f"Also write this format, repeatable: {', '.join(WRITABLE)}."),
]
MapOption = Annotated[
    str | None,
    typer.Option("--map", help="Field mapping for plain JSONL, e.g. instruction=q,output=a."),
]


def template_command(
    tasks: Annotated[
        Path,
        typer.Argument(help="Task file or folder: Super-NI, NI v1, or any readable format."),
    ],
    out: Annotated[Path, typer.Option(help="Output folder (kept.jsonl, alpaca.json, ...).")] = Path(
        "data/template"
    ),
    per_task: Annotated[int, typer.Option(help="At most this many examples a task.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same mix.")] = 0,
    few_shot: Annotated[float, typer.Option(help="Share rendered few-shot (0..1).")] = 0.5,
    shots: Annotated[int, typer.Option(help="Demonstrations in a few-shot example.")] = 2,
    task_type: Annotated[
        str | None, typer.Option("--type", help="Every task's type (default: inferred).")
    ] = None,
    label: Annotated[
        list[str], typer.Option(help="An answer choice of classification tasks, repeatable.")
    ] = [],  # noqa: B006
    tasks_format: Annotated[
        str | None, typer.Option(help=f"Input format (default: detected): {', '.join(READABLE)}.")
    ] = None,
    map_: MapOption = None,
    templates: Annotated[
        Path | None, typer.Option(help="Folder of template files (default: ours).")
    ] = None,
    export: Exports = [],  # noqa: B006
) -> None:
    """Render labelled tasks through instruction templates, zero- and few-shot (Flan/P3)."""
    from pipeline.export import export as write_exports
    from pipeline.task_mix import MixOptions, template_tasks

    _check_template_options(per_task, few_shot, shots, task_type, tasks_format, export)
    options = MixOptions(per_task, seed, few_shot, shots, task_type, tuple(label))
    stats = template_tasks(tasks, out, options, tasks_format, map_, templates)
    skipped = {name: s["skipped"] for name, s in stats["tasks"].items() if "skipped" in s}
    print(f"{stats['kept']} examples from {len(stats['tasks']) - len(skipped)} tasks in {out}")
    for name, reason in skipped.items():
        print(f"  skipped {name}: {reason} (see removed.jsonl)")
    _report(write_exports(out, export) if export else [])


def _check_template_options(
    per_task: int,
    few_shot: float,
    shots: int,
    task_type: str | None,
    tasks_format: str | None,
    exports: list[str],
) -> None:
    from pipeline.export import check_exports
    from pipeline.templating import TYPES

    rules = [
        (per_task >= 1, f"--per-task must be at least 1, got {per_task}"),
        (0.0 <= few_shot <= 1.0, f"--few-shot must be between 0 and 1, got {few_shot}"),
        (0 <= shots <= 16, f"--shots must be 0 to 16, got {shots}"),
        (task_type in (None, *TYPES), f"--type must be one of {', '.join(TYPES)}"),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(message)
    check_exports(exports)
    if tasks_format is not None:
        check_format(tasks_format, "--tasks-format")


def export_command(
    run: Annotated[Path, typer.Argument(help="A run directory, or any readable data file.")],
    format_: Annotated[
        list[str],
        typer.Option("--format", help=f"Format to write, repeatable: {', '.join(WRITABLE)}."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default: inside the run directory).")
    ] = None,
    system: Annotated[
        str | None, typer.Option(help="System prompt for every openai conversation.")
    ] = None,
    from_format: Annotated[
        str | None, typer.Option(help="Format of RUN when it is a data file (default: detected).")
    ] = None,
    map_: MapOption = None,
    dataset_name: Annotated[
        str | None,
        typer.Option(help="llama-factory: the entry's name (default: RUN's name)."),
    ] = None,
    llama_factory_format: Annotated[
        str | None,
        typer.Option(
            help="llama-factory: auto (Alpaca, plus ShareGPT when a conversation has more than "
            "one exchange), alpaca (Alpaca only), sharegpt (both)."
        ),
    ] = None,
) -> None:
    """Write a run's kept examples as Alpaca, ShareGPT, OpenAI chat, Super-NI, JSONL, Parquet,
    or for LLaMA-Factory."""
    from pipeline.export import export

    if from_format is not None:
        check_format(from_format, "--from-format")
    _only_for_llama_factory(
        format_, {"--dataset-name": dataset_name, "--llama-factory-format": llama_factory_format}
    )
    chat = llama_factory_format or "auto"
    _report(export(run, format_, out, system, from_format, map_, dataset_name, chat))


def _only_for_llama_factory(formats: list[str], options: dict[str, str | None]) -> None:
    """Options that only LLaMA-Factory's export reads are an error without it: a typo'd
    --format would otherwise drop them silently."""
    from pipeline.formats.llama_factory import FORMAT

    for flag, value in options.items():
        if value is not None and FORMAT not in formats:
            raise ConfigError(f"{flag} is for --format {FORMAT}; add that format or drop {flag}")


def _report(written: list[tuple[Path, int]]) -> None:
    for path, count in written:
        print(f"wrote {count} examples to {path}")
