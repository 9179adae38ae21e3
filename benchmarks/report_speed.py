"""Time to build the HTML report of a large run, measured on a synthetic 50K-kept run directory.

A real stub run (the library, no Prefect) gives the records; they are replicated with varied
text (words swapped for others of the run's own vocabulary, new ids, lineage remapped within
each copy) up to --kept examples, with stats.json scaled to match. Then write_report runs
--repeat times. Goal: under 10 s for 50K kept.

    python benchmarks/report_speed.py [--method self-instruct] [--kept 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.engine.session import Session, run_session
from pipeline.methods import make_config
from pipeline.report.build import write_report
from pipeline.report.load import load_run

BASE = {"self-instruct": {"target": 2000}, "unnatural": {"target": 500}, "evol-instruct": {}}


def stub_run(out: Path, method: str) -> None:
    config = make_config(out=str(out), method=method, backend="stub", **BASE[method])
    asyncio.run(run_session(Session.open(config)))


class Varier:
    """Swaps a few words of a text for others from the run's vocabulary, deterministically."""

    def __init__(self, texts: list[str], seed: int = 0):
        self.words = sorted({w for t in texts for w in t.split() if w.isalpha()})
        self.rng = random.Random(seed)

    def __call__(self, text: str, swaps: int = 2) -> str:
        words = text.split(" ")
        for _ in range(min(swaps, len(words))):
            words[self.rng.randrange(len(words))] = self.rng.choice(self.words)
        return " ".join(words)


def _copy(rec: dict[str, Any], k: int, vary: Varier, rng: random.Random) -> dict[str, Any]:
    """Copy k of one kept record: new id, varied text, lineage ids and scores adjusted."""
    if k == 0:
        return rec
    out = json.loads(json.dumps(rec))
    out["id"] = f"{rec['id']}-x{k}"
    out["instruction"] = vary(rec["instruction"])
    out["output"] = vary(rec["output"], 4)
    meta = out.get("meta", {})
    for field in ("parent_id", "core_id"):
        if field in meta and meta[field] != meta.get("seed_id"):
            meta[field] = f"{meta[field]}-x{k}"
    if meta.get("most_similar"):
        top = min(0.7, max(0.0, meta["most_similar"][0][1] + rng.uniform(-0.05, 0.05)))
        meta["most_similar"] = [[vary(t), round(top, 6)] for t, _ in meta["most_similar"]]
    return out


def _scale(stats: Any, factor: int) -> Any:
    """Every count of stats.json times `factor` (generated = kept + dropped still holds)."""
    if isinstance(stats, dict):
        return {
            k: v if k in ("cost", "session", "target", "stopped") else _scale(v, factor)
            for k, v in stats.items()
        }
    return stats * factor if isinstance(stats, int) and not isinstance(stats, bool) else stats


def replicate(src: Path, dst: Path, kept: int) -> int:
    """Write a run directory of exactly `kept` kept examples; returns the replication factor."""
    base = [json.loads(line) for line in (src / "kept.jsonl").open(encoding="utf-8")]
    factor = -(-kept // len(base))
    vary, rng = Varier([e["instruction"] for e in base]), random.Random(1)
    dst.mkdir(parents=True, exist_ok=True)
    with (dst / "kept.jsonl").open("w", encoding="utf-8") as f:
        written = 0
        for k in range(factor):
            for rec in base:
                if written == kept:
                    break
                f.write(json.dumps(_copy(rec, k, vary, rng), ensure_ascii=False) + "\n")
                written += 1
    removed = (src / "removed.jsonl").read_text(encoding="utf-8")
    (dst / "removed.jsonl").write_text(removed * factor, encoding="utf-8")
    stats = _scale(json.loads((src / "stats.json").read_text()), factor)
    funnel = stats["funnel"]
    funnel["generated"] -= funnel["kept"] - kept  # the last copy was cut at `kept`
    funnel["kept"] = kept
    (dst / "stats.json").write_text(json.dumps(stats, indent=2))
    (dst / "run.json").write_text((src / "run.json").read_text())
    return factor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="self-instruct", choices=sorted(BASE))
    parser.add_argument("--kept", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "stub", Path(tmp) / "big"
        stub_run(src, args.method)
        factor = replicate(src, dst, args.kept)
        mb = (dst / "kept.jsonl").stat().st_size / 1e6
        print(f"{args.method}: {args.kept:,} kept ({factor}x a stub run), kept.jsonl {mb:.0f} MB")
        loads, walls, cpus = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            load_run(dst)
            t1, c1 = time.perf_counter(), time.process_time()
            path = write_report(dst)
            walls.append(time.perf_counter() - t1)
            cpus.append(time.process_time() - c1)
            loads.append(t1 - t0)
        size = path.stat().st_size / 1e6
        # On a shared machine wall time grows with the load; CPU time much less (one thread).
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"reading the files alone: {_span(loads)} s")
        print(
            f"write_report (read + analyse + write): {_span(walls)} s wall, {_span(cpus)} s CPU, "
            f"over {args.repeat} runs; report.html {size:.1f} MB"
        )
        print(f"goal < 10 s: {'met' if max(walls) < 10 else 'NOT met'} (wall, slowest run)")


def _span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


if __name__ == "__main__":
    main()
