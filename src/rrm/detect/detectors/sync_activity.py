"""``sync-activity``: accounts whose activity time series are alike, posting within seconds again and again.

Comparing every post with every other post within the sync window (``window_overrides['sync-activity']``,
10 s by default) grows with the square of the posts per window, and so does its null model: 10
million posts a week give billions of such pairs. The detector therefore works in two steps, each of
bounded cost:

1. **Similar time series** (linear in posts): each account with at least the minimum number of posts
   (``min_co_actions_overrides['sync-activity']``, 10) becomes its binned activity, the set of time
   cells of width 2Δ it posted in, on two grids offset by Δ (two posts at most Δ apart always share a
   cell of one grid). The sets are compared by one-permutation MinHash (computed in DuckDB) and
   locality-sensitive hashing (32 bands of 2, ``rrm.detect.textsim.lsh_components``); accounts linked
   to another with an estimated Jaccard similarity of at least ``SIMILARITY`` (0.2, about half of two
   accounts' posts coinciding within Δ) are the *synchronised candidates*. No pair of accounts is ever
   enumerated here.
2. **Co-actions and their null model** (only among the candidates): the usual window join counts, for
   every pair, the posts of the less active side that have a post of the other within Δ
   (``co_actions``), each coincidence weighted by the rarity of activity at that moment
   (``1 / ln(1 + candidates active in that window)``). The null model (always the circular shift of
   each account's timeline, which keeps each account's own rhythm and breaks only the alignment)
   reruns the same count on the same candidates, so a group of hyperactive accounts that meet by chance
   is not significant.

Accounts that coincide often but whose series are otherwise unlike (two hyperactive accounts with a
few hundred chance meetings among thousands of posts) are not candidates: that is by design, since
such meetings are what the null model would discount anyway.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from rrm._duckdb import arrow_table
from rrm.detect.detectors.base import TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams
from rrm.detect.textsim import VALUE_MASK, lsh_components, signatures_from_minima

__all__ = ["SIMILARITY", "SyncActivity", "synchronised_candidates"]

SIMILARITY = 0.2
"""Estimated Jaccard similarity of binned activity above which two accounts are synchronised candidates."""
_ROWS = 2  # 32 bands of 2 values: pairs at Jaccard 0.3 share a bucket with probability 0.95, at 0.2 with 0.73


def synchronised_candidates(db: duckdb.DuckDBPyConnection, params: DetectionParams, target: str, name: str) -> int:
    """Create table ``target`` (platform, account_id) of the synchronised candidates; their number."""
    window_us = params.window_for(name) * 1_000_000
    minimum = params.min_co_actions_for(name)
    seed = int(params.seed)
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sync_accounts AS
            SELECT platform, account_id, (row_number() OVER () - 1)::BIGINT AS a FROM (
                SELECT platform, account_id FROM posts GROUP BY platform, account_id HAVING count(*) >= {int(minimum)})"""
    )
    # each post lies in one cell of width 2Δ on each of two grids offset by Δ; per account and MinHash
    # bin (top 6 bits of the cell's hash), the smallest hash
    minima = arrow_table(
        db,
        f"""WITH cells AS (
                SELECT s.a, {TIME_US} // {2 * window_us} * 2 AS c0, ({TIME_US} + {window_us}) // {2 * window_us} * 2 + 1 AS c1
                FROM posts p JOIN _sync_accounts s USING (platform, account_id)
            ),
            hashed AS (
                SELECT a, hash(c0, {seed}) AS h FROM cells UNION ALL SELECT a, hash(c1, {seed}) AS h FROM cells
            )
            SELECT a, (h >> 58)::INTEGER AS bin, min(h & {VALUE_MASK}::UBIGINT) AS v FROM hashed GROUP BY a, bin""",
    )
    n_accounts = int(db.execute("SELECT count(*) FROM _sync_accounts").fetchall()[0][0])
    signatures = signatures_from_minima(
        minima.column("a").to_numpy(), minima.column("bin").to_numpy(), minima.column("v").to_numpy(), n_accounts
    )
    cluster = lsh_components(signatures, SIMILARITY, rows=_ROWS)
    together = np.bincount(cluster, minlength=n_accounts)[cluster] > 1
    candidates = np.flatnonzero(together).astype(np.int64)
    db.register("_sync_found", pa.table({"a": candidates}))
    try:
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {target} AS
                SELECT s.platform, s.account_id FROM _sync_accounts s SEMI JOIN _sync_found c USING (a)"""
        )
    finally:
        db.unregister("_sync_found")
        db.execute("DROP TABLE IF EXISTS _sync_accounts")
    return int(candidates.size)


class SyncActivity(ActionDetector):
    name = "sync-activity"
    description = "Activity time series alike (MinHash/LSH), with posts within a few seconds again and again"
    by_post = True
    null_model = "circular-shift"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        window_us = params.window_for(self.name) * 1_000_000
        synchronised_candidates(db, params, "_sync_candidates", self.name)
        return f"""SELECT p.platform || ':' || p.account_id AS account, 'slot:' || ({TIME_US} // {window_us}) AS object,
                          {TIME_US} AS t, p.post_id AS post
                   FROM posts p SEMI JOIN _sync_candidates c USING (platform, account_id)"""


register_detector(SyncActivity())
