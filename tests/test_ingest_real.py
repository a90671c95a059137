"""Each CSV format on real files (../shared/data/social), checked against the files read independently."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from conftest import shared_data
from rrm._duckdb import sql_path
from rrm.corpus import BatchRecord, CorpusStore, ingest
from rrm.workspace import Workspace

GERMAN = "social/coortweet/german_elections.csv"
RUSSIAN = "social/coortweet/russian_coord_tweets.csv"
IRA = "social/schema-samples/fivethirtyeight_ira_sample.csv"
CNT = "social/schema-samples/cnt_8col_format_SYNTHETIC.csv"


def read_csv(path: Path, query: str) -> list[tuple[object, ...]]:
    """``query`` over the raw file as text columns (``t``), to check the corpus against."""
    with duckdb.connect() as db:
        db.execute(f"CREATE VIEW t AS SELECT * FROM read_csv({sql_path(path)}, all_varchar = true, header = true)")
        return db.execute(query).fetchall()


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[CorpusStore, dict[str, BatchRecord]]:
    """The four real files ingested once, formats detected from their content."""
    paths = {name: shared_data(name) for name in (GERMAN, RUSSIAN, IRA, CNT)}
    store = CorpusStore(Workspace.resolve(tmp_path_factory.mktemp("real") / "ws"))
    report = ingest(store, [str(p) for p in paths.values()])
    assert report.failures == []
    by_source = {b.source: b for b in report.batches}
    return store, {name: by_source[str(path)] for name, path in paths.items()}


def posts_where(store: CorpusStore, where: str, params: list[object]) -> list[dict[str, object]]:
    with store.connect() as db:
        cursor = db.execute(f"SELECT * FROM posts WHERE {where}", params)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_formats_are_detected_from_content(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    _, batches = real
    assert {name: b.format for name, b in batches.items()} == {
        GERMAN: "coortweet-multi", RUSSIAN: "coortweet", IRA: "fivethirtyeight-ira", CNT: "cnt",
    }


def test_german_elections_counts_and_rejections(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, batches = real
    batch = batches[GERMAN]
    assert (batch.records_read, batch.stored, batch.rejected) == (218_971, 194_323, 3)
    assert batch.duplicates == 218_971 - 3 - 194_323  # rows merged into the post they belong to
    rejected = store.quarantine(batch.batch_id)
    path = str(shared_data(GERMAN))
    assert [(r.source, r.line, r.field) for r in rejected] == [(path, 41002, "post_id"), (path, 50977, "post_id"),
                                                                (path, 72320, "post_id")]
    assert {r.reason for r in rejected} == {"missing required field post_id"}
    with Path(path).open(encoding="utf-8") as handle:
        lines = [line for n, line in enumerate(handle, start=1) if n in {41002, 50977, 72320}]
    assert [line.split(",")[1] for line in lines] == ["", "", ""]  # the line numbers point at the empty post_id


def test_german_elections_platform_from_the_account_prefix(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, batches = real
    expected = dict(
        read_csv(
            shared_data(GERMAN),
            """SELECT CASE split_part(account_id, '_', 1) WHEN 'tw' THEN 'twitter' WHEN 'fb' THEN 'facebook' END,
                      count(DISTINCT post_id) FROM t WHERE post_id IS NOT NULL GROUP BY 1""",
        )
    )
    with store.connect() as db:
        got = dict(db.execute("SELECT platform, count(*) FROM posts WHERE batch_id = ? GROUP BY 1",
                              [batches[GERMAN].batch_id]).fetchall())
    assert got == expected
    assert set(got) == {"twitter", "facebook"}
    assert sum(got.values()) == 194_323


def distinct(column: str) -> str:
    return f"coalesce(list_sort(list(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)), [])"


def test_german_elections_rows_of_one_post_are_merged(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, _ = real
    post_id, account, rows, hashtags, media, urls, first = read_csv(
        shared_data(GERMAN),
        f"""SELECT post_id, any_value(account_id), count(*), {distinct('hashtag_id')}, {distinct('phash_id')},
                   {distinct('url_id')}, min(timestamp::DOUBLE)
            FROM t WHERE post_id IS NOT NULL GROUP BY post_id
            HAVING count(DISTINCT phash_id) > 1
            ORDER BY count(*) DESC, post_id LIMIT 1""",
    )[0]
    assert isinstance(rows, int) and rows > 2
    (post,) = posts_where(store, "post_id = ? AND account_id = ?", [post_id, account])
    assert post["platform"] == {"tw": "twitter", "fb": "facebook"}[str(account)[:2]]
    assert sorted(post["hashtags"]) == hashtags  # type: ignore[arg-type]
    assert sorted(post["media_hashes"]) == media  # type: ignore[arg-type]
    assert sorted(post["urls"]) == urls  # type: ignore[arg-type]
    assert post["created_at"] == datetime.fromtimestamp(float(first), UTC)  # type: ignore[arg-type]


def test_russian_coordinated_reshares(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, batches = real
    batch = batches[RUSSIAN]
    (distinct,) = read_csv(shared_data(RUSSIAN), "SELECT count(DISTINCT content_id) FROM t")[0]
    assert (batch.records_read, batch.stored, batch.duplicates, batch.rejected) == (35_125, distinct, 35_125 - distinct, 0)
    with store.connect() as db:
        kinds = db.execute(
            "SELECT kind, count(*), count(reshare_of_post), count(DISTINCT account_id) FROM posts WHERE batch_id = ? "
            "GROUP BY 1", [batch.batch_id]).fetchall()
    assert kinds == [("reshare", distinct, distinct, 9_509)]
    (post,) = posts_where(store, "post_id = ?", ["114e22f1b2b648528277b76f0b0224e7"])  # the first row of the file
    assert post["account_id"] == "0fb4232d1b7b37069c13ee17579bd10e"
    assert post["reshare_of_post"] == "85d2d12251a735ce05255061f7f231e2"
    assert post["created_at"] == datetime.fromtimestamp(1623881091, UTC)
    assert post["platform"] == "twitter"


def test_fivethirtyeight_ids_recovered_from_article_url(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, batches = real
    batch = batches[IRA]
    assert (batch.records_read, batch.stored, batch.rejected) == (100, 100, 0)
    (post,) = posts_where(store, "post_id = ?", ["914580356430536707"])
    assert post["account_id"] == "905874659358453760"
    assert post["handle"] == "10_GOP"
    assert post["created_at"] == datetime(2017, 10, 1, 19, 58, tzinfo=UTC)
    assert post["lang"] == "en"
    assert post["kind"] == "post"
    assert "https://twitter.com/10_gop/status/914580356430536707/video/1" in post["urls"]  # type: ignore[operator]
    (retweet,) = posts_where(store, "post_id = ?", ["914623490375979008"])
    assert retweet["kind"] == "reshare"
    rows = posts_where(store, "batch_id = ?", [batch.batch_id])
    assert not [r for r in rows if "E+" in str(r["post_id"]) + str(r["account_id"])]
    assert len({r["post_id"] for r in rows}) == 100


def test_cnt_synthetic_sample(real: tuple[CorpusStore, dict[str, BatchRecord]]) -> None:
    store, batches = real
    batch = batches[CNT]
    assert (batch.records_read, batch.stored, batch.rejected) == (100, 100, 0)
    (post,) = posts_where(store, "post_id = ? AND batch_id = ?", ["2", batch.batch_id])
    assert (post["account_id"], post["handle"], post["reshare_of_post"], post["text"]) == ("1", "user_1", "1", "camel")
    assert post["urls"] == ["http://example.com/4", "http://example.com/6"]
    assert post["domains"] == ["example.com"]
    assert post["created_at"] == datetime(2020, 11, 27, 4, 26, 10, 518142, tzinfo=UTC)


IO_COLUMNS = [  # as listed in ../shared/data/social/README.md
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location", "user_profile_description",
    "user_profile_url", "follower_count", "following_count", "account_creation_date", "account_language",
    "tweet_language", "tweet_text", "tweet_time", "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid",
    "quoted_tweet_tweetid", "is_retweet", "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count",
    "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions", "poll_choices",
]


def test_x_information_operations_archive(store: CorpusStore, tmp_path: Path) -> None:
    """No sample of this format is in the shared data: a small file as the 2018-2021 releases wrote them."""
    profile = {
        "userid": "a8f3b0e2c1", "user_display_name": "Мария Иванова", "user_screen_name": "maria_news24",
        "user_reported_location": "Berlin", "user_profile_description": "Nachrichten | News", "user_profile_url": "",
        "follower_count": "1520", "following_count": "310", "account_creation_date": "2016-05-12",
        "account_language": "ru", "latitude": "absent", "longitude": "absent", "tweet_client_name": "Twitter Web Client",
        "poll_choices": "", "quote_count": "0", "reply_count": "0", "like_count": "3", "retweet_count": "1",
    }
    tweets = [
        {"tweetid": "1102930142342086657", "tweet_language": "de", "tweet_time": "2019-03-05 14:02",
         "tweet_text": "Die Wahrheit über #Migration https://t.co/AbC123 via @spiegel", "is_retweet": "False",
         "hashtags": "[Migration]", "urls": "[https://bit.ly/2Xy?utm_source=tw]", "user_mentions": "[39692424]"},
        {"tweetid": "1102931000000000001", "tweet_language": "de", "tweet_time": "2019-03-05 14:10",
         "tweet_text": "RT @other: Wahlbetrug!", "is_retweet": "True", "retweet_userid": "b77",
         "retweet_tweetid": "1102920000000000000", "hashtags": "[]", "urls": "[]", "user_mentions": "[b77]"},
        {"tweetid": "1102932000000000002", "tweet_language": "en", "tweet_time": "2019-03-05 15:00",
         "tweet_text": "@b77 exactly, see https://www.Example.co.uk/a?fbclid=1", "is_retweet": "False",
         "in_reply_to_userid": "b77", "in_reply_to_tweetid": "1102931500000000000", "hashtags": "",
         "urls": "[https://www.Example.co.uk/a?fbclid=1]", "user_mentions": "[b77]"},
        {"tweetid": "1102933000000000003", "tweet_language": "en", "tweet_time": "2019-03-05 16:00",
         "tweet_text": "Look at this", "is_retweet": "false", "quoted_tweet_tweetid": "1102900000000000009",
         "hashtags": "[Look, This]", "urls": "", "user_mentions": ""},
    ]
    path = tmp_path / "russia_201906_1_tweets_csv_hashed.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, IO_COLUMNS, restval="")
        writer.writeheader()
        for tweet in tweets:
            writer.writerow(profile | tweet)
    (batch,) = ingest(store, [str(path)]).batches
    assert (batch.format, batch.records_read, batch.stored, batch.rejected) == ("x-io-archive", 4, 4, 0)
    posts = {p["post_id"]: p for p in posts_where(store, "true", [])}
    first = posts["1102930142342086657"]
    assert (first["platform"], first["account_id"], first["handle"], first["display_name"]) == (
        "twitter", "a8f3b0e2c1", "maria_news24", "Мария Иванова")
    assert (first["kind"], first["lang"], first["created_at"]) == ("post", "de", datetime(2019, 3, 5, 14, 2, tzinfo=UTC))
    assert first["hashtags"] == ["migration"]
    assert first["mentions"] == ["39692424"]
    assert first["urls_canonical"] == ["https://bit.ly/2Xy"]
    assert first["shortened_urls"] == ["https://bit.ly/2Xy"]
    retweet = posts["1102931000000000001"]
    assert (retweet["kind"], retweet["reshare_of_post"], retweet["reshare_of_account"]) == (
        "reshare", "1102920000000000000", "b77")
    reply = posts["1102932000000000002"]
    assert (reply["kind"], reply["reply_to_post"], reply["reply_to_account"]) == ("reply", "1102931500000000000", "b77")
    assert reply["domains"] == ["example.co.uk"]
    assert reply["urls_canonical"] == ["https://www.example.co.uk/a"]
    quote = posts["1102933000000000003"]
    assert (quote["kind"], quote["quote_of_post"], quote["reshare_of_post"]) == ("quote", "1102900000000000009", None)
    assert sorted(quote["hashtags"]) == ["look", "this"]  # type: ignore[type-var]
    with store.connect() as db:
        account = db.execute(
            "SELECT handle, followers, following, location, account_created_at FROM accounts WHERE account_id = ?",
            ["a8f3b0e2c1"]).fetchall()
    assert account == [("maria_news24", 1520, 310, "Berlin", datetime(2016, 5, 12, tzinfo=UTC))]


def test_a_format_that_contradicts_a_real_file_stores_nothing(store: CorpusStore) -> None:
    report = ingest(store, [str(shared_data(RUSSIAN))], format_name="coortweet-multi")
    assert report.batches == []
    (failure,) = report.failures
    assert failure.message.startswith(f"{shared_data(RUSSIAN)}: does not look like coortweet-multi: missing columns")
    assert store.batches() == [] and store.post_files() == []
