"""The scenario generator: reproducible, realistic background, every campaign kind planted, ingestible."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pytest

from rrm.corpus import CorpusStore, ingest
from rrm.demo import CAMPAIGN_KINDS, Scenario, ScenarioConfig, generate_scenario, load_labels, write_posts
from rrm.demo.posts import ARCHIVE_HEADER, quote
from rrm.errors import InputError
from rrm.workspace import Workspace

ALL_KINDS = tuple(CAMPAIGN_KINDS)
SMALL = ScenarioConfig(seed=11, organic_accounts=400, days=2, accounts_per_campaign=10, campaign_kinds=ALL_KINDS)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate_scenario(SMALL)


@pytest.fixture(scope="module")
def corpus(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("scenario")
    files = scenario.write(folder / "files")
    store = CorpusStore(Workspace.resolve(folder / "ws").ensure())
    report = ingest(store, [str(files.posts)])
    assert report.failures == []
    (batch,) = report.batches
    assert (batch.format, batch.records_read, batch.stored, batch.rejected) == (
        "x-io-archive", len(scenario.posts), len(scenario.posts), 0,
    )
    db = store.connect()
    db.execute("CREATE TABLE labels AS SELECT * FROM read_csv(?, all_varchar = true)", [str(files.labels)])
    return db


def test_same_seed_same_bytes_and_streaming_matches(tmp_path: Path) -> None:
    a = generate_scenario(SMALL).write(tmp_path / "a")
    b = generate_scenario(SMALL).write(tmp_path / "b", compress=True)
    streamed = tmp_path / "streamed.csv"
    count = write_posts(SMALL, streamed)
    assert a.posts.read_bytes() == gzip.decompress(b.posts.read_bytes()) == streamed.read_bytes()
    assert a.labels.read_bytes() == b.labels.read_bytes()
    assert count == len(generate_scenario(SMALL).posts)
    other = generate_scenario(ScenarioConfig(seed=12, organic_accounts=400, days=2, accounts_per_campaign=10))
    assert other.write(tmp_path / "c").posts.read_bytes() != a.posts.read_bytes()


def test_gzip_output_is_reproducible(tmp_path: Path) -> None:
    first = write_posts(SMALL, tmp_path / "one.csv.gz")
    second = write_posts(SMALL, tmp_path / "two.csv.gz")
    assert first == second
    assert (tmp_path / "one.csv.gz").read_bytes() == (tmp_path / "two.csv.gz").read_bytes()


def test_posts_target_scales_the_scenario() -> None:
    config = ScenarioConfig(seed=3, organic_accounts=500, days=2, accounts_per_campaign=8, posts_target=12_000)
    assert abs(len(generate_scenario(config).posts) - 12_000) <= 5


def test_file_is_the_archive_format_and_cells_are_quoted_like_the_csv_module(tmp_path: Path) -> None:
    files = generate_scenario(SMALL).write(tmp_path)
    with files.posts.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == ARCHIVE_HEADER
    assert {len(r) for r in rows} == {len(ARCHIVE_HEADER)}
    retweets = [r for r in rows[1:] if r[ARCHIVE_HEADER.index("is_retweet")] == "True"]
    assert retweets and all(r[ARCHIVE_HEADER.index("tweet_text")].startswith("RT @") for r in retweets)
    for cell in ["plain", "a, b", 'say "no"', "line\nbreak", "", "tab\there", "emoji 🔥, comma"]:
        expected = io.StringIO()
        csv.writer(expected, lineterminator="\n").writerow([cell, "x"])
        assert f"{quote(cell)},x\n" == expected.getvalue()


def test_labels_are_the_planted_accounts(scenario: Scenario, tmp_path: Path, corpus: duckdb.DuckDBPyConnection) -> None:
    planted = {f"twitter:{a}": f"{c.campaign_id}:{c.kind}" for c in scenario.campaigns for a in c.account_ids}
    assert scenario.labels == planted
    assert len(planted) == len(ALL_KINDS) * SMALL.accounts_per_campaign
    assert sorted({c.kind for c in scenario.campaigns}) == sorted(ALL_KINDS)
    assert load_labels(scenario.write(tmp_path).labels) == planted
    posting = {f"twitter:{a}" for (a,) in corpus.execute("SELECT DISTINCT account_id FROM posts").fetchall()}
    assert set(planted) <= posting
    # planted accounts are younger and less followed than the organic ones
    young, followers = corpus.execute(
        """SELECT median(date_diff('day', account_created_at, TIMESTAMPTZ '2024-06-01')) FILTER (WHERE l.account_id IS NOT NULL)
                  < median(date_diff('day', account_created_at, TIMESTAMPTZ '2024-06-01')) FILTER (WHERE l.account_id IS NULL),
                  median(followers) FILTER (WHERE l.account_id IS NOT NULL) < median(followers) FILTER (WHERE l.account_id IS NULL)
           FROM accounts a LEFT JOIN labels l USING (account_id)"""
    ).fetchone() or (None, None)
    assert young and followers


def test_organic_activity_is_heavy_tailed(corpus: duckdb.DuckDBPyConnection) -> None:
    counts = [n for (n,) in corpus.execute(
        """SELECT count(*) AS n FROM posts ANTI JOIN labels USING (account_id) GROUP BY account_id ORDER BY n DESC"""
    ).fetchall()]
    top = counts[: max(1, len(counts) // 100)]
    assert sum(top) > 0.08 * sum(counts)  # the top 1% of accounts post over 8% of everything
    assert counts[len(counts) // 2] <= sum(counts) / len(counts)  # the median account posts less than the mean
    assert max(counts) > 10 * counts[len(counts) // 2]


def test_a_viral_post_is_reshared_by_many_over_hours(corpus: duckdb.DuckDBPyConnection) -> None:
    resharers, hours = corpus.execute(
        """SELECT count(DISTINCT account_id), date_diff('minute', min(created_at), max(created_at)) / 60
           FROM posts WHERE kind = 'reshare' GROUP BY reshare_of_post ORDER BY 1 DESC LIMIT 1"""
    ).fetchone() or (0, 0)
    assert resharers >= 0.25 * SMALL.organic_accounts * 0.5
    assert hours >= 3


def test_debate_hashtags_and_news_links_are_crowds(corpus: duckdb.DuckDBPyConnection) -> None:
    debate = corpus.execute(
        """SELECT count(DISTINCT account_id), date_diff('minute', min(created_at), max(created_at)) FROM posts
           WHERE list_contains(hashtags, 'tvdebate') AND kind = 'post'"""
    ).fetchone()
    assert debate is not None and debate[0] >= 10 and debate[1] <= 90
    forms = corpus.execute(
        """SELECT count(DISTINCT u) FROM (SELECT unnest(urls) AS u FROM posts)
           WHERE u LIKE '%utm_source=%' OR u LIKE 'https://bit.ly/%' OR u LIKE 'https://trib.al/%'"""
    ).fetchone()
    assert forms is not None and forms[0] > 0


def _campaign(scenario: Scenario, kind: str) -> tuple[str, list[str]]:
    (campaign,) = [c for c in scenario.campaigns if c.kind == kind]
    return campaign.campaign_id, list(campaign.account_ids)


def test_retweet_ring_reshares_within_minutes(scenario: Scenario, corpus: duckdb.DuckDBPyConnection) -> None:
    _, members = _campaign(scenario, "retweet-ring")
    row = corpus.execute(
        """SELECT count(DISTINCT account_id), date_diff('second', min(created_at), max(created_at))
           FROM posts WHERE kind = 'reshare' AND list_contains(?, account_id)
           GROUP BY reshare_of_post ORDER BY 1 DESC LIMIT 1""",
        [members],
    ).fetchone()
    assert row is not None and row[0] >= 5 and row[1] <= 420


def test_copy_paste_posts_near_identical_texts(scenario: Scenario, corpus: duckdb.DuckDBPyConnection) -> None:
    _, members = _campaign(scenario, "copy-paste")
    texts = [t for (t,) in corpus.execute(
        "SELECT text FROM posts WHERE list_contains(?, account_id) AND text LIKE '%@%' AND kind = 'post'", [members]
    ).fetchall()]
    first_words = {" ".join(t.split()[:2]) for t in texts}
    assert len(texts) >= 20
    assert len(first_words) < len(texts) / 3  # many texts share their opening words
    assert len(set(texts)) > len(texts) / 2  # but most are edited


def test_link_farm_pushes_the_same_urls_in_varied_forms(scenario: Scenario, corpus: duckdb.DuckDBPyConnection) -> None:
    _, members = _campaign(scenario, "link-farm")
    row = corpus.execute(
        """SELECT count(DISTINCT account_id), count(DISTINCT u), date_diff('second', min(created_at), max(created_at))
           FROM (SELECT account_id, created_at, unnest(urls) AS u, unnest(urls_canonical) AS c FROM posts
                 WHERE list_contains(?, account_id))
           WHERE c NOT LIKE '%twimg%' AND u NOT LIKE 'https://bit.ly/%' AND u NOT LIKE 'https://%.ly/%'
             AND u NOT LIKE 'https://trib.al/%' AND u NOT LIKE 'https://dlvr.it/%'
           GROUP BY c ORDER BY 1 DESC LIMIT 1""",
        [members],
    ).fetchone()
    assert row is not None and row[0] >= 5 and row[1] >= 2 and row[2] <= 900


def test_hashtag_push_uses_a_rare_hashtag_in_bursts(scenario: Scenario, corpus: duckdb.DuckDBPyConnection) -> None:
    campaign_id, members = _campaign(scenario, "hashtag-push")
    (campaign,) = [c for c in scenario.campaigns if c.campaign_id == campaign_id]
    tag = campaign.objects[0].lstrip("#").lower()
    users, outsiders = corpus.execute(
        """SELECT count(DISTINCT account_id) FILTER (WHERE list_contains(?, account_id)),
                  count(*) FILTER (WHERE NOT list_contains(?, account_id) AND kind = 'post')
           FROM posts WHERE list_contains(hashtags, ?)""",
        [members, members, tag],
    ).fetchone() or (0, 0)
    assert users >= 5 and outsiders == 0


def test_reply_swarm_replies_to_one_target(scenario: Scenario, corpus: duckdb.DuckDBPyConnection) -> None:
    _, members = _campaign(scenario, "reply-swarm")
    row = corpus.execute(
        """SELECT count(DISTINCT reply_to_account), count(DISTINCT account_id) FROM posts
           WHERE kind = 'reply' AND list_contains(?, account_id)""",
        [members],
    ).fetchone()
    assert row is not None and row[0] == 1 and row[1] >= 5


def test_unknown_campaign_kind_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        generate_scenario(ScenarioConfig(campaign_kinds=("retweet-ring", "astroturf")))
    assert caught.value.field == "campaign_kinds"
    assert caught.value.message.startswith("scenario, field 'campaign_kinds': unknown campaign kind 'astroturf'")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        ScenarioConfig(days=0)
    assert caught.value.message == "scenario, field 'days': must be at least 1, got 0"


def test_load_labels_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("platform,account_id,campaign_id,campaign_kind\ntwitter,1,c1,copy-paste\ntwitter,,c1,copy-paste\n")
    with pytest.raises(InputError) as caught:
        load_labels(path)
    assert (caught.value.line, caught.value.field) == (3, "account_id")
    path.write_text("who,what\n")
    with pytest.raises(InputError, match="line 1"):
        load_labels(path)
    path.write_bytes(b"platform,account_id,campaign_id,campaign_kind\ntwitter,1,c1,\xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_labels(path)
    path.write_text("\ufeffplatform,account_id,campaign_id,campaign_kind\ntwitter,1,c1,copy-paste\n", encoding="utf-8")
    assert load_labels(path) == {"twitter:1": "c1:copy-paste"}
