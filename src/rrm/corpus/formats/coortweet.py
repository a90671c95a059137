"""CooRTweet share tables: one row per share of an object (a reshared post, a URL, a hashtag...).

``coortweet`` reads the four-column table (``object_id, account_id, content_id, timestamp_share``) of
the CooRTweet R package, whose objects are reshared posts in its published data sets.
``coortweet-multi`` reads the wide table of ``german_elections.csv`` (``account_id, post_id, url_id,
hashtag_id, domain_id, phash_id, timestamp``), where a post with several hashtags or images has one
row each; the rows are merged into one post. Account ids prefixed ``tw_`` or ``fb_`` name the platform.
"""

from __future__ import annotations

from rrm.corpus.formats.base import Rejection
from rrm.corpus.formats.csv_table import Columns, CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import register

_PREFIXES = {"tw": "twitter", "fb": "facebook", "ig": "instagram", "tt": "tiktok", "yt": "youtube", "tg": "telegram"}


def _platform_from_prefix(columns: Columns, lines: list[int], source: str) -> tuple[Columns, list[int], list[Rejection]]:
    platforms: list[object] = []
    for account in columns["account_id"]:
        prefix = account.split("_", 1)[0] if isinstance(account, str) and "_" in account else ""
        platforms.append(_PREFIXES.get(prefix))
    columns["platform"] = platforms
    return columns, lines, []


SHARES = CsvSpec(
    name="coortweet",
    description="CooRTweet share table (object_id, account_id, content_id, timestamp_share)",
    platform="twitter",
    fields={
        "reshare_of_post": "object_id",
        "account_id": "account_id",
        "post_id": "content_id",
        "created_at": "timestamp_share",
    },
    required=("object_id", "account_id", "content_id", "timestamp_share"),
    constants={"kind": "reshare"},
)

MULTI = CsvSpec(
    name="coortweet-multi",
    description="CooRTweet multi-object table (account_id, post_id, url_id, hashtag_id, domain_id, phash_id, timestamp)",
    platform="unknown",
    fields={
        "account_id": "account_id",
        "post_id": "post_id",
        "urls": "url_id",
        "hashtags": "hashtag_id",
        "domains": "domain_id",
        "media_hashes": "phash_id",
        "created_at": "timestamp",
    },
    required=("account_id", "post_id", "timestamp"),
    prepare=_platform_from_prefix,
)

for _spec in (SHARES, MULTI):
    register(_spec.name, _spec.description, lambda options, _s=_spec: CsvTableFormat(_s))
