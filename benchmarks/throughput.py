"""End-to-end throughput, measured side by side in one run.

1. In-process stub, no latency: answers/s through the whole pipeline (plan, cache, parse,
   filters, ROUGE gate, in-order bookkeeping). Goal: >= 1,000 answers/s.
2. Against `instructgen stub-server --latency-ms 50` in its own process, at concurrency 64:
   our pipeline vs a bare `openai.AsyncOpenAI` loop sending the same requests to the same
   server. Goal: ours >= 90% of the bare loop.

Each part also prints the CPU seconds each process used (this one, the judge worker, the stub
server) and what they imply on this machine's cores: the best ratio any scheduling of that
work could reach (the bare loop's wall time against ours at full use of every core).

    python benchmarks/throughput.py [--answers 2000] [--requests 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import openai

from pipeline.config import RunConfig
from pipeline.engine.session import STEP, Session
from pipeline.methods import make_config
from pipeline.methods.self_instruct.generate import SelfInstruct
from pipeline.report.build import write_report
from pipeline.seeds import load_seeds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children() -> float:
    """CPU of the child processes that have ended (the judge worker, once a run is over)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_of(pid: int) -> float:
    """CPU seconds of a running process (Linux /proc); 0 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _config(tmp: str, answers: int, concurrency: int, **backend) -> RunConfig:
    return make_config(
        out=str(Path(tmp) / "run"),
        target=10**9,
        max_requests=answers,
        concurrency=concurrency,
        checkpoint_seconds=1e9,
        **backend,
    )


def judge_start_cpu(**backend) -> float:
    """CPU a judge worker spends starting and stopping with no work (imports): it starts before
    the timed part, so it is taken off the judge's CPU below."""
    with tempfile.TemporaryDirectory() as tmp:
        before = cpu_children()
        session = Session.open(_config(tmp, 1, 1, **backend))
        asyncio.run(session.aclose())
        return cpu_children() - before


def ours(answers: int, concurrency: int, **backend) -> tuple[float, dict, dict]:
    """Seconds for our pipeline to process `answers` answers, its stats, and the CPU seconds of
    this process and of the judge worker in the timed part."""
    with tempfile.TemporaryDirectory() as tmp:
        children = cpu_children()
        # As `instructgen run` does: the report is written once the run is over.
        config = _config(tmp, answers, concurrency, **backend)
        session = Session.open(config, on_complete=write_report)
        start, mine = time.perf_counter(), cpu_self()
        stats, tail = asyncio.run(_drive(session))
        elapsed = time.perf_counter() - start
        cpu = {"main": cpu_self() - mine, "judge": cpu_children() - children}
        return elapsed, stats, {**cpu, "tail": tail}


async def _drive(session: Session) -> tuple[dict, float]:
    """run_session, timing its end: the outputs and the report, written once the last answer
    is judged, while nothing else runs."""
    try:
        while not await session.advance(STEP):
            pass
    finally:
        ended = time.perf_counter()
        try:
            stats = await session.write()
        finally:
            await session.aclose()
    return stats, time.perf_counter() - ended


async def bare_loop(base_url: str, requests: int, concurrency: int) -> float:
    """The same chat requests through the SDK alone: no cache, no parsing, no filters."""
    cfg = make_config(out="unused", model="stub")
    method = SelfInstruct(load_seeds(), cfg)
    plans = [method.plan(i) for i in range(requests)]
    client = openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=60)
    queue = iter(plans)

    async def worker() -> None:
        for r in queue:
            await client.chat.completions.create(
                model=r.model,
                messages=[{"role": "user", "content": r.prompts[0]}],
                temperature=r.temperature,
                top_p=r.top_p,
                max_tokens=r.max_tokens,
                stop=list(r.stop),
                extra_headers={"X-Instructgen-Slot": r.slot},
            )

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    await client.close()
    return elapsed


def start_server(latency_ms: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli.main",
            "stub-server",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=1).read()
            return proc, url + "/v1"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("stub server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--answers", type=int, default=2000, help="answers for the in-process part")
    ap.add_argument("--requests", type=int, default=2000, help="requests for the server part")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds; best of each")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    start_cpu = judge_start_cpu(backend="stub")

    for judge in ("process", "inline"):
        elapsed, stats, cpu = ours(args.answers, args.concurrency, backend="stub", judge=judge)
        judge_cpu = max(cpu["judge"] - start_cpu, 0.0) if judge == "process" else 0.0
        best = args.answers / floor({"main": cpu["main"], "judge": judge_cpu}, cpu["tail"], cores)
        print(
            f"[1] in-process stub, no latency, judge={judge}: {args.answers} answers in "
            f"{elapsed:.2f} s = {args.answers / elapsed:,.0f} answers/s (goal >= 1,000); "
            f"{stats['funnel']['generated']:,} tasks judged, {stats['funnel']['kept']:,} kept\n"
            f"    CPU s: main {cpu['main']:.2f}, judge {judge_cpu:.2f} (its start-up, "
            f"{start_cpu:.2f}, before the clock); outputs and report at the end "
            f"{cpu['tail']:.2f} s: at best {best:,.0f} answers/s on {cores} cores"
        )
    server_part(args, cores, start_cpu)


def server_part(args: argparse.Namespace, cores: int, start_cpu: float) -> None:
    proc, url = start_server(args.latency_ms)
    try:
        bare_best, ours_best, bare_cpu, ours_cpu = float("inf"), float("inf"), {}, {}
        for r in range(args.rounds):
            server, mine = cpu_of(proc.pid), cpu_self()
            bare = asyncio.run(bare_loop(url, args.requests, args.concurrency))
            if bare < bare_best:
                bare_best = bare
                bare_cpu = {"main": cpu_self() - mine, "server": cpu_of(proc.pid) - server}
            server = cpu_of(proc.pid)
            backend = {"backend": "openai", "model": "stub", "base_url": url}
            mine, _, cpu = ours(args.requests, args.concurrency, **backend)
            if mine < ours_best:
                ours_best, tail = mine, cpu.pop("tail")
                ours_cpu = {**cpu, "server": cpu_of(proc.pid) - server}
                ours_cpu["judge"] = max(ours_cpu["judge"] - start_cpu, 0.0)
            print(
                f"    round {r + 1}: bare {args.requests / bare:,.0f}/s, "
                f"ours {args.requests / mine:,.0f}/s"
            )
    finally:
        proc.terminate()
        proc.wait()
    bare_rate, our_rate = args.requests / bare_best, args.requests / ours_best
    print(
        f"[2] stub-server --latency-ms {args.latency_ms:g}, concurrency {args.concurrency}, "
        f"{args.requests} requests: bare AsyncOpenAI loop {bare_rate:,.0f}/s, "
        f"instructgen {our_rate:,.0f}/s, ratio {our_rate / bare_rate:.1%} (goal >= 90%)\n"
        f"    CPU s, bare: {_cpu(bare_cpu)}; ours: {_cpu(ours_cpu)}; outputs and report at "
        f"the end {tail:.2f} s: at best {bare_best / floor(ours_cpu, tail, cores):.0%} of the "
        f"bare loop on {cores} cores"
    )


def floor(cpu: dict[str, float], tail: float, cores: int) -> float:
    """The least wall time the measured work allows: every core busy until the last answer,
    then the end (outputs, report), which needs the last answer and runs on one core."""
    return (sum(cpu.values()) - tail) / cores + tail


def _cpu(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}" for name, seconds in cpu.items())


if __name__ == "__main__":
    main()
