"""`instructgen run <method>`: one command per method, sharing the options every method has."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.budget import BudgetReached
from pipeline.config import RunConfig
from pipeline.errors import ConfigError
from pipeline.export import check_exports, export

run_app = typer.Typer(help="Run a generation method.", rich_markup_mode=None)

Out = Annotated[Path, typer.Option(help="Run directory; re-run the same command to resume.")]
Seed = Annotated[int, typer.Option(help="Random seed for demonstration sampling.")]
BackendName = Annotated[str, typer.Option(help="stub (offline) or openai (any compatible URL).")]
Model = Annotated[str | None, typer.Option(help="Model name, e.g. gpt-4o-mini.")]
BaseUrl = Annotated[
    str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1.")
]
KeyEnv = Annotated[str, typer.Option(help="Environment variable holding the API key.")]
Api = Annotated[str, typer.Option(help="chat, or completions (the legacy API Alpaca used).")]
Temperature = Annotated[float | None, typer.Option(help="Sampling temperature [method default].")]
TopP = Annotated[float | None, typer.Option(help="Nucleus sampling top_p [method default].")]
MaxTokens = Annotated[int | None, typer.Option(help="max_tokens per answer [method default].")]
LogitBias = Annotated[
    list[str], typer.Option(help="TOKEN_ID:BIAS, repeatable (Alpaca: 50256:-100).")
]
PerRequest = Annotated[
    int | None, typer.Option(help="Prompts per call (default 5 on completions, 1 on chat).")
]
Concurrency = Annotated[int, typer.Option(help="Requests in flight at once.")]
Attempts = Annotated[int, typer.Option(help="Attempts per request before giving up.")]
Timeout = Annotated[float, typer.Option(help="Seconds before one request times out.")]
MaxRequests = Annotated[
    int | None, typer.Option(help="Stop after this many requests (of the first stage).")
]
JudgeWhere = Annotated[
    str, typer.Option(help="process: judge on a second core (default); inline: same process.")
]
MaxCost = Annotated[
    float | None,
    typer.Option(help="Stop before the spend (USD) would pass this; re-run with more to go on."),
]
PriceIn = Annotated[float | None, typer.Option(help="USD per 1M prompt tokens (overrides).")]
PriceOut = Annotated[float | None, typer.Option(help="USD per 1M completion tokens (overrides).")]
PricesFile = Annotated[
    str | None, typer.Option(help='JSON prices: {"model": [in, out]} USD per 1M tokens.')
]
Rpm = Annotated[
    float | None,
    typer.Option(help="Requests per minute your account allows: requests are spaced under it."),
]
Tpm = Annotated[
    float | None,
    typer.Option(help="Tokens per minute your account allows (prompt + max_tokens, estimated)."),
]
Store = Annotated[
    bool,
    typer.Option(
        "--store",
        help="Ask the provider to store each answer (OpenAI's stored completions, chat API) "
        "so one paid for but lost to a crash is fetched on resume, not paid again.",
    ),
]
NoPrefect = Annotated[
    bool, typer.Option("--no-prefect", help="Run without Prefect (faster start).")
]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]
Export = Annotated[
    list[str],
    typer.Option(
        "--export",
        help="After the run, also write this format into --out, repeatable: alpaca, sharegpt, "
        "openai, superni, jsonl, parquet, dolly.",
    ),
]
FieldMap = Annotated[
    str | None,
    typer.Option("--map", help="Field mapping for plain JSONL, e.g. instruction=q,output=a."),
]
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
    from pipeline import display

    stats = display.run_with_display(config, use_prefect=not no_prefect, quiet=quiet)
    for path, count in export(Path(config.out), exports) if exports else []:
        print(f"wrote {count} examples to {path}")
    if stats.get("stopped") == "budget":
        raise BudgetReached(config.max_cost or 0.0, stats["cost"]["usd"])
    if stats.get("stopped") not in ("target", "max_requests", "done"):
        raise typer.Exit(1)


@run_app.command("self-instruct")
def run_self_instruct(
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
    backend: BackendName = "stub",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: KeyEnv = "OPENAI_API_KEY",
    api: Api = "chat",
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
    logit_bias: LogitBias = [],  # noqa: B006
    prompts_per_request: PerRequest = None,
    num_prompt_instructions: int = 3,
    num_tasks: int = 20,
    rouge_threshold: float = 0.7,
    min_words: int = 4,
    max_words: int = 150,
    concurrency: Concurrency = 8,
    max_attempts: Attempts = 6,
    timeout: Timeout = 120.0,
    rpm: Rpm = None,
    tpm: Tpm = None,
    store: Store = False,
    max_requests: MaxRequests = None,
    stub_malformed_rate: float = 0.0,
    stub_duplicate_rate: float = 0.0,
    stub_truncated_rate: float = 0.0,
    judge: JudgeWhere = "process",
    max_cost: MaxCost = None,
    price_in: PriceIn = None,
    price_out: PriceOut = None,
    prices_file: PricesFile = None,
    no_prefect: NoPrefect = False,
    quiet: Quiet = False,
    export: Export = [],  # noqa: B006
) -> None:
    """Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per prompt."""
    _run("self-instruct", dict(locals()))


@run_app.command("unnatural")
def run_unnatural(
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
    backend: BackendName = "stub",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: KeyEnv = "OPENAI_API_KEY",
    api: Api = "chat",
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
    output_max_tokens: Annotated[int, typer.Option(help="max_tokens of an output.")] = 1024,
    logit_bias: LogitBias = [],  # noqa: B006
    prompts_per_request: PerRequest = None,
    rouge_threshold: Annotated[
        float, typer.Option(help="ROUGE-L gate on core examples; 1 turns it off.")
    ] = 0.7,
    min_words: int = 4,
    max_words: int = 150,
    concurrency: Concurrency = 8,
    max_attempts: Attempts = 6,
    timeout: Timeout = 120.0,
    rpm: Rpm = None,
    tpm: Tpm = None,
    store: Store = False,
    max_requests: MaxRequests = None,
    stub_malformed_rate: float = 0.0,
    stub_duplicate_rate: float = 0.0,
    stub_truncated_rate: float = 0.0,
    judge: JudgeWhere = "process",
    max_cost: MaxCost = None,
    price_in: PriceIn = None,
    price_out: PriceOut = None,
    prices_file: PricesFile = None,
    no_prefect: NoPrefect = False,
    quiet: Quiet = False,
    export: Export = [],  # noqa: B006
) -> None:
    """Unnatural Instructions: core examples from 3 demonstrations, outputs, reformulations."""
    _run("unnatural", dict(locals()))


@run_app.command("evol-instruct")
def run_evol_instruct(
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
    backend: BackendName = "stub",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: KeyEnv = "OPENAI_API_KEY",
    api: Api = "chat",
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
    concurrency: Concurrency = 8,
    max_attempts: Attempts = 6,
    timeout: Timeout = 120.0,
    rpm: Rpm = None,
    tpm: Tpm = None,
    store: Store = False,
    stub_malformed_rate: float = 0.0,
    stub_duplicate_rate: float = 0.0,
    stub_truncated_rate: float = 0.0,
    max_cost: MaxCost = None,
    price_in: PriceIn = None,
    price_out: PriceOut = None,
    prices_file: PricesFile = None,
    no_prefect: NoPrefect = False,
    quiet: Quiet = False,
    export: Export = [],  # noqa: B006
) -> None:
    """Evol-Instruct (WizardLM): rounds of in-depth and in-breadth rewriting, with elimination."""
    options = dict(locals())
    options["source"] = options.pop("from_")
    _run("evol-instruct", options)
