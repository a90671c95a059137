"""``co-reshare``: accounts that reshare the same original post within Δt of each other."""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoReshare"]


class CoReshare(ActionDetector):
    name = "co-reshare"
    description = "Same original post reshared (retweeted, forwarded) within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        return f"""SELECT {ACCOUNT} AS account, p.platform || ':' || p.reshare_of_post AS object,
                          {TIME_US} AS t, p.post_id AS post
                   FROM posts p WHERE p.reshare_of_post IS NOT NULL"""


register_detector(CoReshare())
