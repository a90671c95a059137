"""A self-contained HTML report: spend over time by payer, donations over time by recipient, and flags.

Charts are inline SVG drawn here (no scripts, no external files); every text from the data is escaped
with ``html.escape``. Ad spend is drawn as a band from the sum of lower bounds to the sum of upper
bounds, so that ranges stay ranges on the page.
"""

from __future__ import annotations

import html
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from rrm.transparency.flags import Flag, run_flags
from rrm.transparency.store import VIEWS, MoneyStore

__all__ = ["write_report"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
Series = dict[str, dict[str, tuple[Decimal, Decimal]]]


def _svg(title: str, series: Series, unit: str) -> str:
    months = sorted({m for points in series.values() for m in points})
    if not months:
        return f"<p>{html.escape(title)}: no dated records.</p>"
    width, height, pad = 760, 300, 50
    top = max((hi for points in series.values() for _, hi in points.values()), default=Decimal(1)) or Decimal(1)

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / max(len(months) - 1, 1))

    def y(v: Decimal) -> float:
        return float(height - pad - (height - 2 * pad) * float(v / top))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20 * len(series)}" role="img">',
             f'<title>{html.escape(title)}</title>',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>',
             f'<text x="{pad}" y="{pad - 10}" font-size="12">max {html.escape(f"{top:,.0f}")} {html.escape(unit)}</text>']
    for i, month in enumerate(months):
        if len(months) <= 12 or i % max(len(months) // 12, 1) == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{height - pad + 15}" font-size="10" text-anchor="middle">'
                         f'{html.escape(month)}</text>')
    for n, (name, points) in enumerate(series.items()):
        colour = _COLOURS[n % len(_COLOURS)]
        upper = [(x(i), y(points[m][1])) for i, m in enumerate(months) if m in points]
        lower = [(x(i), y(points[m][0])) for i, m in enumerate(months) if m in points]
        band = " ".join(f"{a:.1f},{b:.1f}" for a, b in upper + lower[::-1])
        parts.append(f'<polygon points="{band}" fill="{colour}" fill-opacity="0.25" stroke="none"/>')
        parts.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in upper)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<rect x="{pad}" y="{height + 20 * n - 10}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{pad + 15}" y="{height + 20 * n}" font-size="12">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _top(rows: list[tuple[str, str, Decimal, Decimal]], count: int = 6) -> Series:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for name, _, _, hi in rows:
        totals[name] += hi
    chosen = sorted(totals, key=lambda n: -totals[n])[:count]
    series: Series = {name: {} for name in chosen}
    for name, month, lo, hi in rows:
        if name in series:
            series[name][month] = (lo, hi)
    return series


def write_report(store: MoneyStore, out: Path, flags: list[Flag] | None = None) -> Path:
    """Write the report to ``out`` and return it."""
    with store.connect(read_only=True) as db:
        db.execute(VIEWS)
        currency_row = db.execute(
            "SELECT currency FROM ads WHERE currency IS NOT NULL AND start IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC"
        ).fetchall()
        ad_currency = currency_row[0][0] if currency_row else "USD"
        ads = db.execute(
            """SELECT coalesce(payer, sponsor, advertiser), strftime(start, '%Y-%m'), sum(spend_lower),
                      sum(coalesce(spend_upper, spend_lower)) FROM ads
               WHERE start IS NOT NULL AND currency = ? AND record_type IN ('ad', 'advertiser_week')
                 AND coalesce(payer, sponsor, advertiser) IS NOT NULL GROUP BY 1, 2""", [ad_currency]).fetchall()
        donation_row = db.execute(
            "SELECT currency FROM donations WHERE date IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC").fetchall()
        donation_currency = donation_row[0][0] if donation_row else "USD"
        gifts = db.execute(
            """SELECT recipient_name, strftime(date, '%Y-%m'), sum(amount), sum(amount) FROM donations_v
               WHERE counted AND date IS NOT NULL AND currency = ? GROUP BY 1, 2""", [donation_currency]).fetchall()
        counts = db.execute("SELECT (SELECT count(*) FROM ads), (SELECT count(*) FROM donations), "
                            "(SELECT count(*) FROM quarantine), (SELECT count(*) FROM batches)").fetchall()[0]
    flags = run_flags(store) if flags is None else flags
    by_rule: dict[str, int] = defaultdict(int)
    for flag in flags:
        by_rule[flag.rule] += 1
    rows = "".join(
        f"<tr><td>{html.escape(f.rule)}</td><td>{html.escape(f.subject)}</td><td>{html.escape(f.evidence_text())}</td>"
        f"<td>{html.escape((f.source or '') + (f':{f.line}' if f.line is not None else ''))}</td></tr>" for f in flags[:500])
    summary = "".join(f"<li>{html.escape(rule)}: {n}</li>" for rule, n in sorted(by_rule.items()))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>RRM money report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px;vertical-align:top}}</style></head><body>
<h1>Political ads and party funding</h1>
<p>{counts[0]} ad records, {counts[1]} donations, {counts[3]} files ingested, {counts[2]} rows quarantined.
Ad spend is shown as a band from the sum of lower bounds to the sum of upper bounds.</p>
<h2>Ad spend over time by payer ({html.escape(ad_currency)})</h2>{_svg("Ad spend by payer", _top(ads), ad_currency)}
<h2>Donations over time by recipient ({html.escape(donation_currency)}, counted only)</h2>
{_svg("Donations by recipient", _top(gifts), donation_currency)}
<h2>Flags</h2><ul>{summary}</ul>
<table><tr><th>rule</th><th>subject</th><th>evidence</th><th>source</th></tr>{rows}</table>
{"<p>First 500 flags shown.</p>" if len(flags) > 500 else ""}
</body></html>"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
