"""Stability selection (Meinshausen & Bühlmann 2010): keep what detection finds on most subsamples of the posts.

Detection on real data rests on many edges with exactly the minimum of co-actions; drop a tenth of
the posts and a good share of them fall below the minimum, so the flagged accounts change from one
sample to the next. Stability selection reruns the whole test (co-actions, null model, false
discovery rate, communities with attachment) on ``stability_subsamples`` subsamples of the posts,
each post kept with probability ``stability_fraction`` (by a hash of the post, the seed and the
subsample, so the same parameters give the same subsamples), and counts how often each account is
flagged and each edge is significant. An account or edge is *selected* when that share reaches
``stability_threshold``; only selected edges build the communities, and only selected accounts
stay in them.

A subsample reuses the actions the detectors computed on the whole corpus (it keeps the actions of
the kept posts), so the detectors' own queries run once; everything else is the same vectorised
DuckDB join and the same null model as the full run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from rrm.detect.cooccur import object_weights, pair_counts, untested_edges
from rrm.detect.detectors.base import Observation
from rrm.detect.model import EDGE_SCHEMA, EVIDENCE_SCHEMA, SELECTION_SCHEMA, StabilityReport
from rrm.detect.network import partition_accounts, significant
from rrm.detect.params import DetectionParams
from rrm.detect.significance import test_edges

__all__ = ["Selection", "stability_selection"]

_SUB_ACTIONS = "_stability_actions"
_SUB_WEIGHTS = "_stability_weights"
_RESOLUTION = 1_000_000


@dataclass(frozen=True)
class Selection:
    """What stability selection found: the report (with account frequencies) and the edge frequencies."""

    report: StabilityReport
    edges: pa.Table  # SELECTION_SCHEMA

    def selected_edges(self) -> pa.Table:
        """(behaviour, account_a, account_b) of the edges selected in at least the threshold share."""
        frequency = self.edges.column("frequency")
        return self.edges.filter(pc.greater_equal(frequency, self.report.threshold - 1e-12)).select(
            ["behaviour", "account_a", "account_b"]
        )

    def selected_accounts(self) -> set[str]:
        return {a for a, f in self.report.account_frequency.items() if f >= self.report.threshold - 1e-12}


def _subsample_edges(
    db: duckdb.DuckDBPyConnection, observation: Observation, params: DetectionParams, subsample: int
) -> pa.Table:
    """The tested edges (with p- and q-values) of one behaviour on one subsample of the posts."""
    kept = round(params.stability_fraction * _RESOLUTION)
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_SUB_ACTIONS} AS SELECT * FROM {observation.actions}
            WHERE hash(post, {int(params.seed)}, {int(subsample)}) % {_RESOLUTION} < {kept}"""
    )
    object_weights(db, _SUB_ACTIONS, _SUB_WEIGHTS)
    pairs = pair_counts(db, _SUB_ACTIONS, _SUB_WEIGHTS, observation.rule, accounts=observation.accounts)
    edges = untested_edges(observation.behaviour, pairs)
    sub = replace(observation, edges=edges, evidence=EVIDENCE_SCHEMA.empty_table(), actions=_SUB_ACTIONS,
                  weights=_SUB_WEIGHTS)
    tested, _ = test_edges(db, sub, params)
    return tested


def stability_selection(
    db: duckdb.DuckDBPyConnection,
    observations: Sequence[Observation],
    params: DetectionParams,
    progress: Callable[[int], None] | None = None,
) -> Selection:
    """Run detection on ``params.stability_subsamples`` subsamples of the posts behind ``observations``
    (whose action tables must still exist in ``db``) and count how often accounts and edges are selected."""
    runs = params.stability_subsamples
    accounts: Counter[str] = Counter()
    edge_counts: Counter[tuple[str, str, str]] = Counter()
    try:
        for k in range(runs):
            tested = [_subsample_edges(db, observation, params, k) for observation in observations]
            edges = pa.concat_tables([EDGE_SCHEMA.empty_table(), *tested]).combine_chunks()
            strong = significant(edges, params.fdr_q)
            edge_counts.update(zip(strong.column("behaviour").to_pylist(), strong.column("account_a").to_pylist(),
                                   strong.column("account_b").to_pylist(), strict=True))
            groups, _ = partition_accounts(strong, edges, params)
            accounts.update({a for group in groups for a in group})
            if progress is not None:
                progress(k + 1)
    finally:
        db.execute(f"DROP TABLE IF EXISTS {_SUB_ACTIONS}")
        db.execute(f"DROP TABLE IF EXISTS {_SUB_WEIGHTS}")
    keys = sorted(edge_counts)
    table = pa.table(
        {
            "behaviour": pa.array([k[0] for k in keys], pa.string()),
            "account_a": pa.array([k[1] for k in keys], pa.string()),
            "account_b": pa.array([k[2] for k in keys], pa.string()),
            "frequency": pa.array([edge_counts[k] / runs for k in keys], pa.float64()),
        },
        schema=SELECTION_SCHEMA,
    )
    frequency = {a: round(n / runs, 6) for a, n in sorted(accounts.items())}
    threshold = params.stability_threshold - 1e-12
    report = StabilityReport(
        subsamples=runs,
        fraction=params.stability_fraction,
        threshold=params.stability_threshold,
        selected_accounts=sum(1 for f in frequency.values() if f >= threshold),
        selected_edges=sum(1 for k in keys if edge_counts[k] / runs >= threshold),
        account_frequency=frequency,
    )
    return Selection(report, table)
