"""Prefect's overhead on one run, measured side by side: the same stub run (default 10,000
requests of Self-Instruct on the in-process stub model) as the library alone (`--no-prefect`)
and as a Prefect flow, each `instructgen run` in its own process, timed end to end.

Flow variants: against Prefect's temporary local server (no PREFECT_API_URL, as a first-time
user runs; its database warmed by one small run first), and against a `prefect server start`
this script starts (as scheduled runs do; its start-up time is printed too). Goal: a flow run
takes <= 1.2x the library's time.

    python benchmarks/prefect_overhead.py [--requests 10000] [--rounds 2] [--method self-instruct]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
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
    command = [sys.executable, "-m", "pipeline.cli", "run", args.method, "--quiet"]
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


def measure(tmp: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    """Best of `rounds` for each variant, the variants alternating."""
    base = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    temporary = {**base, **QUIET, "PREFECT_HOME": str(tmp / "home-temporary")}
    proc, url, startup = start_server(tmp / "home-server")
    print(f"prefect server start: healthy after {startup:.1f} s (fresh database)")
    served = {**base, **QUIET, "PREFECT_HOME": str(tmp / "home-client"), "PREFECT_API_URL": url}
    variants = {
        "library (--no-prefect)": (base, False, None),
        "flow, temporary server": (temporary, True, None),
        "flow, prefect server": (served, True, proc.pid),
    }
    warm = argparse.Namespace(**{**vars(args), "requests": 10})
    first = timed_run(tmp / "warm", warm, variants["flow, temporary server"])[0]
    print(f"first flow run on a fresh PREFECT_HOME (temporary server, 10 requests): {first:.1f} s")
    best = {name: [float("inf")] * 3 for name in variants}
    try:
        for r in range(args.rounds):
            for i, (name, variant) in enumerate(variants.items()):
                took = timed_run(tmp / f"v{i}-{r}", args, variant)
                best[name] = [min(b, t) for b, t in zip(best[name], took, strict=True)]
                print(
                    f"  round {r + 1}, {name}: {took[0]:.1f} s process, {took[1]:.1f} s run, "
                    f"{took[2]:.1f} CPU s (load {os.getloadavg()[0]:.1f})"
                )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds; best of each")
    ap.add_argument("--method", default="self-instruct")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        best = measure(Path(tmp), args)
    library = best["library (--no-prefect)"]
    print(f"{args.method}, {args.requests:,} stub requests, best of {args.rounds} (goal <= 1.2x):")
    for name, times in best.items():
        ratios = [t / lib for t, lib in zip(times, library, strict=True)]
        print(
            f"  {name:24} {times[0]:6.1f} s process ({ratios[0]:.2f}x)  {times[1]:6.1f} s run "
            f"({ratios[1]:.2f}x)  {times[2]:6.1f} CPU s ({ratios[2]:.2f}x)"
        )


if __name__ == "__main__":
    main()
