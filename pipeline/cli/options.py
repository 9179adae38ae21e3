"""The options every `run`, `estimate` and `schedule` command shares, declared once, and a
method's own options read from its options dataclass (pipeline/options.py).

Each shared group is a function whose signature is the group's options (typer reads it); a
method's command is its run options (--out, --target, --seed), its own options and the groups
its MethodSpec names (`method_params`, `build_command`)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING
from pathlib import Path
from typing import Annotated, Any

import typer

Out = Annotated[Path, typer.Option(help="Run directory; re-run the same command to resume.")]
Seed = Annotated[
    int, typer.Option(help="Random seed of every sampled choice: the same seed, the same requests.")
]
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
Patience = Annotated[
    int | None,
    typer.Option(
        help="Stop a stage as stalled after this many answers in a row that keep nothing "
        "(default: 50, or as many as hold about 300 candidates at the method's expected rate, "
        "whichever is more); 0 never stops."
    ),
]
CheckpointSeconds = Annotated[
    float,
    typer.Option(
        help="Seconds between writes of the outputs and the checkpoint a re-run goes on from."
    ),
]
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
Batch = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="Send each stage's requests as the provider's Batch API jobs (OpenAI's wire format): "
        "answers within 24 h at the batch price (50% of online for OpenAI).",
    ),
]
PollSeconds = Annotated[
    float, typer.Option(help="With --batch: the longest wait between two looks at a batch.")
]
BatchFallback = Annotated[
    str,
    typer.Option(
        help="With --batch: where a request goes whose batch line failed or expired: none (the "
        "next wave) or online."
    ),
]
Prefect = Annotated[
    bool | None,
    typer.Option(
        "--prefect/--no-prefect",
        help="Run as a Prefect flow, on Prefect's temporary server if no server is configured "
        "/ run the library alone [default: a flow when a server is configured "
        "(PREFECT_API_URL, a Prefect profile, `instructgen server start`), else the library]",
        show_default=False,
    ),
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
ScoreWith = Annotated[
    str | None,
    typer.Option(
        help="After the method's stages, a judge model (same --backend and --base-url) scores "
        "every kept example on --rubric; the score and reason go into its meta."
    ),
]
Rubric = Annotated[
    str,
    typer.Option(
        "--rubric",
        help="quality: how well the output answers the instruction (1-5); complexity: how "
        "demanding the instruction is (1-5).",
    ),
]
MinScore = Annotated[
    float | None,
    typer.Option(
        help="Remove examples scored below this (removed.jsonl: quality/below_min_score); a "
        "re-run with another value sends nothing."
    ),
]
StubRate = Annotated[
    float, typer.Option(help="With --backend stub: share of answers given this fault (tests).")
]


def model_options(
    backend: BackendName = "stub",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: KeyEnv = "OPENAI_API_KEY",
    api: Api = "chat",
    temperature: Temperature = None,
    top_p: TopP = None,
    max_tokens: MaxTokens = None,
) -> None:
    """The model and how it is asked: every method."""


def request_options(
    logit_bias: LogitBias = [],  # noqa: B006
    prompts_per_request: PerRequest = None,
) -> None:
    """Alpaca's request options: the methods that generate many tasks per request."""


def stop_options(max_requests: MaxRequests = None, judge: JudgeWhere = "process") -> None:
    """Where a generate-until-target run stops, and where its judge runs."""


def score_options(
    score_with: ScoreWith = None, score_rubric: Rubric = "quality", min_score: MinScore = None
) -> None:
    """An LLM judge over what the run keeps (pipeline/score/): every method."""


def runtime_options(
    concurrency: Concurrency = 8,
    patience: Patience = None,
    checkpoint_seconds: CheckpointSeconds = 30.0,
    max_attempts: Attempts = 6,
    timeout: Timeout = 120.0,
    rpm: Rpm = None,
    tpm: Tpm = None,
    store: Store = False,
    batch: Batch = False,
    poll_seconds: PollSeconds = 30.0,
    batch_fallback: BatchFallback = "none",
    stub_malformed_rate: StubRate = 0.0,
    stub_duplicate_rate: StubRate = 0.0,
    stub_truncated_rate: StubRate = 0.0,
    max_cost: MaxCost = None,
    price_in: PriceIn = None,
    price_out: PriceOut = None,
    prices_file: PricesFile = None,
    prefect: Prefect = None,
    quiet: Quiet = False,
    export: Export = [],  # noqa: B006
) -> None:
    """How fast, how far and at what cost: every method."""


GROUPS: dict[str, Callable[..., None]] = {
    "model": model_options,
    "request": request_options,
    "stop": stop_options,
    "score": score_options,
    "runtime": runtime_options,
}


def own_params(options: type) -> list[inspect.Parameter]:
    """A method's own options (a MethodOptions dataclass) as command parameters, with their
    help and flags."""
    hints = typing.get_type_hints(options)
    params = []
    for f in options.specs():
        flags = [f.metadata["flag"]] if f.metadata.get("flag") else []
        annotation = Annotated[hints[f.name], typer.Option(*flags, help=f.metadata["help"])]
        default = f.default if f.default is not MISSING else inspect.Parameter.empty
        params.append(
            inspect.Parameter(
                f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    return params


def run_params(spec: Any) -> list[inspect.Parameter]:
    """--out, --target (for a method with a target) and --seed, with the method's defaults."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("out", keyword, default=Path(spec.out), annotation=Out)]
    if spec.target is not None:
        target = Annotated[int, typer.Option(help=spec.target)]
        params.append(inspect.Parameter("target", keyword, default=100, annotation=target))
    params.append(inspect.Parameter("seed", keyword, default=0, annotation=Seed))
    return params


def method_params(spec: Any, drop: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """Every option of `instructgen run <method>`, in order."""
    groups = [GROUPS[name] for name in spec.option_groups]
    params = [*run_params(spec), *own_params(spec.options), *command_params(*groups)]
    return [p for p in params if p.name not in drop]


def command_params(
    *parts: Callable[..., Any], drop: tuple[str, ...] = ()
) -> list[inspect.Parameter]:
    """The options of `parts`, in order, as keyword-only parameters with resolved annotations."""
    params = []
    for part in parts:
        hints = typing.get_type_hints(part, include_extras=True)
        params += [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
            for p in inspect.signature(part).parameters.values()
            if p.name not in drop
        ]
    return params


def build_command(
    name: str, params: list[inspect.Parameter], body: Callable[[dict[str, Any]], None], doc: str
) -> Callable[..., None]:
    """A function typer reads as a command with `params`; it calls `body` with the options."""

    def command(**options: Any) -> None:
        body(options)

    command.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = name
    command.__doc__ = doc
    return command
