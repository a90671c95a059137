"""Detectors, significance, findings and the CLI on small corpora built in tmp_path."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import shared_data
from rrm.cli.app import app
from rrm.corpus import CorpusStore, ingest
from rrm.detect import DetectionParams, FindingsStore, detect, detector_names, explain_edge, get_detector
from rrm.detect.significance import benjamini_hochberg
from rrm.errors import InputError, NotFoundError

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def _write(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _ts(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat()


def _corpus(tmp_path: Path, store: CorpusStore, seed: int = 1) -> None:
    """A ring of 6 accounts that retweets 8 posts within seconds and posts the same text; 80 organic accounts."""
    rng = np.random.default_rng(seed)
    rows: list[list[object]] = []
    n = 0
    ring = [f"ring{i}" for i in range(6)]
    for k in range(8):
        t0 = k * 7_200 + 59.0  # crosses a minute boundary: sliding windows, not bins
        for j, account in enumerate(ring):
            n += 1
            rows.append([f"m{n}", account, account, f"orig{k}", "", f"RT text {k}", _ts(t0 + 3 * j), ""])
        words = " ".join(str(w) for w in rng.choice(["vote", "fraud", "agents", "border", "energy", "prices", "truth",
                                                        "media", "lies", "nato", "war", "farmers", "taxes"], 6))
        for j, account in enumerate(ring):
            n += 1
            emoji = ["🔥", "!!", "", "👍", "?", ""][j]
            text = f"@target{j} {words} in district {k}: they hide it, share now {emoji} https://x.co/{j}{k}"
            rows.append([f"m{n}", account, account, "", "", text, _ts(t0 + 600 + 5 * j), ""])
    for i in range(80):
        account = f"user{i}"
        for _ in range(10):
            n += 1
            t = float(rng.uniform(0, 8 * 7_200))
            if rng.random() < 0.5:
                rows.append([f"m{n}", account, account, f"viral{rng.integers(0, 5)}", "", "RT viral", _ts(t), ""])
            else:
                rows.append([f"m{n}", account, account, "", "", f"my own thought number {n} about {rng.integers(0, 1000)}",
                             _ts(t), ""])
    ingest(store, [str(_write(tmp_path / "corpus.csv", rows))])


@pytest.fixture
def corpus(tmp_path: Path, store: CorpusStore) -> CorpusStore:
    _corpus(tmp_path, store)
    return store


FAST = DetectionParams(window_seconds=60, null_shuffles=10)


def test_registry_lists_every_detector() -> None:
    assert detector_names() == sorted(
        ["co-reshare", "co-amplify", "co-link", "co-text", "co-hashtag", "co-reply", "co-mention", "co-image",
         "sync-activity"]
    )
    detector = get_detector("co-reshare")
    assert detector.name == "co-reshare" and detector.description
    with pytest.raises(NotFoundError, match="unknown detector 'nope'"):
        get_detector("nope")


def test_co_reshare_edges_slide_across_bin_boundaries(corpus: CorpusStore) -> None:
    db = corpus.connect()
    edges, evidence = get_detector("co-reshare").edges(db, FAST)
    ring = {(a, b): c for a, b, c in zip(edges["account_a"].to_pylist(), edges["account_b"].to_pylist(),
                                         edges["co_actions"].to_pylist(), strict=True) if "ring" in a and "ring" in b}
    assert len(ring) == 15  # every pair of the 6 ring accounts
    assert set(ring.values()) == {8}  # 8 distinct originals, all within 15 s, across minute boundaries
    assert edges["p_value"].null_count == edges.num_rows
    pair = evidence.filter(np.array([a == "twitter:ring0" and b == "twitter:ring5" for a, b in zip(
        evidence["account_a"].to_pylist(), evidence["account_b"].to_pylist(), strict=True)]))
    assert pair.num_rows == 8
    gaps = {(b - a).total_seconds() for a, b in zip(pair["time_a"].to_pylist(), pair["time_b"].to_pylist(), strict=True)}
    assert gaps == {15.0}


def test_window_and_minimum_are_respected(corpus: CorpusStore) -> None:
    db = corpus.connect()
    narrow, _ = get_detector("co-reshare").edges(db, DetectionParams(window_seconds=4, null_shuffles=1))
    pairs = set(zip(narrow["account_a"].to_pylist(), narrow["account_b"].to_pylist(), strict=True))
    assert ("twitter:ring0", "twitter:ring1") in pairs  # 3 s apart
    assert ("twitter:ring0", "twitter:ring2") not in pairs  # 6 s apart
    strict, _ = get_detector("co-reshare").edges(db, DetectionParams(window_seconds=60, min_co_actions=9, null_shuffles=1))
    assert not any("ring" in a for a in strict["account_a"].to_pylist())


def test_near_duplicate_text_survives_mentions_links_and_emoji(corpus: CorpusStore) -> None:
    db = corpus.connect()
    near, _ = get_detector("co-text").edges(db, FAST)
    ring_near = [c for a, b, c in zip(near["account_a"].to_pylist(), near["account_b"].to_pylist(),
                                      near["co_actions"].to_pylist(), strict=True) if "ring" in a and "ring" in b]
    assert len(ring_near) == 15 and set(ring_near) == {8}
    exact, _ = get_detector("co-text").edges(db, DetectionParams(window_seconds=60, near_duplicate_threshold=None))
    assert not any("ring" in a for a in exact["account_a"].to_pylist())  # links and emoji differ: no exact match


def test_pipeline_finds_the_ring_and_only_the_ring(corpus: CorpusStore) -> None:
    stages: list[str] = []
    result = detect(corpus, FAST, ["co-reshare", "co-text"], progress=lambda stage, done, total: stages.append(stage))
    assert stages[-1] == "done"
    flagged = set(result.memberships)
    assert flagged == {f"twitter:ring{i}" for i in range(6)}
    community = result.run.communities[0]
    assert set(community.behaviours) == {"co-reshare", "co-text"}
    assert "unlikely to be organic" in community.explanation
    assert community.evidence and all(p.time.tzinfo is not None for p in community.evidence)
    assert any(p.text and "share now" in p.text for p in community.evidence)
    q = result.edges["q_value"].to_numpy()
    assert result.run.significant_edges == int((q <= FAST.fdr_q).sum()) == 30
    assert result.run.expected_false_edges < 1.0
    assert {r.behaviour for r in result.run.null_model} == {"co-reshare", "co-text"}


def test_same_seed_same_findings(corpus: CorpusStore) -> None:
    one = detect(corpus, FAST, ["co-reshare"])
    two = detect(corpus, FAST, ["co-reshare"])
    assert one.edges.equals(two.edges)
    assert one.memberships == two.memberships


def test_benjamini_hochberg_matches_the_textbook() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    q = benjamini_hochberg(p, 4)
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg(np.array([0.01]), 100)[0] == pytest.approx(1.0)
    assert benjamini_hochberg(np.array([0.001]), 10)[0] == pytest.approx(0.01)


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(InputError, match="field 'window_seconds'"):
        DetectionParams(window_seconds=0)
    with pytest.raises(InputError, match="field 'fdr_q'"):
        DetectionParams(fdr_q=1.5)


def test_empty_corpus_is_a_clear_error(store: CorpusStore) -> None:
    with pytest.raises(NotFoundError, match="the corpus is empty"):
        detect(store, FAST)


def test_findings_round_trip(corpus: CorpusStore) -> None:
    result = detect(corpus, FAST, ["co-reshare"])
    findings = FindingsStore(corpus.workspace)
    folder = findings.save(result)
    assert (folder / "edges.parquet").exists() and (folder / "evidence.parquet").exists()
    document = json.loads((folder / "run.json").read_text())
    assert document["run"]["corpus_version"] == corpus.version()
    assert document["run"]["parameters"]["window_seconds"] == 60
    loaded = findings.load()
    assert loaded.run == result.run
    assert loaded.edges.equals(result.edges) and loaded.evidence.equals(result.evidence)
    assert loaded.memberships == result.memberships
    assert [r.run_id for r in findings.runs()] == [result.run.run_id]
    assert findings.community(result.run.run_id, "C001") == result.run.communities[0]
    with pytest.raises(NotFoundError, match="no community 'C999'"):
        findings.community(None, "C999")
    with pytest.raises(NotFoundError, match=r"no detection run '\.\./etc'"):
        findings.load("../etc")


def test_cli_detect_findings_explain(corpus: CorpusStore) -> None:
    runner = CliRunner()
    ws = str(corpus.workspace.root)
    out = runner.invoke(app, ["detect", "-w", ws, "-d", "co-reshare", "-d", "co-text", "--window", "60", "--shuffles", "5"])
    assert out.exit_code == 0, out.output
    assert "C001" in out.output and "significant" in out.output
    listed = runner.invoke(app, ["findings", "-w", ws, "--json"])
    assert listed.exit_code == 0
    run = json.loads(listed.output)
    assert run["communities"][0]["community_id"] == "C001"
    explained = runner.invoke(app, ["explain", "C001", "-w", ws])
    assert explained.exit_code == 0 and "unlikely to be organic" in explained.output
    edge = runner.invoke(app, ["explain", "--edge", "twitter:ring3", "twitter:ring0", "-w", ws, "--json"])
    assert edge.exit_code == 0, edge.output
    data = json.loads(edge.output)
    assert data["account_a"] == "twitter:ring0" and data["behaviours"][0]["significant"]
    missing = runner.invoke(app, ["explain", "C999", "-w", ws])
    assert missing.exit_code == 1 and "no community 'C999'" in missing.output
    unknown = runner.invoke(app, ["detect", "-w", ws, "-d", "nope"])
    assert unknown.exit_code == 1 and "unknown detector 'nope'" in unknown.output


def test_cli_escapes_adversary_text(tmp_path: Path, store: CorpusStore) -> None:
    rows = []
    for k in range(3):
        for j in range(4):
            rows.append([f"p{k}{j}", f"[bold]evil{j}[/bold]", "x", f"o{k}", "", "[red]boom[/red]", _ts(k * 3600 + j), ""])
    for i in range(30):
        rows.append([f"q{i}", f"user{i}", "u", f"o{i % 7}", "", "hello", _ts(i * 977), ""])
    ingest(store, [str(_write(tmp_path / "evil.csv", rows))])
    runner = CliRunner()
    ws = str(store.workspace.root)
    assert runner.invoke(app, ["detect", "-w", ws, "-d", "co-reshare", "--shuffles", "5"]).exit_code == 0
    out = runner.invoke(app, ["explain", "C001", "-w", ws])
    assert out.exit_code == 0, out.output
    assert "[bold]evil" in out.output and "[red]boom[/red]" in out.output


def test_docs_mention_every_default() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "detection.md").read_text()
    for field in fields(DetectionParams):
        assert f"`{field.name}`" in text, field.name
        default = DetectionParams().as_dict()[field.name]
        if not isinstance(default, dict):
            assert f"`{field.name}` | `{default}`" in text, (field.name, default)
    for name in detector_names():
        assert f"`{name}`" in text


def test_co_reshare_equals_the_toolkit_on_coortweet(tmp_path: Path, store: CorpusStore) -> None:
    """The coordination-network-toolkit's own co-retweet query, run in SQLite on the same posts."""
    ingest(store, [str(shared_data("social/coortweet/russian_coord_tweets.csv"))])
    db = store.connect()
    rows = db.execute(
        "SELECT post_id, platform || ':' || account_id, reshare_of_post, epoch(created_at) FROM posts"
    ).fetchall()
    lite = sqlite3.connect(tmp_path / "cnt.db")
    lite.execute("create table edge (message_id, user_id, repost_id, timestamp)")
    lite.executemany("insert into edge values (?, ?, ?, ?)", rows)
    toolkit = lite.execute(
        """select e_1.user_id as user_1, e_2.user_id as user_2, count(distinct e_1.message_id) as weight
           from edge e_1 inner join edge e_2
               on e_1.repost_id = e_2.repost_id and e_2.timestamp between e_1.timestamp - ?1 and e_1.timestamp + ?1
           group by e_1.user_id, e_2.user_id having weight >= ?2""",
        (60, 2),
    ).fetchall()
    lite.close()
    forward = {(a, b): w for a, b, w in toolkit if a < b}
    backward = {(b, a): w for a, b, w in toolkit if a > b}
    symmetric = {pair: w for pair, w in forward.items() if backward.get(pair) == w}
    edges, _ = get_detector("co-reshare").edges(db, DetectionParams(window_seconds=60, max_accounts_per_object=None))
    ours = dict(zip(zip(edges["account_a"].to_pylist(), edges["account_b"].to_pylist(), strict=True),
                    edges["co_actions"].to_pylist(), strict=True))
    # where neither account repeated a retweet, the toolkit's weights are symmetric and equal ours, pair by pair
    assert {pair: w for pair, w in ours.items() if pair in symmetric} == symmetric
    assert len(symmetric) > 20
    # where an account retweeted the same post twice, the toolkit counts both messages, RRM the post once
    asymmetric = (set(forward) | set(backward)) - set(symmetric)
    assert asymmetric  # the real data has such accounts
    for pair in asymmetric:
        assert ours.get(pair, 0) <= min(forward.get(pair, 0), backward.get(pair, 0)) or pair not in ours
    assert set(ours) <= set(forward) | set(backward)


def test_permute_elsewhere_keeps_activity_and_breaks_the_account_object_link() -> None:
    """The null model moves whole posts among the accounts of a block, never back onto an object the account acted on."""
    import pyarrow as pa

    from rrm.detect.cooccur import ACTION_SCHEMA, PEER
    from rrm.detect.significance import shuffled_actions

    rng = np.random.default_rng(5)
    rows = []
    for post in range(400):  # a campaign of 10 accounts holds 30% of the block: 3 objects, 2 actions per post
        account = f"c{post % 10}" if post < 120 else f"o{post % 40}"
        objects = [f"camp{post % 3}", "tag:x"] if post < 120 else [f"org{rng.integers(0, 60)}"]
        rows += [(account, o, 1_000 + post, f"p{post}", PEER) for o in objects]
    actions = pa.table(list(zip(*rows, strict=True)), schema=ACTION_SCHEMA)
    acted = set(zip(actions["account"].to_pylist(), actions["object"].to_pylist(), strict=True))
    for model, collisions_allowed in (("permute-elsewhere", False), ("permute-accounts", True)):
        null = shuffled_actions(actions, model, np.random.default_rng(1), None, 10**12)
        pairs = list(zip(null["account"].to_pylist(), null["object"].to_pylist(), strict=True))
        collisions = sum(pair in acted for pair in pairs)
        assert (collisions > 0) == collisions_allowed, (model, collisions)
        per_post = {}
        for account, post in zip(null["account"].to_pylist(), null["post"].to_pylist(), strict=True):
            assert per_post.setdefault(post, account) == account  # the actions of a post move together
        before = Counter(dict(zip(actions["post"].to_pylist(), actions["account"].to_pylist(), strict=True)).values())
        assert Counter(per_post.values()) == before  # every account keeps its number of posts


def test_stability_selection_reports_frequencies(corpus: CorpusStore) -> None:
    params = FAST.with_changes(stability_subsamples=4, stability_fraction=0.8)
    result = detect(corpus, params, ["co-reshare", "co-text"])
    stability = result.run.stability
    assert stability is not None and stability.subsamples == 4
    ring = {f"twitter:ring{i}" for i in range(6)}
    assert set(result.memberships) == ring
    assert all(stability.account_frequency[a] == 1.0 for a in ring)
    assert stability.selected_accounts == len(ring)
    assert result.selection is not None
    frequency = result.selection["frequency"].to_numpy()
    assert ((frequency > 0) & (frequency <= 1)).all() and stability.selected_edges == int((frequency >= 0.6).sum()) >= 15
    assert "Stability selection" in result.run.communities[0].explanation
    findings = FindingsStore(corpus.workspace)
    findings.save(result)
    loaded = findings.load()
    assert loaded.run == result.run and loaded.selection is not None and loaded.selection.equals(result.selection)
    edge = explain_edge(corpus, loaded, "twitter:ring0", "twitter:ring1")
    assert edge.selection_frequency_a == 1.0 and edge.behaviours[0].selection_frequency == 1.0
    assert "flagged in 100% of the subsamples" in edge.explanation
    with pytest.raises(InputError, match="field 'stability_fraction'"):
        DetectionParams(stability_fraction=1.0)


def test_cli_stability(corpus: CorpusStore) -> None:
    runner = CliRunner()
    ws = str(corpus.workspace.root)
    out = runner.invoke(app, ["detect", "-w", ws, "-d", "co-reshare", "--window", "60", "--shuffles", "5", "--stability", "3"])
    assert out.exit_code == 0, out.output
    assert "Stability selection: 3 subsamples of 90% of the posts; 6 accounts" in out.output
    explained = runner.invoke(app, ["explain", "C001", "-w", ws])
    assert explained.exit_code == 0 and "twitter:ring0 (100%)" in explained.output
