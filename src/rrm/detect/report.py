"""A self-contained HTML report of a detection run: one file, no scripts, no external fetches.

It shows the run summary (corpus version, parameters, edges tested / significant / expected under the
null model), a network picture of the communities (an igraph layout drawn server-side as inline SVG,
nodes coloured by community) and, per community, its score and score parts, behaviours, explanation,
a timeline of its posts per hour against the whole corpus, and the top evidence posts. Every text that
comes from the corpus is written by adversaries: the template autoescapes and the SVG is built from
numbers and ``html.escape``d labels only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from rrm.corpus.store import CorpusStore
from rrm.detect.exports import RunFindings, register_exporter
from rrm.detect.model import Community, EvidencePost

__all__ = ["PALETTE", "TimelineBin", "community_colours", "network_svg", "render_report", "timeline_svg", "write_report"]

PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939",
)
MAX_DRAWN_NODES = 400
EVIDENCE_PER_COMMUNITY = 10
_BIN_HOURS = (1, 2, 3, 6, 12, 24, 48, 168)
_MAX_BINS = 240


@dataclass(frozen=True)
class TimelineBin:
    start: datetime
    community_posts: int
    all_posts: int


def community_colours(communities: tuple[Community, ...]) -> dict[str, str]:
    """A colour per community, in the order of the run (strongest first)."""
    return {c.community_id: PALETTE[i % len(PALETTE)] for i, c in enumerate(communities)}


# --- network picture ---------------------------------------------------------------------------


def network_svg(findings: RunFindings, colours: dict[str, str], width: int = 960, height: int = 640) -> str:
    """The communities' accounts and the edges between them, laid out by Fruchterman–Reingold."""
    import igraph

    accounts: list[str] = []
    for community in findings.run.communities:
        if len(accounts) + len(community.accounts) > MAX_DRAWN_NODES and accounts:
            break
        accounts.extend(sorted(community.accounts)[:MAX_DRAWN_NODES])
    if not accounts:
        return ""
    index = {a: i for i, a in enumerate(accounts)}
    drawn = pa.array(accounts, pa.string())
    table = findings.edges.select(["account_a", "account_b", "weight"])
    table = table.filter(pc.and_(pc.is_in(table["account_a"], drawn), pc.is_in(table["account_b"], drawn)))
    pairs: dict[tuple[int, int], float] = {}
    for a, b, w in zip(*(table.column(n).to_pylist() for n in ("account_a", "account_b", "weight")), strict=True):
        if a in index and b in index:
            key = (index[a], index[b])
            pairs[key] = pairs.get(key, 0.0) + float(w)
    graph = igraph.Graph(n=len(accounts), edges=list(pairs), directed=False)
    start = [[math.cos(2 * math.pi * i / len(accounts)), math.sin(2 * math.pi * i / len(accounts))] for i in index.values()]
    layout = graph.layout_fruchterman_reingold(seed=start, niter=500) if len(accounts) > 1 else igraph.Layout([[0.0, 0.0]])
    xs, ys = [p[0] for p in layout.coords], [p[1] for p in layout.coords]
    pad = 24.0

    def scale(values: list[float], size: int) -> list[float]:
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        return [pad + (v - low) / span * (size - 2 * pad) for v in values]

    px, py = scale(xs, width), scale(ys, height)
    membership = findings.memberships
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="network of the communities" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="network">',
        '<g stroke="#888" stroke-opacity="0.45">',
    ]
    top = max(pairs.values(), default=1.0)
    for (i, j), weight in pairs.items():
        stroke = 0.5 + 2.5 * weight / top
        parts.append(f'<line x1="{px[i]:.1f}" y1="{py[i]:.1f}" x2="{px[j]:.1f}" y2="{py[j]:.1f}" stroke-width="{stroke:.2f}"/>')
    parts.append("</g><g stroke=\"#fff\" stroke-width=\"1\">")
    radius = 6.0 if len(accounts) < 100 else 4.0
    for account, i in index.items():
        community_id = membership.get(account, "")
        colour = colours.get(community_id, "#999999")
        parts.append(
            f'<circle cx="{px[i]:.1f}" cy="{py[i]:.1f}" r="{radius}" fill="{colour}">'
            f"<title>{escape(account)} ({escape(community_id)})</title></circle>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


# --- timeline ----------------------------------------------------------------------------------


def hourly_counts(store: CorpusStore, memberships: dict[str, str]) -> tuple[dict[datetime, int], dict[str, dict[datetime, int]]]:
    """Posts per hour in the whole corpus, and per community."""
    db = store.connect()
    try:
        db.register(
            "_members",
            pa.table({"account": list(memberships), "community_id": list(memberships.values())}),
        )
        rows = db.execute(
            """SELECT date_trunc('hour', p.created_at) AS hour, m.community_id, count(*) AS n
               FROM posts p LEFT JOIN _members m ON m.account = p.platform || ':' || p.account_id
               GROUP BY ALL"""
        ).fetchall()
    finally:
        db.close()
    background: dict[datetime, int] = {}
    per_community: dict[str, dict[datetime, int]] = {}
    for hour, community, count in rows:
        hour = hour.astimezone(UTC)
        background[hour] = background.get(hour, 0) + int(count)
        if community is not None:
            per_community.setdefault(community, {})[hour] = int(count)
    return background, per_community


def timeline_bins(background: dict[datetime, int], community: dict[datetime, int]) -> tuple[int, list[TimelineBin]]:
    """Bins over the community's active span (plus a margin), as narrow as possible (1 h upwards)."""
    if not community:
        return 1, []
    first, last = min(community), max(community)
    span_hours = (last - first) / timedelta(hours=1) + 1
    hours = next((h for h in _BIN_HOURS if span_hours / h <= _MAX_BINS), _BIN_HOURS[-1])
    while span_hours / hours > _MAX_BINS:
        hours *= 2
    step = timedelta(hours=hours)
    start = first - step * 2
    count = math.ceil((last - start) / step) + 3
    epoch = start

    def bucket(values: dict[datetime, int]) -> list[int]:
        out = [0] * count
        for hour, n in values.items():
            position = int((hour - epoch) // step)
            if 0 <= position < count:
                out[position] += n
        return out

    own, everyone = bucket(community), bucket(background)
    return hours, [TimelineBin(start + step * i, own[i], everyone[i]) for i in range(count)]


def timeline_svg(bins: list[TimelineBin], hours: int, colour: str, width: int = 960, height: int = 150) -> str:
    """Bars: the community's posts per bin; grey area: all posts per bin, scaled to the same height."""
    if not bins:
        return ""
    left, right, top, bottom = 48.0, 12.0, 10.0, 28.0
    plot_w, plot_h = width - left - right, height - top - bottom
    own_max = max(b.community_posts for b in bins) or 1
    all_max = max(b.all_posts for b in bins) or 1
    bar = plot_w / len(bins)
    area = [f"{left:.1f},{top + plot_h:.1f}"]
    for i, b in enumerate(bins):
        y = top + plot_h - b.all_posts / all_max * plot_h
        area.append(f"{left + (i + 0.5) * bar:.1f},{y:.1f}")
    area.append(f"{left + plot_w:.1f},{top + plot_h:.1f}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="timeline">',
        f'<polygon points="{" ".join(area)}" fill="#cccccc" fill-opacity="0.7"/>',
    ]
    for i, b in enumerate(bins):
        if b.community_posts:
            h = b.community_posts / own_max * plot_h
            parts.append(
                f'<rect x="{left + i * bar:.1f}" y="{top + plot_h - h:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(b.start.strftime("%Y-%m-%d %H:%M"))} UTC: '
                f"{b.community_posts} of {b.all_posts} posts</title></rect>"
            )
    label = "%Y-%m-%d %H:%M" if hours < 24 else "%Y-%m-%d"
    axis_y = top + plot_h
    parts += [
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#444"/>',
        f'<text x="{left}" y="{height - 8}" font-size="11">{escape(bins[0].start.strftime(label))}</text>',
        f'<text x="{left + plot_w}" y="{height - 8}" font-size="11" text-anchor="end">'
        f"{escape(bins[-1].start.strftime(label))} (UTC, {hours} h bins)</text>",
        f'<text x="{left - 6}" y="{top + 10}" font-size="11" text-anchor="end" fill="{colour}">{own_max}</text>',
        f'<text x="{left - 6}" y="{top + 24}" font-size="11" text-anchor="end" fill="#777">{all_max}</text>',
        "</svg>",
    ]
    return "".join(parts)


# --- evidence ----------------------------------------------------------------------------------


def community_evidence(
    findings: RunFindings, community: Community, store: CorpusStore | None, limit: int = EVIDENCE_PER_COMMUNITY
) -> list[EvidencePost]:
    """The community's own evidence if the run kept it, else the first posts behind its inner edges."""
    if community.evidence:
        return sorted(community.evidence, key=lambda e: e.time)[:limit]
    members = set(community.accounts)
    inside = pa.array(sorted(members), pa.string())
    evidence = findings.evidence
    evidence = evidence.filter(pc.and_(pc.is_in(evidence["account_a"], inside), pc.is_in(evidence["account_b"], inside)))
    if not evidence.num_rows:
        return []
    posts: list[EvidencePost] = []
    seen: set[str] = set()
    for row in evidence.sort_by([("time_a", "ascending")]).to_pylist():
        if row["account_a"] not in members or row["account_b"] not in members:
            continue
        for side in ("a", "b"):
            post_id = row[f"post_{side}"]
            if post_id not in seen:
                seen.add(post_id)
                posts.append(
                    EvidencePost(row[f"account_{side}"], post_id, row[f"time_{side}"], row["behaviour"], row["object"])
                )
        if len(posts) >= limit:
            break
    posts = sorted(posts, key=lambda e: e.time)[:limit]
    if store is None or not posts:
        return posts
    texts = _post_texts(store, [p.post_id for p in posts])
    return [
        EvidencePost(p.account, p.post_id, p.time, p.behaviour, p.object, texts.get(p.post_id)) for p in posts
    ]


def _post_texts(store: CorpusStore, post_ids: list[str]) -> dict[str, str | None]:
    db = store.connect()
    try:
        db.register("_wanted", pa.table({"id": post_ids}))
        rows = db.execute(
            """SELECT w.id, p.text FROM posts p JOIN _wanted w
               ON w.id = p.post_id OR w.id = p.platform || ':' || p.post_id"""
        ).fetchall()
    finally:
        db.close()
    return {post_id: text for post_id, text in rows}


# --- the page ----------------------------------------------------------------------------------

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report(findings: RunFindings, store: CorpusStore | None = None) -> str:
    """The report as one HTML string. Without the corpus there are no timelines and no post texts."""
    run = findings.run
    colours = community_colours(run.communities)
    background: dict[datetime, int] = {}
    per_community: dict[str, dict[datetime, int]] = {}
    if store is not None and run.communities:
        background, per_community = hourly_counts(store, findings.memberships)
    sections = []
    for community in run.communities:
        hours, bins = timeline_bins(background, per_community.get(community.community_id, {}))
        colour = colours[community.community_id]
        sections.append(
            {
                "community": community,
                "colour": colour,
                "timeline": Markup(timeline_svg(bins, hours, colour)),
                "evidence": community_evidence(findings, community, store),
            }
        )
    template = _ENV.get_template("report.html")
    return template.render(
        run=run,
        sections=sections,
        network=Markup(network_svg(findings, colours)),
        generated_at=datetime.now(UTC),
        has_corpus=store is not None,
    )


def write_report(findings: RunFindings, out: Path, store: CorpusStore | None = None) -> Path:
    """Write the report to ``out`` (one self-contained HTML file)."""
    out.write_text(render_report(findings, store), encoding="utf-8")
    return out


register_exporter("html", "self-contained HTML report (network, timelines, evidence)", write_report)
