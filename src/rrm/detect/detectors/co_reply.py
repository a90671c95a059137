"""``co-reply``: accounts that reply to the same post within Δt (to the same account when the post is unknown)."""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoReply"]


class CoReply(ActionDetector):
    name = "co-reply"
    description = "Replies to the same post (or account) within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        return f"""SELECT {ACCOUNT} AS account,
                          CASE WHEN p.reply_to_post IS NOT NULL THEN p.platform || ':post:' || p.reply_to_post
                               ELSE p.platform || ':account:' || p.reply_to_account END AS object,
                          {TIME_US} AS t, p.post_id AS post
                   FROM posts p
                   WHERE p.kind <> 'reshare' AND (p.reply_to_post IS NOT NULL OR p.reply_to_account IS NOT NULL)"""


register_detector(CoReply())
