"""The ROUGE-L novelty gate: rouge-score's rougeL F-measure, exactly, with LCS in native code.

Each instruction is tokenized once as rouge-score's default tokenizer does (no stemmer); every
distinct token becomes one character, so an instruction becomes a short string and rapidfuzz's
LCSseq gives the token-level LCS for a batch against the whole pool in one cdist call.

A keep needs its full row (Alpaca stores the top k and the mean); a drop needs only its nearest
neighbour. Late in a run most candidates are drops: then the gate first looks for each one's
pool items above the threshold by prefix filtering (pipeline/filters/rouge/prefix.py), and
only the candidates with none get a full row, against the pool and their own chunk at once.
While few candidates are dropped, that search does not pay, and every candidate gets its row.
"""

from __future__ import annotations

import math
import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.errors import ConfigError
from pipeline.filters.rouge.chunk import ChunkDecider, GateDecision
from pipeline.filters.rouge.kernels import best_of, f_measure, f_rows, lcs_length, lcs_matrix
from pipeline.filters.rouge.prefix import Postings
from pipeline.filters.rouge.vocab import Vocab

# rouge-score's tokenize also drops pieces not matching [a-z0-9]+ after the split, but after
# this replacement only empty ones could fail: str.split() drops those, in half the time.
NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Many texts are tokenized in one pass, joined by NUL (kept, to split them apart again).
NON_ALNUM_NUL = re.compile(r"[^a-z0-9\0]+")
# rapidfuzz threads split the queries in SIMD groups and take ~0.2 ms to start, so on 2 cores
# they pay off only from about 64 queries and 100K pairs (measured); fewer queries split the
# choices among threads of our own; under 100K pairs one thread does it all.
SERIAL_PAIRS, PARALLEL_ROWS = 100_000, 64
# Pairs scored per cdist call at most (80 rows against 50K): memory.
PAIR_BUDGET = 4_000_000
# Candidates per chunk. Scoring every pair, a chunk is also at most PAIR_BUDGET pairs, and at
# least MIN_CHUNK rows so that one cdist call amortises converting the pool.
MIN_CHUNK, MAX_CHUNK = 16, 256
# The search costs ~25 us per candidate; a row ~30 us plus ~20 ns per pool item. So it pays
# when the last chunk's drop rate was >= BOUND_DROPS + BOUND_POOL / pool size: 65% at 1,000,
# 25% at 3,000, 12% at 8,000 (measured on the stub run's candidates).
BOUND_DROPS, BOUND_POOL = 0.05, 600
# The search's bounds are tested against a threshold lowered by this much: the exact F is
# computed in floating point, and an item scoring just above the threshold must never fail one.
BOUND_MARGIN = 1e-9
# Up to this many items passing the bounds are scored one call each; more take one cdist.
LOOP_MAX = 40


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
        self._first: dict[str, int] = {}  # each code's first pool index: exact duplicates
        self._lens = np.zeros(64)
        self._vocab = Vocab()
        self._postings = Postings()
        self._drop_rate = 0.0  # of the last chunk: whether searching pays off

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
        if self._vocab.due():
            self._renumber()
        codes = self._encode_all(candidates)
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
        """Decide a chunk in order: rows for the candidates not known to be drops, in batches."""
        n_pool = len(self._codes)
        near = self._nearest(codes) if bound else None
        chunk = ChunkDecider(self.threshold, self.top_k, self._texts, texts, codes, near)
        pending = [i for i in range(len(codes)) if near is None or near[i][0] <= self.threshold]
        choices = self._codes + codes
        col_len = np.concatenate((self._lens[:n_pool], [len(c) for c in codes])).astype(np.int32)
        step = max(1, PAIR_BUDGET // len(choices))
        for first in range(0, len(pending), step):
            batch = pending[first : first + step]
            lcs = self._lcs([codes[i] for i in batch], choices)
            chunk.take_rows(batch, f_rows(lcs, [len(codes[i]) for i in batch], col_len))
        decisions = chunk.finish()
        for i in chunk.kept:
            self._append(texts[i], codes[i])
        self._vocab.gated(len(chunk.kept))
        return decisions

    def _nearest(self, codes: list[str]) -> list[tuple[float, int, float]]:
        """Each code's nearest pool item as far as it matters: (score, index, sum of scores).

        When the score beats the threshold it is the exact maximum over the pool, at its lowest
        index: every item left unscored has F below the threshold. Otherwise it is the best of
        the items scored, at most the threshold, and all the gate needs to know; the sum, over
        the items scored only, is a lower bound.
        """
        self._postings.catch_up(self._codes)
        t = self.threshold - BOUND_MARGIN
        found: list[tuple[float, int, float]] = [(0.0, -1, 0.0)] * len(codes)  # no tokens: F 0
        search, floors = [], []
        for i, code in enumerate(codes):
            twin = self._first.get(code) if code else None
            # LCS <= overlap <= len_p, so reaching t needs overlap >= t*size/(2-t), and then
            # 2*overlap >= t*(size + len_p); the search bounds each item's overlap from above.
            floor = math.ceil(t * len(code) / (2 - t) - 1e-6)
            if twin is not None:
                found[i] = (1.0, twin, 1.0)  # F is 1 only for the same tokens: the maximum
            elif floor > 0:
                search.append(i)
                floors.append(floor)
            elif code:  # a tiny threshold: every item may pass
                found[i] = self._best(code, np.arange(len(self._codes)))
        owner, items, upper = self._postings.candidates_many([codes[i] for i in search], floors)
        sizes = np.array([len(codes[i]) for i in search], dtype=np.float64)
        passing = 2 * upper >= t * (sizes[owner] + self._lens[items])
        owner, items = owner[passing], items[passing]
        bounds = np.searchsorted(owner, np.arange(len(search) + 1)).tolist()
        for s, i in enumerate(search):
            found[i] = self._best(codes[i], items[bounds[s] : bounds[s + 1]])
        return found

    def _best(self, code: str, items: np.ndarray) -> tuple[float, int, float]:
        """best_of over the given pool items, in index order."""
        if items.size <= LOOP_MAX:
            return _best_in_loop(code, items.tolist(), self._codes)
        lcs = self._lcs([code], [self._codes[j] for j in items])[0]
        score, j, total = best_of(f_measure(lcs, len(code), self._lens[items]))
        return score, int(items[j]), total

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
        return self._vocab.code(tokenize(text))

    def _encode_all(self, texts: list[str]) -> list[str]:
        """_encode of each text, tokenized in one regex pass: str.lower() changes no character
        by its neighbours but a final sigma, which is no token character either way."""
        joined = NON_ALNUM_NUL.sub(" ", "\0".join(texts).lower()).split("\0")
        if len(joined) != len(texts):  # a text holds a NUL itself
            return [self._encode(text) for text in texts]
        return [self._vocab.code(piece.split()) for piece in joined]

    def _renumber(self) -> None:
        """Renumber the tokens by frequency (vocab.py) and translate the pool's codes."""
        table = self._vocab.rerank(self._codes)
        self._codes = [code.translate(table) for code in self._codes]
        self._first = {}
        for i, code in enumerate(self._codes):
            self._first.setdefault(code, i)
        self._postings.translate(table)

    def _append(self, text: str, code: str) -> None:
        n = len(self._codes)
        if n == self._lens.size:
            self._lens = np.concatenate((self._lens, np.zeros(n)))  # doubling: O(1) amortised
        self._lens[n] = len(code)
        self._texts.append(text)
        self._codes.append(code)
        self._first.setdefault(code, n)


def _best_in_loop(code: str, items: list[int], codes: list[str]) -> tuple[float, int, float]:
    """best_of over a few items, each scored by one LCS call and rouge-score's own arithmetic."""
    best, where, total, size = 0.0, -1, 0.0, len(code)
    for j in items:
        other = codes[j]
        lcs = lcs_length(code, other)
        if lcs:
            precision, recall = lcs / len(other), lcs / size
            f = precision * 2 * recall / (precision + recall)  # f_measure's order of operations
            total += f
            if f > best:
                best, where = f, j
    return best, where, total


def tokenize(text: str) -> list[str]:
    """rouge-score's default tokens (lowercase ASCII letters and digits), without a stemmer."""
    return NON_ALNUM.sub(" ", text.lower()).split()
