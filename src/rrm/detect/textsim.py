"""Text normalisation and near-duplicate clustering by MinHash with locality-sensitive hashing.

Two normalisations:

- ``exact_sql``: the coordination-network-toolkit's (lower case, ``@mentions`` removed, whitespace
  collapsed), so that exact co-text equals the toolkit's co-tweet network.
- ``loose_sql``: for near-duplicates, also without links, hashtag and mention signs, emoji,
  punctuation and digits' separators: only letters and numbers separated by single spaces.

Near-duplicates are found among the distinct loose texts: character 5-grams (language-independent,
works without word boundaries), a 64-value MinHash signature computed with numpy in chunks (constant
memory), 16 bands of 4 values as LSH buckets, each text linked to its bucket's first text when their
estimated Jaccard similarity reaches the threshold, and clusters as connected components (scipy).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from rrm._duckdb import arrow_table

__all__ = ["SHINGLE", "cluster_near_duplicates", "exact_sql", "loose_sql", "minhash_signatures"]

SHINGLE = 5
_PERMUTATIONS = 64
_BANDS = 16
_ROWS = _PERMUTATIONS // _BANDS
_WS = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}]"
_CHUNK = 1 << 18


def exact_sql(text: str) -> str:
    """SQL normalising ``text`` as the coordination-network-toolkit does (``message_preprocessor``)."""
    no_mentions = f"regexp_replace(lower({text}), '@[^\\t\\n\\x{{0B}}\\f\\r\\x{{1C}}-\\x{{1F}}\\x{{85}}\\p{{Z}}]*', '', 'g')"
    return f"trim(regexp_replace({no_mentions}, '{_WS}+', ' ', 'g'))"


def loose_sql(text: str) -> str:
    """SQL normalising ``text`` for near-duplicate matching: letters and numbers only."""
    no_links = f"regexp_replace(lower({text}), 'https?://[^\\s]+|www\\.[^\\s]+|@[\\p{{L}}\\p{{N}}_]+', ' ', 'g')"
    return f"trim(regexp_replace({no_links}, '[^\\p{{L}}\\p{{N}}]+', ' ', 'g'))"


def minhash_signatures(doc: np.ndarray, shingle_hash: np.ndarray, n_docs: int, seed: int) -> np.ndarray:
    """MinHash signatures (n_docs × 64, uint32) from (doc, shingle hash) rows sorted by doc."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=_PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64)
    signatures = np.full((n_docs, _PERMUTATIONS), np.iinfo(np.uint32).max, dtype=np.uint32)
    boundaries = np.flatnonzero(np.diff(doc)) + 1
    starts = np.concatenate(([0], boundaries)) if doc.size else np.array([], dtype=np.int64)
    begin = 0
    while begin < starts.size:
        end = int(np.searchsorted(starts, starts[begin] + _CHUNK, side="left"))
        end = max(end, begin + 1)
        lo = int(starts[begin])
        hi = int(starts[end]) if end < starts.size else doc.size
        hashed = ((shingle_hash[lo:hi, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
        mins = np.minimum.reduceat(hashed, starts[begin:end] - lo, axis=0)
        signatures[doc[starts[begin:end]]] = mins
        begin = end
    return signatures


def _components(signatures: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.sparse import coo_matrix  # imported here: scipy is slow to import and only co-text needs it
    from scipy.sparse.csgraph import connected_components

    n = signatures.shape[0]
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    powers = np.array([np.uint64(0x9E3779B97F4A7C15) ** np.uint64(i) for i in range(_ROWS)], dtype=np.uint64)
    docs = np.arange(n)
    for band in range(_BANDS):
        block = signatures[:, band * _ROWS : (band + 1) * _ROWS].astype(np.uint64)
        key = (block * powers[None, :]).sum(axis=1, dtype=np.uint64)
        order = np.lexsort((docs, key))
        sorted_key = key[order]
        first = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
        group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        rep = order[group_start]
        member = order
        candidates = member != rep
        if not candidates.any():
            continue
        member, rep = member[candidates], rep[candidates]
        for lo in range(0, member.size, _CHUNK):
            m, r = member[lo : lo + _CHUNK], rep[lo : lo + _CHUNK]
            similar = (signatures[m] == signatures[r]).mean(axis=1) >= threshold
            sources.append(m[similar])
            targets.append(r[similar])
    if not sources:
        return docs
    rows = np.concatenate(sources)
    cols = np.concatenate(targets)
    graph = coo_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # label each component by its smallest document, so the labels do not depend on scipy's numbering
    smallest = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, docs)
    result: np.ndarray = smallest[labels]
    return result


def cluster_near_duplicates(
    db: duckdb.DuckDBPyConnection, texts: str, *, threshold: float, seed: int, target: str
) -> None:
    """Create table ``target`` (text, representative) for the distinct loose texts in query ``texts``.

    ``texts`` must give one column ``text``; each text maps to the smallest text of its cluster.
    """
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _near_docs AS
            SELECT text, (row_number() OVER (ORDER BY text) - 1)::BIGINT AS doc
            FROM (SELECT DISTINCT text FROM ({texts}) WHERE text IS NOT NULL)"""
    )
    shingles = arrow_table(
        db,
        f"""SELECT doc, h FROM (
                SELECT DISTINCT doc, unnest(list_transform(range(1, length(text) - {SHINGLE - 2}),
                                                           lambda i: hash(substring(text, i, {SHINGLE})))) AS h
                FROM _near_docs) ORDER BY doc""",
    )
    n_docs = int(db.execute("SELECT count(*) FROM _near_docs").fetchall()[0][0])
    doc = shingles.column("doc").to_numpy()
    hashes = shingles.column("h").to_numpy().astype(np.uint64)
    signatures = minhash_signatures(doc, hashes, n_docs, seed)
    representative = _components(signatures, threshold)
    mapping = pa.table({"doc": np.arange(n_docs, dtype=np.int64), "rep": representative.astype(np.int64)})
    db.register("_near_mapping", mapping)
    try:
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {target} AS
                SELECT d.text, r.text AS representative
                FROM _near_mapping m JOIN _near_docs d ON d.doc = m.doc JOIN _near_docs r ON r.doc = m.rep"""
        )
    finally:
        db.unregister("_near_mapping")
        db.execute("DROP TABLE IF EXISTS _near_docs")
