"""CooRTweet share tables: one row per share of an object (a reshared post, a URL, a hashtag...).

``coortweet`` reads the four-column table (``object_id, account_id, content_id, timestamp_share``) of
the CooRTweet R package, whose objects are reshared posts in its published data sets.
``coortweet-multi`` reads the wide table of ``german_elections.csv`` (``account_id, post_id, url_id,
hashtag_id, domain_id, phash_id, timestamp``), where a post with several hashtags or images has one
row each; the rows are merged into one post. Account ids prefixed ``tw_`` or ``fb_`` name the platform.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from rrm.corpus.formats.base import Rejection
from rrm.corpus.formats.csv_table import Columns, CsvSpec, CsvTableFormat
from rrm.corpus.formats.registry import register

_PREFIXES = {"tw_": "twitter", "fb_": "facebook", "ig_": "instagram", "tt_": "tiktok", "yt_": "youtube", "tg_": "telegram"}
_PREFIX_KEYS = pa.array(list(_PREFIXES), pa.string())
_PREFIX_NAMES = pa.array(list(_PREFIXES.values()), pa.string())


def _platform_from_prefix(columns: Columns, lines: list[int], source: str) -> tuple[Columns, list[int], list[Rejection]]:
    prefixes = pc.utf8_slice_codeunits(columns["account_id"], 0, 3)
    columns["platform"] = _PREFIX_NAMES.take(pc.index_in(prefixes, value_set=_PREFIX_KEYS))
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

register(SHARES.name, SHARES.description, lambda options: CsvTableFormat(SHARES))
register(MULTI.name, MULTI.description, lambda options: CsvTableFormat(MULTI))
