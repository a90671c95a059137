"""A set of 64-bit integer keys with vectorised membership tests (open addressing, linear probing).

``np.searchsorted`` on a sorted array answers the same question with about log2(n) random reads per
key; this table answers with one or two, which matters for the null model's collision checks that
look up millions of (account, object) keys per shuffled corpus.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GOLDEN", "KeySet"]

_EMPTY = np.int64(-1)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""Fibonacci hashing's multiplier (2^64 / golden ratio): spreads integer keys over the top bits."""


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
        mixed = keys.astype(np.uint64) * GOLDEN
        slots: np.ndarray = (mixed >> np.uint64(64 - self.bits)).astype(np.int64)
        return slots

    def contains(self, keys: np.ndarray) -> np.ndarray:
        keys = keys.astype(np.int64)
        found = np.zeros(keys.size, dtype=bool)
        active = np.arange(keys.size)
        position = self._slot(keys)
        while active.size:
            seen = self.table[position]
            hit = seen == keys
            found[active[hit]] = True
            going = ~hit & (seen != _EMPTY)
            active, position, keys = active[going], (position[going] + 1) & self.mask, keys[going]
        return found
