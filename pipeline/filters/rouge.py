"""The ROUGE-L novelty gate: rouge-score's rougeL F-measure, exactly, with LCS in native code.

Each instruction is tokenized once as rouge-score's default tokenizer does (no stemmer); every
distinct token becomes one character, so an instruction becomes a short string and rapidfuzz's
LCSseq gives the token-level LCS for a whole batch against the whole pool in one cdist call.

Late in a run most candidates are drops, and a drop needs only its nearest neighbour. Then the
gate bounds first: an inverted index gives each pool item's token overlap with the candidate,
an upper bound of their LCS, and only the items whose bound reaches the threshold are scored
exactly. Kept candidates still get their full row (the top k and the mean), in one cdist per
chunk. While few candidates are dropped, bounding does not pay, and every candidate gets its
full row as before.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ConfigError
from pipeline.filters.rouge_kernels import (
    Postings,
    best_of,
    f_by_table,
    f_measure,
    lcs_matrix,
    lcs_pairs,
    row_bests,
    token_char,
    top_k_indices,
)

# rouge-score's tokenize also drops pieces not matching [a-z0-9]+ after the split, but after
# this replacement only empty ones could fail: str.split() drops those, in half the time.
NON_ALNUM = re.compile(r"[^a-z0-9]+")
# rapidfuzz threads split the queries in SIMD groups and take ~0.2 ms to start, so on 2 cores
# they pay off only from about 64 queries and 100K pairs (measured); fewer queries split the
# choices among threads of our own; under 100K pairs one thread does it all.
SERIAL_PAIRS, PARALLEL_ROWS = 100_000, 64
# Pairs scored per full-row cdist call at most (80 kept candidates against 50K): memory.
PAIR_BUDGET = 4_000_000
# F-measures are computed this many pairs at a time so the temporaries stay in the L2 cache.
F_BLOCK = 32_768
# Candidates per chunk: the in-chunk cdist costs rows^2 pairs; the kept ones of a chunk get
# their full rows together (rapidfuzz's threads need about 64 rows to pay off). Scoring every
# pair, a chunk is also at most PAIR_BUDGET pairs, and at least MIN_CHUNK rows so that one
# cdist call amortises converting the pool.
MIN_CHUNK, MAX_CHUNK = 16, 256
# Bounding costs ~2 ns per pool item and ~20 us per candidate; scoring every pair ~20 ns per
# item. So it pays when the last chunk's drop rate was >= BOUND_DROPS + BOUND_POOL / pool size
# (measured: 60% drops at a 2K pool, 20% at 10K, 12% at 50K).
BOUND_DROPS, BOUND_POOL = 0.1, 1000
# The overlap bound is tested against a threshold lowered by this much: the exact F is computed
# in floating point, and an item scoring just above the threshold must never fail the bound.
BOUND_MARGIN = 1e-9
# A kept row's F comes from a table of its (lcs, length) pairs when the row is at least this
# many times the table's size: 3 array passes instead of 9.
TABLE_RATIO = 4


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's verdict on one candidate and the evidence for it."""

    kept: bool
    max_score: float
    most_similar: list[tuple[str, float]]  # a keep's top k; a drop's nearest neighbour only
    mean_score: float  # exact for a keep; for a drop possibly a lower bound (see _gate_chunk)


class RougeIndex:
    """An incremental pool of instructions that gates candidates on ROUGE-L novelty."""

    def __init__(self, threshold: float = 0.7, top_k: int = 10, workers: int = -1):
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"ROUGE-L threshold {threshold} is out of range; use 0..1")
        if top_k < 1 or workers == 0 or workers < -1:
            raise ConfigError("top_k must be >= 1 and workers >= 1 (or -1 for all cores)")
        self.threshold, self.top_k, self.workers = threshold, top_k, workers
        self._texts: list[str] = []
        self._codes: list[str] = []
        self._lens = np.zeros(64)
        self._vocab: dict[str, str] = {}
        self._postings = Postings()
        self._drop_rate = 0.0  # of the last chunk: whether bounding pays off

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, instruction: str) -> None:
        """Add one instruction to the pool."""
        self._append(instruction, self._encode(instruction))

    def extend(self, instructions: list[str]) -> None:
        """Add instructions to the pool, in order."""
        for instruction in instructions:
            self.add(instruction)

    def scores(self, instruction: str) -> np.ndarray:
        """ROUGE-L F of one instruction against every pool instruction, in pool order."""
        code = self._encode(instruction)
        n = len(self._codes)
        lcs = self._lcs([code], self._codes)
        return f_measure(lcs, np.array([[len(code)]]), self._lens[None, :n])[0]

    def gate(self, candidates: list[str], limit: int | None = None) -> list[GateDecision]:
        """Score candidates in order against the pool and the ones kept before them.

        A candidate is kept when its best score is <= threshold, and joins the pool at once.
        After `limit` kept candidates the rest get no decision (the result is shorter).
        """
        codes = [self._encode(c) for c in candidates]
        decisions: list[GateDecision] = []
        kept = 0
        while len(decisions) < len(candidates) and (limit is None or kept < limit):
            bound = self._drop_rate >= BOUND_DROPS + BOUND_POOL / max(len(self), 1)
            budget = PAIR_BUDGET // max(len(self), 1)
            rows = MAX_CHUNK if bound else max(MIN_CHUNK, min(MAX_CHUNK, budget))
            if limit is not None:
                rows = min(rows, limit - kept)  # each candidate keeps at most one
            start = len(decisions)
            chunk = self._gate_chunk(
                candidates[start : start + rows], codes[start : start + rows], bound
            )
            decisions += chunk
            kept += sum(d.kept for d in chunk)
            self._drop_rate = sum(not d.kept for d in chunk) / len(chunk)
        return decisions

    def _gate_chunk(self, texts: list[str], codes: list[str], bound: bool) -> list[GateDecision]:
        """Each candidate's nearest pool item, one cdist within the chunk, sequential decisions.

        With `bound`, a drop's mean_score is a lower bound of its mean over the pool: pool items
        whose overlap bound ruled them out count as 0 (exact when every item was scored). The
        runner ignores it; a keep's mean is exact.
        """
        n_pool = len(self._codes)
        cand_len = np.array([len(c) for c in codes], dtype=np.float64)
        full = None
        if bound:
            nearest = self._nearest(codes, cand_len, n_pool)
        else:
            full = self._f_matrix(codes, cand_len, self._codes, self._lens[:n_pool])
            nearest = row_bests(full)
        self_f = self._f_matrix(codes, cand_len, codes, cand_len)
        decisions, kept = self._decide(nearest, self_f, texts)
        for r, (i, pool_row) in enumerate(self._kept_rows(codes, kept, full)):
            row = np.concatenate((pool_row, self_f[i, kept[:r]]))
            decisions[i] = self._kept_decision(row, n_pool, texts, kept)
        for i in kept:
            self._append(texts[i], codes[i])
        return decisions

    def _kept_rows(
        self, codes: list[str], kept: list[int], full: np.ndarray | None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Each kept candidate's F row against the pool: from `full`, or batched cdist calls."""
        if full is not None:
            yield from ((i, full[i]) for i in kept)
            return
        score = self._row_scorer(len(self._codes))
        step = max(1, PAIR_BUDGET // max(len(self._codes), 1))
        for first in range(0, len(kept), step):
            batch = kept[first : first + step]
            lcs = self._lcs([codes[i] for i in batch], self._codes)
            yield from ((i, score(lcs[r], len(codes[i]))) for r, i in enumerate(batch))

    def _row_scorer(self, n_pool: int) -> Callable[[np.ndarray, int], np.ndarray]:
        """F of one candidate's LCS row against the pool, by table when the table is small."""
        lens = self._lens[:n_pool]
        lens_int, width = lens.astype(np.int32), int(lens.max(initial=0)) + 1

        def score(lcs: np.ndarray, size: int) -> np.ndarray:
            if TABLE_RATIO * (size + 1) * width <= n_pool:
                return f_by_table(lcs, size, lens_int, width)
            return f_measure(lcs, np.float64(size), lens)

        return score

    def _decide(
        self, nearest: list[tuple[float, int, float]], self_f: np.ndarray, texts: list[str]
    ) -> tuple[list[GateDecision], list[int]]:
        """The sequential decisions; keeps get a placeholder, their evidence needs a full row."""
        n_pool = len(self._codes)
        kept: list[int] = []
        decisions: list[GateDecision] = []
        for i, (best, where, total) in enumerate(nearest):
            if kept:
                extra = self_f[i, kept]
                j = int(extra.argmax())
                if extra[j] > best:  # on a tie the pool item, which comes first, stays
                    best, where = float(extra[j]), n_pool + j
                total += float(extra.sum())
            size = n_pool + len(kept)
            if size and best > self.threshold:
                name = self._texts[where] if where < n_pool else texts[kept[where - n_pool]]
                decisions.append(GateDecision(False, best, [(name, best)], total / size))
            else:
                decisions.append(GateDecision(True, best, [], 0.0))
                kept.append(i)
        return decisions, kept

    def _nearest(
        self, codes: list[str], cand_len: np.ndarray, n_pool: int
    ) -> list[tuple[float, int, float]]:
        """Each code's nearest pool item as far as it matters: (score, index, sum of scores).

        When the score beats the threshold it is the exact maximum over the pool, at its lowest
        index: every item left unscored has F below the threshold. Otherwise it is the best of
        the items scored, at most the threshold, and all the gate needs to know.
        """
        self._postings.catch_up(self._codes)
        near = [self._passing(code, n_pool) for code in codes]
        # Most items pass (a tiny threshold): one cdist row costs less than as many pairs.
        whole = [2 * items.size > n_pool for items in near]
        counts = [0 if w else items.size for w, items in zip(whole, near, strict=True)]
        rows = np.repeat(np.arange(len(codes)), counts)
        cols = np.concatenate([items[:k] for items, k in zip(near, counts, strict=True)])
        lcs = lcs_pairs([codes[i] for i in rows.tolist()], [self._codes[j] for j in cols.tolist()])
        flat_f = f_measure(lcs, cand_len[rows], self._lens[cols])
        found, start = [], 0
        for i, items in enumerate(near):
            if whole[i]:
                items = np.arange(n_pool)
                f = f_measure(self._lcs([codes[i]], self._codes)[0], cand_len[i], self._lens[items])
            else:
                f, start = flat_f[start : start + items.size], start + items.size
            score, j, total = best_of(f)
            found.append((score, int(items[j]) if f.size else -1, total))
        return found

    def _passing(self, code: str, n_pool: int) -> np.ndarray:
        """The pool items whose token overlap with `code` could make its F reach the threshold."""
        t, size = self.threshold - BOUND_MARGIN, len(code)
        overlap = self._postings.overlap(code)
        # LCS <= overlap <= len_p, so reaching t needs overlap >= t*size/(2-t): an integer test
        # that leaves few items for the exact bound, 2*overlap >= t*(size + len_p).
        floor = math.ceil(t * size / (2 - t) - 1e-6)
        near = np.flatnonzero(overlap >= floor) if floor > 0 else np.arange(n_pool)
        return near[2 * overlap[near] >= t * (size + self._lens[near])]

    def _kept_decision(
        self, row: np.ndarray, n_pool: int, texts: list[str], kept: list[int]
    ) -> GateDecision:
        """A keep's evidence: the top k over the pool as it stood, and the exact mean."""
        top = top_k_indices(row, self.top_k) if row.size else []
        names = [self._texts[j] if j < n_pool else texts[kept[j - n_pool]] for j in top]
        return GateDecision(
            kept=True,
            max_score=float(row[top[0]]) if row.size else 0.0,
            most_similar=[(s, float(row[j])) for s, j in zip(names, top, strict=True)],
            mean_score=float(row.sum()) / row.size if row.size else 0.0,
        )

    def _f_matrix(
        self, queries: list[str], q_len: np.ndarray, choices: list[str], c_len: np.ndarray
    ) -> np.ndarray:
        """F-measures of every query against every choice."""
        lcs = self._lcs(queries, choices)
        f = np.empty(lcs.shape)
        step = max(1, F_BLOCK // max(len(choices), 1))
        for start in range(0, len(queries), step):
            rows = slice(start, start + step)
            f[rows] = f_measure(lcs[rows], q_len[rows, None], c_len[None, :])
        return f

    def _lcs(self, queries: list[str], choices: list[str]) -> np.ndarray:
        if not queries or not choices:
            return np.zeros((len(queries), len(choices)), dtype=np.int32)
        threads = (os.cpu_count() or 1) if self.workers == -1 else self.workers
        if len(queries) * len(choices) < SERIAL_PAIRS or threads == 1:
            return lcs_matrix(queries, choices, 1)
        if len(queries) >= PARALLEL_ROWS:
            return lcs_matrix(queries, choices, self.workers)
        # Too few queries for rapidfuzz's threads: split the choices instead (cdist frees the GIL).
        step = -(-len(choices) // threads)
        parts = [choices[start : start + step] for start in range(0, len(choices), step)]
        with ThreadPoolExecutor(len(parts)) as pool:
            return np.hstack(list(pool.map(lambda part: lcs_matrix(queries, part, 1), parts)))

    def _encode(self, text: str) -> str:
        """The instruction's tokens as one string, one character per distinct token."""
        tokens = tokenize(text)
        vocab = self._vocab
        for token in tokens:
            if token not in vocab:
                vocab[token] = token_char(len(vocab))
        return "".join([vocab[t] for t in tokens])

    def _append(self, text: str, code: str) -> None:
        n = len(self._codes)
        if n == self._lens.size:
            self._lens = np.concatenate((self._lens, np.zeros(n)))  # doubling: O(1) amortised
        self._lens[n] = len(code)
        self._texts.append(text)
        self._codes.append(code)


def tokenize(text: str) -> list[str]:
    """rouge-score's default tokens (lowercase ASCII letters and digits), without a stemmer."""
    return NON_ALNUM.sub(" ", text.lower()).split()
