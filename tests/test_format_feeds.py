"""RSS and Atom feeds, from files and from a real local HTTP server through the CLI."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest
from rrm.corpus.formats import detect, get_format
from rrm.corpus.formats.feeds import html_text
from rrm.errors import FormatMismatchError

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Baltic Truth &amp; News</title>
  <link>https://baltic-truth.example/</link>
  <description>Independent news</description>
  <language>ru-RU</language>
  <item>
    <title>NATO exercise "provokes" region</title>
    <link>https://baltic-truth.example/2024/05/nato?utm_source=rss</link>
    <guid isPermaLink="false">4711</guid>
    <pubDate>Mon, 06 May 2024 10:00:00 +0200</pubDate>
    <dc:creator>Ivan Petrov</dc:creator>
    <category>Security</category>
    <category>World News</category>
    <description><![CDATA[<p>Sources <a href="https://other-site.example/claim">say</a> so.</p><script>alert(1)</script>]]></description>
  </item>
  <item>
    <title>Second story</title>
    <link>https://baltic-truth.example/2024/05/second</link>
    <guid>https://baltic-truth.example/?p=2</guid>
    <pubDate>Tue, 07 May 2024 08:30:00 GMT</pubDate>
    <description>Plain text summary</description>
  </item>
  <item>
    <title>Undated story</title>
    <link>https://baltic-truth.example/2024/05/undated</link>
  </item>
  <item>
    <description>An entry with neither id nor link</description>
    <pubDate>Tue, 07 May 2024 09:00:00 GMT</pubDate>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Blog</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <link href="https://blog.example/"/>
  <updated>2024-05-08T12:00:00Z</updated>
  <author><name>Blogger</name></author>
  <entry>
    <title>Atom entry</title>
    <link href="https://blog.example/entry-1"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2024-05-08T12:00:00Z</updated>
    <category term="Wahl"/>
    <content type="html">&lt;b&gt;Bold&lt;/b&gt; claim</content>
  </entry>
</feed>
"""


def _posts(store: CorpusStore, columns: str) -> list[tuple[Any, ...]]:
    with store.connect() as db:
        return db.execute(f"SELECT {columns} FROM posts ORDER BY source_line").fetchall()


def test_rss(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(RSS)
    report = ingest(store, [str(path)])
    assert [(b.format, b.stored, b.rejected) for b in report.batches] == [("feed", 2, 2)]
    rows = _posts(store, "platform, post_id, account_id, display_name, created_at::VARCHAR, text, lang, urls_canonical, "
                         "list_sort(hashtags, 'DESC'), domains, source_line")
    assert rows == [
        ("web", "https://baltic-truth.example/#4711", "https://baltic-truth.example/#author:Ivan Petrov", "Ivan Petrov",
         "2024-05-06 08:00:00+00", 'NATO exercise "provokes" region\n\nSources say so.', "ru",
         ["https://baltic-truth.example/2024/05/nato", "https://other-site.example/claim"], ["world_news", "security"],
         ["baltic-truth.example", "other-site.example"], 1),
        ("web", "https://baltic-truth.example/?p=2", "https://baltic-truth.example/", "Baltic Truth & News",
         "2024-05-07 08:30:00+00", "Second story\n\nPlain text summary", "ru",
         ["https://baltic-truth.example/2024/05/second"], [], ["baltic-truth.example"], 2),
    ]
    assert sorted((q.line, q.field) for q in store.quarantine()) == [(3, "created_at"), (4, "post_id")]
    with store.connect() as db:
        profile = db.execute("SELECT profile_text FROM accounts WHERE account_id = 'https://baltic-truth.example/'").fetchone()
    assert profile == ("Independent news",)


def test_atom(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "atom.xml"
    path.write_text(ATOM)
    report = ingest(store, [str(path)], format_name="feed")
    assert report.stored == 1
    assert _posts(store, "post_id, account_id, text, lang, hashtags, urls, created_at::VARCHAR") == [
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", "https://blog.example/", "Atom entry\n\nBold claim",
         "de", ["wahl"], ["https://blog.example/entry-1"], "2024-05-08 12:00:00+00"),
    ]


def test_html_text_drops_markup_and_scripts() -> None:
    text, links = html_text('<p>One <a href="https://a.example/">link</a></p><script>x()</script><p>Two&amp;</p>'
                            '<a href="javascript:alert(1)">bad</a>')
    assert text == "One link\nTwo&bad"
    assert links == ["https://a.example/"]


@pytest.mark.parametrize("content", ['{"messages": []}', "id,user\n1,2\n", "<html><body>hello</body></html>"])
def test_other_shapes_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "not-a-feed.xml"
    path.write_text(content)
    with pytest.raises(FormatMismatchError, match="does not look like feed: not an RSS or Atom feed"):
        list(get_format("feed").read(path.open("rb"), str(path), 100))


def test_entity_bombs_and_external_entities_are_not_expanded(store: CorpusStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711")
    entities = '<!ENTITY a0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    ) + f'<!ENTITY secret SYSTEM "file://{secret}">'
    path = tmp_path / "bomb.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel><title>t</title>'
        "<link>https://bomb.example/</link><item><title>&a9; &secret;</title><guid>https://bomb.example/1</guid>"
        "<pubDate>Tue, 07 May 2024 08:30:00 GMT</pubDate></item></channel></rss>"
    )
    ingest(store, [str(path)], format_name="feed")
    [(text,)] = _posts(store, "coalesce(text, '')")
    assert len(text) < 100
    assert "TOPSECRET" not in text


def test_detection() -> None:
    assert detect(RSS.encode(), "feed").name == "feed"
    assert detect(ATOM.encode(), "atom.xml").name == "feed"


class _FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/feed.xml":
            self.send_error(404)
            return
        body = RSS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cli_ingests_a_feed_from_a_local_server(tmp_path: Path, feed_server: str) -> None:
    workspace = tmp_path / "ws"
    result = CliRunner().invoke(app, ["ingest", f"{feed_server}/feed.xml", "--workspace", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    [batch] = json.loads(result.output)["batches"]
    assert (batch["source"], batch["format"], batch["stored"], batch["rejected"]) == (
        f"{feed_server}/feed.xml", "feed", 2, 2)
    missing = CliRunner().invoke(app, ["ingest", f"{feed_server}/gone.xml", "--workspace", str(workspace)])
    assert missing.exit_code == 2
    assert "the server answered HTTP 404" in " ".join(missing.output.split())
    assert not any((workspace / "corpus" / "staging" / "downloads").glob("*"))
