"""Co-actions: pairs of accounts that acted on the same object within a sliding window, in DuckDB.

Every object detector reduces the corpus to *actions* — one row per (account, object, time, post) in
a table with the columns of ``ACTION_SCHEMA`` — and this module turns actions into pairs. The join
is vectorised and bounded: actions are keyed by (object, time bucket of width Δt) and each action is
matched against its own and the two neighbouring buckets, so the join never builds the pairs of
actions further apart than 2Δt, and the filter ``|t_a - t_b| <= Δt`` keeps exactly the sliding-window
pairs (no bin boundaries). Objects acted on by more than ``cap`` accounts are sampled down to ``cap``
accounts, chosen by a hash of account, object and seed, so a viral object cannot blow up the count
of pairs (with rarity weights it carries almost no weight anyway).

Every action has a ``role``: ``PEER`` (0) for the symmetric behaviours, where any two accounts acting
on the same object pair up; ``SOURCE`` (1) and ``AMPLIFIER`` (2) for directed ones (``co-amplify``: the
author of a post and the accounts that reshare it), where only a source pairs with an amplifier.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from rrm._duckdb import arrow_table
from rrm.detect.model import EDGE_SCHEMA

__all__ = [
    "ACTION_SCHEMA", "AMPLIFIER", "MATCH_SCHEMA", "PEER", "SOURCE", "matched_pairs", "object_weights", "pair_counts",
]

PEER, SOURCE, AMPLIFIER = 0, 1, 2
"""Roles of an action: peers pair with peers, sources with amplifiers (and never two of a kind)."""

ACTION_SCHEMA = pa.schema(
    [
        pa.field("account", pa.string()),  # "platform:account_id"
        pa.field("object", pa.string()),  # what was acted on: post id, URL, text cluster...
        pa.field("t", pa.int64()),  # microseconds since the epoch
        pa.field("post", pa.string()),  # the post that acted
        pa.field("role", pa.int8()),  # PEER, SOURCE or AMPLIFIER
    ]
)

MATCH_SCHEMA = pa.schema(
    [
        pa.field("account_a", pa.string()),
        pa.field("account_b", pa.string()),
        pa.field("object", pa.string()),
        pa.field("post_a", pa.string()),
        pa.field("post_b", pa.string()),
        pa.field("t_a", pa.int64()),
        pa.field("t_b", pa.int64()),
    ]
)
"""For each pair and object, the two posts closest in time."""


def object_weights(db: duckdb.DuckDBPyConnection, actions: str, weights: str) -> None:
    """Create table ``weights`` (object, accounts, w): rarity weight ``1 / ln(1 + accounts)``."""
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {weights} AS
            SELECT object, count(DISTINCT account) AS accounts, 1.0 / ln(1 + count(DISTINCT account)) AS w
            FROM {actions} GROUP BY object"""
    )


def _sampled(actions: str, cap: int | None, seed: int) -> str:
    if cap is None:
        return f"SELECT account, object, t, post, role FROM {actions}"
    return f"""
        SELECT s.account, s.object, s.t, s.post, s.role FROM {actions} s SEMI JOIN (
            SELECT object, account FROM (SELECT DISTINCT object, account FROM {actions})
            QUALIFY count(*) OVER (PARTITION BY object) <= {int(cap)}
                 OR row_number() OVER (PARTITION BY object ORDER BY hash(account, object, {int(seed)})) <= {int(cap)}
        ) k USING (object, account)"""


def _matches_sql(actions: str, window_us: int, cap: int | None, seed: int, by_post: bool = False) -> str:
    """One row per (pair, object, post of a, post of b) within the window, account_a < account_b.

    With ``by_post`` the object is not part of the join (any two actions within the window match) and
    the ``object`` column is the post of ``account_a``: that is how ``sync-activity`` counts. Peers
    pair with peers, a source with an amplifier (``x.role + y.role`` is 0 or 3).
    """
    same_object = "" if by_post else "x.object = y.object AND "
    obj = "x.post" if by_post else "x.object"
    return f"""
        WITH s AS ({_sampled(actions, cap, seed)}),
        b AS (SELECT account, object, t, post, role, t // {window_us} AS k FROM s),
        b3 AS (SELECT account, object, t, post, role, k + d AS k FROM b, (VALUES (-1), (0), (1)) v(d))
        SELECT x.account AS account_a, y.account AS account_b, {obj} AS object, x.object AS slot,
               x.post AS post_a, y.post AS post_b, x.t AS t_a, y.t AS t_b
        FROM b x JOIN b3 y ON {same_object}x.k = y.k
        WHERE x.account < y.account AND abs(x.t - y.t) <= {window_us}
          AND x.role + y.role IN ({PEER + PEER}, {SOURCE + AMPLIFIER})"""


def _co_actions(by_post: bool) -> str:
    if by_post:
        return "least(count(DISTINCT post_a), count(DISTINCT post_b))::BIGINT"
    return "count(DISTINCT m.object)::BIGINT"


def pair_counts(
    db: duckdb.DuckDBPyConnection,
    actions: str,
    weights: str,
    *,
    window_us: int,
    min_co_actions: int,
    cap: int | None,
    seed: int,
    by_post: bool = False,
    count_posts: bool = False,
) -> pa.Table:
    """Pairs with at least ``min_co_actions`` distinct objects: account_a, account_b, co_actions, weight.

    With ``count_posts`` the join stays on the object but ``co_actions`` counts matched posts (the
    posts of the less active side that match a post of the other), each matched object weighing its
    rarity: a post that acts on several objects (hashtags) counts once.
    """
    matches = _matches_sql(actions, window_us, cap, seed, by_post)
    if count_posts:
        return arrow_table(db, f"WITH m AS ({matches}) " + _POSTS_AGGREGATE.format(weights=weights, min=int(min_co_actions)))
    return arrow_table(
        db,
        f"""WITH m AS (SELECT account_a, account_b, object, any_value(slot) AS slot,
                              any_value(post_a) AS post_a, any_value(post_b) AS post_b
                       FROM ({matches})
                       GROUP BY account_a, account_b, object)
            {_AGGREGATE.format(co=_co_actions(by_post), weights=weights, min=int(min_co_actions))}""",
    )


_AGGREGATE = """
    SELECT account_a, account_b, {co} AS co_actions,
           (sum(w.w) * {co} / count(DISTINCT m.object))::DOUBLE AS weight
    FROM m JOIN {weights} w ON w.object = m.slot
    GROUP BY account_a, account_b HAVING {co} >= {min}"""

_POSTS_CO = "least(count(DISTINCT m.post_a), count(DISTINCT m.post_b))::BIGINT"
_POSTS_AGGREGATE = f"""
    SELECT account_a, account_b, {_POSTS_CO} AS co_actions, (avg(w.w) * {_POSTS_CO})::DOUBLE AS weight
    FROM m JOIN {{weights}} w ON w.object = m.slot
    GROUP BY account_a, account_b HAVING {_POSTS_CO} >= {{min}}"""
"""Counting matched posts: every (post, post, object) match is a row of ``m``; the weight is the mean
rarity of the matched objects times the count."""


def matched_pairs(
    db: duckdb.DuckDBPyConnection,
    actions: str,
    weights: str,
    target: str,
    *,
    window_us: int,
    min_co_actions: int,
    cap: int | None,
    seed: int,
    by_post: bool = False,
    count_posts: bool = False,
) -> pa.Table:
    """Like ``pair_counts``, and also create table ``target`` (``MATCH_SCHEMA`` and ``slot``) with the
    closest posts per pair and object, for the pairs that pass."""
    order = "(abs(t_a - t_b), post_a, post_b)"
    co = _co_actions(by_post)
    matches = _matches_sql(actions, window_us, cap, seed, by_post)
    if count_posts:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {target}_raw AS {matches}")
        matches = f"SELECT * FROM {target}_raw"
        kept = f"SELECT account_a, account_b FROM {target}_raw m GROUP BY ALL HAVING {_POSTS_CO} >= {int(min_co_actions)}"
    else:
        kept = f"SELECT account_a, account_b FROM closest m GROUP BY account_a, account_b HAVING {co} >= {int(min_co_actions)}"
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {target} AS
            WITH m AS ({matches}),
            closest AS (
                SELECT account_a, account_b, object, any_value(slot) AS slot,
                       arg_min(post_a, {order}) AS post_a, arg_min(post_b, {order}) AS post_b,
                       arg_min(t_a, {order}) AS t_a, arg_min(t_b, {order}) AS t_b
                FROM m GROUP BY account_a, account_b, object
            ),
            kept AS ({kept})
            SELECT closest.* FROM closest SEMI JOIN kept USING (account_a, account_b)"""
    )
    if count_posts:
        found = arrow_table(
            db,
            f"WITH m AS (SELECT * FROM {target}_raw SEMI JOIN (SELECT DISTINCT account_a, account_b FROM {target}) "
            f"USING (account_a, account_b)) "
            + _POSTS_AGGREGATE.format(weights=weights, min=int(min_co_actions))
            + " ORDER BY account_a, account_b",
        )
        db.execute(f"DROP TABLE IF EXISTS {target}_raw")
        return found
    return arrow_table(
        db,
        f"WITH m AS (SELECT * FROM {target}) "
        + _AGGREGATE.format(co=co, weights=weights, min=int(min_co_actions))
        + " ORDER BY account_a, account_b",
    )


def untested_edges(behaviour: str, pairs: pa.Table) -> pa.Table:
    """Pairs (``account_a``, ``account_b``, ``co_actions``, ``weight``) as edges of ``behaviour``, not yet tested."""
    n = pairs.num_rows
    return pa.table(
        {
            "behaviour": pa.array([behaviour] * n, pa.string()),
            "account_a": pairs.column("account_a"),
            "account_b": pairs.column("account_b"),
            "co_actions": pairs.column("co_actions"),
            "weight": pairs.column("weight"),
            "p_value": pa.nulls(n, pa.float64()),
            "q_value": pa.nulls(n, pa.float64()),
        },
        schema=EDGE_SCHEMA,
    )
