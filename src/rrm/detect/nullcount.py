"""Counting the co-action pairs of the null model's shuffled corpora, from candidate pairs found once.

The permutation null models (``permute-accounts``, ``permute-elsewhere``) move accounts among posts
and leave every action's object and time in place. Which two *actions* fall on the same object within
the window is therefore the same in every shuffled corpus; only the accounts behind them change. So
the window join runs once, on the actions of the data, and gives the candidate pairs of actions
``(i, j)``; each shuffle then only looks up the accounts of its ``i`` and ``j`` (numpy gathers), drops
the pairs of an account with itself, and aggregates per pair of accounts: distinct objects (or matched
posts, with ``count_posts``) and the sum of their rarity weights, exactly as
``rrm.detect.cooccur.pair_counts`` does on a corpus. Rarity weights (``1 / ln(1 + accounts)``) depend
on the shuffle, and are computed only for the objects of the pairs that reach the minimum.

Objects with more actions than the sampling cap (``max_accounts_per_object``) may have more accounts
than the cap in a shuffled corpus, and which accounts the sampling keeps then depends on the shuffle
(as in ``rrm.detect.cooccur``: up to ``cap`` accounts per object, by a hash of account, object and
seed). Their actions (a few viral objects) are sampled and joined again for every shuffle, in numpy:
the actions are sorted by object and time once, and the window pairs of the kept ones are found by
binary search.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from rrm._duckdb import arrow_table
from rrm.detect.cooccur import AMPLIFIER, PEER, SOURCE, PairRule
from rrm.detect.keyset import GOLDEN, sorted_unique

__all__ = ["STRATA", "PairCounter"]

STRATA = 64
"""Activity bins of accounts; a pair's stratum is ``low bin * STRATA + high bin``."""


def _repeated(key: np.ndarray, minimum: int) -> np.ndarray:
    """A mask of the entries of ``key`` that occur at least ``minimum`` times (exact; cheap filters first)."""
    keep = np.ones(key.size, dtype=bool)
    if minimum <= 1 or key.size == 0:
        return keep
    bits = max(8, int(np.ceil(np.log2(key.size))) + 1)
    for salt in (0, 1):  # two hashed bincounts drop most of the keys seen fewer times, in linear time
        mixed = (key[keep].astype(np.uint64) + np.uint64(salt)) * GOLDEN
        bucket = (mixed >> np.uint64(64 - bits)).astype(np.int64)
        counts = np.bincount(bucket, minlength=1 << bits)
        keep[np.flatnonzero(keep)[counts[bucket] < minimum]] = False
    rest = np.flatnonzero(keep)
    _, inverse, counts = np.unique(key[rest], return_inverse=True, return_counts=True)
    keep[rest[counts[inverse.reshape(-1)] < minimum]] = False
    return keep


class PairCounter:
    """The pairs of accounts (as strata and weights) of shuffled corpora of one behaviour's actions.

    The actions are given in a fixed order, as arrays: ``accounts`` (codes), ``objects`` (the hashes of
    the coded actions, for the sampling, and small codes ``object_codes``), ``posts`` (small codes),
    ``t`` and ``role``; ``rule`` says how they pair (its ``by_post`` must be off); ``bin_of`` gives the activity bin of each account code (-1: fewer actions than
    the minimum, never part of a null edge).
    """

    def __init__(
        self, db: duckdb.DuckDBPyConnection, accounts: np.ndarray, objects: np.ndarray, object_codes: np.ndarray,
        posts: np.ndarray, t: np.ndarray, role: np.ndarray, *, rule: PairRule, bin_of: np.ndarray,
    ) -> None:
        if rule.by_post:
            raise ValueError("the pair counter joins on objects: by_post has no candidate pairs to count")
        window_us, cap = rule.window_us, rule.cap
        self.objects, self.posts = object_codes, posts
        self.rule, self.bin_of = rule, bin_of
        self.n_accounts = max(int(bin_of.size), 1)
        self.role = role
        per_object = np.bincount(object_codes, minlength=int(object_codes.max()) + 1 if object_codes.size else 0)
        big = per_object > cap if cap is not None else np.zeros(per_object.size, dtype=bool)
        small = ~big[object_codes]
        rows = np.flatnonzero(small)
        i, j = _candidates(db, accounts[rows], objects[rows], t[rows], role[rows], window_us)
        self.i, self.j = rows[i], rows[j]
        # the actions on objects over the cap, by object and time, each object's times made disjoint
        big_rows = np.flatnonzero(~small)
        order = np.lexsort((t[big_rows], object_codes[big_rows]))
        self.big_rows = big_rows[order]
        big_objects = _dense(object_codes[self.big_rows])
        span = int(t.max() - t.min()) + 2 * int(window_us) + 1 if t.size else 1
        self.big_objects = big_objects
        self.big_time = (t[self.big_rows] - (int(t.min()) if t.size else 0)) + big_objects * span
        # the actions of each object, for the rarity weights
        self.by_object = np.argsort(object_codes, kind="stable")
        self.object_start = np.concatenate([[0], np.cumsum(per_object)]).astype(np.int64)

    def _weights(self, accounts: np.ndarray, objects: np.ndarray) -> np.ndarray:
        """Rarity weight ``1 / ln(1 + accounts)`` of each of ``objects`` (distinct) in one shuffled corpus."""
        start, stop = self.object_start[objects], self.object_start[objects + 1]
        sizes = stop - start
        local = np.repeat(np.arange(objects.size, dtype=np.int64), sizes)
        rows = self.by_object[np.repeat(start, sizes) + np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)]
        distinct = sorted_unique(local * self.n_accounts + accounts[rows].astype(np.int64)) // self.n_accounts
        result: np.ndarray = 1.0 / np.log1p(np.bincount(distinct, minlength=objects.size))
        return result

    def _big_pairs(self, accounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The window pairs of actions on the objects over the cap, among the accounts sampled in this shuffle."""
        rows = self.big_rows
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        account = accounts[rows].astype(np.int64)
        n = max(self.n_accounts, int(account.max()) + 1)
        cells, cell_of = np.unique(self.big_objects * n + account, return_inverse=True)  # (object, account)
        cell_object = cells // n
        mixed = ((cells.astype(np.uint64) + np.uint64(self.rule.seed)) * GOLDEN) ^ (cells.astype(np.uint64) >> np.uint64(29))
        order = np.lexsort((mixed, cell_object))  # by object, then at random
        starts = np.searchsorted(cell_object[order], cell_object[order], side="left")
        rank = np.empty(cells.size, dtype=np.int64)
        rank[order] = np.arange(cells.size) - starts
        kept = np.flatnonzero(rank[cell_of.reshape(-1)] < int(self.rule.cap or 0))
        time = self.big_time[kept]
        end = np.searchsorted(time, time + self.rule.window_us, side="right")
        counts = end - np.arange(kept.size) - 1
        first = np.repeat(np.arange(kept.size), counts)
        second = first + 1 + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        i, j = rows[kept[first]], rows[kept[second]]
        roles = self.role[i].astype(np.int64) + self.role[j]
        fits = (roles == PEER + PEER) | (roles == SOURCE + AMPLIFIER)
        return i[fits], j[fits]

    def count(self, accounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(stratum, weight) of every pair of eligible accounts that reaches the minimum in one shuffled
        corpus (``accounts``: the account code of every action)."""
        big_i, big_j = self._big_pairs(accounts)
        i, j = np.concatenate([self.i, big_i]), np.concatenate([self.j, big_j])
        a, b = accounts[i], accounts[j]
        keep = (a != b) & (self.bin_of[a] >= 0) & (self.bin_of[b] >= 0)
        i, j = i[keep], j[keep]
        a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
        first = a < b
        key = np.where(first, a, b) * self.n_accounts + np.where(first, b, a)
        enough = _repeated(key, self.rule.min_co_actions)  # fewer matches than the minimum cannot reach it
        key, i, j, first = key[enough], i[enough], j[enough], first[enough]
        if key.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        pair, pair_of = np.unique(key, return_inverse=True)
        pair_of = pair_of.reshape(-1)
        distinct_objects, object_of = np.unique(self.objects[i], return_inverse=True)
        object_of = object_of.reshape(-1)
        w = self._weights(accounts, distinct_objects)[object_of]
        if self.rule.count_posts:
            post_lo = np.where(first, self.posts[i], self.posts[j])
            post_hi = np.where(first, self.posts[j], self.posts[i])
            co = np.minimum(_distinct_per_pair(pair_of, post_lo, pair.size), _distinct_per_pair(pair_of, post_hi, pair.size))
            weight = np.bincount(pair_of, weights=w, minlength=pair.size) / np.bincount(pair_of, minlength=pair.size) * co
        else:
            # distinct (pair, object): the first match of each
            _, once = np.unique(pair_of.astype(np.int64) * (int(distinct_objects.size) + 1) + object_of, return_index=True)
            co = np.bincount(pair_of[once], minlength=pair.size)
            weight = np.bincount(pair_of[once], weights=w[once], minlength=pair.size)
        passed = co >= self.rule.min_co_actions
        lo_bin, hi_bin = self.bin_of[pair[passed] // self.n_accounts], self.bin_of[pair[passed] % self.n_accounts]
        stratum = np.minimum(lo_bin, hi_bin) * STRATA + np.maximum(lo_bin, hi_bin)
        return stratum.astype(np.int64), weight[passed].astype(np.float64)


def _distinct_per_pair(pair_of: np.ndarray, values: np.ndarray, pairs: int) -> np.ndarray:
    size = int(values.max()) + 1
    distinct = sorted_unique(pair_of.astype(np.int64) * size + values) // size
    counts: np.ndarray = np.bincount(distinct, minlength=pairs)
    return counts


def _dense(values: np.ndarray) -> np.ndarray:
    codes: np.ndarray = np.unique(values, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return codes


def _candidates(
    db: duckdb.DuckDBPyConnection, accounts: np.ndarray, objects: np.ndarray, t: np.ndarray, role: np.ndarray,
    window_us: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of actions (i < j, positions in the arrays) on the same object within the window whose
    roles may pair up (objects with no more actions than the cap: the sampling keeps all of them)."""
    table = pa.table({
        "i": pa.array(np.arange(t.size, dtype=np.int64)), "object": pa.array(objects, pa.uint64()),
        "t": pa.array(t, pa.int64()), "role": pa.array(role, pa.int8()),
    })
    w = int(window_us)
    db.register("_null_candidates_in", table)
    try:
        found = arrow_table(
            db,
            f"""WITH b AS (SELECT i, object, t, role, t // {w} AS k FROM _null_candidates_in),
                b3 AS (SELECT i, object, t, role, k + d AS k FROM b, (VALUES (-1), (0), (1)) v(d))
                SELECT x.i AS i, y.i AS j FROM b x JOIN b3 y ON x.object = y.object AND x.k = y.k
                WHERE x.i < y.i AND abs(x.t - y.t) <= {w}
                  AND x.role + y.role IN ({PEER + PEER}, {SOURCE + AMPLIFIER})""",
        )
    finally:
        db.unregister("_null_candidates_in")
    return found.column("i").to_numpy().astype(np.int64), found.column("j").to_numpy().astype(np.int64)
