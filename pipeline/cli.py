"""The `instructgen` command. Catches InstructgenError only: anything else is a bug."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.config import RunConfig
from pipeline.display import INTERRUPTED
from pipeline.errors import ConfigError, InstructgenError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Generate instruction-tuning data with LLMs (Self-Instruct as used by Alpaca).",
)
run_app = typer.Typer(help="Run a generation method.", rich_markup_mode=None)
app.add_typer(run_app, name="run")


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


@run_app.command("self-instruct")
def run_self_instruct(
    out: Annotated[
        Path, typer.Option(help="Run directory; re-run the same command to resume.")
    ] = Path("data/self-instruct"),
    target: Annotated[int, typer.Option(help="Stop when this many examples are kept.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed for demonstration sampling.")] = 0,
    seeds: Annotated[
        str | None, typer.Option(help="Seed tasks: self-instruct JSONL or Alpaca JSON/JSONL.")
    ] = None,
    backend: Annotated[
        str, typer.Option(help="stub (offline) or openai (any compatible URL).")
    ] = "stub",
    model: Annotated[str | None, typer.Option(help="Model name, e.g. gpt-4o-mini.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1.")
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the API key.")
    ] = "OPENAI_API_KEY",
    api: Annotated[
        str, typer.Option(help="chat, or completions (the legacy API Alpaca used).")
    ] = "chat",
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_tokens: int = 3072,
    logit_bias: Annotated[
        list[str], typer.Option(help="TOKEN_ID:BIAS, repeatable (Alpaca: 50256:-100).")
    ] = [],  # noqa: B006
    prompts_per_request: Annotated[
        int | None, typer.Option(help="Prompts per call (default 5 on completions, 1 on chat).")
    ] = None,
    num_prompt_instructions: int = 3,
    num_tasks: int = 20,
    rouge_threshold: float = 0.7,
    min_words: int = 4,
    max_words: int = 150,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    max_attempts: Annotated[int, typer.Option(help="Attempts per request before giving up.")] = 6,
    timeout: Annotated[float, typer.Option(help="Seconds before one request times out.")] = 120.0,
    max_requests: Annotated[int | None, typer.Option(help="Stop after this many requests.")] = None,
    stub_malformed_rate: float = 0.0,
    stub_duplicate_rate: float = 0.0,
    stub_truncated_rate: float = 0.0,
    judge: Annotated[
        str, typer.Option(help="process: judge on a second core (default); inline: same process.")
    ] = "process",
    no_prefect: Annotated[
        bool, typer.Option("--no-prefect", help="Run without Prefect (faster start).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Self-Instruct as Stanford Alpaca ran it: 3 seed tasks in, up to 16 new tasks per prompt."""
    if model is None:
        if backend == "openai":
            raise ConfigError("--backend openai needs --model, e.g. --model gpt-4o-mini")
        model = "stub"
    config = RunConfig(
        out=str(out),
        target=target,
        seed=seed,
        seeds=seeds,
        backend=backend,
        model=model,
        base_url=base_url,
        api_key_env=api_key_env,
        api=api,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        logit_bias=_logit_bias(logit_bias),
        prompts_per_request=prompts_per_request,
        num_prompt_instructions=num_prompt_instructions,
        num_tasks=num_tasks,
        rouge_threshold=rouge_threshold,
        min_words=min_words,
        max_words=max_words,
        concurrency=concurrency,
        max_attempts=max_attempts,
        timeout=timeout,
        max_requests=max_requests,
        stub_malformed_rate=stub_malformed_rate,
        stub_duplicate_rate=stub_duplicate_rate,
        stub_truncated_rate=stub_truncated_rate,
        judge=judge,
    )
    from pipeline import display

    stats = display.run_with_display(config, use_prefect=not no_prefect, quiet=quiet)
    if stats.get("stopped") not in ("target", "max_requests"):
        raise typer.Exit(1)


@app.command("stub-server")
def stub_server(
    port: int = 8000,
    latency_ms: Annotated[float, typer.Option(help="Delay per request, in milliseconds.")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 500/503.")] = 0.0,
    rate_limit_rate: Annotated[
        float, typer.Option(help="Share answered 429 with Retry-After.")
    ] = 0.0,
    retry_after: float = 1.0,
    seed: int = 0,
    malformed_rate: float = 0.0,
    duplicate_rate: float = 0.0,
    truncated_rate: float = 0.0,
) -> None:
    """Serve the stub model as an OpenAI-compatible HTTP server on 127.0.0.1."""
    from pipeline.backends.stub_server import run_server

    run_server(
        host="127.0.0.1",
        port=port,
        latency_ms=latency_ms,
        error_rate=error_rate,
        rate_limit_rate=rate_limit_rate,
        retry_after=retry_after,
        seed=seed,
        malformed_rate=malformed_rate,
        duplicate_rate=duplicate_rate,
        truncated_rate=truncated_rate,
    )


def _fail(message: str, code: int) -> int:
    print(f"instructgen: error: {message}", file=sys.stderr)
    return code


# Recent typer vendors its own copy of click, older typer uses click itself: find the class
# through typer's public BadParameter instead of importing either.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def main(argv: list[str] | None = None) -> Any:
    """Entry point: every user error is one line on stderr and exit code 2."""
    try:
        # Without standalone mode typer returns exit codes instead of calling sys.exit, and
        # turns Ctrl-C into exit code 130.
        code = app(args=argv, standalone_mode=False)
    except _UsageError as e:
        if type(e).__name__ == "NoArgsIsHelpError" and e.ctx is not None:
            print(e.ctx.get_help())
            return 0
        where = e.ctx.command_path if e.ctx else "instructgen"
        return _fail(f"{e.format_message()}; see '{where} --help'", 2)
    except typer.Exit as e:
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _fail(
            "interrupted; every answer so far is kept: re-run the same command to resume", 130
        )
    except InstructgenError as e:
        return _fail(str(e), e.exit_code)
    if code == 130:
        return _fail(INTERRUPTED, 130)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
