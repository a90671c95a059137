"""The null model's fast paths: shuffles counted in numpy from candidate pairs, equal to the SQL count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from rrm._duckdb import arrow_table, connect
from rrm.detect.cooccur import AMPLIFIER, PEER, SOURCE, PairRule, object_weights, pair_counts_sql
from rrm.detect.keyset import KeySet
from rrm.detect.nullcount import PairCounter, _repeated
from rrm.detect.shuffles import _Permutation

WINDOW = 60_000_000


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect()
    yield connection
    connection.close()


def _actions(seed: int, n: int = 3000, directed: bool = False) -> dict[str, np.ndarray]:
    """Random actions: 80 accounts, a few busy objects (some over a cap of 12), posts with 1-3 objects."""
    rng = np.random.default_rng(seed)
    posts = rng.integers(0, n // 2, size=n)
    accounts = (posts * 7919 % 80).astype(np.int32)  # the actions of one post share its account
    t = (posts * 1_000_003 % 3_600_000_000 + rng.integers(0, 2, size=n)).astype(np.int64)
    objects = rng.zipf(1.6, size=n) % 200
    role = np.full(n, PEER, dtype=np.int8)
    if directed:
        role = np.where(rng.random(n) < 0.2, SOURCE, AMPLIFIER).astype(np.int8)
    # one action per (post, object), as the detectors give them
    _, first = np.unique(posts.astype(np.int64) * 1000 + objects, return_index=True)
    keep = np.sort(first)
    return {"account": accounts[keep], "object": objects[keep].astype(np.int64), "t": t[keep],
            "post": posts[keep].astype(np.int64), "role": role[keep]}


def _bin_of(accounts: np.ndarray, minimum: int) -> np.ndarray:
    per_account = np.bincount(accounts, minlength=80)
    with np.errstate(divide="ignore"):
        bins = np.floor(np.log2(np.maximum(per_account, 1))).astype(np.int64)
    return np.where(per_account >= minimum, bins, -1)


def _sql_null(db: duckdb.DuckDBPyConnection, actions: dict[str, np.ndarray], accounts: np.ndarray, bin_of: np.ndarray,
              *, minimum: int, cap: int | None, count_posts: bool) -> list[tuple[int, float]]:
    """(stratum, weight) of the pairs of one shuffled corpus, counted by the SQL of ``rrm.detect.cooccur``."""
    table = pa.table({"account": pa.array(accounts, pa.int32()), "object": pa.array(actions["object"]),
                      "t": pa.array(actions["t"]), "post": pa.array(actions["post"]), "role": pa.array(actions["role"])})
    db.register("_test_actions", table)
    object_weights(db, "_test_actions", "_test_weights")
    rule = PairRule(window_us=WINDOW, min_co_actions=minimum, cap=cap, seed=42, count_posts=count_posts)
    query = pair_counts_sql("_test_actions", "_test_weights", rule)
    found = arrow_table(db, query)
    db.unregister("_test_actions")
    result = []
    for a, b, w in zip(found["account_a"].to_pylist(), found["account_b"].to_pylist(), found["weight"].to_pylist(),
                       strict=True):
        if bin_of[a] >= 0 and bin_of[b] >= 0:
            result.append((int(min(bin_of[a], bin_of[b]) * 64 + max(bin_of[a], bin_of[b])), round(w, 9)))
    return sorted(result)


@pytest.mark.parametrize(("count_posts", "directed", "minimum"), [(False, False, 2), (True, False, 2), (False, True, 2),
                                                                   (False, False, 3)])
def test_pair_counter_equals_the_sql_count_on_every_shuffle(
    db: duckdb.DuckDBPyConnection, count_posts: bool, directed: bool, minimum: int
) -> None:
    actions = _actions(3, directed=directed)
    bin_of = _bin_of(actions["account"], minimum)
    counter = PairCounter(
        db, actions["account"], actions["object"].astype(np.uint64), actions["object"], actions["post"], actions["t"],
        actions["role"], rule=PairRule(WINDOW, minimum, cap=None, seed=42, count_posts=count_posts), bin_of=bin_of,
    )
    rng = np.random.default_rng(9)
    total = 0
    for _ in range(3):
        accounts = actions["account"][rng.permutation(actions["account"].size)]  # any reassignment of accounts
        strata, weights = counter.count(accounts)
        ours = sorted(zip(strata.tolist(), np.round(weights, 9).tolist(), strict=True))
        assert ours == _sql_null(db, actions, accounts, bin_of, minimum=minimum, cap=None, count_posts=count_posts)
        total += len(ours)
    assert total > 20  # the corpus has pairs to count


def test_pair_counter_samples_objects_over_the_cap(db: duckdb.DuckDBPyConnection) -> None:
    """Objects with more actions than the cap are sampled per shuffle (up to ``cap`` accounts each), as
    the SQL does; objects under the cap are counted exactly."""
    actions = _actions(5)
    cap = 12
    per_object = np.bincount(actions["object"])
    assert (per_object > cap).sum() >= 3  # busy objects exist
    bin_of = _bin_of(actions["account"], 2)
    counter = PairCounter(
        db, actions["account"], actions["object"].astype(np.uint64), actions["object"], actions["post"], actions["t"],
        actions["role"], rule=PairRule(WINDOW, 2, cap=cap, seed=42), bin_of=bin_of,
    )
    accounts = actions["account"][np.random.default_rng(2).permutation(actions["account"].size)]
    big_i, big_j = counter._big_pairs(accounts)
    assert big_i.size > 0
    for rows in (big_i, big_j):
        assert (per_object[actions["object"][rows]] > cap).all()
    sampled: Counter[int] = Counter()
    for obj, _account in set(zip(actions["object"][np.concatenate([big_i, big_j])].tolist(),
                                accounts[np.concatenate([big_i, big_j])].tolist(), strict=True)):
        sampled[obj] += 1
    assert max(sampled.values()) <= cap
    # on average the same number of null edges as the SQL's sampling (another hash picks other accounts)
    ours, theirs = [], []
    rng = np.random.default_rng(3)
    for _ in range(30):
        accounts = actions["account"][rng.permutation(actions["account"].size)]
        ours.append(counter.count(accounts)[0].size)
        theirs.append(len(_sql_null(db, actions, accounts, bin_of, minimum=2, cap=cap, count_posts=False)))
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.2 * np.mean(theirs)
    assert np.mean(ours) < 0.1 * PairCounter(
        db, actions["account"], actions["object"].astype(np.uint64), actions["object"], actions["post"], actions["t"],
        actions["role"], rule=PairRule(WINDOW, 2, cap=None, seed=42), bin_of=bin_of,
    ).count(accounts)[0].size  # without the cap, the busy objects make many more pairs


def test_keyset_membership_equals_isin() -> None:
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 10**12, size=5000)
    queries = np.concatenate([keys[:2000], rng.integers(0, 10**12, size=3000), keys[:10]])
    assert (KeySet(keys).contains(queries) == np.isin(queries, keys)).all()
    assert not KeySet(np.zeros(0, dtype=np.int64)).contains(np.array([0, 5])).any()


def test_repeated_keeps_exactly_the_keys_seen_often_enough() -> None:
    rng = np.random.default_rng(6)
    key = rng.integers(0, 3000, size=4000)
    counts = Counter(key.tolist())
    for minimum in (1, 2, 3):
        expected = np.array([counts[k] >= minimum for k in key.tolist()])
        assert (_repeated(key, minimum) == expected).all()


def _reference_permutation(p: _Permutation, rng: np.random.Generator) -> np.ndarray:
    """``_Permutation.__call__`` as first written: every unit of ``bad`` checked again after each round."""
    from rrm.detect.shuffles import _REPAIR_ROUNDS

    units = p.units
    order = np.argsort(p.block_key + rng.random(units))
    source = np.arange(units, dtype=np.int64)
    source[p.in_place] = order
    bad = np.flatnonzero(p._collides_all(source))
    for _ in range(_REPAIR_ROUNDS):
        if bad.size == 0:
            break
        partner = p.in_place[p.starts[bad] + (rng.random(bad.size) * p.sizes[bad]).astype(np.int64)]
        rows_bad, rows_partner = p._rows(bad), p._rows(partner)
        ok = (partner != bad) & ~p._collides(rows_bad, source[partner]) & ~p._collides(rows_partner, source[bad])
        i, j = bad[ok], partner[ok]
        used = np.bincount(np.concatenate([i, j]), minlength=units)
        single = (used[i] == 1) & (used[j] == 1)
        i, j = i[single], j[single]
        source[i], source[j] = source[j], source[i].copy()
        bad = bad[p._collides(rows_bad, source[bad])]
    result: np.ndarray = p.first[source[p.unit_of]]
    return result


def test_permute_elsewhere_repair_equals_the_full_recheck() -> None:
    rng = np.random.default_rng(11)
    n = 6000
    posts = rng.integers(0, 2500, n)  # several actions per post, as hashtags
    accounts = rng.integers(0, 60, 2500)[posts]  # an account per post
    objects = rng.integers(0, 40, n)  # few objects: many collisions to repair
    block = (np.arange(n) // 700).astype(np.int64)
    permutation = _Permutation(accounts, objects, posts, block, elsewhere=True)
    for seed in range(3):
        fast = permutation(np.random.default_rng(seed))
        assert np.array_equal(fast, _reference_permutation(permutation, np.random.default_rng(seed)))
    moved = permutation(np.random.default_rng(0))
    assert (moved != np.arange(n)).mean() > 0.5  # the permutation moves posts
