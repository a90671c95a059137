"""The one normalised model of posts and accounts, as Arrow schemas.

Every ingest format produces these columns; detection, sharing and export read them. The corpus
keeps posts and account observations in Parquet files with exactly these schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import pyarrow as pa

__all__ = [
    "ACCOUNT_SCHEMA",
    "LIST_FIELDS",
    "POST_SCHEMA",
    "RAW_FIELDS",
    "REQUIRED_FIELDS",
    "Account",
    "Post",
]

_TS = pa.timestamp("us", tz="UTC")
_STRINGS = pa.list_(pa.string())

POST_SCHEMA = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("created_at", _TS, nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # post | reshare | reply | quote
        pa.field("text", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("reshare_of_post", pa.string()),
        pa.field("reshare_of_account", pa.string()),
        pa.field("reply_to_post", pa.string()),
        pa.field("reply_to_account", pa.string()),
        pa.field("quote_of_post", pa.string()),
        pa.field("urls", _STRINGS),  # as written
        pa.field("urls_canonical", _STRINGS),  # parallel to urls
        pa.field("shortened_urls", _STRINGS),  # canonical URLs whose host is a link shortener
        pa.field("domains", _STRINGS),  # registrable domains, distinct, sorted
        pa.field("hashtags", _STRINGS),  # lower-cased, without '#', distinct, sorted
        pa.field("mentions", _STRINGS),  # lower-cased handles or ids, without '@', distinct, sorted
        pa.field("media_hashes", _STRINGS),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("source_line", pa.int64()),
    ]
)

ACCOUNT_SCHEMA = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("account_created_at", _TS),
        pa.field("followers", pa.int64()),
        pa.field("following", pa.int64()),
        pa.field("profile_text", pa.string()),
        pa.field("location", pa.string()),
        pa.field("observed_at", _TS, nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
    ]
)

LIST_FIELDS = ("urls", "hashtags", "mentions", "domains", "media_hashes")
"""Raw fields holding several values: a list, or a string such as ``"[a, b]"`` or ``"a b"``."""

REQUIRED_FIELDS = ("post_id", "account_id", "created_at")

RAW_FIELDS = (
    "platform",
    "post_id",
    "account_id",
    "handle",
    "display_name",
    "created_at",
    "kind",
    "text",
    "lang",
    "reshare_of_post",
    "reshare_of_account",
    "reply_to_post",
    "reply_to_account",
    "quote_of_post",
    *LIST_FIELDS,
    "account_created_at",
    "followers",
    "following",
    "profile_text",
    "location",
)
"""What an ingest format may give for one record, before normalisation."""


@dataclass(frozen=True, slots=True)
class Post:
    """One post as read back from the corpus (see ``POST_SCHEMA`` for the meaning of each field)."""

    platform: str
    post_id: str
    account_id: str
    created_at: datetime
    kind: str
    handle: str | None = None
    display_name: str | None = None
    text: str | None = None
    lang: str | None = None
    reshare_of_post: str | None = None
    reshare_of_account: str | None = None
    reply_to_post: str | None = None
    reply_to_account: str | None = None
    quote_of_post: str | None = None
    urls: tuple[str, ...] = ()
    urls_canonical: tuple[str, ...] = ()
    shortened_urls: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    media_hashes: tuple[str, ...] = ()
    batch_id: str = ""
    source_line: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, object]) -> Post:
        names = {f.name for f in fields(cls)}
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in row.items() if k in names}
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Account:
    """The latest observation of one account."""

    platform: str
    account_id: str
    observed_at: datetime
    handle: str | None = None
    display_name: str | None = None
    account_created_at: datetime | None = None
    followers: int | None = None
    following: int | None = None
    profile_text: str | None = None
    location: str | None = None
    batch_id: str = ""

    @classmethod
    def from_row(cls, row: dict[str, object]) -> Account:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names})  # type: ignore[arg-type]
