"""Schedules on a real Prefect server started by the suite: the CLI writes deployments, Prefect's
client reads them back, `instructgen serve` and two process workers run them on the stub.

One server per session (10-25 s to start with a fresh database on 2 busy cores), one serve
process; tests marked `server` use them. Templates, targets and the commands' flags are tested
without a server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("prefect")

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.scheduled import grown_target, render, resolve, template_values
from pipeline import methods
from pipeline.cli.main import main
from pipeline.cli.run import run_app
from pipeline.cli.schedule import OPTIONS, RUN_ONLY, schedule_app
from tests.helpers import run
from tests.prefect_server import (
    child_runs,
    client_env,
    running_server,
    spawn,
    stop,
    wait_final,
    wait_idle,
)

QUICK = ["--judge", "inline", "--task-answers", "8"]  # no judge process: less to start per run


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One `prefect server start` for the session, with a temporary PREFECT_HOME."""
    with running_server(tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


@pytest.fixture
def api(prefect_server, monkeypatch):
    """In-process Prefect calls (the CLI, the client) talk to the session's server: the
    environment variable is what the CLI looks for, the setting what Prefect, imported, reads."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_server.url)
    with temporary_settings(updates={PREFECT_API_URL: prefect_server.url}):
        yield prefect_server


@pytest.fixture(scope="session")
def served(prefect_server, tmp_path_factory):
    """`instructgen serve` in its own process, picking up new schedules every second."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    args = [sys.executable, "-m", "pipeline.cli.main", "serve", "--refresh", "1"]
    process = spawn(args, client_env(prefect_server), log)
    yield log
    stop(process)


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def read_deployment(name: str):
    async with get_client() as client:
        return await client.read_deployment_by_name(f"instructgen/{name}")


def started_ids(out: str) -> list[str]:
    return re.findall(r"started \S+ \(([0-9a-f-]{36})\)", out)


# --- without a server --------------------------------------------------------------------

WHEN = dt.datetime(2026, 3, 1, 23, 30, 5, tzinfo=dt.UTC)
TEMPLATES = [
    ("data/nightly/{date}", "UTC", "data/nightly/2026-03-01"),
    ("data/nightly/{date}", "Asia/Tokyo", "data/nightly/2026-03-02"),
    ("data/evol/{yesterday}", "UTC", "data/evol/2026-02-28"),
    ("runs/{name}-{date}T{time}", "UTC", "runs/nightly-2026-03-01T233005"),
    ("big/shard-{shard}", "UTC", "big/shard-3"),
    ("fixed/dir", "UTC", "fixed/dir"),
    ("literal/{{braces}}", "UTC", "literal/{braces}"),
]


@pytest.mark.parametrize("template, timezone, expected", TEMPLATES)
def test_templates_resolve_from_the_scheduled_time(template, timezone, expected):
    values = template_values(WHEN, timezone, "nightly", 3)
    assert render({"out": template, "seeds": None}, values)["out"] == expected


def test_resolve_fills_every_path_and_offsets_the_seed_by_shard():
    config = {"method": "evol-instruct", "out": "o/{shard}", "source": "si/{yesterday}"}
    resolved = resolve({**config, "seed": 7, "target": 5}, WHEN, "UTC", "n", shard=2, grow=0)
    assert resolved == {**config, "out": "o/2", "source": "si/2026-02-28", "seed": 9, "target": 5}


def _run_dir(tmp_path, target: int | None, stopped: str | None) -> Path:
    out = tmp_path / "run"
    if target is not None:
        out.mkdir()
        (out / "run.json").write_text(json.dumps({"config": {"target": target}}))
        (out / "stats.json").write_text(json.dumps({"stopped": stopped}))
    return out


GROW = [
    ("first run: the config's target", None, None, 10, 10),
    ("last target reached: raised", 10, "target", 10, 15),
    ("last run interrupted: finish it first", 15, "interrupted", 10, 15),
    ("config raised past it: the config's", 10, "target", 40, 40),
]


@pytest.mark.parametrize("case, previous, stopped, configured, expected", GROW)
def test_grow_raises_the_target_once_reached(
    tmp_path, case, previous, stopped, configured, expected
):
    out = _run_dir(tmp_path, previous, stopped)
    assert grown_target({"out": str(out), "target": configured}, grow=5) == expected


@pytest.mark.parametrize("method", methods.names())
def test_schedule_commands_take_every_run_flag(method):
    command = next(c.callback for c in schedule_app.registered_commands if c.name == method)
    run_fn = next(c.callback for c in run_app.registered_commands if c.name == method)
    ours = set(inspect.signature(command).parameters)
    run = set(inspect.signature(run_fn).parameters) - set(RUN_ONLY)
    assert ours == run | {name for name, _, _ in OPTIONS}


BAD = [
    (["--cron", "0 2 * *"], "not a cron expression"),
    (["--cron", "0 2 * * *", "--timezone", "Mars/Base"], "not an IANA zone"),
    (["--cron", "0 2 * * *", "--interval", "60"], "not both"),
    (["--interval", "0"], "--interval must be positive"),
    (["--out", "data/{dat}"], "unknown template field {dat}"),
    (["--out", "data/{date"], "braces"),
    (["--grow", "5", "--out", "data/{date}"], "needs a fixed --out"),
    (["--target", "0"], "--target must be at least 1"),
    (["--seeds", "/nonexistent/seeds.jsonl"], "no such file"),
    (["--base-url", "http://user:pw@host/v1"], "holds credentials"),
]


@pytest.mark.parametrize("args, expected", BAD, ids=[b[1] for b in BAD])
def test_bad_schedule_is_one_line_and_exit_2(capsys, args, expected):
    code, _, err = cli(["schedule", "self-instruct", "--name", "n", *args], capsys)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["self-instruct"],
        # An Evol schedule's --from is often what an earlier scheduled run will write.
        ["evol-instruct", "--from", "/not/yet/written/si"],
    ],
)
def test_schedules_need_a_server(capsys, args):
    # test_flow.py's harness may have set an API URL for the session: clear it here.
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        code, _, err = cli(["schedule", *args, "--name", "n", "--cron", "0 2 * * *"], capsys)
    assert code == 2 and "persistent Prefect server" in err and "instructgen server start" in err
    assert "PREFECT_API_URL" in err and len(err.strip().splitlines()) == 1


# --- on the session's server --------------------------------------------------------------


@pytest.mark.server
def test_cron_schedule_reads_back_through_prefects_client(api, tmp_path, capsys):
    out = tmp_path / "nightly" / "{date}"
    args = ["--name", "si-nightly", "--cron", "0 2 * * *", "--timezone", "Europe/Berlin"]
    code, printed, err = cli(
        ["schedule", "self-instruct", *args, "--out", str(out), "--target", "500"], capsys
    )
    assert code == 0, err
    assert "cron '0 2 * * *' Europe/Berlin" in printed and "instructgen serve" in printed
    deployment = asyncio.run(read_deployment("si-nightly"))
    [schedule] = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Europe/Berlin")
    params = deployment.parameters
    assert params["method"] == "self-instruct" and params["timezone"] == "Europe/Berlin"
    assert params["config"]["out"] == str(out) and params["config"]["target"] == 500
    assert deployment.entrypoint == "flows.scheduled.scheduled_run"
    assert not deployment.paused and "instructgen" in deployment.tags


@pytest.mark.server
def test_pause_resume_delete_and_list(api, tmp_path, capsys):
    out = str(tmp_path / "u")
    code, _, err = cli(
        ["schedule", "unnatural", "--name", "u-hourly", "--interval", "3600", "--out", out], capsys
    )
    assert code == 0, err
    steps = [("pause", True), ("resume", False), ("pause", True)]
    for verb, paused in steps:
        assert cli(["schedule", verb, "u-hourly"], capsys)[0] == 0
        assert asyncio.run(read_deployment("u-hourly")).paused is paused
    # Updating a paused schedule keeps it paused, with the new settings.
    code, printed, _ = cli(
        ["schedule", "unnatural", "--name", "u-hourly", "--interval", "60", "--out", out], capsys
    )
    assert code == 0 and "stays paused" in printed
    updated = asyncio.run(read_deployment("u-hourly"))
    assert updated.paused and updated.schedules[0].schedule.interval == dt.timedelta(seconds=60)
    code, listed, _ = cli(["schedule", "list"], capsys)
    [row] = [line for line in listed.splitlines() if line.startswith("u-hourly")]
    assert "unnatural" in row and "every 60 s" in row and "paused" in row and out in row
    assert cli(["schedule", "delete", "u-hourly"], capsys)[0] == 0
    with pytest.raises(ObjectNotFound):
        asyncio.run(read_deployment("u-hourly"))
    code, _, err = cli(["schedule", "pause", "u-hourly"], capsys)
    assert code == 2 and "no schedule named 'u-hourly'" in err


@pytest.mark.server
def test_started_run_is_served_and_writes_its_outputs(api, served, tmp_path, capsys):
    out = tmp_path / "daily" / "{date}"
    args = ["--name", "si-daily", "--cron", "0 4 * * *", "--timezone", "Asia/Tokyo"]
    code, _, err = cli(
        ["schedule", "self-instruct", *args, "--out", str(out), "--target", "12", *QUICK], capsys
    )
    assert code == 0, err
    code, printed, err = cli(["schedule", "run", "si-daily"], capsys)
    assert code == 0, err
    [flow_run] = asyncio.run(wait_final(started_ids(printed)))
    assert flow_run.state.is_completed(), (flow_run.state, served.read_text()[-3000:])
    day = flow_run.expected_start_time.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
    folder = tmp_path / "daily" / day.isoformat()
    assert len((folder / "kept.jsonl").read_text().splitlines()) == 12
    assert json.loads((folder / "stats.json").read_text())["stopped"] == "target"
    # The method's own flow ran inside it, as `instructgen run` runs it: same tasks, same UI.
    [child] = asyncio.run(child_runs(flow_run.id))
    assert child.state.is_completed() and child.parameters["batch"] == 8


@pytest.mark.server
def test_interval_schedule_fires_and_grows_one_run_directory(api, served, tmp_path, capsys):
    out = tmp_path / "top-up"
    run(out, target=4, judge="inline")  # last week's run, which reached its target
    args = ["--name", "si-grow", "--interval", "2", "--grow", "4", "--target", "4"]
    code, _, err = cli(["schedule", "self-instruct", *args, "--out", str(out), *QUICK], capsys)
    assert code == 0, err
    deadline, target = time.monotonic() + 90, 0
    while time.monotonic() < deadline and target < 8:
        with contextlib.suppress(OSError, ValueError):
            stats = json.loads((out / "stats.json").read_text())
            if stats["stopped"] == "target":
                target = stats["target"]
        time.sleep(0.5)
    assert cli(["schedule", "pause", "si-grow"], capsys)[0] == 0
    assert target >= 8, served.read_text()[-3000:]
    asyncio.run(wait_idle("instructgen/si-grow"))  # a run may still be growing it
    stats = json.loads((out / "stats.json").read_text())
    kept = (out / "kept.jsonl").read_text().splitlines()
    assert stats["stopped"] == "target" and len(kept) == stats["target"] >= 8
    assert len({json.loads(k)["id"] for k in kept}) == len(kept)


@pytest.mark.server
def test_rate_limit_is_created_and_throttles_runs_together(api, tmp_path, capsys):
    from flows.limits import prefect_acquire

    args = [
        "--name",
        "si-limited",
        "--cron",
        "0 5 * * *",
        "--shared-rpm",
        "600",
        "--out",
        str(tmp_path),
    ]
    code, _, err = cli(["schedule", "self-instruct", *args], capsys)
    assert code == 0, err
    deployment = asyncio.run(read_deployment("si-limited"))
    name = deployment.parameters["rate_limit"]
    assert name == "instructgen-stub-stub"

    async def two_runs_take(n: int) -> float:
        acquire = [await prefect_acquire(name), await prefect_acquire(name)]
        started = time.monotonic()
        await asyncio.gather(*(acquire[i % 2](None) for i in range(n)))
        return time.monotonic() - started

    # 600/min: 10 slots at once, then 9.83 a second, shared by both "runs".
    assert asyncio.run(two_runs_take(20)) >= (20 - 10) / (590 / 60) * 0.9


@pytest.mark.server
def test_two_process_workers_run_two_shards_then_merge(api, tmp_path, capsys):
    from prefect.client.schemas.actions import WorkPoolCreate

    async def make_pool_and_wait_for(workers: int) -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name="shards", type="process"))
        logs = [tmp_path / f"worker{i}.log" for i in range(workers)]
        env = client_env(api, PREFECT_LOGGING_LEVEL="INFO")
        for i, log in enumerate(logs):
            args = ["worker", "start", "--pool", "shards", "--limit", "1", "--name", f"w{i}"]
            processes.append(spawn([sys.executable, "-m", "prefect", *args], env, log))
        async with get_client() as client:
            for _ in range(240):
                if len(await client.read_workers_for_work_pool("shards")) == workers:
                    return
                await asyncio.sleep(0.5)

    processes: list[subprocess.Popen] = []
    try:
        asyncio.run(make_pool_and_wait_for(2))
        big = tmp_path / "big" / "shard-{shard}"
        args = ["--name", "big", "--work-pool", "shards", "--out", str(big), "--target", "15"]
        code, printed, err = cli(["schedule", "self-instruct", *args, *QUICK], capsys)
        assert code == 0 and "on demand" in printed, err
        code, printed, err = cli(["schedule", "run", "big", "--shards", "2"], capsys)
        ids = started_ids(printed)
        runs = asyncio.run(wait_final(ids))
        assert all(r.state.is_completed() for r in runs), [r.state for r in runs]
        submitted = [
            re.findall(r"Flow run '(\S+)' submitted", (tmp_path / f"worker{i}.log").read_text())
            for i in range(2)
        ]
        assert sorted(n for names in submitted for n in names) == sorted(r.name for r in runs)
        assert [len(names) for names in submitted] == [1, 1], "one shard per worker"
    finally:
        for process in processes:
            stop(process)
    shards = [tmp_path / "big" / f"shard-{k}" for k in range(2)]
    seeds = [json.loads((s / "run.json").read_text())["config"]["seed"] for s in shards]
    assert seeds == [0, 1]
    merged = tmp_path / "merged"
    code, printed, err = cli(["merge", *map(str, shards), "--out", str(merged)], capsys)
    assert code == 0, err
    funnel = json.loads((merged / "stats.json").read_text())["funnel"]
    assert funnel["generated"] == 30 and funnel["kept"] + funnel["dropped_total"] == 30
    kept = [json.loads(line) for line in (merged / "kept.jsonl").read_text().splitlines()]
    assert [k["id"][:3] for k in kept[:4]] == ["s0-", "s1-", "s0-", "s1-"]


@pytest.mark.server
def test_scheduled_flow_takes_a_slot_for_each_request_sent(api, tmp_path, monkeypatch):
    import flows.limits
    from flows.scheduled import scheduled_run
    from pipeline.methods import make_config

    taken = []

    async def counting(name, occupy=1, **kwargs):
        taken.append((name, occupy))
        await real(name, occupy=occupy, **kwargs)

    real = flows.limits.rate_limit
    monkeypatch.setattr(flows.limits, "rate_limit", counting)
    asyncio.run(flows.limits.set_rate_limit("flow-test", 60_000))
    config = make_config(out=str(tmp_path / "r"), target=20, judge="inline").to_dict()
    for _ in range(2):  # the second run resumes a finished one: nothing sent, no slot taken
        stats = asyncio.run(scheduled_run("self-instruct", config, 8, rate_limit="flow-test"))
    sent = json.loads((tmp_path / "r" / "stats.json").read_text())["requests"]["total"]
    assert stats["session"]["requests_sent"] == 0
    # 60,000/min has 1,000 slots, taken 250 at a time: enough for the requests, fewer than 250
    # left over.
    slots = sum(n for _, n in taken)
    assert {name for name, _ in taken} == {"flow-test"} and sent <= slots < sent + 250
