"""`instructgen schedule <method>|list|pause|resume|delete|run`, `serve` and `merge`: runs on
a schedule, on a Prefect server, and shards merged after a scale-out.

Each `schedule <method>` command takes every flag of `run <method>` (built from that command's
signature, so the two never drift apart) plus when to run. Prefect is imported only inside the
commands: the library stays Prefect-free."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer

from pipeline import methods
from pipeline.cli import tracking
from pipeline.cli.options import Prefect, build_command, method_params
from pipeline.cli.run import config_from_options
from pipeline.engine.session import TASK_ANSWERS
from pipeline.errors import ConfigError
from pipeline.methods.spec import MethodSpec

schedule_app = typer.Typer(
    help="Run a method on a schedule (needs a persistent Prefect server: `instructgen server "
    "start`, or PREFECT_API_URL).",
    rich_markup_mode=None,
    no_args_is_help=True,
)

Name = Annotated[str, typer.Option(help="Schedule name (the deployment instructgen/NAME).")]
Cron = Annotated[str | None, typer.Option(help='Cron expression, e.g. "0 2 * * *".')]
Timezone = Annotated[str | None, typer.Option(help="IANA time zone of --cron and {date} [UTC].")]
Interval = Annotated[float | None, typer.Option(help="Run every this many seconds.")]
Grow = Annotated[
    int, typer.Option(help="With a fixed --out: each run raises --target by this once reached.")
]
SharedLimit = Annotated[
    str | None,
    typer.Option(
        help="Prefect rate limit shared by every run naming it [with --shared-rpm: derived]."
    ),
]
SharedRpm = Annotated[
    int | None, typer.Option(help="Create or set the shared limit to this many requests/minute.")
]
TaskAnswers = Annotated[
    int, typer.Option(help="Answers per Prefect task (was --batch before batch mode took it).")
]
WorkPool = Annotated[
    str | None, typer.Option(help="Run on this work pool's workers, not `instructgen serve`.")
]

# (name, annotation, default) of the options a schedule adds to the run command's.
OPTIONS: list[tuple[str, Any, Any]] = [
    ("name", Name, inspect.Parameter.empty),
    ("cron", Cron, None),
    ("timezone", Timezone, None),
    ("interval", Interval, None),
    ("grow", Grow, 0),
    ("shared_limit", SharedLimit, None),
    ("shared_rpm", SharedRpm, None),
    ("task_answers", TaskAnswers, TASK_ANSWERS),
    ("work_pool", WorkPool, None),
]
RUN_ONLY = ("prefect", "quiet")  # steer one interactive run; meaningless on a schedule
T = TypeVar("T")
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def schedule_command(spec: MethodSpec) -> Callable[..., None]:
    """A command taking the run command's options (but --no-prefect, --quiet) plus OPTIONS."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    method = spec.name
    params = [inspect.Parameter(n, keyword, annotation=a, default=d) for n, a, d in OPTIONS]
    params += method_params(spec, drop=RUN_ONLY)
    doc = (
        f"Schedule `run {method}`: create or update.\n\nEvery flag of `instructgen run "
        f"{method}`, plus when. Paths may hold {{date}}, {{yesterday}}, {{time}}, {{name}}, "
        "{shard}: filled in when a run starts."
    )
    name = f"schedule_{method.replace('-', '_')}"
    return build_command(name, params, lambda options: _schedule(method, options), doc)


for _spec in methods.specs():
    schedule_app.command(_spec.name)(schedule_command(_spec))


def _check_schedule(when: dict[str, Any], config: dict[str, Any]) -> None:
    if not NAME_RULE.fullmatch(when["name"]):
        raise ConfigError(
            f"--name {when['name']!r}: use letters, digits, '.', '_' and '-', e.g. nightly-si"
        )
    if when["cron"] is not None and when["interval"] is not None:
        raise ConfigError("give --cron or --interval, not both")
    if when["interval"] is not None and when["interval"] <= 0:
        raise ConfigError(f"--interval must be positive seconds, got {when['interval']:g}")
    if when["task_answers"] < 1:
        raise ConfigError(f"--task-answers must be at least 1, got {when['task_answers']}")
    if when["grow"] < 0:
        raise ConfigError(f"--grow must not be negative, got {when['grow']}")
    parts = urlsplit(config.get("base_url") or "")
    if parts.username or parts.password:
        raise ConfigError(
            "--base-url holds credentials, which the Prefect server would store; "
            "put the key in an environment variable named by --api-key-env"
        )


def _paths(spec: MethodSpec) -> tuple[str, ...]:
    return ("out", "prices_file", *spec.options.paths())


def _absolute_paths(spec: MethodSpec, config: dict[str, Any]) -> dict[str, Any]:
    """Runs start in another process and folder (serve, a worker): paths are made absolute."""
    paths = _paths(spec)
    return {
        k: str(Path(v).expanduser().absolute()) if k in paths and v else v
        for k, v in config.items()
    }


def _check_paths(spec: MethodSpec, config: dict[str, Any], grow: int) -> None:
    from flows.scheduled import is_template, template_fields

    templated = is_template(config)
    if grow and (templated or spec.target is None):
        with_target = ", ".join(s.name for s in methods.specs() if s.target is not None)
        raise ConfigError(
            "--grow continues one run directory to a higher --target: it needs a fixed --out "
            f"and a method with a target ({with_target})"
        )
    for key in ("prices_file", *spec.options.paths(existing=True)):
        value = config.get(key)
        flag = spec.options.flag(key) if key != "prices_file" else "--prices-file"
        if value and not template_fields(value, flag) and not Path(value).exists():
            raise ConfigError(f"{flag} {value}: no such file or folder; pass an existing one")


def _schedule(method: str, options: dict[str, Any]) -> None:
    spec = methods.get(method)
    when = {name: options.pop(name) for name, _, _ in OPTIONS}
    config = _absolute_paths(spec, config_from_options(method, options).to_dict())
    _check_schedule(when, config)
    _check_paths(spec, config, when["grow"])

    from flows import deploy
    from flows.limits import check_rate_limit, default_limit_name, set_rate_limit

    rate_limit = when["shared_limit"]
    if when["shared_rpm"] is not None:
        rate_limit = rate_limit or default_limit_name(config["backend"], config["model"])
    kept = ("name", "cron", "interval", "timezone", "grow", "work_pool")
    schedule = deploy.ScheduleSpec(
        method=method,
        config=config,
        rate_limit=rate_limit,
        batch=when["task_answers"],
        **{k: when[k] for k in kept},
    )
    schedule.schedules()  # a bad cron or time zone fails before the server is asked anything

    async def create() -> Any:
        with deploy.reaching_server():
            if when["shared_rpm"] is not None:
                await set_rate_limit(rate_limit, when["shared_rpm"])
            elif rate_limit:
                await check_rate_limit(rate_limit)
        await deploy.apply(schedule)
        return await deploy.read(schedule.name)

    row = deploy.describe(_on_server(lambda _: create()))
    print(f"scheduled {row['name']}: {method}, {row['schedule']}, {row['state']}, out {row['out']}")
    print(_next_step(row))


def _on_server(work: Callable[[Any], Awaitable[T]]) -> T:
    """`work(deploy)` against the persistent server schedules live on (the temporary one has no
    scheduler): the one detected, or a one-line error before Prefect is imported."""
    with tracking.reporting_to(tracking.require_server("schedules")):
        from flows import deploy

        return asyncio.run(work(deploy))


def _next_step(row: dict[str, str]) -> str:
    name = row["name"]
    if row["state"] == "paused":
        return f"it stays paused: `instructgen schedule resume {name}` lets it fire"
    if row["schedule"] == "on demand":
        return f"no schedule: start runs with `instructgen schedule run {name}`"
    if row["runs on"].startswith("work pool"):
        pool = row["runs on"].removeprefix("work pool ")
        return f"runs when due on workers of the pool: `prefect worker start --pool {pool}`"
    return "runs when due while `instructgen serve` is running"


@schedule_app.command("list")
def schedule_list() -> None:
    """List our schedules: method, when, state, run directory, where they run."""
    found = _on_server(lambda deploy: deploy.list_all())
    from flows import deploy

    rows = [deploy.describe(d) for d in found]
    if not rows:
        first = methods.default()
        print(f"no schedules; make one: instructgen schedule {first} --name NAME --cron ...")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    for row in [{c: c.upper() for c in columns}, *rows]:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())


def _set_paused(name: str, paused: bool) -> None:
    _on_server(lambda deploy: deploy.set_paused(name, paused))
    print(f"{'paused' if paused else 'resumed'} {name}")


@schedule_app.command("pause")
def schedule_pause(name: Annotated[str, typer.Argument(help="Schedule name.")]) -> None:
    """Stop a schedule from firing; its run directory and settings stay."""
    _set_paused(name, True)


@schedule_app.command("resume")
def schedule_resume(name: Annotated[str, typer.Argument(help="Schedule name.")]) -> None:
    """Let a paused schedule fire again."""
    _set_paused(name, False)


@schedule_app.command("delete")
def schedule_delete(name: Annotated[str, typer.Argument(help="Schedule name.")]) -> None:
    """Delete a schedule (its run directories are kept)."""
    _on_server(lambda deploy: deploy.delete(name))
    print(f"deleted {name}")


@schedule_app.command("run")
def schedule_run(
    name: Annotated[str, typer.Argument(help="Schedule name.")],
    shards: Annotated[
        int, typer.Option(help="Start this many runs, shard 0..N-1 ({shard} in paths).")
    ] = 1,
) -> None:
    """Start a schedule's run now, or N shard runs of it at once."""
    if shards < 1:
        raise ConfigError(f"--shards must be at least 1, got {shards}")
    for run in _on_server(lambda deploy: deploy.start_now(name, shards)):
        print(f"started {run.name} ({run.id})")


def serve(
    refresh: Annotated[
        float, typer.Option(help="Seconds between looks for schedules made meanwhile.")
    ] = 30.0,
    limit: Annotated[int | None, typer.Option(help="Runs at once at most [no limit].")] = None,
) -> None:
    """Run our schedules' runs when they are due, until Ctrl-C (Prefect's serve)."""
    # Ctrl-C stops it, SIGTERM too (Prefect's runner stops gracefully). Runs in progress are
    # cancelled; their answers stay in their run directory's cache for the next run there.
    with contextlib.suppress(KeyboardInterrupt):
        _on_server(lambda deploy: deploy.serve(refresh, limit))
    print("stopped serving; schedules stay active: runs due meanwhile wait for the next serve")


def merge(
    runs: Annotated[list[Path], typer.Argument(help="Run directories (shards), in this order.")],
    out: Annotated[Path, typer.Option(help="Folder for the merged files.")],
    target: Annotated[int | None, typer.Option(help="Keep at most this many.")] = None,
    prefect: Prefect = None,
) -> None:
    """Merge shard runs with one ROUGE-L pass over their union, in a fixed order."""
    plan = tracking.plan(prefect)
    if plan.flow:
        args = ([str(r) for r in runs], str(out), target)
        stats, page = tracking.run_flow(plan, "flows.commands:merge_flow", *args)
    else:
        from pipeline.engine.merge import merge_runs

        stats, page = merge_runs(runs, out, target), None
    funnel = stats["funnel"]
    print(
        f"merged {len(runs)} runs: {funnel['kept']} kept of {funnel['generated']}, "
        f"{funnel['dropped_total']} dropped as too similar across shards; files in {out}"
    )
    tracking.report(plan, page)
