"""The findings of detection, as values: co-action edges, communities, and the run that made them.

Edges live in Arrow tables for speed (schema ``EDGE_SCHEMA``, one row per pair of accounts and
behaviour); everything a person reads about them is a frozen dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

__all__ = [
    "EDGE_SCHEMA", "EVIDENCE_SCHEMA", "SELECTION_SCHEMA", "Community", "DetectionRun", "EvidencePost", "NullModelReport",
    "StabilityReport",
]

EDGE_SCHEMA = pa.schema(
    [
        pa.field("behaviour", pa.string(), nullable=False),  # detector name: co-reshare, co-link...
        pa.field("account_a", pa.string(), nullable=False),  # "platform:account_id", account_a < account_b
        pa.field("account_b", pa.string(), nullable=False),
        pa.field("co_actions", pa.int64(), nullable=False),  # number of distinct objects acted on together
        pa.field("weight", pa.float64(), nullable=False),  # rarity-weighted co-actions
        pa.field("p_value", pa.float64()),  # against the null model; null before significance
        pa.field("q_value", pa.float64()),  # Benjamini–Hochberg adjusted
    ]
)
"""Co-action edges between two accounts for one behaviour."""

EVIDENCE_SCHEMA = pa.schema(
    [
        pa.field("behaviour", pa.string(), nullable=False),
        pa.field("account_a", pa.string(), nullable=False),
        pa.field("account_b", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),  # the shared object: post id, URL, text hash, hashtag...
        pa.field("post_a", pa.string(), nullable=False),
        pa.field("post_b", pa.string(), nullable=False),
        pa.field("time_a", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("time_b", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""The posts behind each edge: which object two accounts acted on, and when."""

SELECTION_SCHEMA = pa.schema(
    [
        pa.field("behaviour", pa.string(), nullable=False),
        pa.field("account_a", pa.string(), nullable=False),
        pa.field("account_b", pa.string(), nullable=False),
        pa.field("frequency", pa.float64(), nullable=False),  # share of subsamples in which the edge was significant
    ]
)
"""Stability selection: how often each edge was significant in the subsamples (edges never significant are left out)."""


@dataclass(frozen=True)
class EvidencePost:
    account: str
    post_id: str
    time: datetime
    behaviour: str
    object: str
    text: str | None = None


@dataclass(frozen=True)
class Community:
    """A group of accounts that acted together, with a score whose parts are shown."""

    community_id: str
    accounts: tuple[str, ...]
    score: float
    parts: dict[str, float]  # behaviours, time tightness, new accounts, synchronisation, size...
    behaviours: dict[str, int]  # behaviour → number of significant edges inside the community
    explanation: str
    evidence: tuple[EvidencePost, ...] = ()


@dataclass(frozen=True)
class NullModelReport:
    """What the null model (shuffled corpora without coordination) says about one behaviour of a run."""

    behaviour: str
    null_model: str  # permute-accounts | circular-shift
    pairs_tested: int  # pairs of accounts that could reach the minimum of co-actions
    edges: int  # observed edges at or above the minimum
    significant_edges: int
    p_threshold: float  # largest p-value accepted by Benjamini–Hochberg
    null_edges_mean: float  # edges at or above the minimum in one shuffled corpus, on average
    expected_false_edges: float  # edges of one shuffled corpus that pass the same cut-off, on average


@dataclass(frozen=True)
class DetectionRun:
    """One reproducible run: the parameters and corpus version that produced the findings."""

    run_id: str
    corpus_version: str
    created_at: datetime
    parameters: dict[str, object]
    detectors: tuple[str, ...]
    edges: int
    significant_edges: int
    expected_false_edges: float  # edges a corpus of the same shape without coordination would yield
    communities: tuple[Community, ...] = field(default_factory=tuple)
    null_model: tuple[NullModelReport, ...] = field(default_factory=tuple)  # one per behaviour tested
    stability: StabilityReport | None = None  # with stability selection only


@dataclass(frozen=True)
class StabilityReport:
    """Stability selection (Meinshausen & Bühlmann 2010): detection rerun on subsamples of the posts.

    An account (an edge) is *selected* when it was flagged (significant) in at least ``threshold`` of
    the ``subsamples`` runs on ``fraction`` of the posts; only selected accounts and edges make the
    communities of a run with stability selection.
    """

    subsamples: int
    fraction: float
    threshold: float
    selected_accounts: int
    selected_edges: int
    account_frequency: dict[str, float]  # every account flagged in at least one subsample → share of subsamples
