"""Co-actions: pairs of accounts that acted on the same object within a sliding window, in DuckDB.

Every object detector reduces the corpus to *actions* — one row per (account, object, time, post) in
a table with the columns of ``ACTION_SCHEMA`` — and ``rrm.detect.detectors.base`` codes them as
integers (``CODED_SCHEMA``): accounts by their rank in sorted order (so ``account_a < account_b``
holds for the codes as for the names), objects and posts by a 64-bit hash. This module turns coded
actions into pairs; strings are decoded only for the pairs that pass. The join is vectorised and
bounded: actions are keyed by (object, time bucket of width Δt) and each action is matched against
its own and the two neighbouring buckets, so the join never builds the pairs of actions further apart
than 2Δt, and the filter ``|t_a - t_b| <= Δt`` keeps exactly the sliding-window pairs (no bin
boundaries). Objects acted on by more than ``cap`` accounts are sampled down to ``cap`` accounts,
chosen by a hash of account, object and seed, so a viral object cannot blow up the count of pairs
(with rarity weights it carries almost no weight anyway).

Every query can also run on many corpora at once: with ``key="shuffle"`` the actions carry a
``shuffle`` column, every join and aggregate is also on it, and one query counts the pairs of all the
shuffled corpora of the null model (``rrm.detect.significance``).

Every action has a ``role``: ``PEER`` (0) for the symmetric behaviours, where any two accounts acting
on the same object pair up; ``SOURCE`` (1) and ``AMPLIFIER`` (2) for directed ones (``co-amplify``: the
author of a post and the accounts that reshare it), where only a source pairs with an amplifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from rrm._duckdb import arrow_table
from rrm.detect.model import EDGE_SCHEMA

__all__ = [
    "ACTION_SCHEMA", "AMPLIFIER", "CODED_SCHEMA", "MATCH_SCHEMA", "PEER", "SOURCE", "PairRule", "matched_pairs",
    "object_weights", "pair_counts", "pair_counts_sql", "untested_edges",
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
"""Actions as a detector gives them."""

CODED_SCHEMA = pa.schema(
    [
        pa.field("account", pa.int32()),  # rank of the account name in sorted order
        pa.field("object", pa.uint64()),  # hash of the object
        pa.field("t", pa.int64()),
        pa.field("post", pa.uint64()),  # hash of the post id
        pa.field("role", pa.int8()),
    ]
)
"""Actions as the joins see them: integers only."""

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


@dataclass(frozen=True)
class PairRule:
    """How actions pair up and what a pair needs: the window, the minimum of co-actions, the sampling cap
    (with its seed), and what is counted (matched posts ignoring the object with ``by_post``, matched
    posts on the same object with ``count_posts``, else distinct objects)."""

    window_us: int
    min_co_actions: int
    cap: int | None
    seed: int
    by_post: bool = False
    count_posts: bool = False


def _keys(key: str | None) -> tuple[str, str]:
    """(``"key, "`` for select lists and GROUP BY, ``"x.key = y.key AND "`` for joins), or empty strings."""
    if key is None:
        return "", ""
    return f"{key}, ", f"x.{key} = y.{key} AND "


def object_weights(
    db: duckdb.DuckDBPyConnection, actions: str, weights: str, key: str | None = None, only: str | None = None
) -> None:
    """Create table ``weights`` ([key,] object, accounts, w): rarity weight ``1 / ln(1 + accounts)``.

    ``only``, a query of one column, restricts the table to the objects it gives (the weight of each is
    still counted over all its actions)."""
    k, _ = _keys(key)
    among = f"WHERE object IN ({only})" if only is not None else ""
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {weights} AS
            SELECT {k}object, count(DISTINCT account) AS accounts, 1.0 / ln(1 + count(DISTINCT account)) AS w
            FROM {actions} {among} GROUP BY {k}object"""
    )


def _sampled(actions: str, cap: int | None, seed: int, key: str | None) -> str:
    k, _ = _keys(key)
    if cap is None:
        return f"SELECT {k}account, object, t, post, role FROM {actions}"
    return f"""
        SELECT {k}s.account, s.object, s.t, s.post, s.role FROM {actions} s SEMI JOIN (
            SELECT {k}object, account FROM (SELECT DISTINCT {k}object, account FROM {actions})
            QUALIFY count(*) OVER (PARTITION BY {k}object) <= {int(cap)}
                 OR row_number() OVER (PARTITION BY {k}object ORDER BY hash(account, object, {int(seed)})) <= {int(cap)}
        ) k USING ({k}object, account)"""


def _matches_sql(
    actions: str, window_us: int, cap: int | None, seed: int, by_post: bool = False, key: str | None = None
) -> str:
    """One row per (pair, object, post of a, post of b) within the window, account_a < account_b.

    With ``by_post`` the object is not part of the join (any two actions within the window match) and
    the ``object`` column is the post of ``account_a``: that is how ``sync-activity`` counts. Peers
    pair with peers, a source with an amplifier (``x.role + y.role`` is 0 or 3).
    """
    k, join = _keys(key)
    same_object = "" if by_post else "x.object = y.object AND "
    obj = "x.post" if by_post else "x.object"
    xk = f"x.{key}, " if key else ""
    return f"""
        WITH s AS ({_sampled(actions, cap, seed, key)}),
        b AS (SELECT {k}account, object, t, post, role, t // {window_us} AS k FROM s),
        b3 AS (SELECT {k}account, object, t, post, role, k + d AS k FROM b, (VALUES (-1), (0), (1)) v(d))
        SELECT {xk}x.account AS account_a, y.account AS account_b, {obj} AS object, x.object AS slot,
               x.post AS post_a, y.post AS post_b, x.t AS t_a, y.t AS t_b
        FROM b x JOIN b3 y ON {join}{same_object}x.k = y.k
        WHERE x.account < y.account AND abs(x.t - y.t) <= {window_us}
          AND x.role + y.role IN ({PEER + PEER}, {SOURCE + AMPLIFIER})"""


def _co_actions(by_post: bool) -> str:
    if by_post:
        return "least(count(DISTINCT post_a), count(DISTINCT post_b))::BIGINT"
    return "count(DISTINCT m.object)::BIGINT"


def _aggregate(co: str, weights: str, minimum: int, key: str | None) -> str:
    on = f"w.{key} = m.{key} AND " if key else ""
    mk = f"m.{key}, " if key else ""
    return f"""
    SELECT {mk}account_a, account_b, {co} AS co_actions,
           (sum(w.w) * {co} / count(DISTINCT m.object))::DOUBLE AS weight
    FROM m JOIN {weights} w ON {on}w.object = m.slot
    GROUP BY {mk}account_a, account_b HAVING {co} >= {int(minimum)}"""


_POSTS_CO = "least(count(DISTINCT m.post_a), count(DISTINCT m.post_b))::BIGINT"


def _posts_aggregate(weights: str, minimum: int, key: str | None) -> str:
    """Counting matched posts: every (post, post, object) match is a row of ``m``; the weight is the mean
    rarity of the matched objects times the count."""
    on = f"w.{key} = m.{key} AND " if key else ""
    mk = f"m.{key}, " if key else ""
    return f"""
    SELECT {mk}account_a, account_b, {_POSTS_CO} AS co_actions, (avg(w.w) * {_POSTS_CO})::DOUBLE AS weight
    FROM m JOIN {weights} w ON {on}w.object = m.slot
    GROUP BY {mk}account_a, account_b HAVING {_POSTS_CO} >= {int(minimum)}"""


def pair_counts_sql(actions: str, weights: str, rule: PairRule, key: str | None = None) -> str:
    """The query of ``pair_counts`` on coded actions: ([key,] account_a, account_b, co_actions, weight)."""
    matches = _matches_sql(actions, rule.window_us, rule.cap, rule.seed, rule.by_post, key)
    if rule.count_posts:
        return f"WITH m AS ({matches}) " + _posts_aggregate(weights, rule.min_co_actions, key)
    k, _ = _keys(key)
    return f"""WITH m AS (SELECT {k}account_a, account_b, object, any_value(slot) AS slot,
                                any_value(post_a) AS post_a, any_value(post_b) AS post_b
                         FROM ({matches})
                         GROUP BY {k}account_a, account_b, object)
               {_aggregate(_co_actions(rule.by_post), weights, rule.min_co_actions, key)}"""


def _decoded(query: str, accounts: str | None, columns: str = "co_actions, weight") -> str:
    if accounts is None:
        return query
    return f"""SELECT da.account AS account_a, db.account AS account_b, {columns}
               FROM ({query}) q JOIN {accounts} da ON da.code = q.account_a JOIN {accounts} db ON db.code = q.account_b"""


def pair_counts(
    db: duckdb.DuckDBPyConnection, actions: str, weights: str, rule: PairRule, accounts: str | None = None
) -> pa.Table:
    """Pairs with at least ``rule.min_co_actions`` distinct objects: account_a, account_b, co_actions, weight.

    With ``rule.count_posts`` the join stays on the object but ``co_actions`` counts matched posts (the
    posts of the less active side that match a post of the other), each matched object weighing its
    rarity: a post that acts on several objects (hashtags) counts once. ``accounts`` names the table
    (code, account) that decodes the account codes of coded actions into names.
    """
    return arrow_table(db, _decoded(pair_counts_sql(actions, weights, rule), accounts) + " ORDER BY account_a, account_b")


def matched_pairs(db: duckdb.DuckDBPyConnection, actions: str, weights: str, target: str, rule: PairRule) -> pa.Table:
    """Like ``pair_counts`` on coded actions (account codes, not decoded), and also create table
    ``target`` (coded ``MATCH_SCHEMA`` and ``slot``) with the closest posts per pair and object, for the
    pairs that pass, and table ``weights`` (as ``object_weights`` makes it) for their objects alone."""
    order = "(abs(t_a - t_b), post_a, post_b)"
    closest = f"""SELECT account_a, account_b, object, any_value(slot) AS slot,
                         arg_min(post_a, {order}) AS post_a, arg_min(post_b, {order}) AS post_b,
                         arg_min(t_a, {order}) AS t_a, arg_min(t_b, {order}) AS t_b
                  FROM m GROUP BY account_a, account_b, object"""
    matches = _matches_sql(actions, rule.window_us, rule.cap, rule.seed, rule.by_post)
    minimum = int(rule.min_co_actions)
    if not rule.by_post:
        # the pairs that pass first (integers only), then the closest posts for their matches alone
        co = _POSTS_CO if rule.count_posts else "count(DISTINCT m.object)::BIGINT"
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {target}_raw AS
                WITH r AS ({matches}),
                kept AS (SELECT account_a, account_b FROM r m GROUP BY ALL HAVING {co} >= {minimum})
                SELECT * FROM r SEMI JOIN kept USING (account_a, account_b)"""
        )
        object_weights(db, actions, weights, only=f"SELECT DISTINCT slot FROM {target}_raw")
        db.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS WITH m AS (SELECT * FROM {target}_raw) {closest}")
        found = arrow_table(
            db,
            (f"WITH m AS (SELECT * FROM {target}_raw) " + _posts_aggregate(weights, minimum, None)
             if rule.count_posts else
             f"WITH m AS (SELECT * FROM {target}) " + _aggregate(co, weights, minimum, None))
            + " ORDER BY account_a, account_b",
        )
        db.execute(f"DROP TABLE IF EXISTS {target}_raw")
        return found
    co = _co_actions(rule.by_post)
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {target} AS
            WITH m AS ({matches}),
            closest AS ({closest}),
            kept AS (SELECT account_a, account_b FROM closest m GROUP BY account_a, account_b HAVING {co} >= {minimum})
            SELECT closest.* FROM closest SEMI JOIN kept USING (account_a, account_b)"""
    )
    object_weights(db, actions, weights, only=f"SELECT DISTINCT slot FROM {target}")
    return arrow_table(
        db,
        f"WITH m AS (SELECT * FROM {target}) "
        + _aggregate(co, weights, minimum, None)
        + " ORDER BY account_a, account_b",
    )


def untested_edges(behaviour: str, pairs: pa.Table) -> pa.Table:
    """Pairs (``account_a``, ``account_b``, ``co_actions``, ``weight``) as edges of ``behaviour``, not yet tested."""
    n = pairs.num_rows
    return pa.table(
        {
            "behaviour": pa.array([behaviour] * n, pa.string()),
            "account_a": pairs.column("account_a").cast(pa.string()),
            "account_b": pairs.column("account_b").cast(pa.string()),
            "co_actions": pairs.column("co_actions"),
            "weight": pairs.column("weight"),
            "p_value": pa.nulls(n, pa.float64()),
            "q_value": pa.nulls(n, pa.float64()),
        },
        schema=EDGE_SCHEMA,
    )
