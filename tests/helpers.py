"""Shared test helpers: a backend that counts what it is paid for and can die on cue."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pipeline.backends.retry import RetryPolicy
from pipeline.engine.judge import Judge
from pipeline.engine.session import Session, run_session
from pipeline.methods import make_config, stub_model
from pipeline.types import Completion, Request

ROOT = Path(__file__).resolve().parent.parent  # the repository
DATA = ROOT / "tests" / "data"


class Killed(Exception):
    """Stands in for a crash: not a transient error, so nothing retries it."""


class CountingBackend:
    """Wraps the stub; `paid` counts answers per cache key; dies after `die_after` answers."""

    def __init__(self, paid: Counter | None = None, die_after: int | None = None, **stub):
        self.stub = stub_model(**stub)
        self.paid = paid if paid is not None else Counter()
        self.die_after = die_after
        self.answered = 0

    async def complete(self, request: Request) -> Completion:
        if self.die_after is not None and self.answered >= self.die_after:
            raise Killed(f"killed after {self.answered} answers")
        self.answered += 1
        # Scramble arrival order so processing-in-request-order is really tested.
        await asyncio.sleep(int(request.key()[:4], 16) % 7 * 0.0005)
        completion = await self.stub.complete(request)
        self.paid[request.key()] += 1
        return completion


def run(out: Path, backend=None, **config) -> dict:
    """One run of the library (no Prefect) on the stub; returns stats."""
    cfg = make_config(out=str(out), **config)
    session = Session.open(cfg, backend=backend, policy=RetryPolicy.no_wait(3))
    return asyncio.run(run_session(session, batch=config.get("concurrency", 8) * 2))


def count_judged(monkeypatch) -> Counter:
    """Counts the answers every judge of this process reads (judge="inline" runs)."""
    count: Counter = Counter()
    take = Judge._take

    def counting(self, answers):
        used = take(self, answers)
        count["answers"] += used
        return used

    monkeypatch.setattr(Judge, "_take", counting)
    return count


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def shard_runs(tmp_path: Path, target: int = 5) -> list[str]:
    """Two small Self-Instruct shards (seeds 0 and 1) run by the CLI without Prefect."""
    from pipeline.cli.main import main

    shards = [str(tmp_path / f"s{k}") for k in range(2)]
    for k, shard in enumerate(shards):
        args = ["--out", shard, "--target", str(target), "--seed", str(k), "--no-prefect"]
        assert main(["run", "self-instruct", *args, "--quiet"]) == 0
    return shards
