"""The three ways to decide, greedy in the order given: each row is compared with the rows
kept before it and dropped when its best score is above the threshold.

A decider takes the texts in order and returns one Verdict each. A drop names the position of
the kept row it duplicates; an empty (normalized) text is never anyone's duplicate."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from pipeline.dedup.options import NUM_PERM, DedupOptions
from pipeline.dedup.text import normalize, shingles
from pipeline.filters.rouge.index import RougeIndex

# The kept rows' signatures grow by this many rows at a time (uint32: 512 bytes a row).
GROW = 65_536


class Verdict(NamedTuple):
    """`dup_of`: the position of the kept row this one duplicates, None for a keep. `score`:
    the best score against the kept rows before it. `similar`: a rouge keep's top 10 and
    mean, with --similarity only."""

    dup_of: int | None
    score: float
    similar: dict[str, Any] | None = None


def decide(texts: list[str], options: DedupOptions) -> list[Verdict]:
    """The verdicts of `options.by` over `texts`, in order."""
    if options.by == "rouge":
        return rouge_verdicts(texts, options.threshold, options.similarity)
    if options.by == "minhash":
        return list(minhash_verdicts(texts, options.threshold, options.ngram))
    return list(exact_verdicts(texts))


def rouge_verdicts(texts: list[str], threshold: float, similarity: bool) -> list[Verdict]:
    """Alpaca's gate: rouge-score's rougeL F (no stemmer) against every row kept before."""
    index = RougeIndex(threshold, top_k=10 if similarity else 1)
    first: dict[str, int] = {}  # a kept text's position; the gate names neighbours by text
    verdicts = []
    for i, decision in enumerate(index.gate(texts)):
        if decision.kept:
            first.setdefault(texts[i], i)
            verdicts.append(Verdict(None, decision.max_score, _similar(decision, similarity)))
        else:
            name, score = decision.most_similar[0]
            verdicts.append(Verdict(first[name], score))
    return verdicts


def _similar(decision: Any, similarity: bool) -> dict[str, Any] | None:
    if not similarity:
        return None
    top = [[text, round(score, 6)] for text, score in decision.most_similar]
    return {"most_similar": top, "avg_similarity": round(decision.mean_score, 6)}


def minhash_verdicts(texts: Iterable[str], threshold: float, ngram: int) -> Iterable[Verdict]:
    """datasketch's MinHash LSH over word n-grams; a candidate sharing a band is a duplicate
    when the signatures' estimated Jaccard is above the threshold. Holds only the LSH index
    and the kept rows' signatures, never a text."""
    from datasketch import MinHash, MinHashLSH

    seed = MinHash(num_perm=NUM_PERM)
    # The band keys as Python hashes: 8 bytes a band instead of datasketch's r * 4.
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, hashfunc=_band_hash)
    signatures = np.zeros((0, NUM_PERM), dtype=seed.hashvalues.dtype)
    kept = 0
    for i, text in enumerate(texts):
        grams = shingles(text, ngram)
        if not grams:
            yield Verdict(None, 0.0)
            continue
        m = MinHash(num_perm=NUM_PERM, permutations=seed.permutations, scheme=seed.scheme)
        m.update_batch(grams)
        dup_of, score = _best(lsh.query(m), signatures, m.hashvalues)
        if score > threshold:
            yield Verdict(dup_of, score)
            continue
        if kept == len(signatures):
            signatures = np.concatenate((signatures, np.zeros((GROW, NUM_PERM), signatures.dtype)))
        signatures[kept] = m.hashvalues
        lsh.insert((kept, i), m, check_duplication=False)
        kept += 1
        yield Verdict(None, score)


def _band_hash(band: bytes) -> bytes:
    return hash(band).to_bytes(8, "little", signed=True)


def _best(candidates: list, signatures: np.ndarray, values: np.ndarray) -> tuple[int | None, float]:
    """The candidate with the highest estimated Jaccard (the earliest on a tie)."""
    if not candidates:
        return None, 0.0
    candidates.sort()
    slots = np.array([c[0] for c in candidates])
    jaccard = (signatures[slots] == values).mean(axis=1)
    best = int(jaccard.argmax())
    return candidates[best][1], float(jaccard[best])


def exact_verdicts(texts: Iterable[str]) -> Iterable[Verdict]:
    """Equality of normalized text; holds a 16-byte digest per kept row."""
    first: dict[bytes, int] = {}
    for i, text in enumerate(texts):
        norm = normalize(text)
        if not norm:
            yield Verdict(None, 0.0)
            continue
        key = hashlib.blake2b(norm.encode(), digest_size=16).digest()
        earlier = first.setdefault(key, i)
        yield Verdict(None, 0.0) if earlier == i else Verdict(earlier, 1.0)
