"""X (Twitter) API responses: v2 pages and v1.1 tweets.

``x-api-v2`` reads responses ``{"data": [...], "includes": {"users": [...], "tweets": [...]}}``, one per
file or one per line (JSON Lines, one page a line), also the filtered stream's one-tweet objects.
The author's profile comes from ``includes.users``; ``referenced_tweets`` gives the reshare
(``retweeted``, with the retweeted author when ``includes.tweets`` has the tweet), the reply
(``replied_to``, author from ``in_reply_to_user_id``) and the quote (``quoted``). Each tweet's line is
the line where its page starts. A page is held in memory, except one over ``SPILL_BYTES`` (a merged
or very large response), which goes to an anonymous temporary file and is read in two incremental
passes (``ijson``): the includes first, then the tweets.

``x-api-v1`` reads v1.1 tweets as JSON Lines, a JSON array or concatenated pretty-printed objects,
the shape of the streaming and search APIs and of most academic archives. Anonymised copies whose
fields carry an ``_h`` (hashed) or ``_m`` (masked) suffix (``id_str_h``, ``text_m``...) are read as if
unsuffixed. Stream control messages (``delete``, ``limit``...) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import IO, ClassVar

import ijson

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection, excerpt
from rrm.corpus.formats.mapped import (
    SPILL_BYTES,
    LargeJsonRecord,
    batched,
    iter_json,
    iter_json_spilling,
    text_value,
    without_options,
)
from rrm.corpus.formats.registry import mismatch, register

__all__ = ["XApiV1Format", "XApiV2Format"]

Record = dict[str, object]
_CONTROL = frozenset({"delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning"})
_V2_DATA = re.compile(r'"data"\s*:\s*[\[{]')
_V2_HINTS = ('"author_id"', '"includes"', '"edit_history_tweet_ids"')
_V1_ID = re.compile(r'"id_str(?:_h)?"\s*:')


def _obj(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


@cache
def _variants(key: str) -> tuple[str, str]:
    return key + "_h", key + "_m"


def _get(obj: Mapping[str, object], key: str) -> object:
    """``obj[key]``, or its hashed (``_h``) or masked (``_m``) variant in anonymised data."""
    value = obj.get(key)
    if value is not None and value != "":
        return value
    for variant in _variants(key):
        value = obj.get(variant)
        if value is not None and value != "":
            return value
    return None


def _text(value: object) -> str | None:
    """A string or an integer as text; anything else (objects, arrays, booleans) is not a usable value."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _first_text(*values: object) -> str | None:
    for value in values:
        text = _text(value)
        if text:
            return text
    return None


def _head_text(head: bytes) -> str:
    return head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")


# --- v1.1 ---------------------------------------------------------------------------------------


def _v1_id(obj: Mapping[str, object]) -> str | None:
    return _first_text(_get(obj, "id_str"), _get(obj, "id"))


def _v1_entities(tweet: Mapping[str, object]) -> tuple[list[str], list[str], list[str]]:
    extended = _obj(tweet.get("extended_tweet"))
    entities = _obj(extended.get("entities")) or _obj(tweet.get("entities"))
    urls = [u for e in _list(entities.get("urls")) if (u := _first_text(_get(_obj(e), "expanded_url"), _get(_obj(e), "url")))]
    tags = [t for e in _list(entities.get("hashtags")) if (t := _text(_get(_obj(e), "text")))]
    mentions = [m for e in _list(entities.get("user_mentions")) if (m := _first_text(_get(_obj(e), "screen_name")))]
    return urls, tags, mentions


def _v1_record(tweet: Mapping[str, object]) -> Record:
    user = _obj(tweet.get("user"))
    extended = _obj(tweet.get("extended_tweet"))
    retweeted = _obj(tweet.get("retweeted_status"))
    quoted = _obj(tweet.get("quoted_status"))
    urls, hashtags, mentions = _v1_entities(tweet)
    return {
        "post_id": _v1_id(tweet),
        "account_id": _v1_id(user),
        "handle": _text(_get(user, "screen_name")),
        "display_name": _text(_get(user, "name")),
        "created_at": _first_text(tweet.get("created_at"), tweet.get("timestamp_ms")),
        "text": _first_text(_get(extended, "full_text"), _get(tweet, "full_text"), _get(tweet, "text")),
        "lang": _text(tweet.get("lang")),
        "reshare_of_post": _v1_id(retweeted) if retweeted else None,
        "reshare_of_account": _v1_id(_obj(retweeted.get("user"))) if retweeted else None,
        "reply_to_post": _first_text(_get(tweet, "in_reply_to_status_id_str"), _get(tweet, "in_reply_to_status_id")),
        "reply_to_account": _first_text(_get(tweet, "in_reply_to_user_id_str"), _get(tweet, "in_reply_to_user_id")),
        "quote_of_post": _first_text(_get(tweet, "quoted_status_id_str"), _get(tweet, "quoted_status_id"))
        or (_v1_id(quoted) if quoted else None),
        "urls": urls,
        "hashtags": hashtags,
        "mentions": mentions,
        "account_created_at": _text(user.get("created_at")),
        "followers": _text(user.get("followers_count")),
        "following": _text(user.get("friends_count")),
        "profile_text": _text(_get(user, "description")),
        "location": _text(_get(user, "location")),
    }


def _is_v1_tweet(value: Mapping[str, object]) -> bool:
    return isinstance(value.get("user"), dict) or (_v1_id(value) is not None and "created_at" in value)


class XApiV1Format(IngestFormat):
    name: ClassVar[str] = "x-api-v1"
    description: ClassVar[str] = "X/Twitter API v1.1 tweets (JSON Lines, JSON array or concatenated objects)"
    platform: ClassVar[str] = "twitter"
    time_formats: ClassVar[tuple[str, ...]] = ("%a %b %d %H:%M:%S %z %Y",)

    def sniff(self, head: bytes, name: str) -> float:
        text = _head_text(head)
        if text[:1] not in ("{", "[") or '"user"' not in text or not _V1_ID.search(text):
            return 0.0
        return 0.9 if "screen_name" in text else 0.6

    def _records(self, stream: IO[bytes], source: str) -> Iterator[tuple[int, Record] | Rejection]:
        seen_tweet = False
        for item in iter_json(stream, source, self):
            if isinstance(item, Rejection):
                yield item
                continue
            value = item.value
            if isinstance(value, dict) and _CONTROL & value.keys() and "user" not in value:
                continue
            if not isinstance(value, dict) or not _is_v1_tweet(value):
                problem = "a v2 response (use --format x-api-v2)" if isinstance(value, dict) and "data" in value \
                    else f"a JSON {type(value).__name__} without 'id_str' and 'user'"
                if not seen_tweet:
                    raise mismatch(self, source, f"line {item.line} holds {problem}, not a v1.1 tweet")
                yield Rejection(source, item.line, None, f"not a v1.1 tweet: {problem}", excerpt(text_value(value)))
                continue
            seen_tweet = True
            yield item.line, _v1_record(value)

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return batched(self._records(stream, source), batch_size)


# --- v2 -----------------------------------------------------------------------------------------


def _v2_user(user: Mapping[str, object]) -> Record:
    metrics = _obj(user.get("public_metrics"))
    return {
        "handle": _text(user.get("username")),
        "display_name": _text(user.get("name")),
        "account_created_at": _text(user.get("created_at")),
        "followers": _text(metrics.get("followers_count")),
        "following": _text(metrics.get("following_count")),
        "profile_text": _text(user.get("description")),
        "location": _text(user.get("location")),
    }


def _v2_record(tweet: Mapping[str, object], users: Mapping[str, Record], authors: Mapping[str, str]) -> Record:
    references: dict[str, str] = {}
    for reference in _list(tweet.get("referenced_tweets")):
        kind, ref_id = _text(_obj(reference).get("type")), _text(_obj(reference).get("id"))
        if kind and ref_id:
            references.setdefault(kind, ref_id)
    entities = _obj(tweet.get("entities"))
    note = _obj(tweet.get("note_tweet"))
    if note.get("entities"):
        entities = _obj(note.get("entities"))
    author = _text(tweet.get("author_id"))
    reshared, replied = references.get("retweeted"), references.get("replied_to")
    record: Record = {
        "post_id": _text(tweet.get("id")),
        "account_id": author,
        "created_at": _text(tweet.get("created_at")),
        "text": _first_text(note.get("text"), tweet.get("text")),
        "lang": _text(tweet.get("lang")),
        "reshare_of_post": reshared,
        "reshare_of_account": authors.get(reshared) if reshared else None,
        "reply_to_post": replied,
        "reply_to_account": _text(tweet.get("in_reply_to_user_id")) or (authors.get(replied) if replied else None),
        "quote_of_post": references.get("quoted"),
        "urls": [u for e in _list(entities.get("urls"))
                 if (u := _first_text(_obj(e).get("expanded_url"), _obj(e).get("unwound_url"), _obj(e).get("url")))],
        "hashtags": [t for e in _list(entities.get("hashtags")) if (t := _text(_obj(e).get("tag")))],
        "mentions": [m for e in _list(entities.get("mentions")) if (m := _text(_obj(e).get("username")))],
    }
    record.update(users.get(author or "", {}))
    return record


_V2_KEYS = frozenset({"data", "includes", "meta", "errors"})


def _objects(stream: IO[bytes], wanted: frozenset[str]) -> Iterator[tuple[str, object]]:
    """``(prefix, object)`` for every JSON object at one of the ``wanted`` ijson prefixes, built one at a
    time from concatenated values; ``("", key)`` for every top-level key."""
    builder: ijson.ObjectBuilder | None = None
    current = ""
    for prefix, event, value in ijson.parse(stream, multiple_values=True, use_float=True):
        if builder is not None:
            builder.event(event, value)
            if prefix == current and event == "end_map":
                yield current, builder.value
                builder = None
        elif event == "start_map" and prefix in wanted:
            builder, current = ijson.ObjectBuilder(), prefix
            builder.event(event, value)
        elif prefix == "" and event == "map_key":
            yield "", value


def _json_error(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


class XApiV2Format(IngestFormat):
    name: ClassVar[str] = "x-api-v2"
    description: ClassVar[str] = "X/Twitter API v2 responses (data + includes), one per file or one per line"
    platform: ClassVar[str] = "twitter"

    def __init__(self, spill_bytes: int = SPILL_BYTES) -> None:
        self.spill_bytes = spill_bytes

    def sniff(self, head: bytes, name: str) -> float:
        text = _head_text(head)
        if text[:1] != "{" or not _V2_DATA.search(text):
            return 0.0
        return 0.9 if any(hint in text for hint in _V2_HINTS) else 0.3

    def _records(self, stream: IO[bytes], source: str) -> Iterator[tuple[int, Record] | Rejection]:
        seen_page = False
        for item in iter_json_spilling(stream, source, self, self.spill_bytes):
            if isinstance(item, Rejection):
                yield item
                continue
            if isinstance(item, LargeJsonRecord):
                yield from self._large_page(item, source, seen_page)
                seen_page = True
                continue
            page = item.value
            if not isinstance(page, dict) or not ({"data", "includes", "meta", "errors"} & page.keys()):
                problem = f"a JSON {type(page).__name__} without 'data'"
                if isinstance(page, dict) and ("id_str" in page or "user" in page):
                    problem = "a v1.1 tweet (use --format x-api-v1)"
                if not seen_page:
                    raise mismatch(self, source, f"line {item.line} holds {problem}, not an X API v2 response")
                yield Rejection(source, item.line, None, f"not an X API v2 response: {problem}", excerpt(text_value(page)))
                continue
            seen_page = True
            yield from self._page(page, item.line, source)

    def _page(self, page: Mapping[str, object], line: int, source: str) -> Iterator[tuple[int, Record] | Rejection]:
        includes = _obj(page.get("includes"))
        users = {uid: _v2_user(_obj(u)) for u in _list(includes.get("users")) if (uid := _text(_obj(u).get("id")))}
        authors = {
            tid: author for t in _list(includes.get("tweets"))
            if (tid := _text(_obj(t).get("id"))) and (author := _text(_obj(t).get("author_id")))
        }
        data = page.get("data")
        tweets = [data] if isinstance(data, dict) else _list(data)
        for number, tweet in enumerate(tweets, 1):
            if not isinstance(tweet, dict):
                yield Rejection(source, line, f"data[{number - 1}]", "a tweet must be a JSON object", excerpt(text_value(tweet)))
                continue
            yield line, _v2_record(tweet, users, authors)

    def _large_page(
        self, record: LargeJsonRecord, source: str, seen_page: bool
    ) -> Iterator[tuple[int, Record] | Rejection]:
        """A response too large for memory: includes first, then the tweets, each pass incremental."""
        with record.file as file:
            users: dict[str, Record] = {}
            authors: dict[str, str] = {}
            keys: set[object] = set()
            error: Exception | None = None
            try:
                for prefix, value in _objects(file, frozenset({"includes.users.item", "includes.tweets.item"})):
                    obj = _obj(value)
                    if not prefix:
                        keys.add(value)
                    elif prefix == "includes.users.item" and (uid := _text(obj.get("id"))):
                        users[uid] = _v2_user(obj)
                    elif (tid := _text(obj.get("id"))) and (author := _text(obj.get("author_id"))):
                        authors[tid] = author
            except ijson.JSONError as exc:
                error = exc
            if not keys & _V2_KEYS:
                problem = f"invalid JSON ({_json_error(error)})" if error else "a JSON object without 'data'"
                if not seen_page:
                    raise mismatch(self, source, f"line {record.line} holds {problem}, not an X API v2 response")
                yield Rejection(source, record.line, None, f"not an X API v2 response: {problem}")
                return
            file.seek(0)
            count = 0
            try:
                for prefix, tweet in _objects(file, frozenset({"data", "data.item"})):
                    if prefix:
                        count += 1
                        yield record.line, _v2_record(_obj(tweet), users, authors)
            except ijson.JSONError as exc:
                yield Rejection(source, record.line, None, f"invalid JSON after tweet {count} of the response "
                                f"starting on this line; the rest of it was not read ({_json_error(exc)})")

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return batched(self._records(stream, source), batch_size)


register(XApiV1Format.name, XApiV1Format.description, without_options(XApiV1Format.name, XApiV1Format))
register(XApiV2Format.name, XApiV2Format.description, without_options(XApiV2Format.name, XApiV2Format))
