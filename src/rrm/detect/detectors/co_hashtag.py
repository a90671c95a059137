"""``co-hashtag``: accounts whose posts carry the same hashtags in the same burst of their use, within Δt, again and again.

Every hashtag of a post is an action on the object ``tag:<hashtag> @<n>``: the hashtag *and the burst
of its use*. The posts with a hashtag, in time order, start a new burst whenever more than Δt has
passed since the previous one (by anyone), so two posts within Δt are always in the same burst (no
match is lost to a boundary); pushing the same hashtag again an hour later is another co-action, as
a campaign does, whereas an evening of live-tweeting is one long burst, whose many accounts make it
weigh little (rarity weights; viral ones are sampled with ``max_accounts_per_object``).

``co_actions`` counts *posts*, not objects (``count_posts``): the posts of the less active account
that carry a hashtag another post of the other carries, in the same burst, within Δt. Two people who
each tweet ``#debate #election`` once during a televised debate have one co-action, not two; a
campaign that adds a random popular hashtag to each post (``#push #tags #tennis``) still matches on
its own hashtags, which a key on the whole combination would miss. Reshares are left out.
"""

from __future__ import annotations

from typing import ClassVar

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoHashtag"]


class CoHashtag(ActionDetector):
    name = "co-hashtag"
    description = "Same hashtags in the same burst of their use, within the window (counted in posts)"
    count_posts: ClassVar[bool] = True

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        gap = params.window_for(self.name) * 1_000_000
        return f"""
            WITH tagged AS (
                SELECT DISTINCT account, tag, t, post FROM (
                    SELECT {ACCOUNT} AS account, unnest(p.hashtags) AS tag, {TIME_US} AS t, p.post_id AS post
                    FROM posts p WHERE p.kind <> 'reshare' AND len(p.hashtags) > 0)
                WHERE tag IS NOT NULL AND tag <> ''
            ),
            starts AS (
                SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY tag ORDER BY t, post) <= {gap} THEN 0 ELSE 1 END AS new
                FROM tagged
            )
            SELECT account,
                   'tag:' || tag || ' @' || sum(new) OVER (PARTITION BY tag ORDER BY t, post ROWS UNBOUNDED PRECEDING) AS object,
                   t, post
            FROM starts"""


register_detector(CoHashtag())
