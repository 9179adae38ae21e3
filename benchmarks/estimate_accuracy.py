"""Does `instructgen estimate` tell the truth? Estimated vs actual, side by side, per method.

For each case: estimate with no pilot (nothing sent), estimate with `--pilot N` (N real requests
of each stage through the run's cache), then run to the same target on the stub model (which
reports usage) in the pilot's run directory, so the run reuses the pilot's answers; then
estimate once more on the finished run directory (its own history: should be exact).
Prices are set as with --price-in 0.15 --price-out 0.60 so the stub run has a cost.

Goals: expected cost within +-15% of actual with a pilot; actual inside low-high in every case.

    python benchmarks/estimate_accuracy.py [--pilot 20] [--seeds 0 1 2] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.config import RunConfig
from pipeline.engine.session import Session, run_session
from pipeline.estimate.cost import estimate
from pipeline.methods import make_config
from pipeline.prices import price_for

PRICES = {"price_in": 0.15, "price_out": 0.60}
CASES = [
    ("self-instruct", {"target": 1000}),
    ("self-instruct", {"target": 3000}),
    ("self-instruct", {"target": 6000}),
    ("unnatural", {"target": 500}),
    ("unnatural", {"target": 1500}),
    ("unnatural", {"target": 3000, "paraphrases": 1}),
    ("evol-instruct", {"rounds": 1}),
    ("evol-instruct", {"rounds": 3}),
    ("evol-instruct", {"rounds": 3, "equality_check": False}),
    ("conversations", {"turns": "2-5"}),
    ("conversations", {"turns": "3-7", "reanswer": True}),
    ("conversations", {"turns": "2-5", "mode": "self-chat"}),
]
QUICK = [CASES[1], CASES[4], CASES[7], CASES[9]]


def _actual(config: RunConfig) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    stats = asyncio.run(run_session(Session.open(config)))
    return stats, time.perf_counter() - started


def _spent(config: RunConfig, stats: dict[str, Any]) -> float:
    """stats.json's cost where the run records it; else its tokens at the run's price."""
    if "cost" in stats:
        return stats["cost"]["usd"]
    return price_for(config).cost(stats["tokens"]["prompt"], stats["tokens"]["completion"])


def _inside(band: dict[str, float], actual: float) -> bool:
    """Within low-high, give or take the estimate's rounding (to 1e-6)."""
    return band["low"] - 1e-6 <= actual <= band["high"] + 1e-6


def _print(title: str, est: dict[str, Any], stats: dict[str, Any], spent: float, wall: float):
    rows = [
        ("requests", est["requests"], stats["requests"]["total"], "{:>11,.0f}"),
        ("prompt tokens", est["tokens"]["prompt"], stats["tokens"]["prompt"], "{:>11,.0f}"),
        (
            "completion tokens",
            est["tokens"]["completion"],
            stats["tokens"]["completion"],
            "{:>11,.0f}",
        ),
        ("cost USD", est["cost"]["usd"], spent, "{:>11,.4f}"),
        ("wall s", est["wall_seconds"], wall, "{:>11,.1f}"),
    ]
    print(f"\n{title}\n  {est['assumptions']}")
    print(f"  {'':18}{'low':>11} {'expected':>11} {'high':>11} {'actual':>11}  ratio inside")
    for name, band, actual, fmt in rows:
        cells = " ".join(fmt.format(band[s]) for s in ("low", "expected", "high"))
        inside = "yes" if _inside(band, actual) else "NO"
        ratio = band["expected"] / actual if actual else float("nan")
        print(f"  {name:18}{cells} {fmt.format(actual)}  {ratio:5.2f} {inside}")


def bench(method: str, options: dict, seed: int, pilot: int, tmp: Path, detail: bool) -> list:
    out = tmp / f"{method}-{seed}-{'-'.join(f'{k}{v}' for k, v in options.items())}"
    config = make_config(out=str(out), method=method, seed=seed, **PRICES, **options)
    prior = estimate(config)
    assert not out.exists(), "an estimate without --pilot writes nothing"
    piloted = estimate(config, pilot=pilot)
    stats, wall = _actual(config)
    spent = _spent(config, stats)
    history = estimate(config)
    case = f"{method} {' '.join(f'--{k}={v}' for k, v in options.items())} --seed {seed}"
    rows = []
    for kind, est in (("no pilot", prior), (f"--pilot {pilot}", piloted), ("history", history)):
        if detail:
            _print(f"{case}: {kind}", est, stats, spent, wall)
        usd, secs = est["cost"]["usd"], est["wall_seconds"]
        width = usd["high"] / usd["low"] if usd["low"] else float("inf")
        rows.append(
            (case, kind, usd["expected"] / spent, _inside(usd, spent), width,
             secs["expected"] / wall)
        )  # fmt: skip
    reused = stats["session"]["cache_hits"]
    print(
        f"  {case}: the run reused {reused} cached answers ({piloted['in_cache']['requests']} "
        f"paid by the pilot), actual ${spent:.4f}"
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pilot", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--quick", action="store_true", help="one case per method")
    ap.add_argument("--method", help="only this method's cases")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for method, options in QUICK if args.quick else CASES:
                if args.method and method != args.method:
                    continue
                detail = seed == args.seeds[0]
                rows += bench(method, options, seed, args.pilot, Path(tmp), detail)
    _summary(rows)


def _summary(rows: list) -> None:
    """Each row, then each case over the seeds: the range of expected / actual cost, how often
    the actual was inside low-high, the band's width (high / low) and expected / actual wall."""
    print("\nexpected cost / actual cost, inside low-high, band width (high/low), wall ratio:")
    for case, kind, ratio, inside, width, wall in rows:
        goal = ""
        if kind.startswith("--pilot"):
            goal = f"  +-15%: {'met' if abs(ratio - 1) <= 0.15 else 'NOT met'}"
        print(
            f"  {case:58} {kind:10} {ratio:5.2f} {'inside' if inside else 'OUTSIDE'} "
            f"x{width:<6.2f} wall {wall:4.2f}{goal}"
        )
    groups: dict[tuple[str, str], list] = {}
    for case, kind, *values in rows:
        groups.setdefault((case.rpartition(" --seed ")[0], kind), []).append(values)
    print("\nover the seeds: expected/actual cost, inside, band width, expected/actual wall")
    for (case, kind), values in groups.items():
        ratios, inside, widths, walls = zip(*values, strict=True)
        print(
            f"  {case:46} {kind:10} {min(ratios):4.2f}-{max(ratios):4.2f} "
            f"{sum(inside)}/{len(inside)} x{min(widths):.2f}-{max(widths):.2f} "
            f"{min(walls):4.2f}-{max(walls):4.2f}"
        )


if __name__ == "__main__":
    main()
