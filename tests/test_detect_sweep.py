"""The sorting path of ``observe`` (``rrm.detect.sweep``) against the join of ``rrm.detect.cooccur``.

Both must find the same pairs, co-action counts, weights, evidence and null-model tables on the same
corpus: ties in time, accounts acting twice on one object, objects over the sampling cap, one window
wide enough to chain many actions.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rrm._duckdb import arrow_table
from rrm.corpus import CorpusStore, ingest
from rrm.detect import DetectionParams, get_detector
from rrm.detect.cooccur import PairRule
from rrm.detect.detectors.base import ActionDetector, Observation
from rrm.detect.sweep import (
    _all_valid,
    _code_order,
    _key_order,
    _order,
    _time_quantum,
    _window_pairs,
    sorted_co_actions,
)

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]
SORTED = ["co-reshare", "co-link", "co-text", "co-reply", "co-mention"]


class _ByJoin:
    """A detector forced through the join of ``rrm.detect.cooccur``."""

    def __init__(self, detector: ActionDetector) -> None:
        self.detector = detector

    def observe(self, db: object, params: DetectionParams) -> Observation:
        forced = type("Joined", (type(self.detector),), {"pairs_by_sorting": property(lambda _: False)})()
        return forced.observe(db, params)  # type: ignore[no-any-return]


@pytest.fixture
def corpus(tmp_path: Path, store: CorpusStore) -> CorpusStore:
    """15 accounts acting on 12 originals, links, replies, mentions and texts, with many ties in time."""
    rng = np.random.default_rng(7)
    rows: list[list[object]] = []
    for n in range(3_000):
        account = f"acct{int(rng.integers(0, 15)):02d}"
        stamp = int(START.timestamp()) + int(rng.integers(0, 900)) // 5 * 5  # every 5 s: many ties
        kind = int(rng.integers(0, 4))
        target = int(rng.zipf(1.6)) % 12  # a few popular objects: some go over a small cap
        repost = f"orig{target}" if kind == 0 else ""
        reply = f"orig{target}" if kind == 1 else ""
        text = f"RT post {target}" if kind == 0 else f"@user{target} same words {target}"
        urls = f"https://example.org/story/{target}?utm_source=x" if kind == 2 else ""
        rows.append([f"p{n}", account, account, repost, reply, text, stamp, urls])
    path = tmp_path / "actions.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    ingest(store, [str(path)], format_name="cnt")
    return store


def _tables(db: object, observation: Observation) -> dict[str, pa.Table]:
    return {
        "actions": arrow_table(db, f"SELECT * FROM {observation.actions} ORDER BY ALL"),  # type: ignore[arg-type]
        "accounts": arrow_table(db, f"SELECT * FROM {observation.accounts} ORDER BY code"),  # type: ignore[arg-type]
        "weights": arrow_table(db, f"SELECT * FROM {observation.weights} ORDER BY object"),  # type: ignore[arg-type]
    }


@pytest.mark.parametrize("name", SORTED)
@pytest.mark.parametrize("cap", [None, 6])
@pytest.mark.parametrize("window", [10, 600])
def test_sorting_equals_the_join(corpus: CorpusStore, name: str, cap: int | None, window: int) -> None:
    detector = get_detector(name)
    assert isinstance(detector, ActionDetector) and detector.pairs_by_sorting
    params = DetectionParams(window_seconds=window, min_co_actions=2, max_accounts_per_object=cap,
                             near_duplicate_threshold=None)
    with corpus.connect() as db:
        joined = _ByJoin(detector).observe(db, params)
        joined_tables = _tables(db, joined)
    with corpus.connect() as db:
        sorted_ = detector.observe(db, params)
        sorted_tables = _tables(db, sorted_)
    assert joined.edges.num_rows > 0 and joined.evidence.num_rows > 0
    for column in ("behaviour", "account_a", "account_b", "co_actions", "p_value", "q_value"):
        assert sorted_.edges.column(column).equals(joined.edges.column(column)), column
    assert np.allclose(sorted_.edges.column("weight").to_numpy(), joined.edges.column("weight").to_numpy(), rtol=1e-12)
    assert sorted_.evidence.equals(joined.evidence)
    assert sorted_tables["actions"].equals(joined_tables["actions"])
    assert sorted_tables["accounts"].equals(joined_tables["accounts"])
    weights_sorted, weights_joined = sorted_tables["weights"], joined_tables["weights"]
    assert weights_sorted.column("object").equals(weights_joined.column("object"))
    assert weights_sorted.column("accounts").equals(weights_joined.column("accounts"))


def test_the_cap_is_exercised(corpus: CorpusStore) -> None:
    """The corpus has objects over the cap of the test above, so the sampling path runs."""
    with corpus.connect() as db:
        busiest = db.execute(
            "SELECT max(n) FROM (SELECT count(DISTINCT account_id) AS n FROM posts WHERE reshare_of_post IS NOT NULL "
            "GROUP BY reshare_of_post)"
        ).fetchall()[0][0]
    assert busiest > 6


def test_no_actions_gives_empty_tables(corpus: CorpusStore) -> None:
    with corpus.connect() as db:
        observation = get_detector("co-image").observe(db, DetectionParams())  # the corpus has no media
        assert observation.edges.num_rows == observation.evidence.num_rows == 0
        assert db.execute(f"SELECT count(*) FROM {observation.weights}").fetchall() == [(0,)]


def _brute_pairs(obj: np.ndarray, t: np.ndarray, window: int) -> set[tuple[int, int]]:
    return {(i, j) for i in range(t.size) for j in range(i + 1, t.size) if obj[i] == obj[j] and t[j] - t[i] <= window}


@pytest.mark.parametrize("huge", [False, True])
def test_window_pairs_by_key_and_by_steps(huge: bool) -> None:
    """The binary search on one 64-bit key, and the step-by-step comparison used when object and time
    do not fit one key, both give every pair within the window."""
    rng = np.random.default_rng(3)
    obj = np.sort(rng.integers(0, 6, 300))
    t = rng.integers(0, 500, 300)
    if huge:
        t = t * (1 << 52)  # a span no 64-bit key can hold with 6 objects
    order = np.lexsort((t, obj))
    obj, t = obj[order], t[order]
    window = 40 << 52 if huge else 40
    i, j = _window_pairs(obj, t, window)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == _brute_pairs(obj, t, window)
    assert len(i) == len(set(zip(i.tolist(), j.tolist(), strict=True)))


@pytest.mark.parametrize("span", [1_000, 1 << 61])
def test_order_by_key_and_by_lexsort(span: int) -> None:
    rng = np.random.default_rng(4)
    major = rng.integers(0, 50, 2_000)
    minor = rng.integers(0, min(span, 1 << 40), 2_000)
    order = _order(major, 50, minor, span)
    assert np.array_equal(major[order], np.sort(major))
    pairs = list(zip(major[order].tolist(), minor[order].tolist(), strict=True))
    assert pairs == sorted(pairs)


@pytest.mark.parametrize("name", SORTED)
def test_edges_alone_equal_the_observation(corpus: CorpusStore, name: str) -> None:
    """``edges`` skips the null model's tables and nothing else."""
    params = DetectionParams(window_seconds=60, min_co_actions=2, max_accounts_per_object=6)
    detector = get_detector(name)
    with corpus.connect() as db:
        edges, evidence = detector.edges(db, params)
        assert not db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '\\_actions%' ESCAPE '\\'").fetchall()[0][0]
    with corpus.connect() as db:
        observation = detector.observe(db, params)  # type: ignore[attr-defined]
    assert edges.num_rows > 0
    assert edges.select(["account_a", "account_b", "co_actions"]).equals(
        observation.edges.select(["account_a", "account_b", "co_actions"]))
    assert evidence.equals(observation.evidence)


@pytest.mark.parametrize("rows", [1, 2, 5_000])
@pytest.mark.parametrize("span", [10, 1 << 40, 1 << 61])
def test_key_order_sorts_like_argsort(rows: int, span: int) -> None:
    """Packed with the row numbers (small keys) or by ``argsort`` (keys that leave no room), the keys come
    out sorted and every row once."""
    key = np.random.default_rng(5).integers(0, span, rows)
    order = _key_order(key, span)
    assert np.array_equal(np.sort(order), np.arange(rows))
    assert np.array_equal(key[order], np.sort(key))


def test_code_order_with_codes_that_share_their_top_bits() -> None:
    """Codes equal in the bits the packed sort keeps are told apart by the sort of the whole codes."""
    rng = np.random.default_rng(6)
    top = rng.integers(0, 1 << 40, 50, dtype=np.uint64) << np.uint64(24)
    codes = np.concatenate([top, top + np.uint64(1), top + np.uint64(2)])  # three objects per top: collisions
    obj = codes[rng.integers(0, codes.size, 3_000)]
    for values in (obj, np.unique(obj)[rng.integers(0, 60, 3_000)]):  # with collisions, and without
        rows, dense = _code_order(values)
        assert np.array_equal(values[rows], np.sort(values))
        assert np.array_equal(dense, np.unique(values, return_inverse=True)[1][rows])  # dense codes, in that order


@pytest.mark.parametrize(("times", "quantum"), [([0, 2_000_000, -3_000_000], 1_000_000), ([1_000, 5_000], 1_000),
                                                ([1_000_000, 1_000_001], 1)])
def test_time_quantum(times: list[int], quantum: int) -> None:
    assert _time_quantum(np.array(times, dtype=np.int64)) == quantum


def _raw(accounts: list[str | None], objects: list[str | None], times: list[int | None]) -> pa.Table:
    return pa.table({"account": pa.array(accounts, pa.string()), "object": pa.array(objects, pa.string()),
                     "t": pa.array(times, pa.int64())})


def test_all_valid_reads_null_counts_and_offsets() -> None:
    assert _all_valid(_raw(["a", "b"], ["x", "y"], [1, 2]))
    assert not _all_valid(_raw(["a", None], ["x", "y"], [1, 2]))
    assert not _all_valid(_raw(["a", "b"], ["x", None], [1, 2]))
    assert not _all_valid(_raw(["a", "b"], ["x", "y"], [1, None]))
    assert not _all_valid(_raw(["a", "b"], ["x", ""], [1, 2]))
    sliced = _raw(["a", "b", "c"], ["", "y", "z"], [1, 2, 3]).slice(1)  # the empty object is cut off
    assert _all_valid(sliced)
    assert not _all_valid(_raw(["a", "b", "c"], ["x", "", "z"], [1, 2, 3]).slice(1))
    large = pa.table({"account": pa.array(["a"]), "object": pa.array([""], pa.large_string()), "t": pa.array([1])})
    assert not _all_valid(large)


def test_invalid_actions_are_dropped(store: CorpusStore) -> None:
    """Actions without an account, a time or an object are left out; the others pair as usual."""
    query = """SELECT * FROM (VALUES ('a', 'o1', 0, 'p1'), ('b', 'o1', 1000000, 'p2'), ('c', '', 0, 'p3'),
                                     ('d', NULL, 0, 'p4'), (NULL, 'o1', 0, 'p5'), ('e', 'o1', NULL, 'p6'),
                                     ('a', 'o2', 0, 'p7'), ('b', 'o2', 0, 'p8'))
               AS v(account, object, t, post)"""
    rule = PairRule(window_us=60_000_000, min_co_actions=2, cap=None, seed=0)
    with store.connect() as db:
        found = sorted_co_actions(db, query, rule)
    assert found.pairs.column("account_a").to_pylist() == ["a"] and found.pairs.column("account_b").to_pylist() == ["b"]
    assert found.pairs.column("co_actions").to_pylist() == [2]
    assert sorted(found.matches.column("post_a").to_pylist()) == ["p1", "p7"]
