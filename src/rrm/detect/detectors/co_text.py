"""``co-text``: accounts that post the same text, or near-duplicates of it, within Δt.

The object of a post is its text cluster: texts equal after the toolkit's normalisation always share
it; with ``near_duplicate_threshold`` set, texts whose letters and numbers are near-duplicates
(MinHash/LSH over character 5-grams, see ``rrm.detect.textsim``) share it too, so changed mentions,
links, emoji, punctuation and small edits do not hide a copy-paste campaign. Reshares are left out
(their text is the original's); texts empty after normalisation are never matched.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams
from rrm.detect.textsim import cluster_near_duplicates, exact_sql, loose_sql

__all__ = ["CoText"]


class CoText(ActionDetector):
    name = "co-text"
    description = "Same normalised text, or near-duplicate text (MinHash/LSH), posted within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE _cotext_posts AS
                SELECT {ACCOUNT} AS account, {TIME_US} AS t, p.post_id AS post,
                       {exact_sql('p.text')} AS exact, {loose_sql('p.text')} AS loose
                FROM posts p WHERE p.kind <> 'reshare' AND p.text IS NOT NULL"""
        )
        exact = "'exact:' || md5(c.exact)"
        if params.near_duplicate_threshold is None:
            return f"SELECT account, {exact} AS object, t, post FROM _cotext_posts c WHERE c.exact <> ''"
        cluster_near_duplicates(
            db,
            f"SELECT loose AS text FROM _cotext_posts WHERE length(loose) >= {int(params.near_duplicate_min_chars)}",
            threshold=params.near_duplicate_threshold,
            seed=params.seed,
            target="_cotext_clusters",
        )
        return f"""SELECT c.account, CASE WHEN n.representative IS NOT NULL THEN 'text:' || md5(n.representative)
                                          ELSE {exact} END AS object, c.t, c.post
                   FROM _cotext_posts c LEFT JOIN _cotext_clusters n ON n.text = c.loose
                   WHERE c.exact <> ''"""


register_detector(CoText())
