"""Fusion and communities: one weighted account network from the significant edges of every behaviour,
communities by Leiden, a score per community with its parts, and an explanation a person can read.

Score (0–100) = 100 × (0.25·density + 0.20·breadth + 0.20·time tightness + 0.15·synchronisation
+ 0.10·new accounts + 0.10·size), each part in [0, 1]:

- density: share of the community's pairs of accounts joined by a significant edge;
- breadth: behaviours involved, 3 or more counting fully;
- time tightness: 1 − (median gap between paired actions / window);
- synchronisation: share of paired actions less than 10 seconds apart;
- new accounts: share of accounts (with a known creation date) created less than ``new_account_days``
  before their first post in the corpus;
- size: ln(accounts) / ln(50), capped at 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import duckdb
import igraph
import leidenalg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rrm._duckdb import arrow_table
from rrm.detect.model import Community, EvidencePost, StabilityReport
from rrm.detect.params import DetectionParams
from rrm.detect.significance import SignificanceReport, benjamini_hochberg

__all__ = ["SCORE_WEIGHTS", "build_communities", "partition_accounts", "significant"]

SCORE_WEIGHTS = {
    "density": 0.25,
    "breadth": 0.20,
    "time_tightness": 0.20,
    "synchronisation": 0.15,
    "new_accounts": 0.10,
    "size": 0.10,
}
_SYNC_SECONDS = 10.0
_EVIDENCE_SHOWN = 12


def significant(edges: pa.Table, fdr_q: float) -> pa.Table:
    """The edges whose q-value is at most ``fdr_q``."""
    q = edges.column("q_value")
    return edges.filter(pc.fill_null(pc.less_equal(q, fdr_q), False))


def _partition(edges: pa.Table, params: DetectionParams) -> list[list[str]]:
    if edges.num_rows == 0:
        return []
    fused = edges.group_by(["account_a", "account_b"]).aggregate([("weight", "sum")])
    a = fused.column("account_a").to_pylist()
    b = fused.column("account_b").to_pylist()
    names = sorted(set(a) | set(b))
    index = {name: i for i, name in enumerate(names)}
    graph = igraph.Graph(n=len(names), edges=[(index[x], index[y]) for x, y in zip(a, b, strict=True)])
    graph.es["weight"] = fused.column("weight_sum").to_pylist()
    partition = leidenalg.find_partition(
        graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
        resolution_parameter=params.resolution, seed=params.seed, n_iterations=-1,
    )
    membership = np.asarray(partition.membership)
    inside = [i for i, (x, y) in enumerate(graph.get_edgelist()) if membership[x] == membership[y]]
    core = np.asarray(graph.subgraph_edges(inside, delete_vertices=False).coreness())
    groups = [sorted(names[v] for v in members if core[v] >= 2) for members in partition]
    return [g for g in groups if len(g) >= params.min_community_size]


def _attach(groups: list[list[str]], edges: pa.Table, params: DetectionParams) -> tuple[list[list[str]], dict[str, str]]:
    """Add to each community the accounts whose tested edges concentrate on it; returns the groups and,
    for each added account, the community's first member.

    A candidate is an account outside every community with tested edges (at or above the minimum of
    co-actions, significant or not) to k >= 2 members of a community of n accounts. If its d edges
    fell at random among the N - 1 other accounts of the tested network, k would follow the
    hypergeometric law (N - 1, n, d); the tail P(K >= k) is its p-value, Benjamini–Hochberg runs over
    all candidates at ``fdr_q``, and an account passing for several communities joins the one with
    the smallest p-value. Weak edges that do not pass one by one thus still bring in an account when
    most of them lead to the same community, while a hyperactive account whose edges go everywhere
    stays out.
    """
    tested = edges.filter(pc.is_valid(edges.column("q_value"))).select(["account_a", "account_b"])
    if not groups or tested.num_rows == 0:
        return groups, {}
    pairs = tested.group_by(["account_a", "account_b"]).aggregate([])
    a = pairs.column("account_a").to_numpy(zero_copy_only=False).astype(str)
    b = pairs.column("account_b").to_numpy(zero_copy_only=False).astype(str)
    names, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = codes[: a.size], codes[a.size :]
    degree = np.bincount(np.concatenate([ia, ib]), minlength=names.size)
    group_of = np.full(names.size, -1, dtype=np.int64)
    index = {name: i for i, name in enumerate(names.tolist())}
    for g, members in enumerate(groups):
        for member in members:
            if member in index:
                group_of[index[member]] = g
    outside = np.concatenate([ia, ib])
    inside = np.concatenate([ib, ia])
    candidate = (group_of[outside] < 0) & (group_of[inside] >= 0)
    if not candidate.any():
        return groups, {}
    key = outside[candidate] * len(groups) + group_of[inside[candidate]]
    keys, k = np.unique(key, return_counts=True)
    account, group = keys // len(groups), keys % len(groups)
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    from scipy.stats import hypergeom  # here, not at the top: importing scipy.stats takes about 1.4 s

    p = hypergeom.sf(k - 1, names.size - 1, sizes[group], degree[account])
    q = benjamini_hochberg(np.asarray(p, dtype=np.float64), int(keys.size))
    passed = np.flatnonzero((k >= 2) & (q <= params.fdr_q))
    best: dict[int, tuple[float, int]] = {}
    for i in passed[np.argsort(p[passed], kind="stable")].tolist():
        best.setdefault(int(account[i]), (float(p[i]), int(group[i])))
    grown = [list(g) for g in groups]
    attached: dict[str, str] = {}
    for acc, (_, g) in sorted(best.items()):
        grown[g].append(str(names[acc]))
        attached[str(names[acc])] = groups[g][0]
    return [sorted(g) for g in grown], attached


def partition_accounts(strong: pa.Table, edges: pa.Table, params: DetectionParams) -> tuple[list[list[str]], dict[str, str]]:
    """The groups of accounts (Leiden on ``strong``, 2-cores, then attachment through the tested ``edges``)
    and, for each attached account, the first member of its community."""
    return _attach(_partition(strong, params), edges, params)


def _selected(edges: pa.Table, pairs: pa.Table) -> pa.Table:
    """The rows of ``edges`` whose (behaviour, account_a, account_b) is in ``pairs``."""
    if pairs.num_rows == 0:
        return edges.slice(0, 0)
    keys = pc.binary_join_element_wise(edges.column("behaviour"), edges.column("account_a"), edges.column("account_b"), "\x1f")
    wanted = pc.binary_join_element_wise(pairs.column("behaviour"), pairs.column("account_a"), pairs.column("account_b"), "\x1f")
    return edges.filter(pc.is_in(keys, value_set=wanted))


def _new_account_shares(db: duckdb.DuckDBPyConnection, params: DetectionParams) -> dict[str, bool]:
    rows = db.execute(
        f"""WITH first AS (SELECT platform || ':' || account_id AS account, min(created_at) AS first_post
                           FROM posts GROUP BY ALL)
            SELECT f.account, a.account_created_at >= f.first_post - INTERVAL {int(params.new_account_days)} DAY
            FROM first f JOIN accounts a ON f.account = a.platform || ':' || a.account_id
            WHERE a.account_created_at IS NOT NULL"""
    ).fetchall()
    return {str(account): bool(new) for account, new in rows}


def _texts(db: duckdb.DuckDBPyConnection, posts: set[str]) -> dict[str, str | None]:
    if not posts:
        return {}
    db.register("_wanted_posts", pa.table({"post_id": pa.array(sorted(posts), pa.string())}))
    try:
        rows = arrow_table(db, "SELECT post_id, any_value(text) AS text FROM posts SEMI JOIN _wanted_posts USING (post_id) GROUP BY post_id")
    finally:
        db.unregister("_wanted_posts")
    return dict(zip(rows.column("post_id").to_pylist(), rows.column("text").to_pylist(), strict=True))


def _inside(table: pa.Table, members: pa.Array) -> pa.Table:
    return table.filter(
        pc.and_(pc.is_in(table.column("account_a"), value_set=members), pc.is_in(table.column("account_b"), value_set=members))
    )


def build_communities(
    db: duckdb.DuckDBPyConnection,
    edges: pa.Table,
    evidence: pa.Table,
    reports: Sequence[SignificanceReport],
    params: DetectionParams,
    selected: pa.Table | None = None,
    stability: StabilityReport | None = None,
) -> tuple[tuple[Community, ...], dict[str, str]]:
    """The communities of the significant edges, best score first, and each account's community.

    With stability selection, ``selected`` (behaviour, account_a, account_b) names the edges selected
    in enough subsamples: they replace the significant edges, and only the accounts ``stability``
    selects stay in the communities.
    """
    strong = significant(edges, params.fdr_q) if selected is None else _selected(edges, selected)
    groups, attached = partition_accounts(strong, edges, params)
    if stability is not None:
        keep = {a for a, f in stability.account_frequency.items() if f >= stability.threshold - 1e-12}
        groups = [kept for kept in ([a for a in g if a in keep] for g in groups) if len(kept) >= params.min_community_size]
        attached = {a: g for a, g in attached.items() if a in keep}
    if not groups:
        return (), {}
    new_accounts = _new_account_shares(db, params)
    significant_pairs = strong.select(["behaviour", "account_a", "account_b"])
    strong_evidence = evidence.join(significant_pairs, ["behaviour", "account_a", "account_b"], join_type="inner")
    expected = sum(r.expected_false_edges for r in reports)
    drafts = []
    for members_list in groups:
        members = pa.array(members_list, pa.string())
        inner = _inside(strong, members)
        proof = _inside(strong_evidence, members)
        score, parts = _score(members_list, inner, proof, new_accounts, params)
        parts["attached_accounts"] = float(sum(1 for m in members_list if m in attached))
        drafts.append((members_list, inner, proof, (score, parts)))
    drafts.sort(key=lambda d: (-d[3][0], d[0][0]))
    communities: list[Community] = []
    memberships: dict[str, str] = {}
    wanted: set[str] = set()
    chosen: list[list[dict[str, object]]] = []
    for _, _, proof, _ in drafts:
        rows = _top_evidence(proof)
        chosen.append(rows)
        wanted.update(str(r["post_a"]) for r in rows)
        wanted.update(str(r["post_b"]) for r in rows)
    texts = _texts(db, wanted)
    for number, ((members_list, inner, _proof, (score, parts)), rows) in enumerate(zip(drafts, chosen, strict=True), 1):
        community_id = f"C{number:03d}"
        behaviours = dict(Counter(str(b) for b in inner.column("behaviour").to_pylist()))
        posts = _evidence_posts(rows, texts)
        explanation = _explain(members_list, behaviours, parts, inner, expected, reports, params)
        if stability is not None:
            explanation += "\n" + _stability_line(members_list, stability)
        communities.append(
            Community(community_id, tuple(members_list), score, parts, dict(sorted(behaviours.items())), explanation, posts)
        )
        for account in members_list:
            memberships[account] = community_id
    return tuple(communities), memberships


def _gaps(proof: pa.Table) -> np.ndarray:
    if proof.num_rows == 0:
        return np.empty(0)
    a = pc.cast(proof.column("time_a"), pa.int64()).to_numpy()
    b = pc.cast(proof.column("time_b"), pa.int64()).to_numpy()
    gaps: np.ndarray = np.abs(a - b) / 1e6
    return gaps


def _score(
    members: list[str], inner: pa.Table, proof: pa.Table, new_accounts: dict[str, bool], params: DetectionParams
) -> tuple[float, dict[str, float]]:
    n = len(members)
    pairs = {(a, b) for a, b in zip(inner.column("account_a").to_pylist(), inner.column("account_b").to_pylist(), strict=True)}
    density = len(pairs) / (n * (n - 1) / 2)
    behaviours = len(set(inner.column("behaviour").to_pylist()))
    gaps = _gaps(proof)
    windows = np.array([params.window_for(b) for b in proof.column("behaviour").to_pylist()], dtype=np.float64)
    median_gap = float(np.median(gaps)) if gaps.size else 0.0
    tightness = float(np.clip(1.0 - np.median(gaps / windows), 0.0, 1.0)) if gaps.size else 0.0
    sync = float((gaps < _SYNC_SECONDS).mean()) if gaps.size else 0.0
    known = [new_accounts[a] for a in members if a in new_accounts]
    new_share = sum(known) / len(known) if known else 0.0
    size = min(1.0, float(np.log(n) / np.log(50)))
    q = inner.column("q_value").to_numpy()
    parts = {
        "density": round(density, 4),
        "breadth": round(min(1.0, behaviours / 3), 4),
        "time_tightness": round(tightness, 4),
        "synchronisation": round(sync, 4),
        "new_accounts": round(new_share, 4),
        "size": round(size, 4),
    }
    score = round(100 * sum(SCORE_WEIGHTS[k] * v for k, v in parts.items()), 2)
    parts.update(
        {
            "accounts": float(n),
            "behaviours": float(behaviours),
            "significant_edges": float(inner.num_rows),
            "median_gap_seconds": round(median_gap, 3),
            "min_q_value": float(q.min()) if q.size else 1.0,
        }
    )
    return score, parts


def _top_evidence(proof: pa.Table) -> list[dict[str, object]]:
    if proof.num_rows == 0:
        return []
    gaps = _gaps(proof)
    order = np.argsort(gaps, kind="stable")
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    records = proof.take(pa.array(order[: _EVIDENCE_SHOWN * 20])).to_pylist()
    for record in records:  # one row per object and behaviour first, then the rest
        key = (str(record["behaviour"]), str(record["object"]))
        if key not in seen:
            seen.add(key)
            rows.append(record)
        if len(rows) >= _EVIDENCE_SHOWN:
            break
    return rows


def _evidence_posts(rows: list[dict[str, object]], texts: dict[str, str | None]) -> tuple[EvidencePost, ...]:
    posts: list[EvidencePost] = []
    for row in rows:
        for side in ("a", "b"):
            post = str(row[f"post_{side}"])
            time = row[f"time_{side}"]
            assert isinstance(time, datetime)
            posts.append(
                EvidencePost(str(row[f"account_{side}"]), post, time, str(row["behaviour"]), str(row["object"]), texts.get(post))
            )
    return tuple(posts)


def _stability_line(members: list[str], stability: StabilityReport) -> str:
    shares = sorted(stability.account_frequency.get(a, 0.0) for a in members)
    return (
        f"Stability selection: every account here was flagged in at least {stability.threshold:.0%} of "
        f"{stability.subsamples} reruns on {stability.fraction:.0%} subsamples of the posts (least {shares[0]:.0%}, "
        f"median {shares[len(shares) // 2]:.0%}), and every edge that builds it was significant in at least as many."
    )


def _explain(
    members: list[str],
    behaviours: dict[str, int],
    parts: dict[str, float],
    inner: pa.Table,
    expected: float,
    reports: Sequence[SignificanceReport],
    params: DetectionParams,
) -> str:
    total = sum(r.significant_edges for r in reports)
    kinds = ", ".join(f"{name} ({count} edges)" for name, count in sorted(behaviours.items(), key=lambda x: -x[1]))
    models = sorted({r.null_model for r in reports if r.behaviour in behaviours})
    lines = [
        f"{len(members)} accounts acted together through {kinds}; "
        f"{parts['density']:.0%} of their pairs are joined by a significant edge.",
        f"Paired actions were a median {parts['median_gap_seconds']:.1f} s apart "
        f"(window {params.window_seconds} s); {parts['synchronisation']:.0%} were less than {_SYNC_SECONDS:.0f} s apart.",
    ]
    if parts.get("attached_accounts", 0.0) > 0:
        lines.append(
            f"{parts['attached_accounts']:.0f} of the accounts joined through edges that are not significant one by one "
            "but lead mostly to this community (hypergeometric test against their number of edges)."
        )
    if parts["new_accounts"] > 0:
        lines.append(
            f"{parts['new_accounts']:.0%} of the accounts with a known creation date were created less than "
            f"{params.new_account_days} days before their first post."
        )
    lines.append(
        f"Why this is unlikely to be organic: in {params.null_shuffles} shuffled corpora of the same shape "
        f"({', '.join(models)}: same accounts, same activity, same objects and timelines, no coordination), "
        f"{expected:.2f} edges on average passed the significance cut-off in the whole corpus, against {total} in "
        f"the data and {inner.num_rows} inside this community alone; its strongest edge has "
        f"q = {parts['min_q_value']:.2g} (false discovery rate {params.fdr_q})."
    )
    return "\n".join(lines)
