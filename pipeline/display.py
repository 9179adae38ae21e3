"""What a person sees: a live progress bar during a run and a short summary after it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pipeline import progress
from pipeline.config import RunConfig
from pipeline.store import ALPACA, KEPT, REMOVED, STATS

console = Console()


def _progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>6.0f}/{task.total:.0f} kept"),
        TextColumn("{task.fields[requests]} req"),
        TextColumn("{task.fields[tokens]} tok"),
        TextColumn("{task.fields[rate]}/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=False,
    )


def _watch(bar: Progress, task_id: Any) -> Any:
    start = time.monotonic()

    def update(generation: Any) -> None:
        s = generation.stats
        elapsed = max(time.monotonic() - start, 1e-9)
        bar.update(
            task_id,
            completed=len(generation.kept),
            requests=f"{s.requests:,}",
            tokens=f"{s.prompt_tokens + s.completion_tokens:,}",
            rate=f"{len(generation.kept) / elapsed:.1f}",
        )

    return update


def run_with_display(config: RunConfig, use_prefect: bool, quiet: bool = False) -> dict[str, Any]:
    """Run the configured method, with Prefect or without, and print the summary."""
    bar = _progress_bar(quiet)
    task_id = bar.add_task(config.method, total=config.target, requests="0", tokens="0", rate="0")
    progress.set_reporter(_watch(bar, task_id))
    try:
        with bar:
            stats = asyncio.run(_run(config, use_prefect))
    finally:
        progress.set_reporter(None)
    print_summary(config, stats)
    return stats


async def _run(config: RunConfig, use_prefect: bool) -> dict[str, Any]:
    if use_prefect:
        from flows.self_instruct import self_instruct_flow

        return await self_instruct_flow(config.to_dict())
    from pipeline.session import Session, run_session

    return await run_session(Session.open(config, on_progress=progress.reporter()))


def print_summary(config: RunConfig, stats: dict[str, Any]) -> None:
    funnel, req, tok = stats["funnel"], stats["requests"], stats["tokens"]
    table = Table(title=f"{config.method}: {stats['stopped']}", show_header=False, box=None)
    table.add_row("kept", f"{funnel['kept']:,} of {funnel['generated']:,} generated")
    for filter_name, reasons in funnel["dropped"].items():
        for reason, n in reasons.items():
            table.add_row("dropped", f"{n:,}  {filter_name}/{reason}")
    table.add_row(
        "requests", f"{req['total']:,} ({req['sent']:,} sent now, {req['from_cache']:,} from cache)"
    )
    table.add_row("tokens", f"{tok['prompt']:,} prompt + {tok['completion']:,} completion")
    table.add_row("time", f"{stats['session']['wall_seconds']:.1f} s this session")
    out = config.out
    table.add_row("files", f"{out}/{KEPT}, {out}/{ALPACA}, {out}/{REMOVED}, {out}/{STATS}")
    console.print(table)
