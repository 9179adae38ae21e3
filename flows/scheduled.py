"""The flow that deployments run: resolve the run's paths and target, then run the method's
own flow (flows/method.py) as a subflow, so a scheduled run is the same flow, tasks and
files as `instructgen run`.

Paths may hold template fields, filled when the flow run starts from its scheduled time in the
schedule's time zone: `data/nightly/{date}` is a new run directory per day; a fixed path is
one run directory that each run continues (resume makes a finished one cost nothing), and
`grow` raises its target by that much each time the last target was reached."""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import flow
from prefect.runtime import deployment, flow_run

from flows.common import DEFAULT_BATCH
from flows.method import flow_for
from pipeline import methods
from pipeline.errors import ConfigError
from pipeline.store import RUN_FILE, STATS

TEMPLATE_FIELDS = ("date", "yesterday", "time", "name", "shard")
FLOW_NAME = "instructgen"


def template_fields(text: str, flag: str = "path") -> list[str]:
    """The fields a path names, e.g. ['date'] for 'data/nightly/{date}'."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        raise ConfigError(
            f"{flag} {text!r}: {e}; write fields as {{date}}, braces as {{{{ and }}}}"
        ) from None
    fields = [name for _, name, _, _ in parsed if name is not None]
    for name in fields:
        if name not in TEMPLATE_FIELDS:
            raise ConfigError(
                f"{flag} {text!r}: unknown template field {{{name}}}; use "
                + ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
            )
    return fields


def path_fields(config: dict[str, Any]) -> dict[str, str]:
    """The settings that name files or folders (the ones a template may vary), by flag."""
    options = methods.get(config.get("method") or methods.default()).options
    return {"out": "--out", **{name: options.flag(name) for name in options.paths()}}


def is_template(config: dict[str, Any]) -> bool:
    """Whether any path of the config varies from run to run."""
    paths = path_fields(config).items()
    return any(template_fields(str(config[f]), flag) for f, flag in paths if config.get(f))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--timezone {name!r}: not an IANA zone, e.g. Europe/Berlin") from None


def template_values(when: dt.datetime, timezone: str, name: str, shard: int) -> dict[str, str]:
    """What the fields stand for: the scheduled start in the schedule's time zone."""
    local = when.astimezone(zone(timezone))
    return {
        "date": local.date().isoformat(),
        "yesterday": (local.date() - dt.timedelta(days=1)).isoformat(),
        "time": local.strftime("%H%M%S"),
        "name": name,
        "shard": str(shard),
    }


def render(config: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The config with every path's template fields filled in."""
    rendered = dict(config)
    for key, flag in path_fields(config).items():
        if config.get(key):
            template_fields(str(config[key]), flag)  # refuses unknown fields
            rendered[key] = str(config[key]).format_map(values)
    return rendered


def grown_target(config: dict[str, Any], grow: int) -> int:
    """The last run's target plus `grow` once that target was reached; else the same target
    again (the unfinished top-up is resumed first). The first run uses the config's."""
    out = Path(config["out"])
    try:
        previous = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))["config"]["target"]
        stopped = json.loads((out / STATS).read_text(encoding="utf-8")).get("stopped")
    except (OSError, ValueError, KeyError, TypeError):
        return config["target"]
    step = grow if stopped in ("target", "done") else 0
    return max(config["target"], previous + step)


def resolve(
    config: dict[str, Any], when: dt.datetime, timezone: str, name: str, shard: int, grow: int
) -> dict[str, Any]:
    """What one run of a deployment works on: paths filled in, shard seed, grown target."""
    resolved = render(config, template_values(when, timezone, name, shard))
    # Shards of one run differ in their random seed: disjoint demonstration samples, merged
    # by `instructgen merge` with one ROUGE pass.
    resolved["seed"] = config.get("seed", 0) + shard
    if grow:
        resolved["target"] = grown_target(resolved, grow)
    return resolved


@flow(name=FLOW_NAME, log_prints=True)
async def scheduled_run(
    method: str,
    config: dict[str, Any],
    batch: int = DEFAULT_BATCH,
    timezone: str = "UTC",
    grow: int = 0,
    shard: int = 0,
    rate_limit: str | None = None,
) -> dict[str, Any]:
    """Run `method` on `config` with its template fields resolved for this flow run."""
    name = deployment.name or FLOW_NAME
    config = {**config, "method": method}
    resolved = resolve(config, flow_run.scheduled_start_time, timezone, name, shard, grow)
    print(f"{method}: run directory {resolved['out']}, target {resolved['target']}")
    method_flow = flow_for(method)
    if not rate_limit:
        return await method_flow(method, resolved, batch)
    from flows.limits import prefect_acquire
    from pipeline.backends.shared_limit import shared_limit

    with shared_limit(await prefect_acquire(rate_limit)):
        return await method_flow(method, resolved, batch)
