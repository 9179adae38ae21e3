"""Prefect's overhead on one run, measured side by side: the same stub run (default 10,000
requests of Self-Instruct on the in-process stub model) as the library alone (`--no-prefect`)
and as a Prefect flow, each `instructgen run` in its own process, timed end to end.

Flow variants: against Prefect's temporary local server (no PREFECT_API_URL, as a first-time
user runs; its database warmed by one small run first), and against a `prefect server start`
this script starts (as scheduled runs do; its start-up time is printed too). Goal: a flow run
takes <= 1.2x the library's time.

    python benchmarks/prefect_overhead.py [--requests 10000] [--rounds 2] [--method self-instruct]
        [--variants library,server,temporary]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, str, float]:
    """`prefect server start` on a free port; returns it, its API URL, seconds until healthy."""
    port = _free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    args = ["server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", *args, "--analytics-off"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    while time.perf_counter() - started < 180:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return proc, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("prefect server did not start")


def children_cpu() -> float:
    """CPU seconds of every finished child process tree of this one."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def group_cpu(pgid: int | None) -> float:
    """CPU seconds so far of the live processes of a process group (the Prefect server)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat") if pgid else ():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed_run(out: Path, args: argparse.Namespace, variant: tuple) -> list[float]:
    """Seconds for the whole `instructgen run` process, the run's own wall time, and the CPU
    seconds it took (its process tree, plus the Prefect server's when it talks to one): CPU
    time says what Prefect costs even when other work on the machine stretches wall times."""
    env, prefect, server_pgid = variant
    command = [sys.executable, "-m", "pipeline.cli.main", "run", args.method, "--quiet"]
    command += ["--out", str(out), "--max-requests", str(args.requests), "--target", str(10**9)]
    command += [] if prefect else ["--no-prefect"]
    cpu = children_cpu() + group_cpu(server_pgid)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    cpu = children_cpu() + group_cpu(server_pgid) - cpu
    stats = json.loads((out / "stats.json").read_text())
    assert stats["requests"]["total"] == args.requests, stats["requests"]
    return [elapsed, stats["session"]["wall_seconds"], cpu]


VARIANTS = {
    "library": "library (--no-prefect)",
    "server": "flow, prefect server",
    "temporary": "flow, temporary server",
}


def measure(tmp: Path, args: argparse.Namespace) -> dict[str, list[list[float]]]:
    """Every round runs each variant once, the variants alternating; all times are kept."""
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    temporary = {**base, **QUIET, "PREFECT_HOME": str(tmp / "home-temporary")}
    proc, url, startup = start_server(tmp / "home-server")
    print(f"prefect server start: healthy after {startup:.1f} s (fresh database)")
    served = {**base, **QUIET, "PREFECT_HOME": str(tmp / "home-client"), "PREFECT_API_URL": url}
    every = {
        "library": (base, False, None),
        "server": (served, True, proc.pid),
        "temporary": (temporary, True, None),
    }
    variants = {VARIANTS[v]: every[v] for v in args.variants}
    warm = argparse.Namespace(**{**vars(args), "requests": 10})
    if "temporary" in args.variants:
        first = timed_run(tmp / "warm", warm, every["temporary"])[0]
        print(f"first flow run, fresh PREFECT_HOME (temporary server, 10 requests): {first:.1f} s")
    if "server" in args.variants:  # a running server has seen our flows before
        timed_run(tmp / "warm-server", warm, every["server"])
    runs: dict[str, list[list[float]]] = {name: [] for name in variants}
    try:
        for r in range(args.rounds):
            for i, (name, variant) in enumerate(variants.items()):
                took = timed_run(tmp / f"v{i}-{r}", args, variant)
                runs[name].append(took)
                print(
                    f"  round {r + 1}, {name}: {took[0]:.1f} s process, {took[1]:.1f} s run, "
                    f"{took[2]:.1f} CPU s (load {os.getloadavg()[0]:.1f})"
                )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return runs


def summary(runs: dict[str, list[list[float]]]) -> None:
    """Each variant's range; (best/median) its best and median over the library's."""
    library = next(iter(runs.values()))
    best = [min(r[i] for r in library) for i in range(3)]
    median = [statistics.median(r[i] for r in library) for i in range(3)]
    for name, took in runs.items():
        cells = []
        for i, what in enumerate(("process", "run", "CPU")):
            values = [r[i] for r in took]
            low, high = min(values), max(values)
            mid = statistics.median(values) / median[i]
            cells.append(f"{what} {low:5.1f}-{high:5.1f} s ({low / best[i]:.2f}x/{mid:.2f}x)")
        print(f"  {name:24} " + "; ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    ap.add_argument("--method", default="self-instruct")
    ap.add_argument(
        "--variants",
        default="library,server,temporary",
        type=lambda v: [x for x in v.split(",") if x],
        help="which of library, server, temporary to run (library always first)",
    )
    args = ap.parse_args()
    args.variants = ["library", *(v for v in args.variants if v != "library")]
    if unknown := set(args.variants) - set(VARIANTS):
        raise SystemExit(f"--variants: unknown {sorted(unknown)}; choose from {list(VARIANTS)}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure(Path(tmp), args)
    print(
        f"{args.method}, {args.requests:,} stub requests, {args.rounds} rounds, load "
        f"{os.getloadavg()[0]:.1f} (goal: flow, prefect server <= 1.2x process):"
    )
    summary(runs)


if __name__ == "__main__":
    main()
