"""``co-link``: accounts that post the same canonical URL (or, as an option, domain) within Δt.

Reshares are left out: a reshare carries the links of the post it reshares, which ``co-reshare``
already counts.
"""

from __future__ import annotations

import duckdb

from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoLink"]


class CoLink(ActionDetector):
    name = "co-link"
    description = "Same canonical URL (or registrable domain, with link_level='domain') posted within the window"

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        column = "domains" if params.link_level == "domain" else "urls_canonical"
        return f"""SELECT DISTINCT account, object, t, post FROM (
                       SELECT {ACCOUNT} AS account, unnest(p.{column}) AS object, {TIME_US} AS t, p.post_id AS post
                       FROM posts p WHERE p.kind <> 'reshare' AND len(p.{column}) > 0)"""


register_detector(CoLink())
