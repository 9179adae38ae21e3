"""`instructgen run <method>`: one command per registered method, its own options plus the
shared groups (pipeline/cli/options.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from pipeline import methods
from pipeline.backends.budget import BudgetReached
from pipeline.cli import tracking
from pipeline.cli.options import build_command, method_params
from pipeline.config import RunConfig
from pipeline.errors import ConfigError, Stalled
from pipeline.export import check_exports, export
from pipeline.methods.spec import MethodSpec

run_app = typer.Typer(help="Run a generation method.", rich_markup_mode=None)

CLI_ONLY = ("prefect", "quiet", "export")  # steer the command, never the run


def _logit_bias(values: list[str]) -> dict[str, int]:
    bias = {}
    for v in values:
        token, sep, amount = v.partition(":")
        if not sep or not token.strip().isdigit():
            raise ConfigError(f"--logit-bias {v!r}: write TOKEN_ID:BIAS, e.g. 50256:-100")
        try:
            bias[token.strip()] = int(amount)
        except ValueError:
            raise ConfigError(f"--logit-bias {v!r}: BIAS must be a whole number") from None
    return bias


def config_from_options(method: str, options: dict[str, Any]) -> RunConfig:
    """The RunConfig a command's options describe (options that only steer the CLI removed)."""
    options = {k: v for k, v in options.items() if k not in CLI_ONLY}
    if options["model"] is None:
        if options["backend"] == "openai":
            raise ConfigError("--backend openai needs --model, e.g. --model gpt-4o-mini")
        options["model"] = "stub"
    options["out"] = str(options["out"])
    options["logit_bias"] = _logit_bias(options.get("logit_bias", []))
    return methods.make_config(method, **options)


def _run(method: str, options: dict[str, Any]) -> None:
    """Build the config from a command's options and run it with the progress display."""
    prefect, quiet, exports = options["prefect"], options["quiet"], options["export"]
    config = config_from_options(method, options)
    check_exports(exports)  # a typo is reported now, not after the run
    plan = tracking.plan(prefect)  # a configured server that does not answer: before any write
    from pipeline.cli import display

    stats = display.run_with_display(config, plan, quiet=quiet)
    for path, count in export(Path(config.out), exports) if exports else []:
        print(f"wrote {count} examples to {path}")
    if stats.get("stopped") == "budget":
        raise BudgetReached(config.max_cost or 0.0, stats["cost"]["usd"])
    if stats.get("stopped") == "stalled":
        stall = stats.get("stall") or {}
        raise Stalled(stall.get("stage", ""), stall.get("message", "nothing kept"))
    if stats.get("stopped") not in ("target", "max_requests", "done"):
        raise typer.Exit(1)


def run_command(spec: MethodSpec) -> Callable[..., None]:
    """`run <method>`, typed by its options."""
    name = f"run_{spec.name.replace('-', '_')}"
    return build_command(name, method_params(spec), lambda o: _run(spec.name, o), spec.summary)


for _spec in methods.specs():
    run_app.command(_spec.name)(run_command(_spec))
