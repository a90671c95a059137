"""``co-image``: accounts that post the same image or video (same media hash) within Δt."""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoImage"]


class CoImage(ActionDetector):
    name = "co-image"
    description = "Same media hash (image, video) posted within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        return f"""SELECT DISTINCT account, object, t, post FROM (
                       SELECT {ACCOUNT} AS account, unnest(p.media_hashes) AS object, {TIME_US} AS t, p.post_id AS post
                       FROM posts p WHERE p.kind <> 'reshare' AND len(p.media_hashes) > 0)"""


register_detector(CoImage())
