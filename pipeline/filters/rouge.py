"""The ROUGE-L novelty gate: rouge-score's rougeL F-measure, exactly, with LCS in native code.

Each instruction is tokenized once with rouge-score's default tokenizer (no stemmer); every
distinct token becomes one character, so an instruction becomes a short string and rapidfuzz's
LCSseq gives the token-level LCS for a whole batch against the whole pool in one cdist call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq
from rouge_score.tokenize import tokenize  # DefaultTokenizer's own function, minus nltk

from pipeline.errors import ConfigError, InstructgenError

# rapidfuzz threads split the queries in SIMD groups and take ~0.2 ms to start, so on 2 cores
# they pay off only from about 64 queries and 100K pairs (measured); smaller calls use one.
SERIAL_PAIRS, PARALLEL_ROWS = 100_000, 64
# Pairs scored per cdist call at most (80 candidates against 50K), to bound memory.
PAIR_BUDGET = 4_000_000
# F-measures are computed this many pairs at a time so the temporaries stay in the L2 cache.
F_BLOCK = 32_768
# Candidates per chunk: the in-chunk cdist costs rows^2 pairs, so chunks stay small next to
# the pool; at least MIN_CHUNK so that one cdist call amortises converting the pool.
MIN_CHUNK, MAX_CHUNK = 16, 256
# Up to this many scores a full stable sort finds the top k faster than selecting (measured).
SMALL_SORT = 1024

_SURROGATES = 0x800  # code points 0xD800..0xDFFF are skipped when numbering tokens
_MAX_TOKENS = 0x110000 - _SURROGATES - 1


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's verdict on one candidate and the evidence for it."""

    kept: bool
    max_score: float
    most_similar: list[tuple[str, float]]
    mean_score: float


def f_measure(lcs: np.ndarray, cand_len: np.ndarray, pool_len: np.ndarray) -> np.ndarray:
    """rouge-score's LCS F-measure, bit for bit: P = lcs/pool_len, R = lcs/cand_len, (2P)R/(P+R).

    The algebraically equal 2*lcs/(cand_len+pool_len) rounds differently at 0.7 and would flip
    keep/drop decisions, so the operations follow rouge-score's order exactly. `lcs` has the
    result's shape; the lengths broadcast against it.
    """
    lcs = np.asarray(lcs)
    # Plain in-place ufuncs, then a mask: 4x faster than masked ufuncs. Where lcs is 0 (every
    # pair with an empty side included) the quotients are 0/0 = nan and become rouge-score's 0.
    r = lcs.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = r / pool_len
        r /= cand_len
        total = p + r
        p *= 2
        p *= r
        p /= total
    p[lcs == 0] = 0.0
    return p


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first, equal scores in index order; O(n)."""
    n = scores.size
    if n <= max(SMALL_SORT, 2 * k):
        return np.argsort(-scores, kind="stable")[:k]
    # The maxima of k columns are k distinct elements, so their minimum is at most the k-th
    # largest score: only scores at or above it can make the top k. Usually a handful.
    floor = scores[: n // k * k].reshape(-1, k).max(axis=0).min()
    picked = np.flatnonzero(scores >= floor)
    if picked.size > k:
        sub = scores[picked]
        kth = np.partition(sub, sub.size - k)[sub.size - k]
        above = picked[sub > kth]
        picked = np.concatenate((above, picked[sub == kth][: k - above.size]))
    return picked[np.argsort(-scores[picked], kind="stable")]


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
            rows = max(MIN_CHUNK, min(MAX_CHUNK, PAIR_BUDGET // max(len(self), 1)))
            if limit is not None:
                rows = min(rows, limit - kept)  # each candidate keeps at most one
            start = len(decisions)
            chunk = self._gate_chunk(candidates[start : start + rows], codes[start : start + rows])
            decisions += chunk
            kept += sum(d.kept for d in chunk)
        return decisions

    def _gate_chunk(self, texts: list[str], codes: list[str]) -> list[GateDecision]:
        """One cdist against the pool, one within the chunk, then the sequential decisions."""
        n_pool = len(self._codes)
        cand_len = np.array([len(c) for c in codes], dtype=np.float64)
        pool_f = self._f_matrix(codes, cand_len, self._codes, self._lens[:n_pool])
        self_f = self._f_matrix(codes, cand_len, codes, cand_len)
        if n_pool:
            pool_max, pool_arg, pool_sum = pool_f.max(axis=1), pool_f.argmax(axis=1), pool_f.sum(1)
        kept: list[int] = []
        decisions = []
        for i in range(len(codes)):
            best, where, total = (
                (float(pool_max[i]), int(pool_arg[i]), pool_sum[i]) if n_pool else (0.0, -1, 0.0)
            )
            if kept:
                extra = self_f[i, kept]
                j = int(extra.argmax())
                if extra[j] > best:  # on a tie the pool item, which comes first, stays
                    best, where = float(extra[j]), n_pool + j
                total += extra.sum()
            size = n_pool + len(kept)
            if size and best > self.threshold:
                # A drop needs only its nearest neighbour as evidence, not the top k: the
                # cheap path, since in a saturated pool most candidates are drops.
                name = self._texts[where] if where < n_pool else texts[kept[where - n_pool]]
                decisions.append(GateDecision(False, best, [(name, best)], float(total) / size))
                continue
            decisions.append(self._kept_decision(i, best, pool_f, self_f, kept, texts))
            kept.append(i)
        for i in kept:
            self._append(texts[i], codes[i])
        return decisions

    def _kept_decision(
        self,
        i: int,
        best: float,
        pool_f: np.ndarray,
        self_f: np.ndarray,
        kept: list[int],
        texts: list[str],
    ) -> GateDecision:
        """A keep's evidence: the top k over the pool as it stood, and the exact mean."""
        n_pool = pool_f.shape[1]
        row = np.concatenate((pool_f[i], self_f[i, kept])) if kept else pool_f[i]
        top = top_k_indices(row, self.top_k) if row.size else []
        names = [self._texts[j] if j < n_pool else texts[kept[j - n_pool]] for j in top]
        return GateDecision(
            kept=True,
            max_score=best,
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
        small = len(queries) < PARALLEL_ROWS or len(queries) * len(choices) < SERIAL_PAIRS
        return process.cdist(
            queries,
            choices,
            scorer=LCSseq.similarity,
            dtype=np.int32,
            workers=1 if small else self.workers,
        )

    def _encode(self, text: str) -> str:
        """The instruction's tokens as one string, one character per distinct token."""
        tokens = tokenize(text, None)
        vocab = self._vocab
        for token in tokens:
            if token not in vocab:
                vocab[token] = _token_char(len(vocab))
        return "".join([vocab[t] for t in tokens])

    def _append(self, text: str, code: str) -> None:
        n = len(self._codes)
        if n == self._lens.size:
            self._lens = np.concatenate((self._lens, np.zeros(n)))  # doubling: O(1) amortised
        self._lens[n] = len(code)
        self._texts.append(text)
        self._codes.append(code)


def _token_char(token_id: int) -> str:
    if token_id >= _MAX_TOKENS:
        raise InstructgenError(
            f"the ROUGE-L index holds more than {_MAX_TOKENS} distinct tokens; "
            "gate against a smaller pool"
        )
    code = token_id + 1
    return chr(code if code < 0xD800 else code + _SURROGATES)
