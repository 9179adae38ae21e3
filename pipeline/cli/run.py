"""`instructgen run <method>`: one command per method, its own options plus the shared groups
(pipeline/cli_options.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.backends.budget import BudgetReached
from pipeline.cli.options import (
    FieldMap,
    Out,
    Seed,
    build_command,
    command_params,
    model_options,
    request_options,
    runtime_options,
    stop_options,
)
from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.export import check_exports, export

run_app = typer.Typer(help="Run a generation method.", rich_markup_mode=None)

CLI_ONLY = ("no_prefect", "quiet", "export")  # steer the command, never the run


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
    return RunConfig(method=method, **options)


def _run(method: str, options: dict[str, Any]) -> None:
    """Build the config from a command's options and run it with the progress display."""
    no_prefect, quiet, exports = options["no_prefect"], options["quiet"], options["export"]
    config = config_from_options(method, options)
    check_exports(exports)  # a typo is reported now, not after the run
    from pipeline.cli import display

    stats = display.run_with_display(config, use_prefect=not no_prefect, quiet=quiet)
    for path, count in export(Path(config.out), exports) if exports else []:
        print(f"wrote {count} examples to {path}")
    if stats.get("stopped") == "budget":
        raise BudgetReached(config.max_cost or 0.0, stats["cost"]["usd"])
    if stats.get("stopped") not in ("target", "max_requests", "done"):
        raise typer.Exit(1)


def self_instruct_options(
    out: Out = Path("data/self-instruct"),
    target: Annotated[int, typer.Option(help="Stop when this many examples are kept.")] = 100,
    seed: Seed = 0,
    seeds: Annotated[
        str | None,
        typer.Option(help="Seed tasks: a file or folder in any readable format, or a run dir."),
    ] = None,
    seeds_format: Annotated[
        str | None,
        typer.Option(help="Format of --seeds (default: detected), e.g. superni, sharegpt."),
    ] = None,
    seeds_map: FieldMap = None,
    num_prompt_instructions: int = 3,
    num_tasks: int = 20,
    rouge_threshold: float = 0.7,
) -> None:
    """Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per prompt."""


def unnatural_options(
    out: Out = Path("data/unnatural"),
    target: Annotated[int, typer.Option(help="Stop when this many core examples are kept.")] = 100,
    paraphrases: Annotated[
        int, typer.Option(help="Alternative formulations asked per core example (0: none).")
    ] = 3,
    demos: Annotated[
        str | None,
        typer.Option(help="Demonstrations: JSONL of set, instruction, input, constraints."),
    ] = None,
    seed: Seed = 0,
    output_max_tokens: Annotated[int, typer.Option(help="max_tokens of an output.")] = 1024,
    rouge_threshold: Annotated[
        float, typer.Option(help="ROUGE-L gate on core examples; 1 turns it off.")
    ] = 0.7,
) -> None:
    """Unnatural Instructions: core examples from 3 demonstrations, outputs, reformulations."""


def evol_instruct_options(
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Instructions to evolve: a file or folder in any readable format, or a run "
            "directory.",
        ),
    ] = None,
    from_format: Annotated[
        str | None, typer.Option(help="Format of --from (default: detected).")
    ] = None,
    from_map: FieldMap = None,
    out: Out = Path("data/evol-instruct"),
    rounds: Annotated[int, typer.Option(help="Rounds of evolution.")] = 3,
    limit: Annotated[int | None, typer.Option(help="Evolve only the first N.")] = None,
    sample: Annotated[int | None, typer.Option(help="Evolve a seeded sample of N.")] = None,
    operations: Annotated[
        str,
        typer.Option(help="Weights, e.g. add_constraints=2,breadth=1 (default: all six equal)."),
    ] = "",
    equality_check: Annotated[
        bool, typer.Option(help="Ask the model whether an evolution gained anything.")
    ] = True,
    answer_model: Annotated[
        str | None, typer.Option(help="Model for the answers (default: --model).")
    ] = None,
    answer_max_tokens: int = 2048,
    seed: Seed = 0,
) -> None:
    """Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with elimination."""


# Each method: its own options, then the shared groups it takes.
METHODS: dict[str, tuple[Callable[..., None], ...]] = {
    "self-instruct": (
        self_instruct_options,
        model_options,
        request_options,
        stop_options,
        runtime_options,
    ),
    "unnatural": (unnatural_options, model_options, request_options, stop_options, runtime_options),
    "evol-instruct": (evol_instruct_options, model_options, runtime_options),
}


def run_command(method: str) -> Callable[..., None]:
    """`run <method>`, typed by its options."""
    parts = METHODS[method]

    def body(options: dict[str, Any]) -> None:
        if "from_" in options:  # evol-instruct's --from is the config's source
            options["source"] = options.pop("from_")
        _run(method, options)

    name = f"run_{method.replace('-', '_')}"
    return build_command(name, command_params(*parts), body, parts[0].__doc__ or method)


run_self_instruct = run_app.command("self-instruct")(run_command("self-instruct"))
run_unnatural = run_app.command("unnatural")(run_command("unnatural"))
run_evol_instruct = run_app.command("evol-instruct")(run_command("evol-instruct"))
