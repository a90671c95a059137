"""Questions analysts ask: who paid for ads about X reaching region Y; who funds recipient P; totals as ranges."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rrm.transparency.amounts import Range
from rrm.transparency.store import VIEWS, MoneyStore

__all__ = ["AdPayerTotal", "FunderTotal", "search_ads", "search_donations"]


@dataclass(frozen=True)
class AdPayerTotal:
    """Spend of one payer (or sponsor) on the matching ads: a range, per currency."""

    payer: str
    sponsor: str | None
    spend: Range
    records: int
    regions: tuple[str, ...]
    example_text: str | None


@dataclass(frozen=True)
class FunderTotal:
    donor: str
    recipient: str
    party: str | None
    total: Decimal
    currency: str
    donations: int
    not_counted: int
    donor_country: str | None


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").lower() + "%"


def search_ads(store: MoneyStore, text: str | None = None, region: str | None = None, limit: int = 50) -> list[AdPayerTotal]:
    """Payers of ads whose text mentions ``text`` and whose regions include ``region`` (case-insensitive)."""
    where, params = ["spend_lower IS NOT NULL", "coalesce(payer, sponsor, advertiser) IS NOT NULL"], []
    if text:
        where.append("lower(coalesce(text, '')) LIKE ? ESCAPE '\\'")
        params.append(_like(text))
    if region:
        where.append("(len(list_filter(regions, lambda r: lower(r) LIKE ? ESCAPE '\\')) > 0 OR lower(coalesce(country, '')) = ?)")
        params.extend([_like(region), region.lower()])
    query = f"""SELECT coalesce(payer, sponsor, advertiser) AS who, any_value(sponsor), currency, sum(spend_lower),
                       sum(spend_upper), count(*) - count(spend_upper), count(*),
                       list_distinct(flatten(list(regions)))[1:5], any_value(text)
                FROM ads WHERE {' AND '.join(where)} GROUP BY who, currency
                ORDER BY sum(spend_lower) DESC LIMIT {int(limit)}"""
    with store.connect(read_only=True) as db:
        rows = db.execute(query, params).fetchall()
    return [AdPayerTotal(who, sponsor, Range(low, None if open_count else high, currency), n, tuple(regions or ()), sample)
            for who, sponsor, currency, low, high, open_count, n, regions, sample in rows]


def search_donations(store: MoneyStore, recipient: str | None = None, donor: str | None = None,
                     limit: int = 50) -> list[FunderTotal]:
    """Who funds a recipient (name, committee id or party contains ``recipient``); counted totals only."""
    where, params = ["TRUE"], []
    if recipient:
        where.append("(lower(recipient_name) LIKE ? ESCAPE '\\' OR lower(coalesce(recipient_id, '')) = ? "
                     "OR lower(coalesce(recipient_party, '')) LIKE ? ESCAPE '\\')")
        params.extend([_like(recipient), recipient.lower(), _like(recipient)])
    if donor:
        where.append("lower(donor_name) LIKE ? ESCAPE '\\'")
        params.append(_like(donor))
    query = f"""SELECT donor_name, recipient_name, any_value(recipient_party), sum(amount) FILTER (WHERE counted),
                       currency, count(*), count(*) FILTER (WHERE NOT counted), any_value(donor_country)
                FROM donations_v WHERE {' AND '.join(where)} GROUP BY donor_name, recipient_name, currency
                ORDER BY sum(amount) FILTER (WHERE counted) DESC NULLS LAST LIMIT {int(limit)}"""
    with store.connect(read_only=True) as db:
        db.execute(VIEWS)
        rows = db.execute(query, params).fetchall()
    return [FunderTotal(d, r, p, t if t is not None else Decimal(0), c, n, nc, dc) for d, r, p, t, c, n, nc, dc in rows]
