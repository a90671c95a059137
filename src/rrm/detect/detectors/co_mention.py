"""``co-mention``: accounts that mention the same account within Δt."""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoMention"]


class CoMention(ActionDetector):
    name = "co-mention"
    description = "Mentions of the same account within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        return f"""SELECT DISTINCT account, object, t, post FROM (
                       SELECT {ACCOUNT} AS account, p.platform || ':' || unnest(p.mentions) AS object,
                              {TIME_US} AS t, p.post_id AS post
                       FROM posts p WHERE p.kind <> 'reshare' AND len(p.mentions) > 0)"""


register_detector(CoMention())
