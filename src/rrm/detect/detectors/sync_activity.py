"""``sync-activity``: accounts whose posting times keep coinciding over the period.

Any two posts of two accounts within the sync window (``window_overrides['sync-activity']``, 10 s
by default) are a coincidence, whatever they are about. ``co_actions`` is the number of posts of the
less active side that have a post of the other within the window (the time series of the two
accounts agree at least that often); each coincidence is weighted by the rarity of activity at that
moment (``1 / ln(1 + accounts active in that window)``), so busy moments prove little. Only accounts
with at least the minimum number of posts take part. Its null model is always the circular shift of
each account's timeline, which keeps each account's own rhythm and breaks only the alignment.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["SyncActivity"]


class SyncActivity(ActionDetector):
    name = "sync-activity"
    description = "Activity time series that coincide within a few seconds, again and again"
    by_post = True
    null_model = "circular-shift"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        window_us = params.window_for(self.name) * 1_000_000
        minimum = params.min_co_actions_for(self.name)
        return f"""SELECT account, 'slot:' || (t // {window_us}) AS object, t, post FROM (
                       SELECT {ACCOUNT} AS account, {TIME_US} AS t, p.post_id AS post FROM posts p
                       QUALIFY count(*) OVER (PARTITION BY p.platform, p.account_id) >= {int(minimum)})"""


register_detector(SyncActivity())
