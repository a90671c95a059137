"""Text normalisation and near-duplicate clustering by MinHash with locality-sensitive hashing.

Two normalisations:

- ``exact_sql``: the coordination-network-toolkit's (lower case, ``@mentions`` removed, whitespace
  collapsed), so that exact co-text equals the toolkit's co-tweet network.
- ``loose_sql``: for near-duplicates, also without links, hashtag and mention signs, emoji,
  punctuation and digits' separators: only letters and numbers separated by single spaces.

Near-duplicates are found among the distinct loose texts, vectorised with numpy and no Python loop
over texts or pairs:

1. Character 5-grams (language-independent, works without word boundaries): the texts of a chunk are
   laid end to end as Unicode code points, and every 5-gram is hashed at once by a polynomial over
   five shifted views of that array, then mixed (``fmix64`` of MurmurHash3, keyed by the seed).
2. One-permutation MinHash with rotation densification (Li, Owen & Zhang 2012; Shrivastava & Li 2014):
   the top 6 bits of a 5-gram's hash pick one of 64 bins, the rest is its value, and each text keeps
   the minimum per bin (``np.minimum.at``); an empty bin borrows the value of the next non-empty bin
   to its right, offset by the distance, so that two texts agree on a bin with probability equal to
   their Jaccard similarity. One hash per 5-gram instead of 64: the signatures cost as much as reading
   the text.
3. 16 bands of 4 values as LSH buckets; each text is linked to its bucket's first text when their
   estimated Jaccard similarity (the share of the 64 values that agree) reaches the threshold, and
   clusters are the connected components (label propagation in numpy).

Texts are processed in chunks of ``_CHUNK_CHARS`` code points, so memory stays bounded however many
texts there are.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.keyset import sorted_unique

__all__ = [
    "SHINGLE", "VALUE_MASK", "cluster_near_duplicates", "exact_sql", "loose_sql", "lsh_components", "minhash_signatures",
    "near_duplicate_representatives", "signatures_from_minima",
]

SHINGLE = 5
_BINS = 64
_BANDS = 16
_ROWS = _BINS // _BANDS
_VALUE_BITS = 58  # a 5-gram's hash: 6 bits of bin, 58 bits of value
VALUE_MASK = (1 << _VALUE_BITS) - 1
"""The value part of a hash (its top 6 bits are the bin)."""
_WS = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}]"
_WS_NOT_SPACE = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
"""``_WS`` without the space: ``\\p{Z}`` is U+0020, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000."""
_CHUNK_CHARS = 1 << 23  # code points per chunk: about 0.5 GB of temporary arrays at most
_SLICE_TEXTS = 1 << 17  # texts whose full signatures (512 bytes each) exist at once, per thread
_THREADS = min(2, os.cpu_count() or 1)
_HASH_BLOCK = 1 << 16  # positions hashed at once: 512 KB of uint64, in cache
_EMPTY = np.uint64(np.iinfo(np.uint64).max)
_U64 = np.uint64


def exact_sql(text: str) -> str:
    """SQL normalising ``text`` as the coordination-network-toolkit does (``message_preprocessor``).

    Whitespace is collapsed by replacing only runs of two or more and single characters other than
    the space (the same result as replacing every run, with far fewer replacements).
    """
    no_mentions = f"regexp_replace(lower({text}), '@[^\\t\\n\\x{{0B}}\\f\\r\\x{{1C}}-\\x{{1F}}\\x{{85}}\\p{{Z}}]*', '', 'g')"
    return f"trim(regexp_replace({no_mentions}, '{_WS}{{2,}}|{_WS_NOT_SPACE}', ' ', 'g'))"


def loose_sql(text: str) -> str:
    """SQL normalising ``text`` for near-duplicate matching: letters and numbers only, single spaces."""
    no_links = f"regexp_replace(lower({text}), 'https?://[^\\s]+|www\\.[^\\s]+|@[\\p{{L}}\\p{{N}}_]+', ' ', 'g')"
    return f"trim(regexp_replace({no_links}, '[^\\p{{L}}\\p{{N}}]{{2,}}|[^\\p{{L}}\\p{{N}} ]', ' ', 'g'))"


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, in place: every input bit affects every output bit."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


def _shingle_hashes(points: np.ndarray, key: np.uint64) -> np.ndarray:
    """The mixed hash of the ``SHINGLE`` code points starting at each position (the last ``SHINGLE - 1``
    positions get a partial hash, to be dropped by the caller).

    Computed in blocks of ``_HASH_BLOCK`` positions, so that the temporaries of the polynomial and of
    the finaliser stay in the processor's cache (twice as fast as whole-array passes)."""
    size = points.size
    out = np.empty(size, dtype=np.uint64)
    for lo in range(0, size, _HASH_BLOCK):
        hi = min(lo + _HASH_BLOCK, size)
        wide = points[lo : min(hi + SHINGLE - 1, size)].astype(np.uint64)
        h = out[lo:hi]
        h[:] = wide[: hi - lo]
        for shift in range(1, SHINGLE):  # a loop over the 5 characters of a shingle, each step vectorised
            h *= _U64(0x100000001B3)
            m = min(hi - lo, wide.size - shift)
            h[:m] += wide[shift : shift + m]
        h ^= key
        _fmix64(h)
    return out


def _densify(signatures: np.ndarray) -> np.ndarray:
    """Rotation densification of ``signatures`` (n × 64), in place; see ``_densify_columns``."""
    signatures[...] = _densify_columns(np.ascontiguousarray(signatures.T)).T
    return signatures


def _densify_columns(columns: np.ndarray) -> np.ndarray:
    """Rotation densification of signatures stored bin by bin (64 × n: one contiguous row per bin), in
    place: an empty bin takes the next non-empty bin's value (circularly) plus ``distance << 58``, so
    that a borrowed value never equals a value of the bin it came from.

    The distance to the next non-empty bin is carried over the bins from right to left, twice around
    (for the wrap), one vectorised in-place step per bin over every text; then each bin's empty texts
    are filled from the flat array (a borrowed value always comes from a non-empty bin)."""
    bins, n = columns.shape
    empty = columns == _EMPTY
    distance = np.empty((bins, n), dtype=np.int16)
    carry = np.full(n, 2 * bins, dtype=np.int16)  # "no non-empty bin yet"
    one, cap = np.int16(1), np.int16(2 * bins)
    for lap in range(2):  # a loop over the 64 bins (twice), each step over every text at once
        for j in range(bins - 1, -1, -1):
            carry += one
            np.minimum(carry, cap, out=carry)
            np.multiply(carry, empty[j], out=carry)  # 0 at a non-empty bin
            if lap:
                distance[j] = carry
    flat = columns.reshape(-1)
    for j in range(bins):
        texts = np.flatnonzero(empty[j] & (distance[j] < bins))
        if texts.size:
            d = distance[j, texts].astype(np.int64)
            columns[j, texts] = flat[((j + d) % bins) * n + texts] + (d.astype(np.uint64) << _U64(_VALUE_BITS))
    return columns


def minhash_signatures(texts: pa.Array | pa.ChunkedArray, seed: int) -> np.ndarray:
    """One-permutation MinHash signatures (len(texts) × 64, uint64) of the character 5-grams of ``texts``.

    A text shorter than 5 characters is one 5-gram (itself, padded); a null text is all ``2**64 - 1``.
    """
    return np.ascontiguousarray(_minhash_columns(texts, seed).T)


def _minhash_columns(texts: pa.Array | pa.ChunkedArray, seed: int) -> np.ndarray:
    """``minhash_signatures`` stored bin by bin (64 × len(texts)): the minima are taken on the flat
    array (``np.minimum.at`` with one index, its fast path) and densified one bin at a time."""
    array = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    array = pc.fill_null(array.cast(pa.string()), "")
    n = len(array)
    columns = np.full((_BINS, n), _EMPTY, dtype=np.uint64)
    if n == 0:
        return columns
    flat = columns.reshape(-1)
    key = _fmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    lengths = pc.utf8_length(array).to_numpy(zero_copy_only=False).astype(np.int64)
    # the UTF-8 bytes of all the texts, end to end, and where each text starts (one decode per chunk)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + n + 1].astype(np.int64)
    data = memoryview(array.buffers()[2] or b"")
    ends = np.cumsum(lengths)
    begin = 0
    while begin < n:  # chunks of texts, each processed at once
        stop = int(np.searchsorted(ends, (ends[begin - 1] if begin else 0) + _CHUNK_CHARS, side="right"))
        stop = min(max(stop, begin + 1), n)
        points = np.frombuffer(bytes(data[offsets[begin] : offsets[stop]]).decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
        sizes = lengths[begin:stop]
        starts = np.cumsum(sizes) - sizes
        # a shingle starts at every position with SHINGLE characters left in its text (not in the last
        # SHINGLE - 1 positions), or at the first position of a shorter text (then the text itself)
        keep = np.ones(points.size, dtype=bool)
        tail = (starts + sizes)[:, None] - np.arange(1, SHINGLE)[None, :]
        keep[tail[tail >= starts[:, None]]] = False
        short = (sizes > 0) & (sizes < SHINGLE)
        keep[starts[short]] = True
        hashes = _shingle_hashes(points, key)
        if short.any():  # a short text: hash only its own characters
            hashes[starts[short]] = _short_hashes(points, starts[short], sizes[short], key)
        doc = np.repeat(np.arange(begin, stop, dtype=np.int64), sizes)
        hashes, doc = hashes[keep], doc[keep]
        index = (hashes >> _U64(_VALUE_BITS)).astype(np.int64) * n + doc  # bin-major position
        np.minimum.at(flat, index, hashes & _U64(VALUE_MASK))
        begin = stop
    return _densify_columns(columns)


def _short_hashes(points: np.ndarray, starts: np.ndarray, sizes: np.ndarray, key: np.uint64) -> np.ndarray:
    h = np.zeros(starts.size, dtype=np.uint64)
    for shift in range(SHINGLE):
        h *= _U64(0x100000001B3)
        inside = shift < sizes
        h += np.where(inside, points[np.minimum(starts + shift, points.size - 1)], 0).astype(np.uint64)
    h ^= key
    return _fmix64(h)


_Sketch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(fingerprints n × 64 uint16, codes n × 2 uint64, band keys bands × n uint64, usable n bool)."""
_CODE_SHIFTS = (np.arange(32, dtype=np.uint64) * _U64(2))[:, None]
_CODE_MASK = _U64(0x5555555555555555)


def _sketch(signatures: np.ndarray, rows: int) -> _Sketch:
    """What LSH needs of ``signatures`` (n × 64); see ``_sketch_columns``."""
    return _sketch_columns(signatures.T, rows)


def _sketch_columns(columns: np.ndarray, rows: int) -> _Sketch:
    """What LSH needs of signatures stored bin by bin (64 × n): 16-bit fingerprints of the values
    (n × 64; two different values agree by chance with probability 1/65,536), their two lowest bits
    packed into two 64-bit words per text (``codes``: two texts whose codes differ in a bin differ
    in that bin, so counting the differing 2-bit fields bounds the agreement from above at 16 bytes a
    text), the bucket key of every band of ``rows`` bins (bands × n) and whether a text has any value."""
    width, n = columns.shape
    fingerprints = np.empty((n, width), dtype=np.uint16)
    codes = np.empty((n, 2), dtype=np.uint64)
    for lo in range(0, n, 1 << 16):  # in slices: no second copy of the signatures
        mixed = _fmix64(columns[:, lo : lo + (1 << 16)].copy()) >> _U64(48)
        fingerprints[lo : lo + (1 << 16)] = mixed.T
        two = (mixed & _U64(3)).reshape(2, width // 2, -1) << _CODE_SHIFTS[: width // 2]
        codes[lo : lo + (1 << 16)] = np.bitwise_or.reduce(two, axis=1).T
    keys = np.zeros((width // rows, n), dtype=np.uint64)
    for band in range(width // rows):
        key = keys[band]
        for row in range(rows):  # the few values of a band, each step vectorised over every document
            key ^= columns[band * rows + row]
            _fmix64(key)
    return fingerprints, codes, keys, columns[0] != _EMPTY


def lsh_components(signatures: np.ndarray, threshold: float, *, rows: int = _ROWS) -> np.ndarray:
    """For each row of ``signatures`` (MinHash, 64 values), the smallest row of its cluster.

    Bands of ``rows`` values are LSH buckets (16 bands of 4 by default: pairs at Jaccard 0.7 meet in
    a bucket with probability 0.98; 32 bands of 2 for looser similarities: 0.95 at Jaccard 0.3); in
    each band every document is compared with its bucket's first document only (O(n) per band, never
    the pairs of a bucket), linked when the share of equal values reaches ``threshold``, and clusters
    are the connected components of the links. A row without any value (all ``2**64 - 1``) stays alone.
    """
    return _components(_sketch(signatures, rows), threshold)


def _band_links(
    sketch: _Sketch, band: int, threshold: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The links of one band: each text against its bucket's first text (in document order), first on
    the 2-bit codes (a pair with more differing fields than the threshold allows is rejected without
    reading its fingerprints), then on the fingerprints."""
    fingerprints, codes, keys, usable = sketch
    width = fingerprints.shape[1]
    minimum = threshold * width - 1e-9
    most_differing = width - int(np.ceil(minimum))
    key = keys[band]
    order = np.argsort(key, kind="stable")  # ties in document order
    order = order[usable[order]]
    if order.size < 2:
        return [], []
    sorted_key = key[order]
    first = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
    group_start = np.maximum.accumulate(np.where(first, np.arange(order.size), 0))
    member, rep = order, order[group_start]
    candidates = member != rep
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    if not candidates.any():
        return sources, targets
    member, rep = member[candidates], rep[candidates]
    for lo in range(0, member.size, 1 << 18):  # bounded memory: 2^18 candidate pairs at a time
        m, r = member[lo : lo + (1 << 18)], rep[lo : lo + (1 << 18)]
        differing = codes[m]
        differing ^= codes[r]
        differing |= differing >> _U64(1)
        differing &= _CODE_MASK
        possible = np.bitwise_count(differing).sum(axis=1) <= most_differing
        m, r = m[possible], r[possible]
        similar = (fingerprints[m] == fingerprints[r]).sum(axis=1) >= minimum
        sources.append(m[similar])
        targets.append(r[similar])
    return sources, targets


def _components(sketch: _Sketch, threshold: float) -> np.ndarray:
    """``lsh_components`` from ``_sketch``: candidates are compared on the codes, then on the
    fingerprints (a quarter of the memory traffic of the values); the bands are independent and run
    on two threads (numpy releases the GIL in its loops); the components do not depend on the order
    of the links."""
    n = sketch[0].shape[0]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        found = list(pool.map(lambda band: _band_links(sketch, band, threshold), range(sketch[2].shape[0])))
    sources = [s for band_sources, _ in found for s in band_sources]
    targets = [t for _, band_targets in found for t in band_targets]
    if not sources:
        return np.arange(n)
    return _smallest_of_component(n, np.concatenate(sources), np.concatenate(targets))


def _smallest_of_component(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of ``n`` nodes, the smallest node of its connected component (edges ``a[i]``–``b[i]``):
    minimum-label propagation along the edges with pointer jumping, a few vectorised rounds."""
    labels = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        while True:  # pointer jumping: follow labels to their own label until nothing moves
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def near_duplicate_representatives(texts: pa.Array | pa.ChunkedArray, *, threshold: float, seed: int) -> np.ndarray:
    """For distinct ``texts`` sorted in ascending order, the index of each one's cluster representative
    (the smallest text of its cluster of near-duplicates)."""
    n = len(texts)
    fingerprints = np.empty((n, _BINS), dtype=np.uint16)
    keys = np.empty((_BANDS, n), dtype=np.uint64)
    codes = np.empty((n, 2), dtype=np.uint64)
    usable = np.empty(n, dtype=bool)

    def sketch(lo: int) -> None:  # the signatures of one slice at a time: 272 bytes a text remain
        hi = min(lo + _SLICE_TEXTS, n)
        fingerprints[lo:hi], codes[lo:hi], keys[:, lo:hi], usable[lo:hi] = _sketch_columns(
            _minhash_columns(texts.slice(lo, hi - lo), seed), _ROWS
        )

    # slices are independent and numpy releases the GIL in its loops: two threads use both cores
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        list(pool.map(sketch, range(0, n, _SLICE_TEXTS)))
    return _components((fingerprints, codes, keys, usable), threshold)


def signatures_from_minima(doc: np.ndarray, bins: np.ndarray, minima: np.ndarray, n_docs: int) -> np.ndarray:
    """Densified one-permutation MinHash signatures (n_docs × 64) from rows (doc, bin, minimum) computed
    elsewhere (in DuckDB: ``hash(element) >> 58`` as bin, ``min(hash(element) & (2**58 - 1))`` per doc and
    bin), at most one row per doc and bin."""
    columns = np.full((_BINS, n_docs), _EMPTY, dtype=np.uint64)
    columns[bins.astype(np.int64), doc.astype(np.int64)] = minima.astype(np.uint64)
    return _densify_columns(columns).T


def cluster_near_duplicates(
    db: duckdb.DuckDBPyConnection, texts: str, *, threshold: float, seed: int, target: str
) -> None:
    """Create table ``target`` (text, representative) for the distinct loose texts in query ``texts``
    that have at least one near-duplicate (a text without one is its own representative, left out).

    ``texts`` must give one column ``text``; each text maps to the smallest text of its cluster.
    """
    distinct = arrow_table(
        db, f"SELECT DISTINCT text FROM ({texts}) WHERE text IS NOT NULL AND text <> '' ORDER BY text"
    ).column("text")
    representative = near_duplicate_representatives(distinct, threshold=threshold, seed=seed)
    clustered = np.flatnonzero(representative != np.arange(representative.size))
    members = sorted_unique(np.concatenate([clustered, representative[clustered]]))
    mapping = pa.table(
        {
            "text": distinct.take(pa.array(members)),
            "representative": distinct.take(pa.array(representative[members])),
        }
    )
    db.register("_near_mapping", mapping)
    try:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT text, representative FROM _near_mapping")
    finally:
        db.unregister("_near_mapping")
