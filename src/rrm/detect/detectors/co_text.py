"""``co-text``: accounts that post the same text, or near-duplicates of it, within Δt.

The object of a post is its text cluster: texts equal after the toolkit's normalisation always share
it; with ``near_duplicate_threshold`` set, texts whose letters and numbers are near-duplicates
(MinHash/LSH over character 5-grams, see ``rrm.detect.textsim``) share it too, so changed mentions,
links, emoji, punctuation and small edits do not hide a copy-paste campaign. Reshares are left out
(their text is the original's); texts empty after normalisation are never matched. Exact matching
alone (``near_duplicate_threshold = None``) runs only the toolkit's normalisation, in one pass.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams
from rrm.detect.textsim import cluster_near_duplicates, exact_sql, loose_sql

__all__ = ["CoText"]

_OBJECT = "'{kind}:' || hash({text})::VARCHAR"
"""The object of a text: its kind and a 64-bit hash (4x cheaper than md5; two of 10 million distinct
texts collide with a probability of about 3 in a million, and a collision only merges two objects)."""


class CoText(ActionDetector):
    name = "co-text"
    description = "Same normalised text, or near-duplicate text (MinHash/LSH), posted within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        if params.near_duplicate_threshold is None:  # no loose normalisation (a second regex pass) needed
            # materialised, so that the filters on the result are not pushed into the normalisation
            # (which would then run once per filter)
            return f"""WITH normalised AS MATERIALIZED (
                           SELECT {ACCOUNT} AS account, {TIME_US} AS t, p.post_id AS post, {exact_sql('p.text')} AS exact
                           FROM posts p WHERE p.kind <> 'reshare' AND p.text IS NOT NULL)
                       SELECT account, {_OBJECT.format(kind='exact', text='exact')} AS object, t, post
                       FROM normalised WHERE exact <> ''"""
        minimum = int(params.near_duplicate_min_chars)
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE _cotext_posts AS
                WITH normalised AS MATERIALIZED (
                    SELECT {ACCOUNT} AS account, {TIME_US} AS t, p.post_id AS post,
                           {exact_sql('p.text')} AS exact, {loose_sql('p.text')} AS loose
                    FROM posts p WHERE p.kind <> 'reshare' AND p.text IS NOT NULL)
                SELECT account, t, post, exact, CASE WHEN length(loose) >= {minimum} THEN loose END AS loose
                FROM normalised WHERE exact <> ''"""
        )
        cluster_near_duplicates(
            db,
            "SELECT loose AS text FROM _cotext_posts WHERE loose IS NOT NULL",
            threshold=params.near_duplicate_threshold,
            seed=params.seed,
            target="_cotext_clusters",
        )
        # a loose text with near-duplicates stands for its cluster's representative, one without for itself
        return f"""SELECT c.account, CASE WHEN c.loose IS NULL THEN {_OBJECT.format(kind='exact', text='c.exact')}
                                          ELSE {_OBJECT.format(kind='text', text='coalesce(n.representative, c.loose)')}
                                          END AS object, c.t, c.post
                   FROM _cotext_posts c LEFT JOIN _cotext_clusters n ON n.text = c.loose"""


register_detector(CoText())
