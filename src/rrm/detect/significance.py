"""Significance: every edge tested against a null model, and the false discovery rate controlled.

The statistic of an edge is its rarity-weighted co-actions (each object weighs ``1 / ln(1 + n)``, n
being the number of accounts that acted on it, so an object shared by 50,000 accounts proves little).
The null model is the same corpus with coordination destroyed, recomputed ``null_shuffles`` times:

- ``permute-accounts`` (default for object detectors): within each block of ``null_block_seconds``
  (six hours by default), the accounts of the actions are shuffled among themselves. Every account keeps
  its exact activity timeline (it is active when it was, as often as it was) and every object keeps
  its whole timeline, bursts included, so fans reacting to the same viral post or live-tweeting the
  same debate are as likely to meet in the null as in the data; only *who acts on what with whom* is
  destroyed.
- ``circular-shift`` (always for ``sync-activity``): each account's timeline is shifted by a random
  offset, wrapping around the period; each account keeps its own rhythm, alignment is destroyed.

Accounts are put in activity strata (``floor(log2(actions))``), since two hyperactive accounts meet
by chance more often than two quiet ones. The p-value of an edge in stratum s with weight w is
``K / (S·M_s) + 1 / (S·M)``, where K counts the null pairs of stratum s with a weight of at least w
over the S shuffles, M_s is the number of pairs of eligible accounts (those with at least
``min_co_actions`` actions) in stratum s and M = Σ M_s: the chance that a pair of such accounts
reaches w without coordination, with one pseudo-count spread over all pairs (so that no p-value is 0
and a small stratum is not penalised for the resolution of its own null sample). Benjamini–Hochberg then runs over all M = Σ M_s pairs (pairs below the minimum have
p = 1), so that at most ``fdr_q`` of the significant edges are expected to be false. The expected
count of false edges is measured directly: how many null edges per shuffled corpus pass the same
cut-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.cooccur import object_weights, pair_counts_sql
from rrm.detect.detectors.base import Observation
from rrm.detect.keyset import sorted_unique
from rrm.detect.model import NullModelReport
from rrm.detect.nullcount import STRATA, PairCounter
from rrm.detect.params import DetectionParams
from rrm.detect.shuffles import NullCorpora, dense_codes, shuffled_actions

__all__ = [
    "NullTest", "SignificanceReport", "benjamini_hochberg", "permutation_q_values", "prepare_test", "shuffled_actions",
    "test_edges",
]

_TIES = 1.0 + 1e-9  # p-values this close count as equal (the same weight summed in another order)
_BATCH_ROWS = 12_000_000  # actions of the shuffled corpora counted in one query


SignificanceReport = NullModelReport
"""What the null model says about one behaviour (``rrm.detect.model.NullModelReport``)."""


def benjamini_hochberg(p_values: np.ndarray, m: int) -> np.ndarray:
    """q-values of ``p_values`` among ``m >= len(p_values)`` hypotheses (the others have p = 1)."""
    n = p_values.size
    if n == 0:
        return p_values.astype(np.float64)
    m = max(m, n)
    order = np.argsort(p_values, kind="stable")
    ranked = p_values[order] * m / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n, dtype=np.float64)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def permutation_q_values(p_values: np.ndarray, null_p_values: np.ndarray, shuffles: int) -> np.ndarray:
    """q-values of the observed edges, by the false discovery rate estimated from the shuffled corpora.

    For a cut-off τ, the estimated FDR is (edges of one shuffled corpus with p ≤ τ, on average) divided by
    (observed edges with p ≤ τ); the null count is ``(K + 1) / (S + 1)`` for K null edges over S
    shuffles, so that it is never 0. The q-value of an edge is the smallest estimated FDR of any
    cut-off that accepts it (Storey & Tibshirani 2003; the permutation estimate of SAM, Tusher et al. 2001).
    Null edges pass the same selection as observed ones (at least the minimum of co-actions), so the
    estimate needs no count of untested pairs.
    """
    n = p_values.size
    if n == 0:
        return p_values.astype(np.float64)
    order = np.argsort(p_values, kind="stable")
    ranked = p_values[order]
    accepted = np.searchsorted(ranked, ranked * _TIES, side="right")
    null_sorted = np.sort(null_p_values)
    false = (np.searchsorted(null_sorted, ranked * _TIES, side="right") + 1.0) / (shuffles + 1.0)
    q_sorted = np.minimum.accumulate((false / accepted)[::-1])[::-1]
    q = np.empty(n, dtype=np.float64)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def _bins(db: duckdb.DuckDBPyConnection, observation: Observation) -> tuple[np.ndarray, np.ndarray]:
    """(codes, activity bins) of the accounts with at least the minimum of actions."""
    unit = "post" if observation.rule.by_post or observation.rule.count_posts else "object"
    table = arrow_table(
        db,
        f"""SELECT account, floor(log2(count(DISTINCT {unit})))::INTEGER AS bin FROM {observation.actions}
            GROUP BY account HAVING count(DISTINCT {unit}) >= {observation.rule.min_co_actions} ORDER BY account""",
    )
    return table.column("account").to_numpy().astype(np.int64), table.column("bin").to_numpy().astype(np.int64)


def _pairs_per_stratum(bins: np.ndarray) -> dict[int, int]:
    counts = np.bincount(bins, minlength=STRATA) if bins.size else np.zeros(STRATA, dtype=np.int64)
    result: dict[int, int] = {}
    for i in np.flatnonzero(counts):
        for j in np.flatnonzero(counts):
            if j < i:
                continue
            result[int(i) * STRATA + int(j)] = int(counts[i] * (counts[i] - 1) // 2 if i == j else counts[i] * counts[j])
    return result


def _tail_p(strata: np.ndarray, weights: np.ndarray, null: dict[int, np.ndarray], pairs: dict[int, int],
            shuffles: int) -> np.ndarray:
    p = np.ones(weights.size, dtype=np.float64)
    everyone = max(sum(pairs.values()), 1)
    for stratum in sorted_unique(strata):
        where = strata == stratum
        sorted_null = null.get(int(stratum), np.empty(0))
        at_least = sorted_null.size - np.searchsorted(sorted_null, weights[where] - 1e-9, side="left")
        p[where] = at_least / (shuffles * max(pairs.get(int(stratum), 1), 1)) + 1.0 / (shuffles * everyone)
    return np.minimum(p, 1.0)


def _observed_strata(db: duckdb.DuckDBPyConnection, observation: Observation, bin_of: np.ndarray) -> np.ndarray:
    """The stratum of every observed edge (edges name accounts; the dictionary gives their codes)."""
    names = arrow_table(db, f"SELECT account FROM {observation.accounts} ORDER BY code").column("account")
    edges = observation.edges
    ia = pc.index_in(edges.column("account_a"), value_set=names).to_numpy(zero_copy_only=False)
    ib = pc.index_in(edges.column("account_b"), value_set=names).to_numpy(zero_copy_only=False)
    ba, bb = bin_of[ia.astype(np.int64)], bin_of[ib.astype(np.int64)]
    strata: np.ndarray = np.where((ba >= 0) & (bb >= 0), np.minimum(ba, bb) * STRATA + np.maximum(ba, bb), -1)
    return strata


NullCount = Callable[[], tuple[np.ndarray, np.ndarray]]
"""Computes (stratum, weight) of every null edge between eligible accounts, over all the shuffled corpora."""


def _null_job(
    db: duckdb.DuckDBPyConnection, observation: Observation, params: DetectionParams, bin_of: np.ndarray
) -> NullCount:
    """What DuckDB must do for the null model, done now; the rest (numpy only) as a function to call later,
    in any thread: (stratum, weight) of every null edge between eligible accounts, over all the shuffles.

    The coded actions are read once. With a permutation null model, the candidate pairs of actions are
    found once and every shuffle is counted in numpy (``rrm.detect.nullcount``); otherwise (the circular
    shift moves times) each batch of shuffled corpora is one Arrow table with a ``shuffle`` column and
    one DuckDB query counts the pairs of all of them. Only the edges that pass the minimum come back,
    as strata and weights.
    """
    actions = arrow_table(
        db, f"SELECT account, object, t, post, role FROM {observation.actions} ORDER BY t, account, object, post"
    )  # a fixed order: the shuffles permute by position
    accounts = actions.column("account").to_numpy().astype(np.int32)
    t = actions.column("t").to_numpy()
    posts = dense_codes(actions.column("post").to_numpy())
    role = actions.column("role").to_numpy(zero_copy_only=False).astype(np.int8)
    hashes = actions.column("object").to_numpy()
    objects = dense_codes(hashes)
    del actions
    rng = np.random.default_rng([params.seed, sum(observation.behaviour.encode())])
    rule = observation.rule
    slot_us = rule.window_us if rule.by_post else None
    block_us = params.null_block_seconds * 1_000_000
    shuffles = params.null_shuffles
    if observation.null_model != "circular-shift" and not rule.by_post:
        counter = PairCounter(
            db, accounts, hashes, objects, posts, t, role, rule=rule, bin_of=bin_of,
        )

        def count() -> tuple[np.ndarray, np.ndarray]:
            corpora = NullCorpora(accounts, objects, t, posts, role, observation.null_model, None, block_us)
            counted = [counter.count(corpora.draw(rng)[0]) for _ in range(shuffles)]
            return np.concatenate([c[0] for c in counted]), np.concatenate([c[1] for c in counted])

        return count
    corpora = NullCorpora(accounts, objects, t, posts, role, observation.null_model, slot_us, block_us)
    batch = max(1, min(shuffles, _BATCH_ROWS // max(t.size, 1)))
    eligible = np.flatnonzero(bin_of >= 0)
    db.register("_null_bins", pa.table({"account": pa.array(eligible, pa.int32()),
                                        "bin": pa.array(bin_of[eligible], pa.int64())}))
    query = pair_counts_sql("_null_actions", "_null_weights", rule, key="shuffle")
    strata: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    try:
        for first in range(0, shuffles, batch):
            drawn = [corpora.draw(rng) for _ in range(first, min(first + batch, shuffles))]
            n = len(drawn)
            table = pa.table({
                "shuffle": pa.array(np.repeat(np.arange(first, first + n, dtype=np.int16), t.size)),
                "account": pa.array(np.concatenate([d[0] for d in drawn]).astype(np.int32)),
                "object": pa.array(np.concatenate([d[1] for d in drawn]).astype(np.int64)),
                "t": pa.array(np.concatenate([d[2] for d in drawn]).astype(np.int64)),
                "post": pa.array(np.tile(posts, n).astype(np.int32)),
                "role": pa.array(np.tile(role, n)),
            })
            del drawn
            db.register("_null_actions", table)
            try:
                object_weights(db, "_null_actions", "_null_weights", key="shuffle")
                found = arrow_table(
                    db,
                    f"""SELECT least(ba.bin, bb.bin) * {STRATA} + greatest(ba.bin, bb.bin) AS stratum, q.weight
                        FROM ({query}) q JOIN _null_bins ba ON ba.account = q.account_a
                                         JOIN _null_bins bb ON bb.account = q.account_b""",
                )
            finally:
                db.unregister("_null_actions")
            strata.append(found.column("stratum").to_numpy().astype(np.int64))
            weights.append(found.column("weight").to_numpy())
    finally:
        db.unregister("_null_bins")
        db.execute("DROP TABLE IF EXISTS _null_weights")
    result = (np.concatenate(strata) if strata else np.empty(0, dtype=np.int64),
              np.concatenate(weights) if weights else np.empty(0))
    return lambda: result


@dataclass(frozen=True)
class NullTest:
    """One behaviour's significance test, prepared: everything DuckDB had to do is done, and ``run`` (numpy
    only, so it may run in another thread while DuckDB works on the next detector) does the rest."""

    observation: Observation
    params: DetectionParams
    pairs_per_stratum: dict[int, int]
    observed_strata: np.ndarray
    null_count: NullCount

    def run(self) -> tuple[pa.Table, SignificanceReport]:
        """The observed edges with p- and q-values, and what the null model says about this behaviour."""
        params, observation = self.params, self.observation
        all_strata, all_weights = self.null_count()
        order = np.lexsort((all_weights, all_strata))
        all_strata, all_weights = all_strata[order], all_weights[order]  # the same for any order of the shuffles
        null = {int(s): np.sort(all_weights[all_strata == s]) for s in sorted_unique(all_strata)}
        edges = observation.edges
        weights = edges.column("weight").to_numpy()
        pairs = self.pairs_per_stratum
        p = _tail_p(self.observed_strata, weights, null, pairs, params.null_shuffles)
        null_p = _tail_p(all_strata, all_weights, null, pairs, params.null_shuffles)
        q = permutation_q_values(p, null_p, params.null_shuffles)
        significant = q <= params.fdr_q
        p_threshold = float(p[significant].max()) if significant.any() else 0.0
        expected = float((null_p <= p_threshold * _TIES).sum()) / params.null_shuffles if significant.any() else 0.0
        tested = edges.set_column(5, "p_value", pa.array(p, pa.float64())).set_column(
            6, "q_value", pa.array(q, pa.float64())
        )
        report = SignificanceReport(
            behaviour=observation.behaviour,
            null_model=observation.null_model,
            pairs_tested=sum(pairs.values()),
            edges=edges.num_rows,
            significant_edges=int(significant.sum()),
            p_threshold=p_threshold,
            null_edges_mean=all_weights.size / params.null_shuffles,
            expected_false_edges=expected,
        )
        return tested, report


def prepare_test(db: duckdb.DuckDBPyConnection, observation: Observation, params: DetectionParams) -> NullTest:
    """The DuckDB part of ``test_edges``; ``NullTest.run`` finishes it."""
    eligible, bins = _bins(db, observation)
    size = int(db.execute(f"SELECT count(*) FROM {observation.accounts}").fetchall()[0][0])
    bin_of = np.full(size, -1, dtype=np.int64)
    bin_of[eligible] = bins
    return NullTest(
        observation=observation, params=params, pairs_per_stratum=_pairs_per_stratum(bins),
        observed_strata=_observed_strata(db, observation, bin_of),
        null_count=_null_job(db, observation, params, bin_of),
    )


def test_edges(
    db: duckdb.DuckDBPyConnection, observation: Observation, params: DetectionParams
) -> tuple[pa.Table, SignificanceReport]:
    """The observed edges with p- and q-values, and what the null model says about this behaviour."""
    return prepare_test(db, observation, params).run()
