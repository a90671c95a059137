"""The vectorised MinHash/LSH of ``rrm.detect.textsim`` against plain reference implementations.

The fast paths (shingle hashes in cache-sized blocks, densification bin by bin, the 2-bit codes that
reject LSH candidates before their fingerprints are read, bands on two threads) must give exactly
what the textbook computation gives.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from rrm.detect import textsim
from rrm.detect.textsim import SHINGLE, lsh_components, minhash_signatures

_EMPTY = np.uint64(np.iinfo(np.uint64).max)
_M = 0xFFFFFFFFFFFFFFFF


def _fmix(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _M
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M
    h ^= h >> 33
    return h


def _reference_signature(text: str, seed: int) -> list[int]:
    """One text's densified one-permutation MinHash, in plain Python."""
    key = _fmix(seed & _M)
    points = [ord(c) for c in text]
    if not points:
        return [int(_EMPTY)] * 64
    grams = [points[i : i + SHINGLE] for i in range(max(len(points) - SHINGLE + 1, 1))]
    bins: list[int | None] = [None] * 64
    for gram in grams:  # a text shorter than a shingle is one shingle, padded with zeros
        h = 0
        for p in gram + [0] * (SHINGLE - len(gram)):
            h = (h * 0x100000001B3 + p) & _M
        h = _fmix(h ^ key)
        b, v = h >> 58, h & ((1 << 58) - 1)
        current = bins[b]
        bins[b] = v if current is None else min(current, v)
    out = []
    for j in range(64):
        if bins[j] is not None:
            out.append(bins[j])
            continue
        d = next(d for d in range(1, 65) if bins[(j + d) % 64] is not None)
        out.append(bins[(j + d) % 64] + (d << 58))
    return [int(x) for x in out]


def test_minhash_equals_the_plain_python_computation() -> None:
    rng = np.random.default_rng(5)
    alphabet = [*"abcdefghij klmnop", "é", "ж", "中", "🔥"]
    texts = ["", "abc", "abcd", "abcde", "a" * 70] + [
        "".join(rng.choice(alphabet, size=int(rng.integers(1, 120)))) for _ in range(300)
    ]
    signatures = minhash_signatures(pa.array(texts), seed=9)
    assert signatures.shape == (len(texts), 64)
    for i, text in enumerate(texts):
        assert signatures[i].tolist() == _reference_signature(text, 9), text


def test_shingle_hashes_do_not_depend_on_the_blocks() -> None:
    rng = np.random.default_rng(1)
    points = rng.integers(0, 0x10FFFF, size=3 * (1 << 16) + 7).astype(np.uint32)
    key = np.uint64(12345)
    whole = points.astype(np.uint64)
    expected = whole.copy()
    for shift in range(1, SHINGLE):
        expected *= np.uint64(0x100000001B3)
        expected[: expected.size - shift] += whole[shift:]
    expected ^= key
    expected = textsim._fmix64(expected)
    assert np.array_equal(textsim._shingle_hashes(points, key), expected)


def test_densify_by_columns_equals_densify_row_by_row() -> None:
    rng = np.random.default_rng(2)
    signatures = rng.integers(0, 1 << 58, size=(500, 64), dtype=np.uint64)
    signatures[rng.random(signatures.shape) < 0.7] = _EMPTY
    signatures[3] = _EMPTY  # no value at all: stays empty
    signatures[4, 1:] = _EMPTY  # one value: every bin borrows it
    expected = signatures.copy()
    for row in expected:
        full = row != _EMPTY
        if not full.any():
            continue
        source = row.copy()
        for j in np.flatnonzero(~full):
            d = next(d for d in range(1, 65) if full[(j + d) % 64])
            row[j] = source[(j + d) % 64] + np.uint64(d << 58)
    assert np.array_equal(textsim._densify(signatures.copy()), expected)


def _reference_components(signatures: np.ndarray, threshold: float, rows: int) -> np.ndarray:
    """Each document against its bucket's first document in every band, on the full 16-bit
    fingerprints (no codes), then the smallest document of each connected component."""
    n = signatures.shape[0]
    fingerprints = textsim._fmix64(signatures.copy()) >> np.uint64(48)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    usable = signatures[:, 0] != _EMPTY
    for band in range(64 // rows):
        first: dict[tuple[int, ...], int] = {}
        for doc in range(n):
            if not usable[doc]:
                continue
            key = tuple(signatures[doc, band * rows : (band + 1) * rows].tolist())
            rep = first.setdefault(key, doc)
            if rep != doc and (fingerprints[doc] == fingerprints[rep]).sum() >= threshold * 64 - 1e-9:
                a, b = find(doc), find(rep)
                parent[max(a, b)] = min(a, b)
    roots = np.array([find(x) for x in range(n)])
    smallest = {root: int(np.flatnonzero(roots == root).min()) for root in set(roots.tolist())}
    return np.array([smallest[root] for root in roots.tolist()])


def test_lsh_components_equal_the_reference_at_every_agreement() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 1 << 58, size=(40, 64), dtype=np.uint64)
    docs = []
    for i in range(600):  # copies of 40 texts agreeing on 20 to 64 of their values: around every threshold
        doc = base[i % 40].copy()
        changed = rng.random(64) < rng.uniform(0.0, 0.7)
        doc[changed] = rng.integers(0, 1 << 58, size=int(changed.sum()), dtype=np.uint64)
        docs.append(doc)
    signatures = np.stack(docs)
    signatures[7] = _EMPTY
    for threshold, rows in ((0.7, 4), (0.5, 4), (0.2, 2)):
        found = lsh_components(signatures, threshold, rows=rows)
        expected = _reference_components(signatures, threshold, rows)
        assert np.array_equal(found, expected), (threshold, rows)
        assert (found != np.arange(len(found))).sum() > 50  # the case is not trivial


def test_sorted_unique_equals_np_unique() -> None:
    from rrm.detect.keyset import sorted_unique

    rng = np.random.default_rng(4)
    for values in (np.zeros(0, dtype=np.int64), np.array([5]), rng.integers(0, 50, 1000), rng.integers(-(2**62), 2**62, 5000)):
        assert np.array_equal(sorted_unique(values), np.unique(values))
    matrix = rng.integers(0, 9, (30, 4))
    assert np.array_equal(sorted_unique(matrix), np.unique(matrix))  # flattened, as np.unique does


def test_the_allocator_is_tuned_once_on_glibc() -> None:
    import ctypes
    import sys

    from rrm.detect import allocator

    glibc = sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    assert allocator.tune_allocator() is glibc
    assert allocator.tune_allocator() is glibc  # twice is harmless


_ARENAS_CHILD = """
import ctypes, sys, threading
from rrm.detect.allocator import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
kept = []
def allocate():
    kept.append(ctypes.create_string_buffer(1 << 16))  # a thread's first allocation picks its arena
threads = [threading.Thread(target=allocate) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()  # one block per arena, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_the_tuned_allocator_keeps_threads_in_one_arena() -> None:
    """Threads started after ``tune_allocator`` allocate from the main arena, where memory another thread
    freed is reused; without it glibc gives them arenas of their own."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}

    def arenas(mode: str) -> int:
        child = subprocess.run([sys.executable, "-c", _ARENAS_CHILD, mode], capture_output=True, text=True,
                               env=environment, check=True)
        return child.stderr.count("Arena ")

    assert arenas("tuned") == 1
    assert arenas("default") > 1
