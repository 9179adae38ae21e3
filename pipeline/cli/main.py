"""The `instructgen` command. Catches InstructgenError only: anything else is a bug."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from pipeline import methods
from pipeline.cli.batches import batches_command
from pipeline.cli.data import export_command, template_command
from pipeline.cli.dedup import dedup_command
from pipeline.cli.display import INTERRUPTED
from pipeline.cli.estimate import estimate_app
from pipeline.cli.report import report_command
from pipeline.cli.run import run_app
from pipeline.cli.schedule import merge, schedule_app, serve
from pipeline.cli.score import score_command
from pipeline.cli.server import server_app
from pipeline.errors import InstructgenError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Generate instruction-tuning data with LLMs: " + ", ".join(methods.names()) + ".",
)
app.add_typer(run_app, name="run")
app.command("template")(template_command)
app.command("export")(export_command)
app.command("dedup")(dedup_command)
app.command("score")(score_command())
app.command("report")(report_command)
app.command("batches")(batches_command)
app.add_typer(schedule_app, name="schedule")
app.command("serve")(serve)
app.command("merge")(merge)
app.add_typer(estimate_app, name="estimate")
app.add_typer(server_app, name="server")


@app.command("stub-server")
def stub_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
    latency_ms: Annotated[float, typer.Option(help="Delay per request, in milliseconds.")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 500/503.")] = 0.0,
    rate_limit_rate: Annotated[
        float, typer.Option(help="Share answered 429 with Retry-After.")
    ] = 0.0,
    retry_after: Annotated[
        float, typer.Option(help="Seconds the random 429s ask the client to wait.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the stub's answers and random faults.")] = 0,
    malformed_rate: Annotated[
        float, typer.Option(help="Share of answers off the prompt's format.")
    ] = 0.0,
    duplicate_rate: Annotated[
        float, typer.Option(help="Share of answers repeating a task or the prompt.")
    ] = 0.0,
    truncated_rate: Annotated[
        float, typer.Option(help="Share of answers cut off (finish_reason length).")
    ] = 0.0,
    faults: Annotated[
        str, typer.Option(help='Scripted faults for the next requests, e.g. "503*3,reset,hang".')
    ] = "",
    rpm: Annotated[
        float | None, typer.Option(help="Enforce requests per minute (429 + Retry-After).")
    ] = None,
    tpm: Annotated[
        float | None, typer.Option(help="Enforce tokens per minute (prompt + max_tokens).")
    ] = None,
    limit_window: Annotated[
        float, typer.Option(help="Seconds' worth of the per-minute limits allowed at once.")
    ] = 60.0,
    rate_limit_seconds: Annotated[
        float, typer.Option(help="Answer every request 429 for this long after the first.")
    ] = 0.0,
    api_key: Annotated[
        str | None, typer.Option(help="Answer 401 unless this bearer token is sent.")
    ] = None,
    strict_model: Annotated[
        bool, typer.Option(help="Answer 404 for any model other than stub.")
    ] = False,
    reasoning: Annotated[
        bool,
        typer.Option(
            help="Refuse chat requests as OpenAI's reasoning models do: max_tokens, stop, "
            "sampling other than 1."
        ),
    ] = False,
    ignore_slot: Annotated[
        bool,
        typer.Option(
            help="Answer by the request body alone (the slot header ignored), the same online "
            "and in a batch line."
        ),
    ] = False,
    batches: Annotated[
        bool,
        typer.Option(
            help="Serve OpenAI's Files and Batch APIs; --no-batches answers 404 there, as vLLM, "
            "Ollama and llama.cpp do."
        ),
    ] = True,
    batch_seconds: Annotated[
        float,
        typer.Option(help="Seconds a batch takes to process (0: done at the first poll)."),
    ] = 0.0,
    batch_error_rate: Annotated[
        float, typer.Option(help="Share of batch lines answered 500, in the error file.")
    ] = 0.0,
    batch_expire_after: Annotated[
        float | None,
        typer.Option(
            help="Expire unfinished batches this many seconds after creation (default 24h): "
            "lines not run get batch_expired."
        ),
    ] = None,
    batch_validation_failures: Annotated[
        int,
        typer.Option(help="Fail validation of the next N batches (enqueued token limit)."),
    ] = 0,
) -> None:
    """Serve the stub model as an OpenAI-compatible HTTP server on 127.0.0.1."""
    options = dict(locals())
    from pipeline.stub.server import run_server

    run_server(host="127.0.0.1", **options)


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
