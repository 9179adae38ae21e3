"""`instructgen dedup` at dataset scale: rouge over 250K rows, minhash over 1M, side by side.

    python benchmarks/dedup.py /work/shared/data/alpaca_sample_5000.jsonl
    python benchmarks/dedup.py ALPACA.jsonl --rouge-rows 20000 --minhash-rows 50000 --quick

The rows are the sample's instructions, then controlled edits of them (seeded by the row's
number): a light edit (one word swapped, dropped, inserted or duplicated) of LIGHT_SHARE of
them, a heavy one (most words replaced by another instruction's) of the rest. Each mode runs
the whole command (read a JSONL file, decide, write the folder) in a child process of its
own, so its peak RSS is its own. The rouge decisions are checked against rouge-score's
RougeScorer(['rougeL']) in a greedy loop on a seeded sample; minhash's drops are compared
with the exact rouge decisions on a subset (precision: minhash drops that rouge drops too;
recall: rouge drops that minhash finds).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import tempfile
import time
from pathlib import Path

from rouge_score import rouge_scorer

from pipeline.dedup import DedupOptions, dedup
from pipeline.dedup.compare import minhash_verdicts, rouge_verdicts

LIGHT_SHARE = 0.8
THRESHOLD = 0.7


def base_instructions(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["instruction"] for line in f if line.strip()]


def edited(base: list[str], k: int) -> str:
    """Row k: the k-th instruction itself, then an edit of base[k % len(base)]."""
    if k < len(base):
        return base[k]
    rng = random.Random(k)
    words = base[k % len(base)].split()
    if rng.random() >= LIGHT_SHARE:  # heavy: most words replaced, from another instruction
        other = rng.choice(base).split()
        return " ".join(w if rng.random() < 0.3 else rng.choice(other) for w in words)
    i = rng.randrange(len(words))
    op = rng.choice(("swap", "drop", "insert", "duplicate"))
    if op == "swap" and len(words) > 1:
        j = rng.randrange(len(words))
        words[i], words[j] = words[j], words[i]
    elif op == "drop" and len(words) > 1:
        del words[i]
    elif op == "duplicate":
        words.insert(i, words[i])
    else:
        words.insert(i, rng.choice(rng.choice(base).split()))
    return " ".join(words)


def rows(base: list[str], n: int) -> list[str]:
    return [edited(base, k) for k in range(n)]


def reference_kept(texts: list[str]) -> list[bool]:
    """rouge-score's greedy gate: kept when no kept text before scores above the threshold."""
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    kept: list[str] = []
    decisions = []
    for text in texts:
        ok = all(scorer.score(k, text)["rougeL"].fmeasure <= THRESHOLD for k in kept)
        decisions.append(ok)
        if ok:
            kept.append(text)
    return decisions


def run_command(texts: list[str], by: str) -> dict:
    """The whole command over a JSONL file of `texts`; run in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "rows.jsonl"
        with data.open("w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"instruction": t, "input": "", "output": "x"}) + "\n")
        del texts
        start = time.perf_counter()
        stats = dedup([data], Path(tmp) / "out", DedupOptions(by=by))
        seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB to GiB
    funnel = stats["funnel"]
    return {"seconds": seconds, "gib": rss, "drop": funnel["dropped_total"] / funnel["generated"]}


def in_child(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def rouge_vs_reference(texts: list[str], sample: int) -> tuple[int, int]:
    """(differing decisions, sample size) on a seeded sample, in input order."""
    picked = sorted(random.Random(0).sample(range(len(texts)), min(sample, len(texts))))
    chosen = [texts[i] for i in picked]
    ours = [v.dup_of is None for v in rouge_verdicts(chosen, THRESHOLD, False)]
    theirs = reference_kept(chosen)
    return sum(a != b for a, b in zip(ours, theirs, strict=True)), len(chosen)


def drops(verdicts) -> set[int]:
    return {i for i, v in enumerate(verdicts) if v.dup_of is not None}


def minhash_vs_rouge(texts: list[str], ngram: int) -> tuple[float, float, float]:
    """(precision, recall, rouge's drop share) of minhash's drops on `texts`."""
    exact = drops(rouge_verdicts(texts, THRESHOLD, False))
    approx = drops(minhash_verdicts(texts, THRESHOLD, ngram))
    both = len(exact & approx)
    return both / max(len(approx), 1), both / max(len(exact), 1), len(exact) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sample", type=Path, help="Alpaca JSONL (alpaca_sample_5000.jsonl)")
    parser.add_argument("--rouge-rows", type=int, default=250_000)
    parser.add_argument("--minhash-rows", type=int, default=1_000_000)
    parser.add_argument("--reference-rows", type=int, default=5_000)
    parser.add_argument("--subset", type=int, default=50_000)
    args = parser.parse_args()
    base = base_instructions(args.sample)
    table = []
    rouge = in_child(run_command, rows(base, args.rouge_rows), "rouge")
    table.append(("rouge", args.rouge_rows, rouge, "goal <= 180 s"))
    minhash = in_child(run_command, rows(base, args.minhash_rows), "minhash")
    table.append(("minhash", args.minhash_rows, minhash, "goal <= 300 s, <= 4 GiB"))
    start = time.perf_counter()
    differ, checked = rouge_vs_reference(rows(base, args.rouge_rows), args.reference_rows)
    reference_s = time.perf_counter() - start
    subset = rows(base, args.subset)
    agreement = {n: minhash_vs_rouge(subset, n) for n in (3, 1)}
    print(f"{'mode':8} {'rows':>10} {'seconds':>8} {'peak GiB':>9} {'dropped':>8}  goal")
    for name, n, r, goal in table:
        print(f"{name:8} {n:>10,} {r['seconds']:>8.1f} {r['gib']:>9.2f} {r['drop']:>8.1%}  {goal}")
    print(
        f"rouge vs rouge-score on {checked:,} sampled rows: {differ} decisions differ "
        f"({reference_s:.0f} s with the reference)"
    )
    for n, (precision, recall, share) in agreement.items():
        print(
            f"minhash --ngram {n} vs rouge on the first {args.subset:,} rows (rouge drops "
            f"{share:.1%}): precision {precision:.3f}, recall {recall:.3f}"
        )


if __name__ == "__main__":
    main()
