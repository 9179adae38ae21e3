"""`instructgen estimate <method>`: the options of `run <method>`, plus --pilot and --json.

Each estimate command is built from its run command, so the two can never disagree on a flag:
the run command's parameters (with their real Annotated types: cli/run.py postpones its
annotations) minus the ones that only steer a run's display, plus this command's own."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli import tracking
from pipeline.cli.options import build_command, command_params
from pipeline.cli.run import config_from_options, run_app
from pipeline.cli.score import data_as_source, score_command, scoring_method

estimate_app = typer.Typer(
    help="Requests, tokens, cost and wall time of a run, before it starts.",
    rich_markup_mode=None,
)
Pilot = Annotated[
    int,
    typer.Option(
        min=0,
        help="First send N real requests of each stage through the run's cache (the run "
        "reuses them) and estimate from what they measure.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the estimate as one JSON object.")]
RUN_ONLY = ("quiet",)  # --prefect/--no-prefect stay: they steer the pilot


def _estimate_command(
    run_command: Callable[..., Any], method: str, prepare: Callable[[dict], dict] = dict
) -> Callable[..., None]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        *command_params(run_command, drop=RUN_ONLY),
        inspect.Parameter("pilot", keyword, default=0, annotation=Pilot),
        inspect.Parameter("json_output", keyword, default=False, annotation=AsJson),
    ]

    def body(options: dict[str, Any]) -> None:
        pilot, as_json = options.pop("pilot"), options.pop("json_output")
        config = config_from_options(method, prepare(options))
        # Only a pilot does work worth tracking: it sends real requests.
        plan = tracking.plan(options["prefect"]) if pilot else tracking.Plan(flow=False)
        if plan.flow:
            flow = "flows.commands:estimate_flow"
            result, page = tracking.run_flow(plan, flow, method, config.to_dict(), pilot)
        else:
            from pipeline.estimate.cost import estimate

            result, page = estimate(config, pilot=pilot), None
        if as_json:
            print(json.dumps(result, indent=2))
        else:
            show(result)
        tracking.report(plan, page, file=sys.stderr if as_json else None)

    name = f"estimate_{run_command.__name__.removeprefix('run_')}"
    return build_command(name, params, body, f"Estimate: {run_command.__doc__ or method}")


for _info in run_app.registered_commands:
    assert _info.name is not None and _info.callback is not None
    estimate_app.command(_info.name)(_estimate_command(_info.callback, _info.name))
# `estimate score DATA` prices `score DATA`, the same run as `estimate <scoring method> --from`.
estimate_app.command("score")(_estimate_command(score_command(), scoring_method(), data_as_source))


def _money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 10 else f"${usd:.4f}"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def show(result: dict[str, Any], console: Console | None = None) -> None:
    """The estimate as a short table and its one-line assumptions."""
    console = console or Console()
    price = result["cost"]["price"]
    unknown = "unknown" in price["source"] and price["input_per_1m"] == 0
    rows: list[tuple[str, dict[str, float], Callable[[float], str]]] = [
        ("requests", result["requests"], lambda v: f"{v:,.0f}"),
        ("prompt tokens", result["tokens"]["prompt"], lambda v: f"{v:,.0f}"),
        ("completion tokens", result["tokens"]["completion"], lambda v: f"{v:,.0f}"),
        ("cost (USD)", result["cost"]["usd"], (lambda v: "unknown") if unknown else _money),
        *(
            [("online cost (USD)", result["cost"]["online_usd"], _money)]
            if "online_usd" in result["cost"]
            else []
        ),
        ("wall time", result["wall_seconds"], _duration),
    ]
    table = Table(title=f"estimate: {result['method']} on {result['model']}", box=None)
    table.add_column("")
    for name in ("low", "expected", "high"):
        table.add_column(name, justify="right")
    from pipeline.estimate.stats import MAX_REQUESTS

    # A scenario whose keep rate falls to nothing before the target has no cost to show.
    reachable = {s: result["requests"][s] < MAX_REQUESTS for s in ("low", "expected", "high")}
    for label, values, fmt in rows:
        cells = (fmt(values[s]) if reachable[s] else "out of reach" for s in reachable)
        table.add_row(label, *cells)
    console.print(table)
    cached = result["in_cache"]
    if cached["requests"]:
        console.print(
            f"in the run's cache already: {cached['requests']:,} answers "
            f"({_money(cached['usd'])}), not paid again"
        )
    console.print(f"assumptions: {result['assumptions']}", soft_wrap=True)
