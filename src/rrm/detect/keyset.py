"""A set of 64-bit integer keys with vectorised membership tests (open addressing, linear probing).

``np.searchsorted`` on a sorted array answers the same question with about log2(n) random reads per
key; this table answers with one or two, which matters for the null model's collision checks that
look up millions of (account, object) keys per shuffled corpus.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GOLDEN", "KeySet", "sorted_unique"]

_EMPTY = np.int64(-1)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""Fibonacci hashing's multiplier (2^64 / golden ratio): spreads integer keys over the top bits."""


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct ``values`` in ascending order: ``np.unique(values)``, by a sort and a mask.

    NumPy 2.3+ answers ``np.unique`` without ``return_*`` flags with a hash table that is 20 to 60 times
    slower than sorting on millions of 64-bit integers (2.4 s against 0.04 s for 2 million here), so
    the hot paths of the null model call this instead."""
    ordered = np.sort(values, axis=None)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: np.ndarray = ordered[keep]
    return result


class KeySet:
    """The distinct non-negative ``keys``; ``contains`` tests many keys at once."""

    def __init__(self, keys: np.ndarray) -> None:
        keys = keys.astype(np.int64)  # duplicates are harmless: a key finds itself placed
        self.bits = max(4, int(np.ceil(np.log2(max(keys.size, 1) * 4))))  # load factor at most 1/4
        self.mask = np.int64((1 << self.bits) - 1)
        self.table = np.full(1 << self.bits, _EMPTY, dtype=np.int64)
        pending, position = keys, self._slot(keys)
        while pending.size:  # each round, one of the keys aiming at each free slot takes it; the others move on
            free = self.table[position] == _EMPTY
            self.table[position[free]] = pending[free]
            left = self.table[position] != pending
            pending, position = pending[left], (position[left] + 1) & self.mask

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        mixed = keys.view(np.uint64) * GOLDEN  # keys are int64: a view, no copy
        mixed >>= np.uint64(64 - self.bits)
        slots: np.ndarray = mixed.view(np.int64)  # fewer than 64 bits left: the same value
        return slots

    def contains(self, keys: np.ndarray) -> np.ndarray:
        keys = keys.astype(np.int64, copy=False)
        position = self._slot(keys)
        seen = self.table[position]
        found: np.ndarray = seen == keys  # most keys are settled by their first slot (load factor 1/4)
        active = np.flatnonzero(~found & (seen != _EMPTY))
        position, keys = (position[active] + 1) & self.mask, keys[active]
        while active.size:
            seen = self.table[position]
            hit = seen == keys
            found[active[hit]] = True
            going = ~hit & (seen != _EMPTY)
            active, position, keys = active[going], (position[going] + 1) & self.mask, keys[going]
        return found
