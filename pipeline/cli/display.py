"""What a person sees: a live progress bar during a run and a short summary after it."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline import methods
from pipeline.card import CARD
from pipeline.cli import tracking
from pipeline.cli.tracking import Plan
from pipeline.config import RunConfig
from pipeline.engine import progress
from pipeline.engine.stages import NO_TARGET
from pipeline.store import ALPACA, KEPT, REMOVED, STATS

console = Console()
INTERRUPT_GRACE = 8.0  # seconds a Ctrl-C'd run gets to write its outputs
INTERRUPTED = "interrupted; every answer so far is kept: re-run the same command to resume"


def _progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=16),
        TextColumn("{task.completed:.0f}/{task.total:.0f} {task.fields[unit]}"),
        TextColumn("{task.fields[requests]} req"),
        TextColumn("{task.fields[tokens]} tok"),
        TextColumn("{task.fields[rate]}/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(compact=True),
        TextColumn("{task.fields[spend]}"),
        console=console,
        disable=quiet,
        transient=False,
    )


def _watch(bar: Progress, task_id: Any, method: str) -> Any:
    def update(session: Any) -> None:
        generation = session.generation
        p = generation.progress
        elapsed = max(time.monotonic() - generation.started, 1e-9)
        # A first stage counts kept examples up to its target; a later stage maps over a list
        # and counts the items answered.
        if generation.target < NO_TARGET:
            done, total, unit = p.kept, generation.target, "kept"
        else:
            done, total, unit = generation.answered, generation.max_requests, "answered"
        name = generation.name if generation.name != "generate" else ""
        batches = session.batcher.status_line() if session.batcher is not None else ""
        bar.update(
            task_id,
            description=f"{method} {name}{' · ' + batches if batches else ''}".strip(),
            completed=done,
            total=total,
            unit=unit,
            requests=f"{p.requests:,}",
            tokens=f"{p.tokens:,}",
            rate=f"{done / elapsed:.1f}",
            spend=_spend(session, done / total if total else 1.0),
        )

    return update


def _spend(session: Any, share: float) -> str:
    """Spend so far and, once a tenth of the stage is done, its end spend at this pace."""
    b = session.budget
    if b.spent == 0 and b.reserved == 0:
        return ""
    text = f"${b.spent:,.4f}"
    stage_spent = b.spent - session.stage_spent_before
    if 0.1 <= share < 1.0:
        text += f" (this stage ~${session.stage_spent_before + stage_spent / share:,.4f})"
    return text


class _Interrupts:
    """Ctrl-C (or SIGTERM) cancels the run's main task: the requests already on the wire get a
    moment to land in the cache, then the outputs are written. If that does not finish within a
    few seconds (Prefect's temporary server dies with the terminal's Ctrl-C, and calls to it
    hang) or the signal comes again, exit at once. Every paid answer is already in the cache."""

    def __init__(self) -> None:
        self.deadline: threading.Timer | None = None
        self.main: asyncio.Task | None = None

    @property
    def requested(self) -> bool:
        return self.deadline is not None

    def _hard_exit(self) -> None:
        console.print(f"\n{INTERRUPTED}")
        os._exit(130)

    def _start_deadline(self) -> None:
        if self.deadline is not None:
            self._hard_exit()
        self.deadline = threading.Timer(INTERRUPT_GRACE, self._hard_exit)
        self.deadline.daemon = True
        self.deadline.start()

    def on_signal(self, signum: int, frame: Any) -> None:
        """Outside the event loop: a plain KeyboardInterrupt."""
        self._start_deadline()
        raise KeyboardInterrupt

    def in_loop(self) -> None:
        """Inside the event loop: cancel the main task only, so no answer is cut off mid-commit."""
        self._start_deadline()
        if self.main is not None:
            self.main.cancel()

    def install(self) -> dict[int, Any]:
        # SIGTERM (a scheduler or `kill` stopping the run) is handled as a Ctrl-C.
        return {sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def watch(self) -> None:
        """Called in the running loop by its main task."""
        self.main = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.in_loop)


def run_with_display(config: RunConfig, plan: Plan, quiet: bool = False) -> dict[str, Any]:
    """Run the configured method as the plan says (a flow or the library), print the summary
    and, last, where the run is tracked or how to track runs."""
    bar = _progress_bar(quiet)
    task_id = bar.add_task(
        config.method,
        total=config.target,
        unit="kept",
        requests="0",
        tokens="0",
        rate="0",
        spend="",
    )
    progress.set_reporter(_watch(bar, task_id, config.method))
    interrupts = _Interrupts()
    previous = interrupts.install()
    try:
        with bar:
            stats, page = asyncio.run(_run(config, plan, interrupts))
    except BaseException:
        if interrupts.requested:  # however the cancellation surfaced (Prefect wraps it)
            raise KeyboardInterrupt from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        progress.set_reporter(None)
    print_summary(config, stats)
    tracking.report(plan, page)
    return stats


async def _run(
    config: RunConfig, plan: Plan, interrupts: _Interrupts
) -> tuple[dict[str, Any], str | None]:
    """The run's stats, and its flow run's page in the Prefect UI when it ran as a flow."""
    interrupts.watch()
    if plan.flow:
        with tracking.reporting_to(plan.server):
            from flows.method import flow_for
            from flows.tracked import run_flow

            return await run_flow(flow_for(config.method), config.method, config.to_dict())
    from pipeline.engine.session import Session, run_session
    from pipeline.report.build import write_report

    session = Session.open(config, on_progress=progress.reporter(), on_complete=write_report)
    return await run_session(session), None


def _lost_row(session: dict[str, Any]) -> tuple[str, str] | None:
    """What the last session's stop cost: answers on their way back when it was killed."""
    lost, recovered = session.get("in_flight_at_last_stop", 0), session.get("recovered", 0)
    if not lost:
        return None
    again = lost - recovered
    how = "" if recovered else " (--store with OpenAI fetches such answers instead)"
    return (
        "resumed",
        f"{lost:>7,}  in flight at the last stop: {recovered:,} fetched from the provider's "
        f"store, up to {again:,} asked again{how}",
    )


def _method_files(config: RunConfig) -> tuple[str, ...]:
    outputs = methods.get(config.method).outputs
    return outputs.files if outputs is not None else ()


def print_summary(config: RunConfig, stats: dict[str, Any]) -> None:
    funnel, req, tok = stats["funnel"], stats["requests"], stats["tokens"]
    table = Table(title=f"{config.method}: {stats['stopped']}", show_header=False, box=None)
    made = "scored" if methods.get(config.method).options.SCORES else "generated"
    table.add_row("kept", f"{funnel['kept']:>7,}  of {funnel['generated']:,} {made}")
    drops = [
        (n, reason if reason == name else f"{name}: {reason}")
        for name, reasons in funnel["dropped"].items()
        for reason, n in reasons.items()
    ]
    for n, label in sorted(drops, key=lambda d: (-d[0], d[1])):
        table.add_row("dropped", f"{n:>7,}  {label}")
    table.add_row(
        "requests",
        f"{req['total']:>7,}  ({req['sent']:,} sent now, {req['from_cache']:,} from cache)",
    )
    for name, stage in stats.get("stages", {}).items():
        f = stage["funnel"]
        table.add_row(f"  {name}", f"{f['kept']:>7,}  of {f['generated']:,} judged in this stage")
    unused = stats["session"]["answered_unused"]
    if unused:
        table.add_row("", f"{unused:>7,}  more answered after the target: cached for a resume")
    lost = _lost_row(stats["session"])
    if lost is not None:
        table.add_row(*lost)
    table.add_row("tokens", f"{tok['prompt']:,} prompt + {tok['completion']:,} completion")
    cost = stats.get("cost")
    if cost:
        cap = f", cap ${cost['max_cost']:,.4f}" if cost["max_cost"] else ""
        table.add_row(
            "spend",
            f"${cost['usd']:,.4f} (${cost['usd_this_session']:,.4f} this session{cap}; "
            f"{cost['price']['source']})",
        )
    table.add_row("time", f"{stats['session']['wall_seconds']:.1f} s this session")
    out = config.out
    names = [
        KEPT,
        ALPACA,
        REMOVED,
        STATS,
        CARD,
        *_method_files(config),
        *(
            ["report.html"]
            if stats.get("stopped") in ("target", "max_requests", "done", "budget", "stalled")
            else []
        ),
    ]
    table.add_row("files", ", ".join(f"{out}/{n}" for n in names))
    console.print(table)
