"""X API formats: v2 pages (JSON Lines or one document) and v1.1 tweets (lines, array, concatenated)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import shared_data
from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest, ingest_source
from rrm.corpus.formats import detect, get_format
from rrm.corpus.formats.x_api import XApiV2Format
from rrm.corpus.sources import InputSource
from rrm.errors import FormatMismatchError


def _user(uid: str, username: str) -> dict[str, Any]:
    return {
        "id": uid, "username": username, "name": username.title(), "created_at": "2019-03-01T08:00:00.000Z",
        "description": f"bio of {username}", "location": "Riga",
        "public_metrics": {"followers_count": 120, "following_count": 45, "tweet_count": 900},
    }


def _tweet(tid: str, author: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "author_id": author, "text": text, "created_at": "2024-05-06T10:00:00.000Z",
            "lang": "en", "edit_history_tweet_ids": [tid], **extra}


def _v2_pages() -> list[dict[str, Any]]:
    original = _tweet("100", "1", "Original claim https://t.co/a #Elections")
    page1 = {
        "data": [
            {**original, "entities": {
                "urls": [{"url": "https://t.co/a", "expanded_url": "https://news.example/story?utm_source=x"}],
                "hashtags": [{"tag": "Elections"}],
            }},
            _tweet("101", "2", "RT @alpha: Original claim", referenced_tweets=[{"type": "retweeted", "id": "100"}],
                   entities={"mentions": [{"username": "alpha", "id": "1"}]}),
        ],
        "includes": {"users": [_user("1", "alpha"), _user("2", "bravo")], "tweets": [original]},
        "meta": {"result_count": 2, "next_token": "abc"},
    }
    page2 = {
        "data": [
            _tweet("102", "3", "@alpha no", referenced_tweets=[{"type": "replied_to", "id": "100"}],
                   in_reply_to_user_id="1"),
            _tweet("103", "2", "look at this", referenced_tweets=[{"type": "quoted", "id": "100"}]),
        ],
        "includes": {"users": [_user("3", "charlie"), _user("2", "bravo")]},
        "meta": {"result_count": 2},
    }
    return [page1, page2]


def _posts(store: CorpusStore, columns: str) -> list[tuple[Any, ...]]:
    with store.connect() as db:
        return db.execute(f"SELECT {columns} FROM posts ORDER BY post_id").fetchall()


def test_v2_pages_one_per_line(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "search.jsonl"
    path.write_text("\n".join(json.dumps(page) for page in _v2_pages()) + "\n")
    report = ingest(store, [str(path)], format_name="x-api-v2")
    assert report.failures == []
    assert report.stored == 4
    rows = _posts(store, "post_id, account_id, handle, kind, reshare_of_post, reshare_of_account, reply_to_post, "
                         "reply_to_account, quote_of_post, urls_canonical, hashtags, mentions, source_line, platform")
    assert rows == [
        ("100", "1", "alpha", "post", None, None, None, None, None, ["https://news.example/story"], ["elections"], [],
         1, "twitter"),
        ("101", "2", "bravo", "reshare", "100", "1", None, None, None, [], [], ["alpha"], 1, "twitter"),
        ("102", "3", "charlie", "reply", None, None, "100", "1", None, [], [], ["alpha"], 2, "twitter"),
        ("103", "2", "bravo", "quote", None, None, None, None, "100", [], [], [], 2, "twitter"),
    ]
    with store.connect() as db:
        accounts = db.execute(
            "SELECT account_id, handle, display_name, followers, following, profile_text, location, "
            "account_created_at::VARCHAR FROM accounts ORDER BY account_id"
        ).fetchall()
    assert accounts[0] == ("1", "alpha", "Alpha", 120, 45, "bio of alpha", "Riga", "2019-03-01 08:00:00+00")
    assert [a[0] for a in accounts] == ["1", "2", "3"]


def test_v2_single_pretty_document_is_detected(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps(_v2_pages()[0], indent=2))
    report = ingest(store, [str(path)])
    assert [b.format for b in report.batches] == ["x-api-v2"]
    assert [r[0] for r in _posts(store, "post_id")] == ["100", "101"]


def test_v2_stream_objects_with_a_single_tweet(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    lines = [{"data": _tweet(str(200 + i), "9", f"tweet {i}"), "includes": {"users": [_user("9", "zulu")]},
              "matching_rules": [{"id": "1", "tag": "t"}]} for i in range(3)]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    ingest(store, [str(path)], format_name="x-api-v2")
    assert _posts(store, "post_id, handle, source_line") == [("200", "zulu", 1), ("201", "zulu", 2), ("202", "zulu", 3)]


@pytest.mark.parametrize("indent", [None, 2])
def test_v2_responses_over_the_spill_size_are_parsed_incrementally(
    store: CorpusStore, tmp_path: Path, indent: int | None
) -> None:
    page1, page2 = _v2_pages()
    page1["includes"] = {"tweets": page1["includes"]["tweets"], "users": page1["includes"]["users"]}
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(page1, indent=indent) + "\n" + json.dumps(page2, indent=indent) + "\n")
    second_line = 2 if indent is None else len(json.dumps(page1, indent=indent).splitlines()) + 1
    record = ingest_source(store, InputSource(str(path), path), XApiV2Format(spill_bytes=400))
    assert (record.stored, record.rejected) == (4, 0)
    assert _posts(store, "post_id, handle, reshare_of_account, reply_to_account, source_line") == [
        ("100", "alpha", None, None, 1), ("101", "bravo", "1", None, 1),
        ("102", "charlie", None, "1", second_line), ("103", "bravo", None, None, second_line),
    ]


def test_v2_large_response_cut_short_keeps_the_tweets_before_the_damage(store: CorpusStore, tmp_path: Path) -> None:
    page1, page2 = _v2_pages()
    page2["data"].append(_tweet("105", "3", "x" * 600))
    text = json.dumps(page2)
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps(page1) + "\n" + text[: text.index('"105"') + 30] + "\n")
    record = ingest_source(store, InputSource(str(path), path), XApiV2Format(spill_bytes=400))
    assert [r[0] for r in _posts(store, "post_id")] == ["100", "101", "102", "103"]
    [rejection] = store.quarantine()
    assert (rejection.line, record.rejected) == (2, 1)
    assert rejection.reason.startswith("invalid JSON after tweet 2 of the response starting on this line; the rest "
                                       "of it was not read")


def test_v2_bad_lines_are_quarantined_and_the_rest_kept(store: CorpusStore, tmp_path: Path) -> None:
    page1, page2 = _v2_pages()
    page2["data"].append(_tweet("104", "2", "no author yet") | {"author_id": None})
    page2["data"].append("not a tweet")
    path = tmp_path / "pages.jsonl"
    path.write_text(
        json.dumps(page1) + "\n" + '{"data": [{"id": "999", "text": "cut off\n' + json.dumps({"hello": 1}) + "\n"
        + json.dumps(page2) + "\n"
    )
    report = ingest(store, [str(path)], format_name="x-api-v2")
    assert report.stored == 4
    quarantine = sorted((q.line, q.field, q.reason) for q in store.quarantine())
    assert quarantine == [
        (2, None, "invalid JSON: unterminated string on line 2"),
        (3, None, "not an X API v2 response: a JSON dict without 'data'"),
        (4, "account_id", "missing required field account_id"),
        (4, "data[3]", "a tweet must be a JSON object"),
    ]


def test_v2_refuses_another_shape(store: CorpusStore, tmp_path: Path) -> None:
    path = tmp_path / "v1.jsonl"
    path.write_text(json.dumps({"id_str": "1", "user": {"id_str": "2"}, "created_at": "x"}) + "\n")
    with pytest.raises(FormatMismatchError, match=r"v1\.jsonl: does not look like x-api-v2: line 1 holds a v1\.1 tweet"):
        list(get_format("x-api-v2").read(path.open("rb"), str(path), 10))
    report = ingest(store, [str(path)], format_name="x-api-v2")
    assert report.batches == []
    assert isinstance(report.failures[0], FormatMismatchError)


def _v1(tid: str, uid: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": int(tid), "id_str": tid, "created_at": "Wed Oct 10 20:19:24 +0000 2018", "text": text, "lang": "de",
        "user": {"id": int(uid), "id_str": uid, "screen_name": f"user{uid}", "name": f"User {uid}",
                 "created_at": "Mon Jan 02 10:00:00 +0000 2017", "followers_count": 10, "friends_count": 20,
                 "description": "hi", "location": "Berlin"},
        "entities": {"urls": [], "hashtags": [], "user_mentions": []},
        **extra,
    }


def _v1_tweets() -> list[dict[str, Any]]:
    original = _v1("10", "1", "Wahl #BTW https://t.co/x")
    original["extended_tweet"] = {
        "full_text": "Wahl #BTW https://t.co/x and a much longer text",
        "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": "https://blog.example/p/1"}],
                     "hashtags": [{"text": "BTW"}], "user_mentions": []},
    }
    retweet = _v1("11", "2", "RT @user1: Wahl", retweeted_status=original,
                  entities={"urls": [], "hashtags": [], "user_mentions": [{"screen_name": "user1", "id_str": "1"}]})
    reply = _v1("12", "3", "@user1 nein", in_reply_to_status_id_str="10", in_reply_to_user_id_str="1")
    quote = _v1("13", "2", "so", quoted_status_id_str="10", is_quote_status=True)
    return [original, retweet, reply, quote]


_V1_COLUMNS = "post_id, account_id, handle, kind, text, reshare_of_post, reshare_of_account, reply_to_post, " \
              "reply_to_account, quote_of_post, urls, hashtags, created_at::VARCHAR"
_V1_EXPECTED = [
    ("10", "1", "user1", "post", "Wahl #BTW https://t.co/x and a much longer text", None, None, None, None, None,
     ["https://blog.example/p/1"], ["btw"], "2018-10-10 20:19:24+00"),
    ("11", "2", "user2", "reshare", "RT @user1: Wahl", "10", "1", None, None, None, [], [], "2018-10-10 20:19:24+00"),
    ("12", "3", "user3", "reply", "@user1 nein", None, None, "10", "1", None, [], [], "2018-10-10 20:19:24+00"),
    ("13", "2", "user2", "quote", "so", None, None, None, None, "10", [], [], "2018-10-10 20:19:24+00"),
]


@pytest.mark.parametrize("layout", ["lines", "array", "pretty"])
def test_v1_layouts(store: CorpusStore, tmp_path: Path, layout: str) -> None:
    tweets = _v1_tweets()
    path = tmp_path / f"tweets-{layout}.json"
    if layout == "lines":
        path.write_text("\n".join(json.dumps(t) for t in tweets) + "\n")
    elif layout == "array":
        path.write_text(json.dumps(tweets, indent=1))
    else:
        path.write_text("\n".join(json.dumps(t, indent=4) for t in tweets))
    report = ingest(store, [str(path)])
    assert [b.format for b in report.batches] == ["x-api-v1"]
    assert _posts(store, _V1_COLUMNS) == _V1_EXPECTED


def test_v1_line_numbers_and_bad_records(store: CorpusStore, tmp_path: Path) -> None:
    original, retweet, reply, quote = _v1_tweets()
    no_time = _v1("14", "4", "when?")
    del no_time["created_at"]
    lines = [
        json.dumps(original),
        '{"delete": {"status": {"id_str": "5", "user_id_str": "6"}}}',
        json.dumps(retweet)[:-40],
        json.dumps(reply),
        "[1, 2]",
        json.dumps(no_time),
        json.dumps(quote),
    ]
    path = tmp_path / "tweets.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = ingest(store, [str(path)], format_name="x-api-v1")
    assert report.stored == 3
    assert _posts(store, "post_id, source_line") == [("10", 1), ("12", 4), ("13", 7)]
    assert sorted((q.line, q.field, q.reason.split(":")[0]) for q in store.quarantine()) == [
        (3, None, "invalid JSON"),
        (5, None, "not a v1.1 tweet"),
        (6, "created_at", "missing required field created_at"),
    ]


def test_v1_refuses_a_v2_file(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps(_v2_pages()[0]))
    with pytest.raises(FormatMismatchError, match="a v2 response"):
        list(get_format("x-api-v1").read(path.open("rb"), "page.json", 10))


def test_detection_keeps_v1_and_v2_apart(tmp_path: Path) -> None:
    assert detect(json.dumps(_v2_pages()[0]).encode(), "x.json").name == "x-api-v2"
    assert detect(json.dumps(_v1_tweets()[0]).encode(), "x.json").name == "x-api-v1"


def test_hashed_v1_sample_from_shared_data(store: CorpusStore) -> None:
    sample = shared_data("social/schema-samples/twitter_v1_hashed_sample.json")
    report = ingest(store, [str(sample)])
    assert [b.format for b in report.batches] == ["x-api-v1"]
    assert report.stored == 17
    assert store.quarantine() == []
    with store.connect() as db:
        kinds = dict(db.execute("SELECT kind, count(*) FROM posts GROUP BY kind").fetchall())
        reshares = db.execute("SELECT count(*) FROM posts WHERE reshare_of_post IS NOT NULL "
                              "AND reshare_of_account IS NOT NULL").fetchone()
        first = db.execute("SELECT post_id, account_id, created_at::VARCHAR FROM posts "
                           "WHERE post_id = 'vDrqI0GVPxRfGTA8S15KaQ'").fetchone()
        handles = db.execute("SELECT count(*) FROM accounts WHERE handle IS NULL").fetchone()
    assert kinds["reshare"] == reshares[0] if reshares else False
    assert first == ("vDrqI0GVPxRfGTA8S15KaQ", "GpiuNvbRtbXwfynWiD_czA", "2017-04-09 02:00:59+00")
    assert handles == (0,)


def test_cli_ingests_v2(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(json.dumps(page) for page in _v2_pages()))
    workspace = tmp_path / "ws"
    result = CliRunner().invoke(app, ["ingest", str(path), "--workspace", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    batches = json.loads(result.output)["batches"]
    assert [(b["format"], b["stored"], b["rejected"]) for b in batches] == [("x-api-v2", 4, 0)]


def test_cli_names_the_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text\n")
    result = CliRunner().invoke(app, ["ingest", str(path), "--format", "x-api-v1", "--workspace", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "notes.txt: does not look like x-api-v1: line 1 starts with 'just some text', not a JSON object or array" \
        in " ".join(result.output.split())
