"""``co-amplify``: an author and the accounts that reshare the author's posts within Δt of posting, again and again.

A retweet ring exists to lift a few accounts: the core posts, the ring reshares within minutes. The
members are linked to each other by ``co-reshare``, but the core accounts never reshare their own
posts, so nothing else links them to the ring. Here the author's post is the source action and
every reshare of it an amplifier action on the same object (the post); only an author and a
resharer pair up, and ``co_actions`` is the number of the author's posts the resharer reshared within
the window. Each post weighs ``1 / ln(1 + accounts)`` (its author and resharers), so a celebrity's
post reshared by thousands proves little.

Null model (``permute-accounts``): the authors' posts stay in place, only who reshared what is
shuffled within each time block. Fans resharing whichever celebrity dominates the period land on the
celebrity's posts as often in the shuffled corpora as in the data; a ring resharing two obscure
accounts at once, wave after wave, does not. Posts nobody reshared are left out.
"""

from __future__ import annotations

import duckdb

from rrm.detect.cooccur import AMPLIFIER, SOURCE
from rrm.detect.detectors.base import ACCOUNT, TIME_US, ActionDetector
from rrm.detect.detectors.registry import register_detector
from rrm.detect.params import DetectionParams

__all__ = ["CoAmplify"]


class CoAmplify(ActionDetector):
    name = "co-amplify"
    description = "An author and the accounts that reshare the author's posts within the window, repeatedly"
    directed = True

    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        # the authors' posts that were reshared, matched on (platform, post id): no string built per post
        return f"""
            SELECT {ACCOUNT} AS account, p.platform || ':' || p.post_id AS object, {TIME_US} AS t,
                   p.post_id AS post, {SOURCE} AS role
            FROM posts p SEMI JOIN (SELECT DISTINCT platform, reshare_of_post FROM posts
                                    WHERE reshare_of_post IS NOT NULL) r
                 ON r.platform = p.platform AND r.reshare_of_post = p.post_id
            WHERE p.reshare_of_post IS NULL
            UNION ALL
            SELECT {ACCOUNT} AS account, p.platform || ':' || p.reshare_of_post AS object,
                   {TIME_US} AS t, p.post_id AS post, {AMPLIFIER} AS role
            FROM posts p WHERE p.reshare_of_post IS NOT NULL"""


register_detector(CoAmplify())
