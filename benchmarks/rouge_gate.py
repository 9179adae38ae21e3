"""Alpaca's sequential ROUGE-L gate: rouge-score in a Python loop against RougeIndex.

    python benchmarks/rouge_gate.py --instructions data.jsonl --seeds seed_tasks.jsonl -n 2300
    mkdir /tmp/old && for f in rouge rouge_kernels; do
        git show a8457ea:pipeline/filters/$f.py > /tmp/old/$f.py; done
    python benchmarks/rouge_gate.py --instructions ... --seeds ... --baseline /tmp/old/rouge.py

Both runs start from the seed pool and gate the first N instructions in order (a fraction of
them replaced by near-duplicate edits of earlier ones, so that some are dropped); the script
prints both times, the cost per scored pair, the speed ratio and the number of decisions (keep
or drop, and the best score) that differ: exit status 1 if any. It then times RougeIndex alone
against a pool padded to --big-pool instructions with generated ones.

The saturated scenario gates candidates that are mostly near-duplicates of the pool (as late in
a long run, when most are dropped) against pools of each of --pool-sizes, and prints the time
per candidate; with --baseline, also that of another version of pipeline/filters/rouge.py and
the number of its decisions that differ (keep or drop, best score, evidence).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import time
from pathlib import Path
from types import ModuleType

from rouge_score import rouge_scorer

from pipeline.errors import InputError, InstructgenError
from pipeline.filters.rouge.index import GateDecision, RougeIndex

THRESHOLD = 0.7
WARM_UP = 2  # saturated scenario: batches gated before the clock starts


def load_instructions(path: Path) -> list[str]:
    """The `instruction` field of every record in a JSON list or a JSONL file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(path, None, err.strerror or str(err), "check the path") from err
    stripped = text.lstrip()
    records = (
        json.loads(text)
        if stripped.startswith("[")
        else [json.loads(line) for line in text.splitlines() if line.strip()]
    )
    try:
        return [r if isinstance(r, str) else r["instruction"] for r in records]
    except (KeyError, TypeError) as err:
        raise InputError(
            path,
            None,
            f"a record has no instruction ({err})",
            'give each record an "instruction" field',
        ) from err


def reference_gate(seeds: list[str], candidates: list[str]) -> tuple[list[tuple], int]:
    """Alpaca's gate as the original scores it (tokenize once, _score_lcs per pair), one process."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [scorer._tokenizer.tokenize(s) for s in seeds]
    decisions, pairs = [], 0
    for candidate in candidates:
        tokens = scorer._tokenizer.tokenize(candidate)
        scores = [rouge_scorer._score_lcs(tokens, other).fmeasure for other in pool]
        pairs += len(pool)
        best = max(scores, default=0.0)
        decisions.append((best <= THRESHOLD, best))
        if best <= THRESHOLD:
            pool.append(tokens)
    return decisions, pairs


def ours_gate(seeds: list[str], candidates: list[str], batch: int) -> list[tuple]:
    """The same gate with RougeIndex, fed `batch` candidates per call (0: all in one call)."""
    index = RougeIndex(threshold=THRESHOLD)
    index.extend(seeds)
    step = batch or len(candidates) or 1
    decisions = []
    for start in range(0, len(candidates), step):
        decisions += [(d.kept, d.max_score) for d in index.gate(candidates[start : start + step])]
    return decisions


def generated_instructions(like: list[str], count: int, seed: int = 0) -> list[str]:
    """Random word sequences with the vocabulary and lengths of `like`: pool padding."""
    rng = random.Random(seed)
    words = [w for s in like for w in s.split()]
    lengths = [len(s.split()) for s in like]
    return [" ".join(rng.choices(words, k=rng.choice(lengths))) for _ in range(count)]


def with_near_duplicates(instructions: list[str], fraction: float, seed: int = 0) -> list[str]:
    """Replace about `fraction` of the texts by 1-4 word edits of earlier ones, so some drop."""
    rng = random.Random(seed)
    vocabulary = [w for s in instructions for w in s.split()]
    out: list[str] = []
    for text in instructions:
        words = rng.choice(out).split() if out and rng.random() < fraction else []
        for _ in range(rng.randint(1, 4) if words else 0):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        out.append(" ".join(words) if words else text)
    return out


def near_duplicates_of(pool: list[str], fresh: list[str], fraction: float) -> list[str]:
    """`fresh`, with about `fraction` of it replaced by 1-2 word edits of pool or earlier texts."""
    rng = random.Random(3)
    vocabulary = [w for s in fresh for w in s.split()]
    out: list[str] = []
    for text in fresh:
        if rng.random() >= fraction:
            out.append(text)
            continue
        pick = rng.randrange(len(pool) + len(out))
        words = (pool[pick] if pick < len(pool) else out[pick - len(pool)]).split() or ["x"]
        for _ in range(rng.randint(1, 2)):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        out.append(" ".join(words))
    return out


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(path, None, "not a Python module", "give the path of a rouge.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def load_baseline(path: Path) -> type:
    """RougeIndex from an older version's pipeline/filters/rouge.py (before the index became the
    pipeline/filters/rouge/ package). A rouge_kernels.py beside it stands in for the module of
    that name it imports while it loads (versions share no kernels)."""
    kernels, name = path.with_name("rouge_kernels.py"), "pipeline.filters.rouge_kernels"
    current = sys.modules.get(name)
    if kernels.exists():
        sys.modules[name] = load_module("rouge_kernels_baseline", kernels)
    try:
        return load_module("rouge_baseline", path).RougeIndex
    finally:
        if current is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = current


def time_saturated(
    cls: type, pool: list[str], candidates: list[str], batch: int, repeat: int
) -> tuple[float, list[GateDecision]]:
    """Best milliseconds per candidate gated `batch` per call against `pool`, and the decisions.

    The first WARM_UP batches are gated untimed, and the inverted index is built untimed: a
    long run builds its state gradually (RougeIndex indexes each item once, ~8 us, the first
    time it bounds), not while these few candidates are gated."""
    best, warm = float("inf"), WARM_UP * batch
    for _ in range(repeat):
        index = cls(threshold=THRESHOLD)
        index.extend(pool)
        for first in range(0, warm, batch):
            index.gate(candidates[first : first + batch])
        if hasattr(index, "_postings"):  # versions before it have no inverted index
            index._postings.catch_up(index._codes)
        decisions = []
        start = time.perf_counter()
        for first in range(warm, len(candidates), batch):
            decisions += index.gate(candidates[first : first + batch])
        best = min(best, (time.perf_counter() - start) / (len(candidates) - warm) * 1e3)
    return best, decisions


def evidence(decision: GateDecision) -> tuple:
    """What both versions must agree on: a drop's mean is only a bound in newer ones."""
    d = decision
    return (d.kept, d.max_score, d.most_similar, d.mean_score if d.kept else None)


def saturated(args: argparse.Namespace, seeds: list[str], everything: list[str]) -> int:
    """Print the saturated scenario's times; returns the number of differing decisions."""
    sizes = [int(size) for size in args.pool_sizes.split(",") if size.strip()]
    count, batch = args.saturated_n, args.batch or 80
    if not sizes:
        return 0
    base = seeds + everything
    base += generated_instructions(everything, max(0, max(sizes) + count - len(base)), seed=2)
    baseline = load_baseline(args.baseline) if args.baseline else None
    differ = 0
    for size in sizes:
        pool = base[:size]
        candidates = near_duplicates_of(pool, base[size : size + count], args.saturation)
        ours, decisions = time_saturated(RougeIndex, pool, candidates, batch, args.repeat)
        dropped = sum(not d.kept for d in decisions)
        line = f"saturated, pool {size:6,}: dropped {dropped}/{len(decisions)}, {ours:6.3f} ms"
        if baseline is not None:
            theirs, expected = time_saturated(baseline, pool, candidates, batch, args.repeat)
            wrong = sum(
                evidence(a) != evidence(b) for a, b in zip(decisions, expected, strict=True)
            )
            line += f", baseline {theirs:6.3f} ms: {theirs / ours:4.1f}x, {wrong} differ"
            differ += wrong
        print(line)
    return differ


def time_big_pool(pool: list[str], candidates: list[str], workers: int) -> tuple[float, float]:
    """Milliseconds per candidate against `pool`: gated one per call, then 80 per call."""
    index = RougeIndex(threshold=THRESHOLD, workers=workers)
    index.extend(pool)
    singles, batch = candidates[:20], candidates[20:100]
    start = time.perf_counter()
    for candidate in singles:
        index.gate([candidate])
    one = (time.perf_counter() - start) / len(singles)
    start = time.perf_counter()
    index.gate(batch)
    many = (time.perf_counter() - start) / len(batch)
    return one * 1e3, many * 1e3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", type=Path, required=True)
    parser.add_argument("--seeds", type=Path)
    parser.add_argument("-n", type=int, default=2300, help="candidates gated (default 2300)")
    parser.add_argument("--batch", type=int, default=80, help="candidates per gate() call")
    parser.add_argument("--big-pool", type=int, default=50_000, help="0 skips the big pool")
    parser.add_argument(
        "--near-dupes",
        type=float,
        default=0.25,
        help="fraction of candidates replaced by edits of earlier ones (default 0.25; the "
        "Alpaca sample alone passes the gate entirely, so nothing would be dropped)",
    )
    parser.add_argument(
        "--pool-sizes",
        default="2000,10000,50000",
        help="pool sizes of the saturated scenario, comma-separated ('' skips it)",
    )
    parser.add_argument(
        "--saturated-n",
        type=int,
        default=560,
        help=f"candidates per pool size, the first {WARM_UP} batches untimed (default 560)",
    )
    parser.add_argument(
        "--saturation",
        type=float,
        default=0.7,
        help="fraction of saturated candidates that are 1-2 word edits of a pool text or of an "
        "earlier candidate (default 0.7: about two thirds are dropped)",
    )
    parser.add_argument("--baseline", type=Path, help="another rouge.py to time against")
    parser.add_argument("--repeat", type=int, default=3, help="saturated timings: best of N")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    seeds = load_instructions(args.seeds) if args.seeds else []
    everything = load_instructions(args.instructions)
    candidates = with_near_duplicates(everything[: args.n], args.near_dupes)
    edited = sum(a != b for a, b in zip(candidates, everything, strict=False))
    print(f"N = {len(candidates)} candidates ({edited} near-duplicate edits), seeds {len(seeds)}")

    start = time.perf_counter()
    reference, pairs = reference_gate(seeds, candidates)
    t_ref = time.perf_counter() - start
    start = time.perf_counter()
    ours = ours_gate(seeds, candidates, args.batch)
    t_ours = time.perf_counter() - start
    differ = sum(a != b for a, b in zip(reference, ours, strict=True))
    kept = sum(keep for keep, _ in reference)
    print(
        f"kept {kept}, dropped {len(reference) - kept}, final pool {len(seeds) + kept}, "
        f"{pairs:,} pairs scored"
    )
    print(f"reference (rouge-score loop): {t_ref:8.2f} s  {t_ref / pairs * 1e9:8.0f} ns/pair")
    print(
        f"RougeIndex (batch {args.batch}):     {t_ours:8.3f} s  {t_ours / pairs * 1e9:8.1f} ns/pair"
    )
    print(f"speed ratio {t_ref / t_ours:.0f}x, differing decisions {differ}")

    if args.big_pool:
        pool = seeds + everything
        pool += generated_instructions(everything, max(0, args.big_pool - len(pool)))
        fresh = generated_instructions(everything, 100, seed=1)
        for workers in (1, -1):
            one, many = time_big_pool(pool[: args.big_pool], fresh, workers)
            print(
                f"pool {args.big_pool:,}, workers {workers:2}: {one:6.2f} ms/candidate one per "
                f"call, {many:6.2f} ms/candidate 80 per call"
            )
    differ += saturated(args, seeds, everything)
    return 1 if differ else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InstructgenError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
