"""RSS (0.9x, 1.0, 2.0) and Atom feeds, parsed with ``feedparser``: each entry a post of platform ``web``.

- ``post_id``: the entry's id (``guid``) when it is a URI (``https:``, ``urn:``, ``tag:``), else ``<feed>#<id>`` (ids such as ``42`` repeat
  across sites); the entry's link when it has no id.
- account: the entry's own author, scoped to the feed (``<feed>#author:<name>``), or the feed itself,
  named by its link (else its id, its title, or the file); a feed-level author is not inherited.
- time: ``published``, else ``updated``; text: the title and the summary (or content) as plain text.
- ``urls``: the entry's link and the links in its summary; ``hashtags``: its categories (tags).

``rrm ingest https://site.example/feed.xml`` downloads the feed first (see ``rrm.corpus.sources``).
Feeds are parsed whole, so a feed larger than ``MAX_FEED_BYTES`` is refused. A record's "line" is
the entry's position in the feed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from typing import IO, Any, ClassVar

from rrm.corpus.formats.base import IngestFormat, RawBatch, Rejection
from rrm.corpus.formats.mapped import batched, without_options
from rrm.corpus.formats.registry import mismatch, register
from rrm.errors import InputError

__all__ = ["MAX_FEED_BYTES", "FeedFormat", "html_text"]

MAX_FEED_BYTES = 64 * 1024 * 1024
_GLOBAL_ID = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")
"""Ids that are URIs (``https://...``, ``urn:uuid:...``, ``tag:...``) are unique across feeds."""
_ROOTS = (b"<rss", b"<feed", b"<rdf:RDF", b"<RDF")
_SKIPPED_TAGS = {"script", "style", "template"}
_BLOCK_TAGS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}

Record = dict[str, object]


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.links: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.pieces.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.startswith(("http://", "https://")):
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.pieces.append(data)


def html_text(markup: str) -> tuple[str, list[str]]:
    """The plain text of an HTML fragment, and the http(s) links in it."""
    parser = _TextAndLinks()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.pieces).splitlines())
    return "\n".join(line for line in lines if line), parser.links


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _time(entry: Mapping[str, Any]) -> str | None:
    for key in ("published", "updated", "created"):
        parsed = entry.get(f"{key}_parsed")
        if isinstance(parsed, time.struct_time):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    for key in ("published", "updated", "created"):
        if raw := _str(entry.get(key)):
            return raw
    return None


def _lang(value: object) -> str | None:
    text = _str(value)
    return text.split("-")[0].split("_")[0].lower() if text else None


def _summary(entry: Mapping[str, Any]) -> str | None:
    contents = entry.get("content")
    if isinstance(contents, list):
        for content in contents:
            if isinstance(content, dict) and (value := _str(content.get("value"))):
                return value
    return _str(entry.get("summary"))


class FeedFormat(IngestFormat):
    name: ClassVar[str] = "feed"
    description: ClassVar[str] = "RSS or Atom feed (each entry a post of platform 'web')"
    platform: ClassVar[str] = "web"

    def sniff(self, head: bytes, name: str) -> float:
        start = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not start.startswith(b"<"):
            return 0.0
        if any(root in start for root in _ROOTS):
            return 0.95
        return 0.2 if name.lower().endswith((".rss", ".atom")) else 0.0

    def _entries(self, stream: IO[bytes], source: str) -> Iterator[tuple[int, Record] | Rejection]:
        data = stream.read(MAX_FEED_BYTES + 1)
        if len(data) > MAX_FEED_BYTES:
            raise InputError(f"feeds are parsed whole, and this one is larger than {MAX_FEED_BYTES:,} bytes",
                             source=source)
        import feedparser  # here, not at the top: loading it costs every `rrm ingest` 65 ms, feeds or not

        parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
        if not parsed.get("version") and not parsed.get("entries"):
            problem = parsed.get("bozo_exception")
            raise mismatch(self, source, f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
        feed: Mapping[str, Any] = parsed.get("feed", {})
        feed_key = _str(feed.get("link")) or _str(feed.get("id")) or _str(feed.get("title")) or source
        feed_lang = _lang(feed.get("language"))
        for number, entry in enumerate(parsed.get("entries", []), 1):
            yield number, self._record(entry, feed, feed_key, feed_lang)

    def _record(self, entry: Mapping[str, Any], feed: Mapping[str, Any], feed_key: str, feed_lang: str | None) -> Record:
        link = _str(entry.get("link"))
        entry_id = _str(entry.get("id"))
        if entry_id and not _GLOBAL_ID.match(entry_id):
            entry_id = f"{feed_key}#{entry_id}"
        detail = entry.get("author_detail")
        author = _str(detail.get("name")) if isinstance(detail, dict) else None
        author = author or _str(entry.get("author"))
        title = _str(entry.get("title"))
        summary, links = html_text(_summary(entry) or "")
        urls = [link] if link else []
        urls += [u for u in links if u not in urls]
        tags = entry.get("tags")
        terms = [t for tag in tags if isinstance(tag, dict) and (t := _str(tag.get("term")))] if isinstance(tags, list) else []
        title_detail = entry.get("title_detail")
        record: Record = {
            "post_id": entry_id or link,
            "account_id": f"{feed_key}#author:{author}" if author else feed_key,
            "display_name": author or _str(feed.get("title")),
            "created_at": _time(entry),
            "text": "\n\n".join(part for part in (title, summary) if part) or None,
            "lang": _lang(title_detail.get("language") if isinstance(title_detail, dict) else None) or feed_lang,
            "urls": urls,
            "hashtags": [" ".join(term.split()).replace(" ", "_") for term in terms],
            "mentions": [],
            "profile_text": None if author else _str(feed.get("subtitle")),
        }
        return record

    def read(self, stream: IO[bytes], source: str, batch_size: int) -> Iterator[RawBatch]:
        return batched(self._entries(stream, source), batch_size)


register(FeedFormat.name, FeedFormat.description, without_options(FeedFormat.name, FeedFormat))
