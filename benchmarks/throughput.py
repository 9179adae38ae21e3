"""End-to-end throughput, measured side by side in one run.

1. In-process stub, no latency: answers/s through the whole pipeline (plan, cache, parse,
   filters, ROUGE gate, in-order bookkeeping). Goal: >= 1,000 answers/s.
2. Against `instructgen stub-server --latency-ms 50` in its own process, at concurrency 64:
   our pipeline vs a bare `openai.AsyncOpenAI` loop sending the same requests to the same
   server. Goal: ours >= 90% of the bare loop.

    python benchmarks/throughput.py [--answers 2000] [--requests 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import openai

from pipeline.config import RunConfig
from pipeline.methods.self_instruct import SelfInstruct
from pipeline.seeds import load_seeds
from pipeline.session import Session, run_session


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours(answers: int, concurrency: int, **backend) -> tuple[float, dict]:
    """Seconds for our pipeline to process `answers` answers, and its stats."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(
            out=str(Path(tmp) / "run"),
            target=10**9,
            max_requests=answers,
            concurrency=concurrency,
            checkpoint_seconds=1e9,
            **backend,
        )
        session = Session.open(cfg)
        start = time.perf_counter()
        stats = asyncio.run(run_session(session, batch=256))
        elapsed = time.perf_counter() - start
        return elapsed, stats


async def bare_loop(base_url: str, requests: int, concurrency: int) -> float:
    """The same chat requests through the SDK alone: no cache, no parsing, no filters."""
    cfg = RunConfig(out="unused", model="stub")
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
            "pipeline.cli",
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

    for judge in ("process", "inline"):
        elapsed, stats = ours(args.answers, args.concurrency, backend="stub", judge=judge)
        print(
            f"[1] in-process stub, no latency, judge={judge}: {args.answers} answers in "
            f"{elapsed:.2f} s = {args.answers / elapsed:,.0f} answers/s (goal >= 1,000); "
            f"{stats['funnel']['generated']:,} tasks judged, {stats['funnel']['kept']:,} kept"
        )

    proc, url = start_server(args.latency_ms)
    try:
        bare_best, ours_best = float("inf"), float("inf")
        for r in range(args.rounds):
            bare = asyncio.run(bare_loop(url, args.requests, args.concurrency))
            mine, _ = ours(
                args.requests, args.concurrency, backend="openai", model="stub", base_url=url
            )
            bare_best, ours_best = min(bare_best, bare), min(ours_best, mine)
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
        f"instructgen {our_rate:,.0f}/s, ratio {our_rate / bare_rate:.1%} (goal >= 90%)"
    )


if __name__ == "__main__":
    main()
