"""Resume in proportion to what is new, measured side by side in one run.

1. A finished Self-Instruct stub run (default 10,000 kept) re-run with the same command: the
   first run's wall time against the re-run's. Goal: the re-run <= 10% of the first run.
2. A fully cached Evol-Instruct stub run of about 50,000 requests (instructions from a
   Self-Instruct stub run, or --from PATH), resumed three ways on copies of its run directory,
   every answer in the cache: from its final checkpoint (the run was over), from its last
   checkpoint before the end (a kill just before the end), and from no checkpoint (the full
   replay every resume was before checkpoints). Goal: <= 10 s from a checkpoint.

Every command is `instructgen run ... --no-prefect --quiet` in its own process, timed end to
end; each resume must send nothing and end with the first run's kept.jsonl, byte for byte.

    python benchmarks/resume.py [--target 10000] [--limit 6000] [--rounds 3] [--from PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHECKPOINT = "checkpoint.pickle"


def instructgen(*args: str) -> float:
    """Run one command to its end; its wall seconds."""
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "pipeline.cli", "run", *args, "--no-prefect", "--quiet"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def header(path: Path) -> dict:
    with open(path, "rb") as f:
        return json.loads(f.readline())


class Checkpoints:
    """Copies every checkpoint a running run writes; keeps the last one before the end."""

    def __init__(self, run_dir: Path, keep: Path):
        self.path, self.keep, self.seen = run_dir / CHECKPOINT, keep, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        last = None
        while not self._stop.wait(0.05):
            try:
                stamp = self.path.stat().st_mtime_ns
                if stamp != last and not header(self.path)["over"]:
                    shutil.copyfile(self.path, self.keep)
                    last, self.seen = stamp, self.seen + 1
            except (OSError, ValueError, KeyError):
                continue  # being replaced this instant

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def resumed(work: Path, first: Path, name: str, checkpoint: Path | None, args: list[str]) -> dict:
    """Re-run the command on a copy of the first run's directory with `checkpoint` in place
    (the first run's own when "final", none when None)."""
    out = work / name
    shutil.copytree(first, out)
    if checkpoint is None:
        (out / CHECKPOINT).unlink()
    elif checkpoint.name != CHECKPOINT:
        shutil.copyfile(checkpoint, out / CHECKPOINT)
    seconds = instructgen(*args, "--out", str(out))
    stats = json.loads((out / "stats.json").read_text())
    same = (out / "kept.jsonl").read_bytes() == (first / "kept.jsonl").read_bytes()
    return {"seconds": seconds, "sent": stats["session"]["requests_sent"], "same": same}


def part_one(work: Path, target: int) -> None:
    args = ["self-instruct", "--backend", "stub", "--target", str(target)]
    out = work / "si"
    first = instructgen(*args, "--out", str(out))
    again = [instructgen(*args, "--out", str(out)) for _ in range(3)]
    best = min(again)
    print(f"\n1. Self-Instruct, stub, target {target:,}: first run {first:.2f} s")
    print(f"   re-run of the finished run: {', '.join(f'{s:.2f}' for s in again)} s")
    verdict = "ok" if best <= 0.1 * first else "MISSED"
    print(f"   re-run / first run: {best / first:.1%} (goal <= 10%: {verdict})")


def part_two(work: Path, source: str | None, limit: int, rounds: int) -> None:
    if source is None:
        source = str(work / "source")
        instructgen("self-instruct", "--backend", "stub", "--target", str(limit), "--out", source)
    args = ["evol-instruct", "--backend", "stub", "--from", source, "--limit", str(limit)]
    args += ["--rounds", str(rounds), "--checkpoint-seconds", "5"]
    first = work / "evol"
    watch = Checkpoints(first, work / "before-end.pickle")
    seconds = instructgen(*args, "--out", str(first))
    watch.stop()
    stats = json.loads((first / "stats.json").read_text())
    requests = stats["requests"]["total"]
    what = f"{limit:,} instructions x {rounds} rounds"
    print(f"\n2. Evol-Instruct, stub, {what}: {requests:,} requests")
    print(f"   first run {seconds:.2f} s ({watch.seen} checkpoints before the end)")
    cases = [("final checkpoint (the run was over)", first / CHECKPOINT)]
    if watch.seen:
        before = work / "before-end.pickle"
        stage = header(before)["stage"]
        cases.append((f"last checkpoint before the end (stage {stage})", before))
    cases.append(("no checkpoint (full replay)", None))
    print(f"   {'resumed from':<48} {'seconds':>8} {'sent':>6}  kept.jsonl")
    for i, (label, checkpoint) in enumerate(cases):
        r = resumed(work, first, f"resume{i}", checkpoint, args)
        same = "identical" if r["same"] else "DIFFERS"
        print(f"   {label:<48} {r['seconds']:>8.2f} {r['sent']:>6}  {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--from", dest="source", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        part_one(Path(tmp), args.target)
        part_two(Path(tmp), args.source, args.limit, args.rounds)


if __name__ == "__main__":
    main()
