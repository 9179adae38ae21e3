"""kill -9 trials: a run killed at random moments and re-run until it finishes must end exactly as
an uninterrupted run, without the server answering any request twice.

For each method, one uninterrupted reference run (its own stub server, its own run directory),
then N trials. A trial starts a fresh `instructgen stub-server` (so its /stats count only this
trial), starts `instructgen run <method> --backend openai ...` on a new run directory, and
SIGKILLs it: at a seeded random moment, or the moment an output file is being written (a temp
file appears in the run directory); the kill hits the run's process or its whole process group
(the judge worker too). It re-runs the same command until it exits 0, then checks:

- kept.jsonl, alpaca.json, removed.jsonl (and core.jsonl, full.jsonl) byte-identical to the
  reference, the funnel in stats.json equal, every kept id exactly once;
- the server answered no cache key twice (the stub server sends no answer to a client that has
  gone); after each kill, the answers the server had sent that were not yet in the run's cache
  are counted as "lost": they are what a re-run pays for again;
- no temp files of interrupted writes left in the run directory.

With --interrupt the runs get SIGINT (Ctrl-C) instead, and must exit 130. With --store the runs
ask the server to store their answers (OpenAI's stored completions): a re-run fetches an answer
that was on its way back at the kill instead of paying for it again.

    python benchmarks/crash_trials.py --trials 20 [--method self-instruct] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crash_kill import (  # noqa: F401  (re-exported: tests/engine/test_crash.py uses them from here)
    Attempt,
    Kill,
    ServerFactory,
    SubprocessServer,
    attempt,
    cached_slots,
    get_json,
    instructgen,
    temp_files,
)

from pipeline import methods

METHOD_ARGS = {
    "self-instruct": ["--target", "1000", "--concurrency", "4"],
    "unnatural": ["--target", "60", "--paraphrases", "2", "--concurrency", "8"],
    "evol-instruct": ["--limit", "60", "--rounds", "2", "--concurrency", "8"],
}
OUTPUTS = ("kept.jsonl", "alpaca.json", "removed.jsonl")
MAX_ATTEMPTS = 12  # a trial that needs more runs than this has failed


@dataclass
class Trial:
    index: int
    attempts: list[Attempt] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    answered_twice: int = 0
    answered: int = 0
    abandoned: int = 0
    leftovers: int = 0
    error: str = ""

    @property
    def identical(self) -> bool:
        return not (self.mismatched or self.duplicate_ids or self.error)

    @property
    def ok(self) -> bool:
        return self.identical and not self.answered_twice and not self.leftovers


def run_command(method: str, out: Path, base_url: str, extra: list[str]) -> list[str]:
    backend = ["--backend", "openai", "--base-url", base_url, "--model", "stub"]
    quiet = ["--no-prefect", "--quiet"]
    return [*instructgen(), "run", method, "--out", str(out), *backend, *extra, *quiet]


def outputs_of(method: str) -> tuple[str, ...]:
    """The files compared: the common ones and the method's own (its MethodSpec's outputs)."""
    extra = methods.get(method).outputs
    return OUTPUTS + (extra.files if extra is not None else ())


def compare(method: str, out: Path, ref: Path) -> list[str]:
    """Names of the outputs that differ from the reference (the funnel as `stats.json:funnel`)."""
    bad = [n for n in outputs_of(method) if _read(out / n) != _read(ref / n)]
    funnel = [json.loads(_read(d / "stats.json") or b"{}").get("funnel") for d in (out, ref)]
    if funnel[0] != funnel[1] or funnel[0] is None:
        bad.append("stats.json:funnel")
    return bad


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def duplicate_ids(out: Path) -> int:
    ids = [json.loads(line)["id"] for line in (out / "kept.jsonl").read_text().splitlines()]
    return len(ids) - len(set(ids))


@dataclass
class Reference:
    method: str
    out: Path
    seconds: float
    answered: int
    args: list[str]


def reference_run(
    method: str, work: Path, server: ServerFactory, latency_ms: float, args: list[str]
) -> Reference:
    """The uninterrupted run every trial is compared with."""
    srv = server(latency_ms)
    try:
        out = work / f"{method}-reference"
        done = attempt(run_command(method, out, srv.base_url, args), out, None, 600)
        if done.code != 0:
            raise RuntimeError(f"reference run failed ({done.code}): {done.stderr}")
        answered = sum(srv.stats()["served"].values())
    finally:
        srv.stop()
    return Reference(method, out, done.seconds, answered, args)


def plan_kill(rng: random.Random, ref: Reference, interrupt: bool = False) -> Kill:
    # Mostly random moments over the run (the first fifth is mostly Python starting up); a
    # quarter of the kills land while an output file is being written.
    mode = "write" if rng.random() < 0.25 else "time"
    target = rng.choice(("pid", "group"))
    return Kill(mode, "int" if interrupt else target, rng.uniform(0.2, 1.0) * ref.seconds)


def run_trial(
    index: int,
    ref: Reference,
    work: Path,
    server: ServerFactory,
    latency_ms: float,
    kills: list[Kill],
) -> Trial:
    """Kill the run as `kills` says (one kill per attempt), then re-run until it exits 0."""
    trial, srv = Trial(index), server(latency_ms)
    out = work / f"{ref.method}-trial-{index}"
    try:
        cmd = run_command(ref.method, out, srv.base_url, ref.args)
        _run_until_done(trial, cmd, out, kills, srv, limit=60 + 10 * ref.seconds)
        stats = srv.stats()
    finally:
        srv.stop()
    trial.answered_twice = stats["keys_answered_more_than_once"]
    trial.answered = sum(stats["served"].values())
    trial.abandoned = stats["abandoned"]
    trial.leftovers = len(temp_files(out))
    if not trial.error:
        trial.mismatched = compare(ref.method, out, ref.out)
        trial.duplicate_ids = duplicate_ids(out)
    return trial


def _run_until_done(
    trial: Trial, cmd: list[str], out: Path, kills: list[Kill], srv: Any, limit: float
) -> None:
    while not trial.attempts or trial.attempts[-1].code != 0:
        if len(trial.attempts) >= MAX_ATTEMPTS:
            trial.error = f"still failing after {MAX_ATTEMPTS} runs"
            return
        kill = kills[len(trial.attempts)] if len(trial.attempts) < len(kills) else None
        done = attempt(cmd, out, kill, limit)
        if done.killed:
            done.lost = len(set(srv.stats()["answered_slots"]) - cached_slots(out))
        trial.attempts.append(done)
        # Ctrl-C exits 130; while Python shuts down, SIGINT ends it outright (a shell reports
        # that as 130 too).
        interrupted = done.killed and kill is not None and kill.target == "int"
        if done.code != 0 and (not done.killed or interrupted) and done.code not in (130, -2):
            trial.error = f"exit {done.code}: {done.stderr.strip().splitlines()[-1:]}"
            return


def describe(trial: Trial) -> str:
    parts = []
    for a in trial.attempts:
        if a.killed:
            lost = f"/lost {a.lost}" if a.lost else ""
            parts.append(f"{a.kill}{'*' if a.writing else ''}@{a.cached}{lost}")
        elif a.kill:
            parts.append("finished-first")
    return " ".join(parts) or "-"


def print_table(ref: Reference, trials: list[Trial]) -> None:
    print(f"\n{ref.method}: reference {ref.seconds:.1f}s, {ref.answered} answers paid")
    print(
        "kills: WHEN/pid|group (* an output was being written) @answers cached (/lost N: sent "
        "by the server, not yet committed); twice: keys answered twice; aband: answers not "
        "sent because their client had gone"
    )
    print(f"{'trial':>5}  {'runs':>4}  {'result':<10} {'twice':>5} {'paid':>5} {'aband':>5}  kills")
    for t in trials:
        result = "identical" if t.identical else "DIFFERS"
        if t.error:
            result = "ERROR"
        row = f"{t.index:>5}  {len(t.attempts):>4}  {result:<10} {t.answered_twice:>5} "
        print(f"{row}{t.answered:>5} {t.abandoned:>5}  {describe(t)}")
        for problem in [*t.mismatched, t.error][: 3 if t.mismatched or t.error else 0]:
            print(f"{'':>7}{problem}")
        if t.leftovers:
            print(f"{'':>7}{t.leftovers} temp files left in the run directory")
    same = sum(t.identical for t in trials)
    kills = sum(a.killed for t in trials for a in t.attempts)
    twice = sum(t.answered_twice for t in trials)
    lost = sum(a.lost > 0 for t in trials for a in t.attempts)
    print(
        f"{same}/{len(trials)} identical; {kills} kills, {lost} of them with answers sent but "
        f"not yet committed; {twice} keys answered twice"
    )


def trials_for(
    method: str,
    n: int,
    seed: int,
    work: Path,
    server: ServerFactory,
    latency_ms: float,
    interrupt: bool = False,
    store: bool = False,
) -> tuple[Reference, list[Trial]]:
    # A method without sizes of its own here runs at its example's size.
    sized = METHOD_ARGS.get(method) or methods.get(method).example_flags()
    args = [*sized, *(["--store"] if store else [])]
    ref = reference_run(method, work, server, latency_ms, args)
    rng = random.Random(f"{seed}:{method}")
    trials = []
    for i in range(n):
        kills = [plan_kill(rng, ref, interrupt) for _ in range(rng.randint(1, 3))]
        trials.append(run_trial(i, ref, work, server, latency_ms, kills))
        print(".", end="", flush=True)
    return ref, trials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--method", choices=methods.names(), action="append")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--keep", help="keep the run directories under this folder")
    parser.add_argument(
        "--interrupt", action="store_true", help="Ctrl-C (SIGINT) the runs instead of kill -9"
    )
    parser.add_argument("--store", action="store_true", help="runs use --store (see above)")
    a = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="crash-trials-") as tmp:
        work = Path(a.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for method in a.method or list(methods.names()):
            ref, trials = trials_for(
                method, a.trials, a.seed, work, SubprocessServer, a.latency_ms, a.interrupt, a.store
            )
            print_table(ref, trials)
            failed |= not all(t.ok for t in trials)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
