"""One chunk's sequential decisions, for pipeline/filters/rouge/index.py.

Each candidate meets the pool and the candidates of its chunk kept before it. The ones the
search already found a pool item above the threshold for (`near`) are drops. The others come
with their full F row against the pool and the whole chunk, in batches and in chunk order; a
kept candidate's row also gives its F against every later candidate of the chunk (F is
symmetric, bit for bit), which is all a later drop needs to know about it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.filters.rouge.kernels import top_k_indices

# A keep's top k is picked among the pool columns at or above the k-th largest of the maxima of
# BLOCKS blocks: one pass over the rows, then a few blocks each. Pools under MIN_PICK items,
# and rows with more than PICK_RATIO * k such columns (ties), select from the whole row instead.
BLOCKS, MIN_PICK, PICK_RATIO = 128, 1024, 8
# A row's picked pool columns and the least score they hold, or None.
Pick = tuple[np.ndarray, float] | None


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's verdict on one candidate and the evidence for it."""

    kept: bool
    max_score: float
    most_similar: list[tuple[str, float]]  # a keep's top k; a drop's nearest neighbour only
    mean_score: float  # exact for a keep; for a drop possibly a lower bound (see _drops_until)


class ChunkDecider:
    """Decides a chunk's candidates in order, given rows in order for the ones not in `near`.

    `pool_texts` is the index's pool as it was before the chunk (read, never changed here)."""

    def __init__(
        self,
        threshold: float,
        top_k: int,
        pool_texts: list[str],
        texts: list[str],
        codes: list[str],
        near: list[tuple[float, int, float]] | None,
    ):
        self.threshold, self.k = threshold, top_k
        self.pool_texts, self.n = pool_texts, len(pool_texts)
        self.texts, self.near = texts, near
        self.decisions: list[GateDecision] = [None] * len(codes)  # type: ignore[list-item]
        self.kept: list[int] = []
        # The kept ones' columns in a row: n + chunk position, the first len(kept) entries.
        self._cols = np.zeros(len(codes), dtype=np.intp)
        # Row j, once candidate j is kept: its F against the chunk; -1 elsewhere.
        self._against = np.full((len(codes), len(codes)), -1.0)
        self._next = 0

    def take_rows(self, batch: list[int], f: np.ndarray) -> None:
        """Decide up to the candidates of `batch` (ascending), given their F rows (overwritten)."""
        n = self.n
        picks = self._picks(f[:, :n])
        where = f[:, :n].argmax(axis=1).tolist() if self.near is None and n else None
        for r, i in enumerate(batch):
            self._drops_until(i)
            if self.near is not None:
                best, name = self.near[i][0], ""  # at most the threshold
            elif n:
                best, name = float(f[r, where[r]]), self.pool_texts[where[r]]
            else:
                best, name = 0.0, ""
            self._decide_row(i, f[r], picks[r], best, name)
            self._next = i + 1

    def finish(self) -> list[GateDecision]:
        """All the chunk's decisions, the drops after the last row included."""
        self._drops_until(len(self.decisions))
        return self.decisions

    def _drops_until(self, end: int) -> None:
        """The candidates before `end` without a row: the search found them a pool item."""
        for d in range(self._next, end):
            best, where, total = self.near[d]
            name = self.pool_texts[where]
            if self.kept:
                column = self._against[:, d]  # the kept ones so far, in chunk order
                j = int(column.argmax())
                if column[j] > best:  # on a tie the pool item, which comes first, stays
                    best, name = float(column[j]), self.texts[j]
            # The mean counts only the items the search scored: a lower bound, unused by Alpaca.
            mean = total / (self.n + len(self.kept))
            self.decisions[d] = GateDecision(False, best, [(name, best)], mean)
        self._next = max(self._next, end)

    def _decide_row(self, i: int, row: np.ndarray, pick: Pick, best: float, name: str) -> None:
        n, kept = self.n, self.kept
        extra = row[self._cols[: len(kept)]]  # F against the kept ones, in order
        near = -1.0
        if kept:
            j = int(extra.argmax())
            near = float(extra[j])
            if near > best:
                best, name = near, self.texts[kept[j]]
        size = n + len(kept)
        if size and best > self.threshold:
            mean = (float(row[:n].sum()) + float(extra.sum())) / size
            self.decisions[i] = GateDecision(False, best, [(name, best)], mean)
            return
        self._against[i] = row[n:]
        # The row as the pool stood for it, made in place: the pool, then the kept ones.
        full = row[:size]
        full[n:] = extra
        top = self._top(full, pick, near).tolist() if size else []
        scores = full[top].tolist()
        names = [self.pool_texts[j] if j < n else self.texts[kept[j - n]] for j in top]
        self.decisions[i] = GateDecision(
            kept=True,
            max_score=scores[0] if size else 0.0,
            most_similar=list(zip(names, scores, strict=True)),
            mean_score=float(full.sum()) / size if size else 0.0,
        )
        self._cols[len(kept)] = n + i
        kept.append(i)

    def _picks(self, pool: np.ndarray) -> list[Pick]:
        """Per row, the pool columns that can make its top k, ascending, and the least score
        among them; None: not worth it.

        The maxima of the k best blocks are k distinct items, so the k-th largest block maximum
        is at most the k-th largest score: only blocks whose maximum reaches it, and the tail
        that no block covers, can hold the top k."""
        rows, n = pool.shape
        if n < max(MIN_PICK, BLOCKS) or self.k > BLOCKS or not rows:
            return [None] * rows
        width = n // BLOCKS
        blocks = pool[:, : BLOCKS * width].reshape(rows, BLOCKS, width)
        peaks = blocks.max(axis=2)
        floors = np.partition(peaks, BLOCKS - self.k, axis=1)[:, BLOCKS - self.k]
        floors[floors <= 0] = np.inf  # mostly zeros: too many ties to pick from
        at, block = np.nonzero(peaks >= floors[:, None])
        hit, offset = np.nonzero(blocks[at, block] >= floors[at, None])
        tail_at, tail = np.nonzero(pool[:, BLOCKS * width :] >= floors[:, None])
        keys = np.concatenate(
            ((at[hit] * n) + block[hit] * width + offset, tail_at * n + BLOCKS * width + tail)
        )
        keys.sort()
        bounds = np.searchsorted(keys, np.arange(rows + 1) * n).tolist()
        floors = floors.tolist()
        return [
            (keys[bounds[r] : bounds[r + 1]] - r * n, floors[r])
            if bounds[r] < bounds[r + 1]
            else None
            for r in range(rows)
        ]

    def _top(self, full: np.ndarray, pick: Pick, near: float) -> np.ndarray:
        """top_k_indices(full): the k highest, ties in index order, among the picked pool columns
        and the kept candidates (all after the pool's columns; `near` is their best score)."""
        if pick is None or pick[0].size > PICK_RATIO * self.k:
            return top_k_indices(full, self.k)
        picked, floor = pick
        if near >= floor:  # the kept ones may count too
            picked = np.concatenate((picked, np.arange(self.n, full.size)))
        return picked[np.argsort(-full[picked], kind="stable")[: self.k]]
