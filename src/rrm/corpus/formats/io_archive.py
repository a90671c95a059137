"""X/Twitter Information Operations archives: the state-backed account releases of 2018-2021.

Every row carries the account's profile as released, so account observations come with each post.
List columns (``hashtags``, ``urls``, ``user_mentions``) are written as ``[a, b]``. Mentions are
user ids in these files. A retweet names the original tweet and account in ``retweet_tweetid`` and
``retweet_userid``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from rrm.corpus.formats.base import Rejection
from rrm.corpus.formats.csv_table import Columns, CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import register

_TRUE = pa.array(["true", "1", "yes", "t"], pa.string())


def _retweets(columns: Columns, lines: list[int], source: str) -> tuple[Columns, list[int], list[Rejection]]:
    flags = columns.pop("_is_retweet", None)
    if flags is not None:
        is_retweet = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(flags)), value_set=_TRUE)
        for name in ("reshare_of_post", "reshare_of_account"):
            if name in columns:
                columns[name] = pc.if_else(is_retweet, columns[name], pa.scalar(None, pa.string()))
    return columns, lines, []


SPEC = CsvSpec(
    name="x-io-archive",
    description="X/Twitter Information Operations archive CSV (state-backed account releases)",
    platform="twitter",
    fields={
        "post_id": "tweetid",
        "account_id": "userid",
        "display_name": "user_display_name",
        "handle": "user_screen_name",
        "location": "user_reported_location",
        "profile_text": "user_profile_description",
        "followers": "follower_count",
        "following": "following_count",
        "account_created_at": "account_creation_date",
        "lang": "tweet_language",
        "text": "tweet_text",
        "created_at": "tweet_time",
        "reply_to_account": "in_reply_to_userid",
        "reply_to_post": "in_reply_to_tweetid",
        "quote_of_post": "quoted_tweet_tweetid",
        "_is_retweet": "is_retweet",
        "reshare_of_account": "retweet_userid",
        "reshare_of_post": "retweet_tweetid",
        "hashtags": "hashtags",
        "urls": "urls",
        "mentions": "user_mentions",
    },
    required=("tweetid", "userid", "tweet_time", "tweet_text", "is_retweet"),
    time_formats=("%Y-%m-%d %H:%M", "%Y-%m-%d"),
    prepare=_retweets,
)

register(SPEC.name, SPEC.description, lambda options: CsvTableFormat(SPEC))
