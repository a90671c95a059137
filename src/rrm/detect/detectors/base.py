"""What a detector is, and the common machinery of the detectors that reduce posts to actions."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.cooccur import PEER, PairRule, matched_pairs, untested_edges
from rrm.detect.model import EVIDENCE_SCHEMA
from rrm.detect.params import DetectionParams, NullModel
from rrm.detect.sweep import sorted_co_actions

__all__ = ["ACCOUNT", "TIME_US", "ActionDetector", "Detector", "Observation"]

ACCOUNT = "(p.platform || ':' || p.account_id)"
"""SQL for the account key of a post ``p``: ``platform:account_id``."""
TIME_US = "epoch_us(p.created_at)"
"""SQL for the time of a post ``p`` in microseconds since the epoch."""


@runtime_checkable
class Detector(Protocol):
    """Turns the corpus into co-action edges between accounts, with the posts behind every edge."""

    name: str
    description: str

    def edges(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> tuple[pa.Table, pa.Table]:
        """(edges in ``EDGE_SCHEMA`` with null p/q values, evidence in ``EVIDENCE_SCHEMA``)."""
        ...


@dataclass(frozen=True)
class Observation:
    """The observed edges of one action detector, and what its significance test needs."""

    behaviour: str
    edges: pa.Table
    evidence: pa.Table
    actions: str  # name of the temporary table of coded actions (``CODED_SCHEMA``)
    accounts: str  # name of the temporary table (code, account) that decodes their accounts
    weights: str  # name of the temporary table of object weights
    rule: PairRule  # how the actions pair up: window, minimum, sampling cap and seed, what is counted
    null_model: NullModel


def _evidence(behaviour: str, found: pa.Table) -> pa.Table:
    """Evidence in ``EVIDENCE_SCHEMA`` from matches (account_a, account_b, object, post_a, post_b, t_a, t_b in µs)."""
    ts = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "behaviour": pa.array([behaviour] * found.num_rows, pa.string()),
            "account_a": found.column("account_a"),
            "account_b": found.column("account_b"),
            "object": found.column("object"),
            "post_a": found.column("post_a"),
            "post_b": found.column("post_b"),
            "time_a": pc.cast(found.column("t_a"), ts),
            "time_b": pc.cast(found.column("t_b"), ts),
        },
        schema=EVIDENCE_SCHEMA,
    )


def _table_name(name: str, kind: str) -> str:
    return f"_{kind}_" + re.sub(r"[^a-z0-9]", "_", name.lower())


class ActionDetector(ABC):
    """A detector that reduces posts to actions (account, object, time, post) and pairs them in DuckDB.

    Subclasses give ``name``, ``description`` and ``actions_sql``; they may set ``by_post`` (count
    matched posts rather than objects, ignoring the object in the join), ``count_posts`` (join on the
    object but count matched posts, for detectors where one post acts on several objects), ``null_model``, and
    ``directed``: then ``actions_sql`` also gives a ``role`` column (``SOURCE`` or ``AMPLIFIER`` from
    ``rrm.detect.cooccur``), only sources pair with amplifiers, and the null model leaves the
    sources' actions in place.
    """

    name: str
    description: str
    by_post: ClassVar[bool] = False
    count_posts: ClassVar[bool] = False
    null_model: ClassVar[NullModel | None] = None
    directed: ClassVar[bool] = False

    @abstractmethod
    def actions_sql(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> str:
        """A query over the views ``posts`` and ``accounts`` with columns account, object, t (µs), post
        (and role, for a ``directed`` detector)."""

    def _rule(self, params: DetectionParams) -> PairRule:
        return PairRule(
            window_us=params.window_for(self.name) * 1_000_000, min_co_actions=params.min_co_actions_for(self.name),
            cap=params.max_accounts_per_object, seed=params.seed, by_post=self.by_post, count_posts=self.count_posts,
        )

    @property
    def pairs_by_sorting(self) -> bool:
        """Whether ``observe`` pairs the actions by sorting them (``rrm.detect.sweep``), as it does for
        peers counted in objects; directed roles, matched posts and ``by_post`` go through the join of
        ``rrm.detect.cooccur``, which gives the same result for the others too."""
        return not (self.directed or self.by_post or self.count_posts)

    def observe(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> Observation:
        raw, actions, accounts, weights, matches = (
            _table_name(self.name, k) for k in ("raw", "actions", "accounts", "weights", "matches")
        )
        rule = self._rule(params)
        if self.pairs_by_sorting:
            swept = sorted_co_actions(
                db, self.actions_sql(db, params), rule, actions=actions, accounts=accounts, weights=weights
            )
            return Observation(
                behaviour=self.name, edges=untested_edges(self.name, swept.pairs),
                evidence=_evidence(self.name, swept.matches), actions=actions, accounts=accounts, weights=weights,
                rule=rule, null_model=self.null_model or params.null_model,
            )
        role = "role::TINYINT" if self.directed else f"{PEER}::TINYINT"
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {raw} AS
                SELECT account::VARCHAR AS account, object::VARCHAR AS object, hash(object::VARCHAR) AS object_code,
                       t::BIGINT AS t, post::VARCHAR AS post, hash(post::VARCHAR) AS post_code, {role} AS role
                FROM ({self.actions_sql(db, params)})"""
        )
        # afterwards, not in the query above: a filter there makes DuckDB build every object twice
        db.execute(f"DELETE FROM {raw} WHERE object IS NULL OR object = ''")
        # integer codes: accounts by rank (so codes compare as names do), objects and posts by hash
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {accounts} AS
                SELECT (row_number() OVER (ORDER BY account) - 1)::INTEGER AS code, account
                FROM (SELECT DISTINCT account FROM {raw})"""
        )
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {actions} AS
                SELECT a.code AS account, r.object_code AS object, r.t, r.post_code AS post, r.role
                FROM {raw} r JOIN {accounts} a USING (account)"""
        )
        pairs = matched_pairs(db, actions, weights, matches, rule)
        names = arrow_table(db, f"SELECT account FROM {accounts} ORDER BY code").column("account").combine_chunks()
        pairs = pairs.set_column(0, "account_a", names.take(pairs.column("account_a")))
        pairs = pairs.set_column(1, "account_b", names.take(pairs.column("account_b")))
        edges = untested_edges(self.name, pairs)
        object_names = "_posts" if self.by_post else "_objects"  # with by_post, the object of a match is a post
        found = arrow_table(
            db,
            f"""WITH needed_objects AS (SELECT DISTINCT object AS code FROM {matches}),
                needed_posts AS (SELECT post_a AS code FROM {matches} UNION SELECT post_b FROM {matches}),
                _objects AS (SELECT object_code AS code, min(object) AS name FROM {raw}
                             WHERE object_code IN (SELECT code FROM needed_objects) GROUP BY 1),
                _posts AS (SELECT post_code AS code, min(post) AS name FROM {raw}
                           WHERE post_code IN (SELECT code FROM needed_posts UNION ALL SELECT code FROM needed_objects)
                           GROUP BY 1)
                SELECT da.account AS account_a, db.account AS account_b, o.name AS object,
                       pa.name AS post_a, pb.name AS post_b, m.t_a, m.t_b
                FROM {matches} m JOIN {accounts} da ON da.code = m.account_a JOIN {accounts} db ON db.code = m.account_b
                     JOIN {object_names} o ON o.code = m.object
                     JOIN _posts pa ON pa.code = m.post_a JOIN _posts pb ON pb.code = m.post_b
                ORDER BY account_a, account_b, t_a, object""",
        )
        evidence = _evidence(self.name, found)
        db.execute(f"DROP TABLE IF EXISTS {matches}")
        db.execute(f"DROP TABLE IF EXISTS {raw}")
        return Observation(
            behaviour=self.name, edges=edges, evidence=evidence, actions=actions, accounts=accounts, weights=weights,
            rule=rule, null_model=self.null_model or params.null_model,
        )

    def edges(self, db: duckdb.DuckDBPyConnection, params: DetectionParams) -> tuple[pa.Table, pa.Table]:
        if self.pairs_by_sorting:  # without the tables only the null model reads
            swept = sorted_co_actions(db, self.actions_sql(db, params), self._rule(params))
            return untested_edges(self.name, swept.pairs), _evidence(self.name, swept.matches)
        observation = self.observe(db, params)
        return observation.edges, observation.evidence
