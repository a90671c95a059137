"""Generated posts as columns, and their rows in the X Information Operations archive CSV format.

The archive carries the author's profile with every row; list columns are written ``[a, b]``;
mentions are account ids; a retweet's text starts with ``RT @handle:`` and it carries the entities
(hashtags, links) of the retweeted post. Times are written ``YYYY-MM-DD HH:MM:SS`` (the archives
themselves round to the minute; seconds keep fast coordination visible).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rrm.demo.accounts import AccountTable, Ints

__all__ = ["ARCHIVE_HEADER", "NONE", "AccountCells", "PostChunk", "archive_lines", "archive_rows", "list_cell", "quote", "time_strings"]

ARCHIVE_HEADER = (
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count",
    "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
    "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid", "is_retweet",
    "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count", "reply_count", "like_count",
    "retweet_count", "hashtags", "urls", "user_mentions", "poll_choices",
)

NONE = -1
"""Marks an absent post or account reference in the integer columns."""


def list_cell(values: Sequence[str]) -> str:
    """A list column as the archives write it: ``[a, b]``, or empty."""
    return "[" + ", ".join(values) + "]" if values else ""


def time_strings(seconds: Ints) -> list[str]:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [t.replace("T", " ") for t in text.tolist()]


@dataclass(frozen=True)
class PostChunk:
    """Posts as parallel columns. Authors and referenced authors are row numbers in the account table."""

    post_id: Ints
    author: Ints
    seconds: Ints
    text: list[str]
    hashtags: list[str]  # list cells
    urls: list[str]
    mentions: list[str]
    reply_post: Ints  # NONE when not a reply
    reply_author: Ints
    quote_post: Ints
    retweet_post: Ints
    retweet_author: Ints
    likes: Ints

    def __len__(self) -> int:
        return len(self.post_id)

    @classmethod
    def concat(cls, chunks: Sequence[PostChunk]) -> PostChunk:
        def ints(name: str) -> Ints:
            return np.concatenate([getattr(c, name) for c in chunks]).astype(np.int64)

        def strs(name: str) -> list[str]:
            return [x for c in chunks for x in getattr(c, name)]

        return cls(
            post_id=ints("post_id"), author=ints("author"), seconds=ints("seconds"), text=strs("text"),
            hashtags=strs("hashtags"), urls=strs("urls"), mentions=strs("mentions"), reply_post=ints("reply_post"),
            reply_author=ints("reply_author"), quote_post=ints("quote_post"), retweet_post=ints("retweet_post"),
            retweet_author=ints("retweet_author"), likes=ints("likes"),
        )


def _ids(values: Ints) -> list[str]:
    return ["" if x == NONE else str(x) for x in values.tolist()]


def _account_refs(accounts: AccountTable, rows: Ints) -> list[str]:
    found = accounts.ids[np.maximum(rows, 0)].tolist()
    return ["" if r == NONE else a for r, a in zip(rows.tolist(), found, strict=True)]


def archive_rows(chunk: PostChunk, accounts: AccountTable) -> Iterator[tuple[str, ...]]:
    """The chunk's rows in ``ARCHIVE_HEADER`` order, as the ``csv`` module would take them."""
    return (tuple(row) for row in csv.reader(archive_lines(chunk, AccountCells(accounts))))


def quote(cell: str) -> str:
    """A CSV cell as ``csv.writer`` writes it by default (quoted only when it must be)."""
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def _quoted(cells: list[str]) -> list[str]:
    return [
        ('"' + c.replace('"', '""') + '"') if ("," in c or '"' in c or "\n" in c or "\r" in c) else c for c in cells
    ]


class AccountCells:
    """The archive cells of each account, quoted once: every row repeats them."""

    def __init__(self, accounts: AccountTable) -> None:
        self.accounts = accounts
        self.profile = np.array(
            [
                f"{i},{quote(n)},{quote(h)},{quote(loc)},{quote(b)},,{f},{g},{c},en,en"
                for i, n, h, loc, b, f, g, c in zip(
                    accounts.ids.tolist(), accounts.names.tolist(), accounts.handles.tolist(),
                    accounts.locations.tolist(), accounts.bios.tolist(), accounts.followers.tolist(),
                    accounts.following.tolist(), accounts.created_text.tolist(), strict=True,
                )
            ],
            dtype=object,
        )
        self.client = np.array(_quoted(accounts.clients.tolist()), dtype=object)


def archive_lines(chunk: PostChunk, cells: AccountCells) -> list[str]:
    """The chunk as archive CSV lines (``\\n``-terminated), in ``ARCHIVE_HEADER`` order.

    Built by joining cells that are quoted only when they must be, which gives the bytes
    ``csv.writer`` would write about ten times faster (31-column rows cost it some 40 µs each).
    """
    accounts = cells.accounts
    a = chunk.author
    columns = zip(
        chunk.post_id.tolist(), cells.profile[a].tolist(), _quoted(chunk.text), time_strings(chunk.seconds),
        cells.client[a].tolist(), _account_refs(accounts, chunk.reply_author), _ids(chunk.reply_post),
        _ids(chunk.quote_post), _account_refs(accounts, chunk.retweet_author), _ids(chunk.retweet_post),
        chunk.likes.tolist(), _quoted(chunk.hashtags), _quoted(chunk.urls), _quoted(chunk.mentions), strict=True,
    )
    return [
        f"{t},{p},{x},{s},{c},{ru},{rp},{q},{'True' if rtp else 'False'},{rtu},{rtp},absent,absent,0,0,{k},0,"
        f"{h},{u},{m},\n"
        for t, p, x, s, c, ru, rp, q, rtu, rtp, k, h, u, m in columns
    ]
