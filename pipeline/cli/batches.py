"""`instructgen batches DIR`: a batch run's waves with their batches' states and request counts,
as the provider reports them now (or as the run last saw them, with --offline); `--cancel`
cancels the batches still running (their answers so far are kept when the run goes on)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import ConfigError, InputError
from pipeline.store import CACHE_FILE, RUN_FILE


def batches_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made with --batch.")],
    cancel: Annotated[bool, typer.Option("--cancel", help="Cancel its running batches.")] = False,
    forget: Annotated[
        list[int],
        typer.Option(
            "--forget",
            help="A wave whose batch the provider no longer knows: its requests go into a new "
            "wave on the next run (repeatable).",
        ),
    ] = [],  # noqa: B006
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Show what the run last saw; ask the provider nothing."),
    ] = False,
) -> None:
    """List (or cancel) the batches of a --batch run."""
    from pipeline.backends.batch.store import BatchStore

    config = _run_config(run_dir)
    store = BatchStore(run_dir / CACHE_FILE)
    try:
        waves = store.waves()
        if not waves:
            print(f"{run_dir}: no batches (a run without --batch, or none sent yet)")
            return
        _forget(store, waves, forget)
        if not offline:
            asyncio.run(_refresh(config, store, waves, cancel))
        _print(waves)
    finally:
        store.close()


def _forget(store: Any, waves: list, numbers: list[int]) -> None:
    from pipeline.backends.batch.store import NOT_SENT

    known = {w.wave: w for w in waves}
    for n in numbers:
        if n not in known:
            raise ConfigError(
                f"--forget {n}: no such wave; the waves are {', '.join(map(str, known))}"
            )
        store.set(known[n], status=NOT_SENT)


def _run_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_FILE
    if not (run_dir / CACHE_FILE).is_file() or not path.is_file():
        raise InputError(run_dir, None, "is not a run directory", "pass the --out of a run")
    return json.loads(path.read_text(encoding="utf-8"))["config"]


async def _refresh(config: dict, store: Any, waves: list, cancel: bool) -> None:
    from pipeline.backends.batch.api import BatchAPI
    from pipeline.backends.openai.backend import OpenAIBackend

    if config.get("backend") != "openai":
        raise ConfigError("this run did not use --backend openai: it has no provider batches")
    online = OpenAIBackend(
        config["model"], config.get("base_url"), config.get("api_key_env") or "OPENAI_API_KEY"
    )
    api = BatchAPI(online)
    try:
        for wave in waves:
            if not wave.batch_id or not wave.open:
                continue
            batch = await api.retrieve(wave.batch_id)
            if cancel and batch["status"] in ("validating", "in_progress", "finalizing"):
                batch = await api.cancel(wave.batch_id)
            if wave.open:  # a finished wave keeps its own record
                store.set(wave, status=batch["status"], counts=batch.get("request_counts") or {})
    finally:
        await online.aclose()


def _print(waves: list) -> None:
    table = Table("wave", "batch", "status", "requests", "completed", "failed", "created")
    for w in waves:
        c = w.counts or {}
        table.add_row(
            str(w.wave), w.batch_id or "-", w.status, str(c.get("total") or len(w.keys)),
            str(c.get("completed", "-")), str(c.get("failed", "-")),
            _when(w.created),
        )  # fmt: skip
    Console().print(table)


def _when(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))
