"""``co-hashtag``: accounts that use the same hashtag, or the same combination of hashtags, in the same burst, within Δt.

A post acts on one object: its hashtag (``tag:<hashtag>``) when it has one, else its set of hashtags
(``tags:<a> <b> ...``, sorted), which is far rarer than any single hashtag, so that a campaign posting
the same combination stands out while two people who each tweet ``#debate #election`` once during a
televised debate share one object, not three. The object is dated by the *burst* of its use
(``... @<n>``): the posts with the same hashtags, in time order, start a new burst whenever more than
Δt has passed since the previous one. Two posts within Δt are always in the same burst (no match is
lost to a boundary); pushing the same combination again an hour later is another co-action, as a
campaign does, whereas an evening of live-tweeting is one. Common hashtags weigh little (rarity
weights) and viral ones are sampled (``max_accounts_per_object``). Reshares are left out.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoHashtag"]

class CoHashtag(ActionDetector):
    name = "co-hashtag"
    description = "Same hashtag, or same combination of hashtags, in the same burst of its use, within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        gap = params.window_for(self.name) * 1_000_000
        return f"""
            WITH tagged AS (
                SELECT {ACCOUNT} AS account,
                       CASE WHEN len(p.hashtags) = 1 THEN 'tag:' || p.hashtags[1]
                            ELSE 'tags:' || array_to_string(list_sort(p.hashtags), ' ') END AS tags,
                       {TIME_US} AS t, p.post_id AS post
                FROM posts p WHERE p.kind <> 'reshare' AND len(p.hashtags) > 0
            ),
            starts AS (
                SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY tags ORDER BY t, post) <= {gap} THEN 0 ELSE 1 END AS new
                FROM tagged
            )
            SELECT account,
                   tags || ' @' || sum(new) OVER (PARTITION BY tags ORDER BY t, post ROWS UNBOUNDED PRECEDING) AS object,
                   t, post
            FROM starts"""


register_detector(CoHashtag())
