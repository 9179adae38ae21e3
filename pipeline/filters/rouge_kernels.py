"""The arithmetic under the ROUGE-L gate: rouge-score's F-measure bit for bit, the top k,
the token-overlap bound, and rapidfuzz's LCS calls. pipeline/filters/rouge.py holds the index."""

from __future__ import annotations

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from pipeline.errors import InstructgenError

# Up to this many scores a full stable sort finds the top k faster than selecting (measured).
SMALL_SORT = 1024
_SURROGATES = 0x800  # code points 0xD800..0xDFFF are skipped when numbering tokens
_MAX_TOKENS = 0x110000 - _SURROGATES - 1


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


def f_by_table(lcs: np.ndarray, cand_len: int, pool_len: np.ndarray, width: int) -> np.ndarray:
    """f_measure of one candidate's row, looked up in a table over every (lcs, pool_len) pair.

    The table holds f_measure's own results, so the bits are the same; it is cheaper when the
    table, (cand_len + 1) * width entries, is small next to the row. `pool_len` holds integers
    below `width`; `lcs` and `pool_len` are int32 arrays.
    """
    grid = np.repeat(np.arange(cand_len + 1)[:, None], width, axis=1)
    table = f_measure(grid, np.float64(cand_len), np.arange(width, dtype=np.float64))
    index = lcs * np.int32(width)
    index += pool_len
    return table.ravel().take(index)


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, highest first, equal scores in index order; O(n)."""
    n = scores.size
    if n <= max(SMALL_SORT, 2 * k):
        return np.argsort(-scores, kind="stable")[:k]
    # The maxima of k blocks are k distinct elements, so their minimum is at most the k-th
    # largest score: only scores at or above it can make the top k. Usually a handful.
    floor = scores[: n // k * k].reshape(k, -1).max(axis=1).min()
    picked = np.flatnonzero(scores >= floor)
    if picked.size > k:
        sub = scores[picked]
        kth = np.partition(sub, sub.size - k)[sub.size - k]
        above = picked[sub > kth]
        picked = np.concatenate((above, picked[sub == kth][: k - above.size]))
    return picked[np.argsort(-scores[picked], kind="stable")]


class Postings:
    """An inverted index over the pool's token codes, for the multiset overlap with a candidate.

    The k-th copy of a token is a term of its own: its posting list holds the items with at
    least k copies (an item's count of a token is the number of that token's lists holding it),
    so min(count_candidate, count_item) summed over the tokens is the number of shared terms,
    one unweighted bincount. Lists are numpy arrays grown by doubling, in pool order.
    """

    def __init__(self) -> None:
        self._slots: dict[tuple[str, int], int] = {}
        self._lists: list[np.ndarray] = []
        self._sizes: list[int] = []
        self.count = 0  # items indexed; a gate that never bounds never pays for indexing

    def catch_up(self, codes: list[str]) -> None:
        """Index the items of `codes` past the ones already indexed (the pool only grows)."""
        for item in range(self.count, len(codes)):
            for term in _terms(codes[item]):
                slot = self._slots.setdefault(term, len(self._lists))
                if slot == len(self._lists):
                    self._lists.append(np.empty(4, dtype=np.intp))
                    self._sizes.append(0)
                n, items = self._sizes[slot], self._lists[slot]
                if n == items.size:
                    items = self._lists[slot] = np.concatenate((items, np.empty_like(items)))
                items[n] = item
                self._sizes[slot] = n + 1
        self.count = len(codes)

    def overlap(self, code: str) -> np.ndarray:
        """Shared tokens, with multiplicity, between `code` and each indexed item."""
        slots = [self._slots.get(term) for term in _terms(code)]
        parts = [self._lists[s][: self._sizes[s]] for s in slots if s is not None]
        if not parts:
            return np.zeros(self.count, dtype=np.intp)
        return np.bincount(np.concatenate(parts), minlength=self.count)


def _terms(code: str) -> list[tuple[str, int]]:
    """The code's tokens as (token, k) for the k-th copy of the token."""
    seen: dict[str, int] = {}
    terms = []
    for char in code:
        k = seen[char] = seen.get(char, 0) + 1
        terms.append((char, k))
    return terms


def best_of(scores: np.ndarray) -> tuple[float, int, float]:
    """The highest score, its first index and the sum; (0.0, -1, 0.0) when there are none."""
    if not scores.size:
        return 0.0, -1, 0.0
    j = int(scores.argmax())
    return float(scores[j]), j, float(scores.sum())


def row_bests(f: np.ndarray) -> list[tuple[float, int, float]]:
    """best_of of every row of a matrix, vectorised."""
    if not f.shape[1]:
        return [(0.0, -1, 0.0)] * f.shape[0]
    where = f.argmax(axis=1)
    best = f[np.arange(f.shape[0]), where]
    return list(zip(best.tolist(), where.tolist(), f.sum(axis=1).tolist(), strict=True))


def lcs_matrix(queries: list[str], choices: list[str], workers: int) -> np.ndarray:
    return process.cdist(
        queries, choices, scorer=LCSseq.similarity, dtype=np.int32, workers=workers
    )


def lcs_pairs(queries: list[str], choices: list[str]) -> np.ndarray:
    """LCS lengths of queries[i] and choices[i], pair by pair."""
    if not queries:
        return np.zeros(0, dtype=np.int32)
    return process.cpdist(queries, choices, scorer=LCSseq.similarity, dtype=np.int32)


def token_char(token_id: int) -> str:
    if token_id >= _MAX_TOKENS:
        raise InstructgenError(
            f"the ROUGE-L index holds more than {_MAX_TOKENS} distinct tokens; "
            "gate against a smaller pool"
        )
    code = token_id + 1
    return chr(code if code < 0xD800 else code + _SURROGATES)
