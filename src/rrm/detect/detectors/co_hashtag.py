"""``co-hashtag``: accounts that use the same hashtag, or the same combination of hashtags, on the same day within Δt.

A post acts on one object: its hashtag (``tag:<hashtag>``) when it has one, else its set of hashtags
(``tags:<a> <b> ...``, sorted), which is far rarer than any single hashtag, so that a campaign posting
the same combination stands out while two people who each tweet ``#debate #election`` once during a
televised debate share one object, not three. The object is dated (``... @2024-06-04``, UTC day):
pushing the same combination again on another day is another co-action, as a campaign does, whereas
an evening of live-tweeting is one. Common hashtags weigh little (rarity weights) and
viral ones are sampled (``max_accounts_per_object``). Reshares are left out.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoHashtag"]

class CoHashtag(ActionDetector):
    name = "co-hashtag"
    description = "Same hashtag, or same combination of hashtags, within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        return f"""
            SELECT {ACCOUNT} AS account,
                   CASE WHEN len(p.hashtags) = 1 THEN 'tag:' || p.hashtags[1]
                        ELSE 'tags:' || array_to_string(list_sort(p.hashtags), ' ') END
                   || ' @' || strftime(p.created_at, '%Y-%m-%d') AS object,
                   {TIME_US} AS t, p.post_id AS post
            FROM posts p WHERE p.kind <> 'reshare' AND len(p.hashtags) > 0"""


register_detector(CoHashtag())
