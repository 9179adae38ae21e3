"""Prefix filtering, as in set-similarity joins: the few pool items whose ROUGE-L F can beat
the threshold, found by reading only the posting lists of the candidate's rarest tokens.

An item's LCS with a candidate is at most their multiset token overlap, so F >= t needs an
overlap of at least `floor` of the candidate's `size` terms (the k-th copy of a token is a term
of its own). Such an item shares at least one of ANY size - floor + 1 of those terms: the rarest
ones, whose lists are short. Counting hits over PREFIX_EXTRA more terms bounds each item's
overlap by its hits plus the terms left unread, which leaves a handful of items to score exactly.
The common tokens ("the", "a"), listed by most of the pool, are never read.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import repeat

import numpy as np

# Terms read past the required prefix. Each costs its list's length (~2 ns an item); each
# removes items that would be scored exactly (~0.4 us each). 2 is the measured optimum on the
# stub run: 1,200 list items read and 7 items scored per candidate (3: 2,100 and 4).
PREFIX_EXTRA = 2
# Codes counted together: at most this many cells (codes times pool items) at a time.
GROUP_CELLS = 1 << 18
# The items passing the count are found by scanning the counts when there is at least one hit
# per DENSE_RATIO cells, else by sorting the hits that pass.
DENSE_RATIO = 8
_NONE = np.zeros(0, dtype=np.intp)


class Postings:
    """An inverted index over the pool's token codes: each term's items, in pool order.

    Lists are numpy arrays grown by doubling; `count` items are indexed (a gate that never
    bounds never pays for indexing). Slot 0 is the empty list of every term no item has.
    """

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}
        self._buffers = [np.zeros(0, dtype=np.intp)]
        self._lists = [self._buffers[0]]  # each buffer's filled part
        self._sizes = [0]
        self.count = 0

    def catch_up(self, codes: list[str]) -> None:
        """Index the items of `codes` past the ones already indexed (the pool only grows)."""
        new: defaultdict[str, list[int]] = defaultdict(list)
        for item in range(self.count, len(codes)):
            for term in term_keys(codes[item]):
                new[term].append(item)
        slots, buffers, sizes = self._slots, self._buffers, self._sizes
        for term, items in new.items():
            slot = slots.setdefault(term, len(buffers))
            if slot == len(buffers):
                buffers.append(np.empty(4, dtype=np.intp))
                self._lists.append(buffers[slot])
                sizes.append(0)
            size, buffer = sizes[slot], buffers[slot]
            end = size + len(items)
            if end > buffer.size:
                grown = np.empty(max(end, 2 * buffer.size), dtype=np.intp)
                grown[:size] = buffer[:size]
                buffer = buffers[slot] = grown
            if len(items) == 1:
                buffer[size] = items[0]  # most terms of a chunk: 10x faster than a slice
            else:
                buffer[size:end] = items
            sizes[slot], self._lists[slot] = end, buffer[:end]
        self.count = len(codes)

    def translate(self, table: dict[int, str]) -> None:
        """Follow a renumbering of the tokens: str.translate's `table` on every code."""
        self._slots = {term.translate(table): slot for term, slot in self._slots.items()}

    def overlap(self, code: str) -> np.ndarray:
        """Shared terms between `code` and each indexed item, reading every list (tests' oracle)."""
        parts = [self._lists[self._slots.get(term, 0)] for term in term_keys(code)]
        return np.bincount(np.concatenate([*parts, _NONE]), minlength=self.count)

    def candidates(self, code: str, floor: int) -> tuple[np.ndarray, np.ndarray]:
        """The items that may share >= `floor` (>= 1) terms with `code`, ascending, and an upper
        bound of each one's overlap with it. Every other item shares fewer."""
        _, items, upper = self.candidates_many([code], [floor])
        return items, upper

    def candidates_many(
        self, codes: list[str], floors: list[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """candidates() of many codes as (code's position, item, upper bound), ascending.

        They are counted a group at a time in one array of items per code, small enough to stay
        in the cache: a dozen numpy calls per group instead of per code."""
        step = max(1, GROUP_CELLS // max(self.count, 1))
        found = [
            self._group(codes[i : i + step], floors[i : i + step], i)
            for i in range(0, len(codes), step)
        ]
        if len(found) <= 1:
            return found[0] if found else (_NONE, _NONE, _NONE)
        owner, items, upper = (np.concatenate(column) for column in zip(*found, strict=True))
        return owner, items, upper

    def _group(
        self, codes: list[str], floors: list[int], first: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        get, sizes, lists, n = self._slots.get, self._sizes, self._lists, self.count
        parts, read_per, unread, need = [], [], [], []
        for code, floor in zip(codes, floors, strict=True):
            slots = list(map(get, term_keys(code), repeat(0)))
            lengths = list(map(sizes.__getitem__, slots))
            read = min(len(slots), len(slots) - floor + 1 + PREFIX_EXTRA)
            rarest = sorted(range(len(slots)), key=lengths.__getitem__)[:read]
            parts += [lists[slots[i]] for i in rarest]
            read_per.append(sum(map(lengths.__getitem__, rarest)))
            unread.append(len(slots) - read)
            need.append(floor - unread[-1])  # >= 1: at most `unread` shared terms were not read
        # Code j's hits are items j*n..j*n+n-1 of one count array.
        keys = np.concatenate([*parts, _NONE])
        keys += np.repeat(np.arange(len(codes)) * n, read_per)
        counts = np.bincount(keys, minlength=len(codes) * n)
        if keys.size * DENSE_RATIO >= counts.size:
            keys = np.flatnonzero(counts.reshape(len(codes), n) >= np.array(need)[:, None])
        else:
            keys = np.sort(keys[counts[keys] >= np.repeat(need, read_per)])
            keys = keys[np.diff(keys, prepend=-1) != 0]  # each once
        owner = keys // n if n else keys
        return owner + first, keys - owner * n, counts[keys] + np.array(unread)[owner]


def term_keys(code: str) -> list[str]:
    """The code's terms: a token's k-th copy is the token's character repeated k times."""
    if len(set(code)) == len(code):
        return list(code)
    seen: dict[str, int] = {}
    keys = []
    for char in code:
        k = seen[char] = seen.get(char, 0) + 1
        keys.append(char * k)
    return keys
