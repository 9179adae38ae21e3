"""What Prefect costs a command, measured side by side in one run; every command is
`instructgen run self-instruct` in its own process, timed end to end (and its CPU seconds, with
the Prefect server's: wall times on a busy 2-core machine stretch, CPU time less so).

(a) The README's quickstart run (stub, target 500) with no Prefect server configured, as a
    first-time user runs it, against `--no-prefect`. Goals: <= 1.2x, and <= 3 s.
(b) A running `prefect server start` (started here; its start-up is printed): a flow run
    reporting to it against the library, 3,000 kept over HTTP from `instructgen stub-server`
    (`--seeds PATH`: e.g. Alpaca's 175 seed tasks). Goal: <= 1.5x.
(c) With --temporary: `--prefect` with no server (Prefect's temporary server), for reference.

    python benchmarks/prefect_overhead.py [--rounds 3] [--target 3000] [--seeds PATH]
        [--latency-ms 0] [--temporary] [--parts ab]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
Timing = tuple[float, float]  # wall seconds, CPU seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, started: float) -> float:
    while time.perf_counter() - started < 180:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{url} never answered")


def start(args: list[str], env: dict[str, str], health: str) -> tuple[subprocess.Popen, float]:
    """A server in its own session; returns it and the seconds until `health` answered."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    return process, _wait_healthy(health, process, started)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def group_cpu(pgid: int | None) -> float:
    """CPU seconds so far of the live processes of a process group (a server)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat") if pgid else ():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str], cwd: Path, server: int | None) -> Timing:
    cpu = children_cpu() + group_cpu(server)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, children_cpu() + group_cpu(server) - cpu


def rounds(n: int, variants: dict[str, Callable[[int], Timing]]) -> dict[str, list[Timing]]:
    """Each round runs every variant once, alternating, so drifting load hits them alike."""
    found: dict[str, list[Timing]] = {name: [] for name in variants}
    for r in range(n):
        for name, run in variants.items():
            found[name].append(run(r))
            wall, cpu = found[name][-1]
            print(f"  round {r + 1} {name}: {wall:.2f} s, {cpu:.2f} CPU s", flush=True)
    return found


def show(found: dict[str, list[Timing]], goal: float, seconds: float | None = None) -> None:
    """Each variant's median and range; the first is the baseline of the ratios."""
    base = [statistics.median(t[i] for t in next(iter(found.values()))) for i in (0, 1)]
    for name, times in found.items():
        wall = [t[0] for t in times]
        cpu = statistics.median(t[1] for t in times)
        mid = statistics.median(wall)
        print(
            f"  {name:32} {mid:5.2f} s ({min(wall):.2f}-{max(wall):.2f}), {mid / base[0]:.2f}x;"
            f" CPU {cpu:5.2f} s, {cpu / base[1]:.2f}x"
        )
    last = [t[0] for t in list(found.values())[-1]]
    ratio = statistics.median(last) / base[0]
    verdict = f"goal <= {goal}x: {'met' if ratio <= goal else 'missed'}"
    if seconds is not None:
        ok = statistics.median(last) <= seconds
        verdict += f"; goal <= {seconds:g} s: {'met' if ok else 'missed'}"
    print(f"  {verdict} (load {os.getloadavg()[0]:.1f})")


def run_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "run", "self-instruct", "--out", str(out), *extra]


def quickstart(tmp: Path, args: argparse.Namespace, base: dict[str, str]) -> None:
    print("(a) README quickstart: stub, target 500, no Prefect server configured")
    env = {**base, "PREFECT_HOME": str(tmp / "home-none")}
    stub = ["--backend", "stub", "--target", "500"]

    def variant(*flags: str) -> Callable[[int], Timing]:
        name = "-".join(flags) or "default"
        return lambda r: timed(run_command(tmp / f"qs-{name}-{r}", *stub, *flags), env, tmp, None)

    found = rounds(args.rounds, {"--no-prefect": variant("--no-prefect"), "default": variant()})
    show(found, 1.2, seconds=3.0)


def over_http(tmp: Path, args: argparse.Namespace, base: dict[str, str]) -> None:
    print(
        f"(b) {args.target:,} kept over HTTP from instructgen stub-server "
        f"({args.latency_ms:g} ms a request), a running server"
    )
    stub_port, prefect_port = _free_port(), _free_port()
    stub_args = ["stub-server", "--port", str(stub_port), "--latency-ms", str(args.latency_ms)]
    stub, _ = start(
        [sys.executable, "-m", "pipeline.cli", *stub_args],
        base,
        f"http://127.0.0.1:{stub_port}/v1/models",
    )
    server_env = {**base, "PREFECT_HOME": str(tmp / "home-server")}
    server_args = ["server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)]
    url = f"http://127.0.0.1:{prefect_port}/api"
    server, startup = start(
        [sys.executable, "-m", "prefect", *server_args, "--analytics-off"],
        server_env,
        f"{url}/health",
    )
    print(f"  prefect server start: answering after {startup:.1f} s (fresh database)")
    run = [
        "--backend",
        "openai",
        "--model",
        "stub",
        "--base-url",
        f"http://127.0.0.1:{stub_port}/v1",
    ]
    run += ["--target", str(args.target), "--quiet"]
    run += ["--seeds", args.seeds] if args.seeds else []
    client = {**base, "PREFECT_HOME": str(tmp / "home-client"), "PREFECT_API_URL": url}
    temporary = {**base, "PREFECT_HOME": str(tmp / "home-temporary")}

    def variant(name: str, env: dict[str, str], *flags: str) -> Callable[[int], Timing]:
        pgid = server.pid if "PREFECT_API_URL" in env else None
        return lambda r: timed(run_command(tmp / f"{name}-{r}", *run, *flags), env, tmp, pgid)

    variants = {
        "library (--no-prefect)": variant("library", base, "--no-prefect"),
        "flow, running server": variant("flow", client),
    }
    timed(run_command(tmp / "warm", *run), client, tmp, None)  # the server has seen our flow
    if args.temporary:
        variants["flow, temporary server"] = variant("temporary", temporary, "--prefect")
        first = timed(run_command(tmp / "warm-temporary", *run, "--prefect"), temporary, tmp, None)
        print(f"  first --prefect run, fresh PREFECT_HOME (temporary server): {first[0]:.1f} s")
    try:
        found = rounds(args.rounds, variants)
    finally:
        for process in (server, stub):
            os.killpg(process.pid, 15)
            process.wait(30)
    if args.temporary:  # the goal is the running server's: show it last
        found = dict(sorted(found.items(), key=lambda item: "running" in item[0]))
    show(found, 1.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of each part")
    ap.add_argument("--target", type=int, default=3000, help="kept in part (b)")
    ap.add_argument("--seeds", help="seed tasks for part (b), e.g. Alpaca's 175")
    ap.add_argument(
        "--latency-ms", type=float, default=0.0, help="the stub server's delay per request in (b)"
    )
    ap.add_argument("--temporary", action="store_true", help="also (c), the temporary server")
    ap.add_argument("--parts", default="ab", help="which of a, b to run")
    args = ap.parse_args()
    if args.seeds:
        args.seeds = str(Path(args.seeds).resolve())
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | QUIET
    with tempfile.TemporaryDirectory() as tmp:
        if "a" in args.parts:
            quickstart(Path(tmp), args, base)
        if "b" in args.parts:
            over_http(Path(tmp), args, base)
    print(f"{os.cpu_count()} cores; other work on the machine stretches wall times")


if __name__ == "__main__":
    main()
