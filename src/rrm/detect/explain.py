"""Why two accounts are linked: the behaviours, figures and evidence posts behind one edge."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.compute as pc

from rrm.corpus.store import CorpusStore
from rrm.detect.model import EvidencePost
from rrm.detect.network import _texts
from rrm.detect.pipeline import DetectionResult
from rrm.errors import NotFoundError

__all__ = ["EdgeBehaviour", "EdgeExplanation", "explain_edge"]


@dataclass(frozen=True)
class EdgeBehaviour:
    behaviour: str
    co_actions: int
    weight: float
    p_value: float | None
    q_value: float | None
    significant: bool
    selection_frequency: float | None = None  # share of stability subsamples in which it was significant


@dataclass(frozen=True)
class EdgeExplanation:
    run_id: str
    account_a: str
    account_b: str
    community_a: str | None
    community_b: str | None
    behaviours: tuple[EdgeBehaviour, ...]
    evidence: tuple[EvidencePost, ...]
    explanation: str
    selection_frequency_a: float | None = None  # share of stability subsamples in which each account was flagged
    selection_frequency_b: float | None = None


def explain_edge(store: CorpusStore, result: DetectionResult, account_a: str, account_b: str, limit: int = 50) -> EdgeExplanation:
    """The edge between two accounts (in either order) in ``result``, with up to ``limit`` evidence pairs."""
    a, b = sorted((account_a, account_b))
    pair = pc.and_(pc.equal(result.edges.column("account_a"), a), pc.equal(result.edges.column("account_b"), b))
    rows = result.edges.filter(pair).to_pylist()
    if not rows:
        raise NotFoundError(f"no edge between {a!r} and {b!r} in detection run {result.run.run_id!r}")
    q_cut = float(result.run.parameters.get("fdr_q", 0.05))  # type: ignore[arg-type]
    stability = result.run.stability
    frequencies: dict[str, float] = {}
    if result.selection is not None:
        sel = result.selection
        chosen = sel.filter(pc.and_(pc.equal(sel.column("account_a"), a), pc.equal(sel.column("account_b"), b)))
        frequencies = dict(zip(chosen.column("behaviour").to_pylist(), chosen.column("frequency").to_pylist(), strict=True))
    behaviours = tuple(
        EdgeBehaviour(r["behaviour"], r["co_actions"], r["weight"], r["p_value"], r["q_value"],
                      r["q_value"] is not None and r["q_value"] <= q_cut,
                      None if stability is None else frequencies.get(r["behaviour"], 0.0))
        for r in sorted(rows, key=lambda r: (r["q_value"] if r["q_value"] is not None else 2.0, r["behaviour"]))
    )
    ev = result.evidence
    found = ev.filter(pc.and_(pc.equal(ev.column("account_a"), a), pc.equal(ev.column("account_b"), b)))
    found = found.sort_by([("time_a", "ascending")]).slice(0, limit)
    records = found.to_pylist()
    db = store.connect()
    try:
        texts = _texts(db, {str(r["post_a"]) for r in records} | {str(r["post_b"]) for r in records})
    finally:
        db.close()
    posts: list[EvidencePost] = []
    for r in records:
        for side in ("a", "b"):
            post = str(r[f"post_{side}"])
            posts.append(EvidencePost(r[f"account_{side}"], post, r[f"time_{side}"], r["behaviour"], r["object"], texts.get(post)))
    lines = []
    for item in behaviours:
        verdict = "significant" if item.significant else "not significant"
        q = "untested" if item.q_value is None else f"p = {item.p_value:.2g}, q = {item.q_value:.2g}"
        lines.append(f"{item.behaviour}: {item.co_actions} objects acted on together within the window "
                     f"(rarity-weighted {item.weight:.2f}); {q}: {verdict} at {q_cut}.")
    if stability is not None:
        for item in behaviours:
            lines.append(f"{item.behaviour}: significant in {item.selection_frequency or 0.0:.0%} of {stability.subsamples} "
                         f"subsamples of {stability.fraction:.0%} of the posts (selected from {stability.threshold:.0%}).")
        for account in (a, b):
            lines.append(f"{account} was flagged in {stability.account_frequency.get(account, 0.0):.0%} of the subsamples.")
    reports = {r.behaviour: r for r in result.run.null_model}
    for item in behaviours:
        report = reports.get(item.behaviour)
        if report is not None and item.significant:
            lines.append(f"In shuffled corpora without coordination ({report.null_model}), {report.expected_false_edges:.2f} "
                         f"{item.behaviour} edges on average passed the same cut-off among {report.pairs_tested:,} pairs.")
    return EdgeExplanation(
        run_id=result.run.run_id, account_a=a, account_b=b,
        community_a=result.memberships.get(a), community_b=result.memberships.get(b),
        behaviours=behaviours, evidence=tuple(posts), explanation="\n".join(lines),
        selection_frequency_a=None if stability is None else stability.account_frequency.get(a, 0.0),
        selection_frequency_b=None if stability is None else stability.account_frequency.get(b, 0.0),
    )
