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

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.cooccur import ACTION_SCHEMA, SOURCE, object_weights, pair_counts
from rrm.detect.detectors.base import Observation
from rrm.detect.model import NullModelReport
from rrm.detect.params import DetectionParams

__all__ = ["SignificanceReport", "benjamini_hochberg", "permutation_q_values", "shuffled_actions", "test_edges"]

_STRATA = 64
_TIES = 1.0 + 1e-9  # p-values this close count as equal (the same weight summed in another order)
_REPAIR_ROUNDS = 30


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


def _codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes: np.ndarray = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes


def _permuted_posts(
    accounts: np.ndarray, objects: np.ndarray, posts: np.ndarray, block: np.ndarray, rng: np.random.Generator,
    elsewhere: bool,
) -> np.ndarray:
    """For each action, the action whose account it receives: accounts permuted among the *posts* of each block.

    All the actions of one post (its hashtags, its links) move together to the same new account, as
    in the data. With ``elsewhere`` the permutation is repaired so that no post goes to an account that
    acted on one of its objects in the data: a post whose new account collides swaps with a random
    post of the same block when the swap leaves both without a collision; a few rounds of vectorised
    swaps remove nearly all collisions (a block whose posts all share one object keeps its plain
    permutation).
    """
    unit_of = np.unique(posts, return_inverse=True)[1]
    first = np.full(int(unit_of.max()) + 1 if unit_of.size else 0, -1, dtype=np.int64)
    first[unit_of[::-1]] = np.arange(unit_of.size)[::-1]  # the first action of each post
    units = first.size
    unit_block = block[first]
    unit_account = accounts[first]
    order = np.lexsort((rng.random(units), unit_block))
    in_place = np.argsort(unit_block, kind="stable")
    source = np.arange(units, dtype=np.int64)
    source[in_place] = order
    if elsewhere and units:
        n_objects = int(objects.max()) + 1
        acted = np.unique(accounts * n_objects + objects)
        by_unit = np.argsort(unit_of, kind="stable")
        counts = np.bincount(unit_of, minlength=units)
        offsets = np.concatenate([[0], np.cumsum(counts)])

        def collides(at: np.ndarray, src: np.ndarray) -> np.ndarray:
            if at.size == 0:
                return np.zeros(0, dtype=bool)
            n = counts[at]
            rows = by_unit[np.repeat(offsets[at], n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)]
            keys = np.repeat(unit_account[src], n) * n_objects + objects[rows]
            found = np.searchsorted(acted, keys)
            hit = (found < acted.size) & (acted[np.minimum(found, acted.size - 1)] == keys)
            return np.bincount(np.repeat(np.arange(at.size), n), weights=hit, minlength=at.size) > 0

        starts = np.searchsorted(unit_block[in_place], unit_block, side="left")
        sizes = np.searchsorted(unit_block[in_place], unit_block, side="right") - starts
        bad = np.flatnonzero(collides(np.arange(units), source))
        for _ in range(_REPAIR_ROUNDS):
            if bad.size == 0:
                break
            partner = in_place[starts[bad] + (rng.random(bad.size) * sizes[bad]).astype(np.int64)]
            ok = (partner != bad) & ~collides(bad, source[partner]) & ~collides(partner, source[bad])
            i, j = bad[ok], partner[ok]
            used = np.bincount(np.concatenate([i, j]), minlength=units)
            single = (used[i] == 1) & (used[j] == 1)
            i, j = i[single], j[single]
            source[i], source[j] = source[j], source[i].copy()
            bad = bad[collides(bad, source[bad])]
    result: np.ndarray = first[source[unit_of]]
    return result


def shuffled_actions(
    actions: pa.Table, model: str, rng: np.random.Generator, slot_us: int | None, block_us: int
) -> pa.Table:
    """One null corpus: the actions with accounts permuted among posts within time blocks of ``block_us``,
    or each account's times shifted circularly.

    The permutations move whole posts and leave the actions of ``SOURCE`` role in place (an author
    keeps their posts; who reshares them is shuffled). ``permute-elsewhere`` also never gives a post to
    an account that acted on one of its objects in the data (see ``_permuted_posts``). With ``slot_us``
    the object is recomputed as the time slot of the shifted time (``sync-activity``).
    """
    account = actions.column("account")
    t = actions.column("t").to_numpy()
    objects = actions.column("object")
    role = actions.column("role").to_numpy(zero_copy_only=False)
    if model in ("permute-accounts", "permute-elsewhere"):
        movable = np.flatnonzero(role != SOURCE)
        source = np.arange(t.size, dtype=np.int64)
        if movable.size:
            local = _permuted_posts(
                _codes(account)[movable], _codes(objects)[movable], _codes(actions.column("post"))[movable],
                t[movable] // block_us, rng, model == "permute-elsewhere",
            )
            source[movable] = movable[local]
        account = account.take(pa.array(source))
    elif actions.num_rows:
        start, span = int(t.min()), int(t.max() - t.min()) + 1
        encoded = pc.dictionary_encode(account).combine_chunks()
        offsets = rng.integers(0, span, size=len(encoded.dictionary))
        t = start + (t - start + offsets[encoded.indices.to_numpy(zero_copy_only=False)]) % span
    if slot_us is not None:
        objects = pa.array(np.char.add("slot:", (t // slot_us).astype(str)), pa.string())
    return pa.table(
        {"account": account, "object": objects, "t": pa.array(t, pa.int64()), "post": actions.column("post"),
         "role": actions.column("role")},
        schema=ACTION_SCHEMA,
    )


def _bins(db: duckdb.DuckDBPyConnection, observation: Observation) -> tuple[pa.Array, np.ndarray]:
    unit = "post" if observation.by_post or observation.count_posts else "object"
    table = arrow_table(
        db,
        f"""SELECT account, floor(log2(count(DISTINCT {unit})))::INTEGER AS bin FROM {observation.actions}
            GROUP BY account HAVING count(DISTINCT {unit}) >= {observation.min_co_actions} ORDER BY account""",
    )
    return table.column("account").combine_chunks(), table.column("bin").to_numpy().astype(np.int64)


def _strata(pairs: pa.Table, accounts: pa.Array, bins: np.ndarray) -> np.ndarray:
    ia = pc.index_in(pairs.column("account_a"), value_set=accounts).to_numpy(zero_copy_only=False)
    ib = pc.index_in(pairs.column("account_b"), value_set=accounts).to_numpy(zero_copy_only=False)
    ba, bb = bins[ia.astype(np.int64)], bins[ib.astype(np.int64)]
    strata: np.ndarray = np.minimum(ba, bb) * _STRATA + np.maximum(ba, bb)
    return strata


def _pairs_per_stratum(bins: np.ndarray) -> dict[int, int]:
    counts = np.bincount(bins, minlength=_STRATA) if bins.size else np.zeros(_STRATA, dtype=np.int64)
    result: dict[int, int] = {}
    for i in np.flatnonzero(counts):
        for j in np.flatnonzero(counts):
            if j < i:
                continue
            result[int(i) * _STRATA + int(j)] = int(counts[i] * (counts[i] - 1) // 2 if i == j else counts[i] * counts[j])
    return result


def _tail_p(strata: np.ndarray, weights: np.ndarray, null: dict[int, np.ndarray], pairs: dict[int, int],
            shuffles: int) -> np.ndarray:
    p = np.ones(weights.size, dtype=np.float64)
    everyone = max(sum(pairs.values()), 1)
    for stratum in np.unique(strata):
        where = strata == stratum
        sorted_null = null.get(int(stratum), np.empty(0))
        at_least = sorted_null.size - np.searchsorted(sorted_null, weights[where] - 1e-9, side="left")
        p[where] = at_least / (shuffles * max(pairs.get(int(stratum), 1), 1)) + 1.0 / (shuffles * everyone)
    return np.minimum(p, 1.0)


def test_edges(
    db: duckdb.DuckDBPyConnection, observation: Observation, params: DetectionParams
) -> tuple[pa.Table, SignificanceReport]:
    """The observed edges with p- and q-values, and what the null model says about this behaviour."""
    accounts, bins = _bins(db, observation)
    pairs_per_stratum = _pairs_per_stratum(bins)
    m = sum(pairs_per_stratum.values())
    actions = arrow_table(
        db, f"SELECT account, object, t, post, role FROM {observation.actions} ORDER BY t, account, object, post"
    ).cast(ACTION_SCHEMA)  # a fixed order: the shuffles permute by position
    rng = np.random.default_rng([params.seed, sum(observation.behaviour.encode())])
    slot_us = observation.window_us if observation.by_post else None
    null_strata: list[np.ndarray] = []
    null_weights: list[np.ndarray] = []
    null_shuffle: list[np.ndarray] = []
    for shuffle in range(params.null_shuffles):
        db.register(
            "_null_actions",
            shuffled_actions(actions, observation.null_model, rng, slot_us, params.null_block_seconds * 1_000_000),
        )
        try:
            object_weights(db, "_null_actions", "_null_weights")
            found = pair_counts(
                db, "_null_actions", "_null_weights", window_us=observation.window_us,
                min_co_actions=observation.min_co_actions, cap=params.max_accounts_per_object,
                seed=params.seed, by_post=observation.by_post, count_posts=observation.count_posts,
            )
        finally:
            db.unregister("_null_actions")
        found = found.filter(
            pc.and_(pc.is_in(found.column("account_a"), value_set=accounts),
                    pc.is_in(found.column("account_b"), value_set=accounts))
        )
        null_strata.append(_strata(found, accounts, bins))
        null_weights.append(found.column("weight").to_numpy())
        null_shuffle.append(np.full(found.num_rows, shuffle))
    db.execute("DROP TABLE IF EXISTS _null_weights")
    all_strata = np.concatenate(null_strata) if null_strata else np.empty(0, dtype=np.int64)
    all_weights = np.concatenate(null_weights) if null_weights else np.empty(0)
    null = {int(s): np.sort(all_weights[all_strata == s]) for s in np.unique(all_strata)}

    edges = observation.edges
    weights = edges.column("weight").to_numpy()
    p = _tail_p(_strata(edges, accounts, bins), weights, null, pairs_per_stratum, params.null_shuffles)
    null_p = _tail_p(all_strata, all_weights, null, pairs_per_stratum, params.null_shuffles)
    q = permutation_q_values(p, null_p, params.null_shuffles)
    significant = q <= params.fdr_q
    p_threshold = float(p[significant].max()) if significant.any() else 0.0
    expected = float((null_p <= p_threshold * _TIES).sum()) / params.null_shuffles if significant.any() else 0.0
    tested = edges.set_column(5, "p_value", pa.array(p, pa.float64())).set_column(6, "q_value", pa.array(q, pa.float64()))
    report = SignificanceReport(
        behaviour=observation.behaviour,
        null_model=observation.null_model,
        pairs_tested=m,
        edges=edges.num_rows,
        significant_edges=int(significant.sum()),
        p_threshold=p_threshold,
        null_edges_mean=all_weights.size / params.null_shuffles,
        expected_false_edges=expected,
    )
    return tested, report
